"""The fitted rules beside the colour map and the local rule: hidden cells repaired, stamps around
objects, parts combined cell by cell, rays by colour, cells painted by a rule, noise removed.
Hand-made grids, exact outputs."""

import numpy as np

from arcttt.programs.blocks import fit_fractal, fit_staircase, fit_tile_maps
from arcttt.programs.cells import fit_cell_rule
from arcttt.programs.fitted import fit_after_resize, fit_colour_map, fit_recolour_objects, fit_then_rigid
from arcttt.programs.moves import fit_attract, fit_mirror_across, fit_project, fit_slide_to_lines
from arcttt.programs.paint import (fit_box_fill, fit_contact, fit_denoise, fit_header, fit_largest_rectangle,
                                  fit_match_references, fit_periodic, fit_rings)
from arcttt.programs.parts import fit_combine, fit_count, fit_overlay, fit_summarise, parts
from arcttt.programs.rays import fit_bounce, fit_centre_lines, fit_diagonal_rays, fit_edge_lines, fit_elbow, fit_rays
from arcttt.programs.repair import fit_repair, fit_symmetry, repair
from arcttt.programs.roles import fit_empty_squares, fit_nearest_colour, fit_own_boxes, fit_rectangle_roles
from arcttt.programs.stamps import fit_complete_copies, fit_copy_template, fit_key_colours, fit_shape_stamp, fit_stamp
from arcttt.programs.summaries import fit_colour_box, fit_colour_list, fit_lookup, fit_pick_colour


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


def test_fitted_rays_by_colour_each_its_own_directions_and_crossings_by_order():
    def grid(cells, h=5, w=5):
        g = np.zeros((h, w), dtype=np.int8)
        for i, j, c in cells:
            g[i, j] = c
        return g

    def drawn(cells, h=5, w=5):  # 1 draws across, 2 draws down; 1 wins where they cross
        g = grid(cells, h, w)
        out = g.copy()
        for i, j, c in cells:
            if c == 2:
                out[:, j] = np.where(out[:, j] == 0, 2, out[:, j])
        for i, j, c in cells:
            if c == 1:
                out[i, :] = np.where(g[i, :] == 0, 1, out[i, :])
        return out

    demos = [[(1, 1, 1), (3, 3, 2)], [(0, 2, 2), (4, 0, 1)], [(2, 4, 2), (2, 0, 1)]]
    step = fit_rays([grid(d) for d in demos], [drawn(d) for d in demos])
    assert step is not None and step.name == "rays_by_colour(1:lr, 2:ud; order 12)"
    test = [(3, 1, 1), (0, 3, 2)]
    assert np.array_equal(step(grid(test)), drawn(test))
    assert step(grid([(1, 1, 3)])) is None  # a colour the demonstrations never showed


def test_fitted_elbow_joins_two_cells_along_a_row_then_a_column():
    made = [A([[2, 0, 0], [0, 0, 0], [0, 0, 3]]), A([[0, 0, 3], [0, 0, 0], [2, 0, 0]])]
    wanted = [A([[2, 8, 8], [0, 0, 8], [0, 0, 3]]), A([[0, 0, 3], [0, 0, 8], [2, 8, 8]])]
    step = fit_elbow(made, wanted)
    assert step is not None and step.name == "elbow(2 to 3 in 8)"
    assert np.array_equal(step(A([[0, 3, 0, 2]])), A([[0, 3, 8, 2]]))


def test_fitted_key_colours_through_a_mask_at_either_size():
    key = A([[1, 2], [4, 6]])
    mask = A([[1, 1, 0, 1], [0, 1, 1, 1], [1, 0, 0, 1], [1, 1, 1, 0]])

    def task(k, m):
        g = np.zeros((7, 7), dtype=np.int8)
        g[:2, 5:] = k
        g[3:, :4] = m * 3
        return g

    painted = np.where(mask == 1, np.kron(key, np.ones((2, 2), dtype=np.int8)), 0)
    key2, mask2 = A([[7, 8], [9, 5]]), A([[1, 0, 0, 1], [1, 1, 1, 1], [0, 1, 1, 0], [0, 1, 1, 0]])
    painted2 = np.where(mask2 == 1, np.kron(key2, np.ones((2, 2), dtype=np.int8)), 0)
    step = fit_key_colours([task(key, mask), task(key2, mask2)], [painted, painted2])
    assert step is not None and step.name == "key_colours(at the mask's size)"
    shrunk = [A([[0, 2], [4, 0]]), A([[7, 8], [9, 5]])]
    step = fit_key_colours([task(key, A([[0] * 2 + [1] * 2] * 2 + [[1] * 2 + [0] * 2] * 2)), task(key2, np.ones((4, 4), dtype=np.int8))], shrunk)
    assert step is not None and step.name == "key_colours(at the key's size)"


