"""The fitted rules beside the colour map and the local rule: hidden cells repaired, stamps around
objects, parts combined cell by cell. Hand-made grids, exact outputs."""

import numpy as np

from arcttt.programs.moves import fit_attract
from arcttt.programs.parts import fit_combine, fit_summarise, parts
from arcttt.programs.repair import fit_repair, repair
from arcttt.programs.stamps import fit_copy_template, fit_stamp


def A(rows) -> np.ndarray:
    return np.asarray(rows, dtype=np.int8)


PATTERN = A([[1, 2, 3] * 2, [4, 4, 6] * 2, [1, 2, 3] * 2, [7, 8, 9] * 2])  # repeats every 3 columns


def hidden(grid, cells, colour=5):
    out = grid.copy()
    for i, j in cells:
        out[i, j] = colour
    return out


def test_repair_fills_hidden_cells_from_the_repeats_the_other_cells_obey():
    fixed, n_maps = repair(hidden(PATTERN, [(1, 1), (1, 2), (2, 1), (3, 5)]), 5)
    assert np.array_equal(fixed, PATTERN) and n_maps >= 1
    assert repair(hidden(A([[1, 2], [3, 4]]), [(0, 0)]), 5) is None  # nothing repeats: no map holds


def test_fitted_repair_same_size_and_cropped_to_the_hidden_rectangle():
    shifted = np.roll(PATTERN, 1, axis=1)
    made = [hidden(PATTERN, [(0, 0), (1, 4), (2, 4)]), hidden(shifted, [(1, 1), (1, 2), (3, 2)])]
    step = fit_repair(made, [PATTERN, shifted])
    assert step is not None and step.name == "repair(hidden 5)"
    assert np.array_equal(step(hidden(np.roll(PATTERN, 2, axis=1), [(3, 3), (0, 5)])), np.roll(PATTERN, 2, axis=1))
    boxes = [[(1, 1), (1, 2), (2, 1), (2, 2)], [(2, 4), (2, 5), (3, 4), (3, 5)]]
    made = [hidden(PATTERN, boxes[0]), hidden(shifted, boxes[1])]
    step = fit_repair(made, [PATTERN[1:3, 1:3], shifted[2:4, 4:6]])
    assert step is not None and step.name == "repair(crop, hidden 5)"
    assert np.array_equal(step(hidden(PATTERN, [(0, 3), (0, 4)])), A([[1, 2]]))


def test_fitted_stamp_paints_each_objects_pattern_even_where_stamps_meet():
    def grid(pixels, side=7):
        g = np.zeros((side, side), dtype=np.int8)
        for i, j, c in pixels:
            g[i, j] = c
        return g

    def stamped(pixels, side=7):
        g = grid(pixels, side)
        for i, j, c in pixels:
            ring = [(i - 1, j - 1), (i - 1, j + 1), (i + 1, j - 1), (i + 1, j + 1)] if c == 2 else []
            for r, k in ring:
                if 0 <= r < side and 0 <= k < side:
                    g[r, k] = 4
        return g

    demos = [[(1, 1, 2), (5, 4, 2)], [(2, 4, 2), (5, 1, 3), (1, 1, 3)]]
    step = fit_stamp([grid(d) for d in demos], [stamped(d) for d in demos])
    assert step is not None and step.name == "stamp(colours, one colour, margin 1)"
    test = [(3, 2, 2), (3, 4, 2), (0, 6, 3)]  # two stamps share a corner cell: no 3x3 neighbourhood seen
    assert np.array_equal(step(grid(test)), stamped(test))
    assert step(grid([(3, 3, 6)])) is None  # an object never seen
    once = [[(1, 1, 2)], [(2, 4, 3)]]  # each look seen once: no stamp can be told from the surroundings
    assert fit_stamp([grid(d) for d in once], [stamped(d) for d in once]) is None