def test_fitted_periodic_header_and_contact_paint_cells_by_a_rule_read_off_the_demonstrations():
    made = [A([[4, 4, 4, 4, 4, 4]]), A([[4, 4, 4, 4], [4, 4, 4, 4]])]
    wanted = [A([[6, 4, 4, 6, 4, 4]]), A([[6, 4, 4, 6], [6, 4, 4, 6]])]
    step = fit_periodic(made, wanted)
    assert step is not None and step.name == "periodic(4->6 where col mod 3 in [0])"
    assert np.array_equal(step(A([[4, 4, 4, 4, 4, 4, 4]])), A([[6, 4, 4, 6, 4, 4, 6]]))
    # Cells of 5 take the colour they see to their left.
    made = [A([[1, 0, 5, 5], [2, 0, 0, 5]]), A([[3, 5, 0], [0, 0, 0]])]
    wanted = [A([[1, 0, 1, 1], [2, 0, 0, 2]]), A([[3, 3, 0], [0, 0, 0]])]
    step = fit_header(made, wanted)
    assert step is not None and step.name == "header(5 from left)"
    assert np.array_equal(step(A([[7, 5], [8, 5]])), A([[7, 7], [8, 8]]))
    # A cell of 1 beside a 2 turns 3; beside nothing it stays.
    made = [A([[1, 2, 0, 0, 0, 1]]), A([[0, 1], [0, 2]])]
    wanted = [A([[3, 2, 0, 0, 0, 1]]), A([[0, 3], [0, 2]])]
    step = fit_contact(made, wanted)
    assert step is not None and step.name.startswith("contact(4 neighbours")
    assert np.array_equal(step(A([[2, 1, 0, 0, 0, 1]])), A([[2, 3, 0, 0, 0, 1]]))
    assert step(A([[1, 4]])) is None  # a key never seen


def test_fitted_denoise_keeps_blocks_and_paints_stripes():
    noisy = A([[0, 0, 0, 0, 0], [0, 3, 3, 0, 3], [0, 3, 3, 0, 0], [3, 0, 0, 0, 0]])
    clean = A([[0, 0, 0, 0, 0], [0, 3, 3, 0, 0], [0, 3, 3, 0, 0], [0, 0, 0, 0, 0]])
    noisy2 = A([[2, 2, 0, 2], [2, 2, 0, 0], [0, 0, 0, 0]])
    clean2 = A([[2, 2, 0, 0], [2, 2, 0, 0], [0, 0, 0, 0]])
    step = fit_denoise([noisy, noisy2], [clean, clean2])
    assert step is not None and step.name == "blocks(2x2, noise [])"
    assert np.array_equal(step(A([[5, 0, 0], [0, 5, 5], [0, 5, 5]])), A([[0, 0, 0], [0, 5, 5], [0, 5, 5]]))
    made = [A([[1, 1, 2], [3, 3, 3], [4, 1, 4]]), A([[2, 2], [5, 6]])]
    wanted = [A([[1, 1, 1], [3, 3, 3], [4, 4, 4]]), A([[2, 2], [5, 5]])]
    step = fit_denoise(made, wanted)
    assert step is not None and step.name == "stripes(rows)"


def test_fitted_recolour_of_the_rooms_between_walls_by_what_they_touch():
    # Rooms of 0 that touch a 1 turn 4; the others stay: components of one colour, the background's.
    made = [A([[0, 5, 0, 1], [5, 5, 0, 5]]), A([[1, 0, 5, 0], [5, 5, 5, 0]])]
    wanted = [A([[0, 5, 4, 1], [5, 5, 4, 5]]), A([[1, 4, 5, 0], [5, 5, 5, 0]])]
    step = fit_recolour_objects(made, wanted)
    assert step is not None and "touches_1" in step.name
    assert np.array_equal(step(A([[0, 5, 0, 1]])), A([[0, 5, 4, 1]]))


def test_a_fitted_rule_then_a_rigid_map():
    # One pixel per cell of a separator grid, then mirrored left to right: on one row, the same as
    # the half turn, which comes first among the maps.
    made = [A([[1, 0, 5, 2, 0], [0, 1, 5, 0, 2]]), A([[3, 5, 4, 5, 0], [0, 5, 0, 5, 6]])]
    wanted = [A([[2, 1]]), A([[6, 4, 3]])]
    assert fit_summarise(made, wanted) is None
    step = fit_then_rigid(fit_summarise, made, wanted)
    assert step is not None and step.name == "summarise(cells) | rotate(180)"
    assert np.array_equal(step(A([[7, 5, 8], [0, 5, 0]])), A([[8, 7]]))
    assert fit_then_rigid(fit_attract, made, wanted) is None  # a rule that keeps the shape: not tried


def test_fitted_symmetry_completes_a_pattern_about_its_centre():
    made = [A([[0, 0, 0, 0], [0, 1, 2, 0], [0, 0, 2, 0], [0, 0, 0, 0]]), A([[3, 0, 0], [0, 0, 0], [0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0], [0, 1, 2, 0], [0, 0, 2, 0], [0, 0, 0, 0]]), A([[3, 0, 0], [0, 0, 0], [0, 0, 0]])]
    assert fit_symmetry(made, wanted) is None  # nothing changes
    # Mirrored about the centre of the 2x2 block, left-right and up-down (the second demonstration
    # rules out the diagonal mirrors).
    made = [A([[1, 0, 0, 0], [0, 5, 5, 0], [0, 5, 5, 0], [0, 0, 0, 0]]), A([[0, 0, 0, 0, 0], [0, 5, 5, 0, 0], [0, 5, 5, 2, 0], [0, 0, 0, 0, 0]])]
    wanted = [A([[1, 0, 0, 1], [0, 5, 5, 0], [0, 5, 5, 0], [1, 0, 0, 1]]), A([[0, 0, 0, 0, 0], [2, 5, 5, 2, 0], [2, 5, 5, 2, 0], [0, 0, 0, 0, 0]])]
    step = fit_symmetry(made, wanted)
    assert step is not None and step.name == "complete_symmetry(mirrors about a symmetric object)"
    assert np.array_equal(step(A([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 3, 5, 5, 0], [0, 0, 5, 5, 0], [0, 0, 0, 0, 0]])),
                          A([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 3, 5, 5, 3], [0, 3, 5, 5, 3], [0, 0, 0, 0, 0]]))


def test_fitted_box_fill_paints_the_box_of_each_group():
    made = [A([[1, 1, 0], [1, 0, 0], [0, 0, 0]]), A([[0, 0, 0, 0], [0, 0, 2, 0], [0, 2, 2, 0]])]
    wanted = [A([[1, 1, 0], [1, 4, 0], [0, 0, 0]]), A([[0, 0, 0, 0], [0, 4, 2, 0], [0, 2, 2, 0]])]
    step = fit_box_fill(made, wanted)
    assert step is not None and step.name == "box_fill(every colour, gap 0, background -> 4)"
    assert np.array_equal(step(A([[3, 0, 0, 0], [0, 0, 0, 3], [0, 0, 3, 3]])), A([[3, 0, 0, 0], [0, 0, 4, 3], [0, 0, 3, 3]]))


def test_fitted_complete_copies_of_a_template():
    # The template 1-2-1 (a row); a copy shows two of its cells, or its middle alone.
    made = [A([[1, 2, 1, 0, 0], [0, 0, 0, 0, 0], [0, 1, 0, 1, 0]]), A([[0, 0, 0, 0], [1, 2, 1, 0], [0, 0, 0, 0], [0, 0, 2, 0]])]
    wanted = [A([[1, 2, 1, 0, 0], [0, 0, 0, 0, 0], [0, 1, 2, 1, 0]]), A([[0, 0, 0, 0], [1, 2, 1, 0], [0, 0, 0, 0], [0, 1, 2, 1]])]
    step = fit_complete_copies(made, wanted)
    assert step is not None and step.name == "complete_copies(every template, as it stands)"
    assert np.array_equal(step(A([[0, 0, 2, 0], [0, 0, 0, 0], [1, 2, 1, 0]])),
                          A([[0, 1, 2, 1], [0, 0, 0, 0], [1, 2, 1, 0]]))
    assert step(A([[0, 0, 1, 0, 0], [0, 0, 0, 0, 0], [1, 2, 1, 0, 0]])) is None  # a lone end completes two ways