def test_fitted_combine_by_a_table_of_colours_and_by_an_order_of_precedence():
    top, bottom = A([[1, 0, 1], [0, 0, 1]]), A([[0, 0, 3], [3, 0, 0]])
    line = A([[5, 5, 5]])
    made = [np.vstack([top, line, bottom]), np.vstack([bottom, line, top])]
    nor = [np.where((top == 0) & (bottom == 0), 2, 0).astype(np.int8)] * 2
    step = fit_combine(made, nor)
    assert step is not None and "a table" in step.name
    assert np.array_equal(step(np.vstack([A([[0, 1, 0]]), line, A([[0, 0, 0]])])), A([[2, 0, 2]]))
    assert [p.tolist() for p in parts(np.vstack([top, line, bottom]), "halves", (2, 3))] == [top.tolist(), bottom.tolist()]

    def by_order(grid, order=(6, 2, 1)):  # 6 over 2 over 1
        quads = parts(grid, "quadrants", (grid.shape[0] // 2, grid.shape[1] // 2))
        out = np.zeros(quads[0].shape, dtype=np.int8)
        for c in reversed(order):
            out[np.any([q == c for q in quads], axis=0)] = c
        return out

    made = [np.block([[A([[1, 0], [0, 0]]), A([[2, 2], [0, 0]])], [A([[0, 0], [6, 6]]), A([[0, 6], [0, 1]])]]),
            np.block([[A([[0, 1], [1, 0]]), A([[0, 2], [0, 0]])], [A([[0, 0], [0, 6]]), A([[0, 0], [0, 0]])]])]
    step = fit_combine(made, [by_order(m) for m in made])
    assert step is not None and "an order" in step.name
    test = np.block([[A([[1, 1]]), A([[0, 2]])], [A([[6, 0]]), A([[2, 6]])]])  # combinations never seen
    assert np.array_equal(step(test), A([[6, 6]]))


def test_fitted_attract_moves_each_cell_to_the_nearest_anchor_and_stacks_them():
    made = [A([[0, 0, 0, 0, 0], [0, 3, 0, 0, 8], [0, 0, 0, 0, 8], [0, 0, 0, 0, 0]]),
            A([[0, 0, 0, 0], [0, 0, 0, 0], [8, 8, 8, 8], [0, 0, 0, 0], [0, 4, 0, 0]])]
    wanted = [A([[0, 0, 0, 0, 0], [0, 0, 0, 3, 8], [0, 0, 0, 0, 8], [0, 0, 0, 0, 0]]),
              A([[0, 0, 0, 0], [0, 0, 0, 0], [8, 8, 8, 8], [0, 4, 0, 0], [0, 0, 0, 0]])]
    step = fit_attract(made, wanted)
    assert step is not None and step.name == "attract(move, to colours [8], 4 directions)"
    test = A([[0, 0, 0, 0, 0], [0, 8, 8, 8, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [6, 0, 5, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0], [0, 8, 8, 8, 0], [0, 0, 5, 0, 0], [0, 0, 0, 0, 0], [6, 0, 0, 0, 0]]))
    trails = [np.where(m == 3, 3, m) for m in made]
    trails[0][1, 2:4] = 3
    trails[1][3, 1] = 4
    step = fit_attract(made, trails)
    assert step is not None and step.name.startswith("attract(trail")


def test_fitted_copy_template_onto_single_cells_and_same_shapes():
    made = [A([[0, 0, 0, 0, 0, 0], [0, 1, 2, 0, 0, 0], [0, 3, 4, 0, 0, 0], [0, 0, 0, 0, 5, 5], [0, 0, 0, 0, 5, 5]]),
            A([[5, 5, 0, 0], [5, 5, 0, 0], [0, 0, 0, 0], [0, 7, 1, 0], [0, 1, 1, 0]])]
    wanted = [A([[0, 0, 0, 0, 0, 0], [0, 1, 2, 0, 0, 0], [0, 3, 4, 0, 0, 0], [0, 0, 0, 0, 1, 2], [0, 0, 0, 0, 3, 4]]),
              A([[7, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 7, 1, 0], [0, 1, 1, 0]])]
    step = fit_copy_template(made, wanted)
    assert step is not None and step.name == "copy_template(kept)"
    test = A([[2, 6, 0, 0, 0], [6, 6, 0, 5, 5], [0, 0, 0, 5, 5]])
    assert np.array_equal(step(test), A([[2, 6, 0, 0, 0], [6, 6, 0, 2, 6], [0, 0, 0, 6, 6]]))
    erased = [w.copy() for w in wanted]
    erased[0][1:3, 1:3], erased[1][3:5, 1:3] = 0, 0
    step = fit_copy_template(made, erased)
    assert step is not None and step.name == "copy_template(erased)"


def test_fitted_summarise_one_pixel_per_cell_of_a_separator_grid():
    def grid(cells, line=5):  # 2x2 cells of 2x2, separated by lines of `line`
        g = np.full((5, 5), line, dtype=np.int8)
        for (i, j), cell in cells.items():
            g[3 * i:3 * i + 2, 3 * j:3 * j + 2] = cell
        return g

    one, two = A([[0, 3], [0, 0]]), A([[3, 0], [0, 3]])
    made = [grid({(0, 0): one, (0, 1): two, (1, 0): two, (1, 1): one}), grid({(0, 0): two, (0, 1): two, (1, 0): one, (1, 1): 0 * one})]
    wanted = [A([[1, 2], [2, 1]]), A([[2, 2], [1, 0]])]
    step = fit_summarise(made, wanted)
    assert step is not None and step.name == "summarise(cells by count)"
    assert np.array_equal(step(grid({(0, 0): 0 * one, (0, 1): one, (1, 0): one, (1, 1): two})), A([[0, 1], [1, 2]]))
    by_colour = [grid({(0, 0): one * 2, (0, 1): two, (1, 0): one, (1, 1): two * 3}, line=0)]
    step = fit_summarise(by_colour, [A([[6, 3], [3, 9]])])
    assert step is not None and step.name == "summarise(cells, lines of 0)"


def test_a_trail_whose_mover_meets_its_anchor_only_in_part_stays_in_the_grid():
    from arcttt.programs.moves import attract

    # The mover's top row leaves the grid going down before its left column reaches the anchor.
    grid = A([[2, 0, 2], [2, 2, 2], [2, 0, 0], [2, 0, 0], [0, 0, 1]])
    out = attract(grid, "colours", 4, False, True, "trail", frozenset({1}))
    assert out is not None and out.shape == grid.shape and out[4, 2] == 1