def test_fitted_tile_maps_and_fractal_build_the_output_of_blocks():
    made = [A([[1, 2], [3, 4]]), A([[5, 0], [0, 6]])]
    wanted = [np.block([[g, np.rot90(g, -1)]]) for g in made]
    step = fit_tile_maps(made, wanted)
    assert step is not None and step.name == "tile_maps(identity, rotate(cw))"
    assert np.array_equal(step(A([[7, 8], [9, 1]])), A([[7, 8, 9, 7], [9, 1, 1, 8]]))
    assert step(A([[7, 8, 9]])) is None  # a turn of a grid that is not square changes its shape
    # Block (i, j) the input where cell (i, j) is the grid's most frequent colour.
    made = [A([[3, 3], [0, 1]]), A([[2, 0], [2, 2]])]
    zero = np.zeros((2, 2), dtype=np.int8)
    wanted = [np.block([[made[0], made[0]], [zero, zero]]), np.block([[made[1], zero], [made[1], made[1]]])]
    step = fit_fractal(made, wanted)
    assert step is not None and step.name == "fractal(by the majority colour)"
    grid = A([[5, 4], [4, 4]])
    assert np.array_equal(step(grid), np.block([[zero, grid], [grid, grid]]))


def test_fitted_count_draws_one_cell_a_unit_in_the_order_the_demonstrations_show():
    def grid(n):  # n single cells of 3 on a diagonal, and a bar of 2 cells that is not counted
        g = np.zeros((6, 6), dtype=np.int8)
        for i in range(n):
            g[i, i] = 3
        g[5, 4:6] = 2
        return g

    canvas = [A([[1, 0], [0, 0]]), A([[1, 1], [0, 0]]), A([[1, 1], [1, 0]]), A([[1, 1], [0, 0]])]
    step = fit_count([grid(1), grid(2), grid(3), grid(2)], canvas)
    assert step is not None and step.name == "count(objects of 3, on a 2x2 canvas)"
    assert np.array_equal(step(grid(3)), canvas[2])
    assert step(grid(5)) is None  # beyond the cells any demonstration painted
    assert fit_count([grid(1), grid(2), grid(2)], [canvas[0], canvas[1], canvas[2]]) is None  # one count, two drawings


def test_fitted_summaries_list_colours_cut_a_colours_box_and_pick_the_colour_that_stands_out():
    made = [A([[1, 1, 1, 2], [0, 3, 3, 0]]), A([[4, 0, 0], [5, 5, 0]])]
    wanted = [A([[1], [3], [2]]), A([[5], [4]])]  # the colours, most cells first
    step = fit_colour_list(made, wanted)
    assert step is not None and step.name == "colour_list(colours, all, by cells, as column)"
    assert np.array_equal(step(A([[6, 7, 7], [7, 8, 8]])), A([[7], [8], [6]]))
    assert step(A([[6, 7], [0, 0]])) is None  # two colours of one count: no order
    made = [A([[1, 1, 1, 1], [1, 2, 3, 1], [1, 1, 2, 1]]), A([[4, 4, 4], [4, 5, 4], [4, 4, 4]])]
    wanted = [A([[2, 3], [1, 2]]), A([[5]])]
    step = fit_colour_box(made, wanted)  # the box of the commonest colour (2, then 5)
    assert step is not None and step.name == "colour_box(commonest, margins [0, 0, 0, 0])"
    assert np.array_equal(step(A([[7, 7, 8], [7, 7, 9], [7, 9, 7]])), A([[7, 9], [9, 7]]))
    # The canvas in the colour with the most holes.
    ring = A([[1, 1, 1, 0, 2], [1, 0, 1, 0, 2], [1, 1, 1, 0, 2]])
    step = fit_pick_colour([ring, np.where(ring == 1, 3, ring)], [A([[1, 1]]), A([[3, 3]])])
    assert step is not None and step.name == "pick_colour(most holes)"
    assert np.array_equal(step(np.where(ring == 1, 6, ring)), A([[6, 6]]))


def test_a_fitted_rule_after_the_input_is_tiled():
    made, wanted = [A([[1, 0]]), A([[0, 1]])], [A([[2, 0, 2, 0]]), A([[0, 2, 0, 2]])]
    assert fit_colour_map(made, wanted) is None  # other shapes
    step = fit_after_resize(fit_colour_map, made, wanted)
    assert step is not None and step.name == "tile(1x2) | colour_map({1:2})"
    assert np.array_equal(step(A([[1, 1]])), A([[2, 2, 2, 2]]))
    assert fit_after_resize(fit_colour_map, made, [A([[2, 0, 2]]), A([[0, 2, 0]])]) is None  # not a multiple


def test_fitted_overlay_and_staircase():
    # Each colour's cells centred on one point, laid over one another.
    made = [A([[1, 0, 1, 0, 0], [0, 0, 0, 2, 0]]), A([[3, 0, 3, 0], [0, 0, 0, 4]])]
    wanted = [A([[1, 2, 1]]), A([[3, 4, 3]])]
    step = fit_overlay(made, wanted)
    assert step is not None and step.name == "overlay(colours on centres)"
    assert np.array_equal(step(A([[5, 0, 0], [0, 0, 6], [5, 0, 0]])), A([[5], [6], [5]]))
    assert step(A([[5, 5, 5], [6, 0, 0]])) is None  # 6 would land on 5's centre cell
    made = [A([[1, 0, 0]]), A([[2, 2, 0, 0]])]
    wanted = [A([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), A([[2, 2, 0, 0], [0, 2, 2, 0], [0, 0, 2, 2], [0, 0, 0, 2]])]
    step = fit_staircase(made, wanted)
    assert step is not None and step.name == "staircase(width high, right, downwards)"
    assert np.array_equal(step(A([[0, 3]])), A([[0, 3], [0, 0]]))


def test_fitted_lookup_needs_keys_seen_twice():
    made = [A([[1, 0]]), A([[0, 1]]), A([[1, 1]]), A([[0, 1]]), A([[1, 0, 0, 1]])]
    small, big = A([[5]]), A([[6, 6]])
    wanted = [small, small, big, small, big]  # by the count of coloured cells: 1 -> small, 2 -> big
    step = fit_lookup(made, wanted)
    assert step is not None and step.name == "lookup(by cells, 2 entries)"
    assert np.array_equal(step(A([[0, 0, 2]])), small) and step(A([[3, 3, 3]])) is None
    assert fit_lookup(made[:3], wanted[:3]) is None  # two keys in three demonstrations: not evidenced


def test_fitted_cell_rule_fills_the_fullest_cell():
    def cells(*blocks):  # 3x3 cells side by side between columns of 5
        out = [A(blocks[0])]
        for b in blocks[1:]:
            out += [A([[5]] * 3), A(b)]
        return np.hstack(out)

    e = [[0] * 3] * 3
    full = lambda c: [[c] * 3] * 3  # noqa: E731
    made = [cells([[3, 0, 0], e[0], e[0]], [[3, 3, 0], e[0], e[0]], e),
            cells([[4, 4, 0], [4, 0, 0], e[0]], [[0, 4, 0], e[0], e[0]], e)]
    wanted = [cells(e, full(3), e), cells(full(4), e, e)]
    step = fit_cell_rule(made, wanted)
    assert step is not None and step.name == "cell_rule(fill_most)"
    assert np.array_equal(step(cells(e, [[6, 0, 0], e[0], e[0]], [[0, 6, 0], [6, 0, 0], e[0]])), cells(e, e, full(6)))
    assert step(cells([[3, 6, 0], e[0], e[0]], [[3, 0, 0], e[0], e[0]], e)) is None  # the fullest cell has two colours


def test_fitted_moves_slide_project_and_mirror():
    # Cells slide down (or up) onto the full row of their colour.
    made = [A([[1, 0, 0], [0, 0, 0], [1, 1, 1], [0, 0, 1]]), A([[0, 1, 0], [1, 1, 1], [0, 0, 0]])]
    wanted = [A([[0, 0, 0], [1, 0, 0], [1, 1, 1], [0, 0, 1]]), A([[0, 1, 0], [1, 1, 1], [0, 0, 0]])]
    step = fit_slide_to_lines(made, wanted)
    assert step is not None and step.name.startswith("slide_to_lines(")
    assert np.array_equal(step(A([[0, 0], [0, 0], [1, 1], [0, 0], [0, 1]])), A([[0, 0], [0, 0], [1, 1], [0, 1], [0, 0]]))
    # A cell paints its colour on the nearest cell of the block, and stays.
    made = [A([[2, 0, 0, 0], [0, 0, 0, 0], [0, 5, 5, 0]]), A([[0, 0, 3], [0, 0, 0], [5, 5, 5]])]
    wanted = [A([[2, 0, 0, 0], [0, 0, 0, 0], [0, 2, 5, 0]]), A([[0, 0, 3], [0, 0, 0], [5, 5, 3]])]
    step = fit_project(made, wanted)
    assert step is not None and step.name == "project(markers kept)"
    assert np.array_equal(step(A([[0, 0, 4], [0, 0, 0], [5, 5, 5]])), A([[0, 0, 4], [0, 0, 0], [5, 5, 4]]))
    # Mirrored across the bracket's spine (a full column of 2), the original cleared.
    made = [A([[2, 0, 0, 3], [2, 0, 0, 0], [2, 0, 0, 0]]), A([[0, 0, 0], [2, 2, 2], [0, 4, 0], [0, 0, 0]])]
    wanted = [A([[2, 0, 0, 0], [2, 0, 0, 0], [2, 0, 0, 0]]), A([[0, 4, 0], [2, 2, 2], [0, 0, 0], [0, 0, 0]])]
    assert fit_mirror_across(made, wanted) is None  # 3 would land off the grid
    made[0], wanted[0] = A([[0, 6, 2, 0], [0, 0, 2, 0], [0, 0, 2, 0]]), A([[0, 0, 2, 6], [0, 0, 2, 0], [0, 0, 2, 0]])
    step = fit_mirror_across(made, wanted)
    assert step is not None and step.name == "mirror_across(brackets of 2)"
    assert np.array_equal(step(A([[0, 0, 0], [0, 7, 0], [2, 2, 2], [0, 0, 0], [0, 0, 0]])),
                          A([[0, 0, 0], [0, 0, 0], [2, 2, 2], [0, 7, 0], [0, 0, 0]]))


def test_fitted_rings_bounce_and_diagonal_rays():
    made = [A([[1, 1, 1], [1, 2, 1], [1, 1, 1]]), A([[3, 3, 3, 3], [3, 4, 4, 3], [3, 4, 4, 3], [3, 3, 3, 3]])]
    step = fit_rings(made, [np.where(g == g[0, 0], g[1, 1], g[0, 0]) for g in made])
    assert step is not None and step.name == "recolour_rings(reversed)"
    assert step(A([[5, 5], [5, 5]])) is None  # one ring: nothing to reverse
    # One cell's ray goes up, bouncing off the side walls.
    made = [A([[0, 0], [0, 0], [1, 0]]), A([[0, 0, 0], [0, 0, 0], [0, 0, 2]])]
    wanted = [A([[1, 0], [0, 1], [1, 0]]), A([[2, 0, 0], [0, 2, 0], [0, 0, 2]])]
    step = fit_bounce(made, wanted)
    assert step is not None and step.name.startswith("bounce(-1,")
    assert np.array_equal(step(A([[0, 0], [0, 0], [0, 0], [0, 3]])), A([[3, 0], [0, 3], [3, 0], [0, 3]]))
    # From the empty corner of three cells of a 2x2 box, a ray out to the edge.
    made = [A([[0, 0, 0, 0], [0, 0, 0, 0], [4, 0, 0, 0], [4, 4, 0, 0]]),
            A([[0, 0, 0, 0], [0, 5, 5, 0], [0, 0, 5, 0], [0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 4], [0, 0, 4, 0], [4, 0, 0, 0], [4, 4, 0, 0]]),
              A([[0, 0, 0, 0], [0, 5, 5, 0], [0, 0, 5, 0], [5, 0, 0, 0]])]
    step = fit_diagonal_rays(made, wanted)
    assert step is not None and step.name == "diagonal_rays(from each notch)"


def test_fitted_shape_stamp_largest_rectangle_and_references():
    # A 2-cell bar (colours by rank) paints the cells beside its ends in its second colour.
    made = [A([[0, 0, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]]), A([[0, 0, 0, 0, 0], [3, 4, 0, 0, 0], [0, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0], [2, 1, 2, 2], [0, 0, 0, 0]]), A([[0, 0, 0, 0, 0], [3, 4, 4, 0, 0], [0, 0, 0, 0, 0]])]
    step = fit_shape_stamp(made, wanted)
    assert step is not None and step.name.startswith("shape_stamp(")
    assert step(A([[0, 0, 0], [0, 5, 0], [0, 0, 0]])) is None  # a shape never seen
    # The one largest rectangle of 0 painted 6.
    made = [A([[1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 0]]), A([[0, 1, 1], [0, 1, 1], [0, 1, 1]])]
    wanted = [A([[1, 6, 6, 1], [1, 6, 6, 1], [1, 1, 1, 0]]), A([[6, 1, 1], [6, 1, 1], [6, 1, 1]])]
    step = fit_largest_rectangle(made, wanted)
    assert step is not None and step.name == "largest_rectangle(of 0 painted 6, sides >= 1)"
    assert step(A([[0, 1, 0]])) is None  # two as large
    # The shape inside the frame of 5 (closed) recolours its look-alikes outside.
    made = [A([[5, 5, 5, 0, 0], [5, 2, 5, 0, 1], [5, 5, 5, 0, 0]]), A([[0, 5, 5, 5], [0, 5, 3, 5], [1, 5, 5, 5]])]
    made = [np.pad(m, 1) for m in made]
    wanted = [np.where(m == 1, r, m) for m, r in zip(made, (2, 3))]
    step = fit_match_references(made, wanted)
    assert step is not None and step.name == "match_references(frames of 5, closed, the reference's colour)"


def rectangles(boxes, side=8, colour=5):
    g = np.zeros((side, side), dtype=np.int8)
    for t, l, b, r in boxes:
        g[t:b, l:r] = colour
    return g


def test_fitted_rectangle_roles_by_role_and_by_size_rank():
    def painted(g, corner, edge, interior, boxes):
        out = g.copy()
        for t, l, b, r in boxes:
            out[t:b, l:r] = edge
            out[t + 1:b - 1, l + 1:r - 1] = interior
            for i, j in ((t, l), (t, r - 1), (b - 1, l), (b - 1, r - 1)):
                out[i, j] = corner
        return out

    first, second = [(0, 0, 3, 4), (4, 4, 8, 8)], [(1, 1, 5, 4), (6, 0, 8, 3)]
    made = [rectangles(first), rectangles(second)]
    step = fit_rectangle_roles(made, [painted(m, 1, 4, 2, b) for m, b in zip(made, (first, second))])
    assert step is not None and step.name.startswith("rectangle_roles(by role on 0")
    test = [(0, 3, 4, 7)]
    assert np.array_equal(step(rectangles(test)), painted(rectangles(test), 1, 4, 2, test))
    assert step(np.pad(A([[5, 5], [5, 0]]), 1)) is None  # not a rectangle: the rule does not apply

    # The larger rectangle's interior takes 2, the smaller's 1; the frames keep their colour.
    def by_rank(boxes):
        g = rectangles(boxes)
        out = g.copy()
        for (t, l, b, r), fill in zip(sorted(boxes, key=lambda x: -(x[2] - x[0]) * (x[3] - x[1])), (2, 1)):
            out[t + 1:b - 1, l + 1:r - 1] = fill
        return out

    step = fit_rectangle_roles([rectangles(first), rectangles(second)], [by_rank(first), by_rank(second)])
    assert step is not None and "role+rank" in step.name
    assert np.array_equal(step(rectangles([(0, 0, 5, 5), (6, 4, 8, 8)])), by_rank([(0, 0, 5, 5), (6, 4, 8, 8)]))


def test_fitted_nearest_colour_and_own_boxes():
    g = A([[1, 0, 0, 0, 0, 2], [1, 0, 3, 0, 0, 2], [1, 0, 0, 0, 3, 2]])
    h = A([[1, 0, 0, 0, 0, 2], [1, 3, 0, 0, 0, 2], [1, 0, 0, 3, 0, 2]])
    step = fit_nearest_colour([g, h], [np.where(g == 3, A([[1] * 3 + [2] * 3] * 3), g),
                                       np.where(h == 3, A([[1] * 3 + [2] * 3] * 3), h)])
    assert step is not None and step.name == "nearest_colour(3)"
    test = A([[1, 3, 0, 0, 3, 2]])
    assert np.array_equal(step(test), A([[1, 1, 0, 0, 2, 2]]))
    assert step(A([[1, 0, 3, 0, 2]])) is None  # equally near to both: no answer

    def dots(cells, side=6):
        out = np.zeros((side, side), dtype=np.int8)
        for i, j, c in cells:
            out[i, j] = c
        return out

    made = [dots([(0, 0, 4), (2, 3, 4), (4, 1, 7), (5, 5, 7)]), dots([(1, 1, 2), (3, 2, 2)])]
    wanted = [dots([(i, j, 4) for i in range(3) for j in range(4)] + [(i, j, 7) for i in range(4, 6) for j in range(1, 6)]),
              dots([(i, j, 2) for i in range(1, 4) for j in range(1, 3)])]
    step = fit_own_boxes(made, wanted)
    assert step is not None and step.name == "own_boxes(on 0)"
    assert np.array_equal(step(dots([(0, 5, 6), (1, 4, 6)])), dots([(0, 4, 6), (0, 5, 6), (1, 4, 6), (1, 5, 6)]))
    assert step(dots([(0, 0, 1), (3, 3, 1), (2, 2, 3), (5, 5, 3)])) is None  # two boxes meet


def test_fitted_edge_lines_draw_between_matching_ends():
    g = A([[0, 0, 4, 0, 0], [3, 0, 0, 0, 3], [0, 4, 0, 0, 0], [0, 0, 0, 4, 0]])
    step = fit_edge_lines([g], [A([[0] * 5, [3] * 5, [0] * 5, [0] * 5])])
    assert step is not None and step.name == "edge_lines(on 0, erase others)"
    test = A([[0, 6, 0], [0, 4, 0], [0, 6, 0]])  # colour 4 lies inside: only 6, on the edge, draws
    assert np.array_equal(step(test), A([[0, 6, 0], [0, 6, 0], [0, 6, 0]]))
    assert step(A([[0, 4, 0], [0, 0, 0]])) is None  # no pair of ends: nothing to draw


def test_fitted_centre_lines_and_empty_squares():
    def square(at, side=9):
        g = np.full((side, side), 8, dtype=np.int8)
        t, l = at
        g[t:t + 3, l:l + 3] = 1
        g[t + 1, l + 1] = 8
        return g

    def lined(at, side=9):
        g = square(at, side)
        t, l = at
        g[t + 1][g[t + 1] == 8] = 6
        g[:, l + 1][g[:, l + 1] == 8] = 6
        return g

    step = fit_centre_lines([square((0, 0)), square((4, 5))], [lined((0, 0)), lined((4, 5))])
    assert step is not None and step.name == "centre_lines(both, 6 on 8)"
    assert np.array_equal(step(square((5, 2))), lined((5, 2)))
    even = np.full((5, 5), 8, dtype=np.int8)
    even[0:2, 0:2] = 1
    assert step(even) is None  # a box of even side has no centre

    made = [A([[5, 0, 0, 5], [5, 0, 0, 5], [5, 5, 5, 5]]), A([[0, 5, 5], [5, 0, 0], [5, 0, 0]])]
    wanted = [A([[5, 3, 3, 5], [5, 3, 3, 5], [5, 5, 5, 5]]), A([[0, 5, 5], [5, 3, 3], [5, 3, 3]])]
    step = fit_empty_squares(made, wanted)
    assert step is not None and step.name == "empty_squares(2x2 of 0 -> 3)"
    # Overlapping empty squares: the first in reading order is taken, the one sharing its cells not.
    assert np.array_equal(step(A([[0, 0, 0], [0, 0, 0], [5, 5, 5]])), A([[3, 3, 0], [3, 3, 0], [5, 5, 5]]))
