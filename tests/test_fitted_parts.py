"""The fitted rules that cut, pick, assemble or grow parts: a repeating block, the odd part, corners
overlaid, pieces fitted together, noisy and framed regions cut out, lattices and separator grids
read as cells, Kronecker products, counted copies, painting around cells, corner rays, a scale
read off a count, an output looked up by its number of colours. Hand-made grids, exact outputs."""

import numpy as np

from arcttt.programs.crops import (fit_corner_marks, fit_lattice_cells, fit_rectangle_lines, fit_scale_into_frame,
                                   fit_shoot_at_lines, fit_shrink_scaled, fit_summary_stripes)
from arcttt.programs.grows import (fit_corner_rays, fit_counted_copies, fit_kron_halves, fit_paint_around,
                                   fit_scale_by_count)
from arcttt.programs.picks import fit_corner_overlay, fit_corner_pieces, fit_jigsaw, fit_pick_part, fit_repeating_unit
from arcttt.programs.summaries import fit_lookup


def A(rows) -> np.ndarray:
    return np.asarray(rows, dtype=np.int8)


def place(shape, pieces, bg=0) -> np.ndarray:
    """A grid of `shape` with each (top, left, block) pasted in; cells of -1 in a block left alone."""
    g = np.full(shape, bg, dtype=np.int8)
    for t, l, block in pieces:
        block = np.asarray(block)
        view = g[t:t + block.shape[0], l:l + block.shape[1]]
        view[block >= 0] = block[block >= 0]
    return g


def test_repeating_unit_and_the_part_that_stands_out():
    units = [A([[1, 2], [3, 4]]), A([[5, 0, 5]])]
    step = fit_repeating_unit([np.tile(units[0], (2, 3)), np.tile(units[1], (3, 1))], units)
    assert step is not None and step.name == "repeating_unit"
    assert np.array_equal(step(np.tile(A([[7, 8, 9], [1, 1, 2]]), (2, 2))), A([[7, 8, 9], [1, 1, 2]]))
    assert step(A([[1, 2], [3, 4]])) is None  # repeats nowhere

    ring, bar, cross, dot = (A([[1, 1, 1], [1, 0, 1], [1, 1, 1]]), A([[2, 0, 0], [2, 2, 0], [2, 0, 0]]),
                             A([[0, 3, 0], [3, 3, 3], [0, 3, 0]]), A([[0, 0, 0], [0, 4, 0], [0, 0, 0]]))
    made = [np.hstack([ring, ring, bar]), np.hstack([cross, dot, cross])]
    step = fit_pick_part(made, [bar, dot])
    assert step is not None and step.name.startswith("pick_part(split") and "fewest content_count, crop" in step.name
    assert np.array_equal(step(np.hstack([cross, bar, bar])), cross)  # the odd block, now first
    assert step(np.hstack([ring, ring, ring])) is None  # no block stands out


def test_corner_windows_overlaid_and_refused_where_two_colours_clash():
    made = [A([[1, 0, 5, 0, 2], [0, 0, 5, 0, 0], [0, 0, 5, 0, 0], [0, 1, 5, 0, 0]]),
            A([[0, 0, 5, 0, 0], [3, 0, 5, 0, 0], [0, 0, 5, 3, 0], [0, 3, 5, 0, 0]])]
    step = fit_corner_overlay(made, [A([[1, 2], [0, 1]]), A([[3, 0], [3, 3]])])
    assert step is not None and step.name == "corner_overlay(2x2, bg 0)"
    test = A([[0, 6, 5, 6, 0], [0, 0, 5, 0, 0], [0, 0, 5, 0, 0], [0, 0, 5, 0, 7]])
    assert np.array_equal(step(test), A([[6, 6], [0, 7]]))
    assert step(A([[1, 0, 5, 2, 0], [0, 0, 5, 0, 0], [0, 0, 5, 0, 0], [0, 0, 5, 0, 0]])) is None  # 1 and 2 on one cell


def test_jigsaw_fits_the_pieces_into_the_one_rectangle_they_fill():
    X = -1
    made = [place((5, 5), [(0, 0, [[1, 1], [1, X]]), (3, 3, [[2]])]),
            place((6, 6), [(0, 2, [[6, 6, 6], [6, X, X]]), (4, 0, [[7, 7]])])]
    step = fit_jigsaw(made, [A([[1, 1], [1, 2]]), A([[6, 6, 6], [6, 7, 7]])])
    assert step is not None and step.name == "jigsaw(on 0)"
    test = place((5, 5), [(3, 0, [[1, 1], [X, 1]]), (0, 4, [[2]])])
    assert np.array_equal(step(test), A([[1, 1], [2, 1]]))
    assert step(place((4, 4), [(0, 0, [[3, 3]]), (2, 1, [[4, 4]])])) is None  # 3344 and 4433 both fill 1x4


def test_corner_pieces_go_to_the_corner_they_point_to():
    made = [place((7, 7), [(4, 4, [[1, 1], [1, 0]]), (0, 0, [[2, 2], [0, 2]]),
                           (0, 4, [[3, 0], [3, 3]]), (4, 0, [[0, 4], [4, 4]])]),
            place((8, 8), [(5, 4, [[5, 5, 5], [5, 0, 0]]), (0, 0, [[6, 6, 6], [0, 0, 6]]),
                           (2, 4, [[7, 0, 0], [7, 7, 7]]), (5, 0, [[0, 0, 8], [8, 8, 8]])])]
    wanted = [A([[1, 1, 2, 2], [1, 0, 0, 2], [3, 0, 0, 4], [3, 3, 4, 4]]),
              A([[5, 5, 5, 6, 6, 6], [5, 0, 0, 0, 0, 6], [7, 0, 0, 0, 0, 8], [7, 7, 7, 8, 8, 8]])]
    step = fit_corner_pieces(made, wanted)
    assert step is not None and step.name == "corner_pieces(on 0)"
    test = place((10, 10), [(0, 0, [[0, 0, 4], [0, 0, 4], [4, 4, 4]]), (0, 6, [[3, 0, 0], [3, 0, 0], [3, 3, 3]]),
                            (6, 0, [[2, 2, 2], [0, 0, 2], [0, 0, 2]]), (6, 6, [[1, 1, 1], [1, 0, 0], [1, 0, 0]])])
    assert np.array_equal(step(test), A([[1, 1, 1, 2, 2, 2], [1, 0, 0, 0, 0, 2], [1, 0, 0, 0, 0, 2],
                                         [3, 0, 0, 0, 0, 4], [3, 0, 0, 0, 0, 4], [3, 3, 3, 4, 4, 4]]))
    two_top_lefts = place((7, 7), [(4, 4, [[1, 1], [1, 0]]), (0, 0, [[2, 2], [0, 2]]),
                                   (0, 4, [[3, 0], [3, 3]]), (4, 0, [[4, 4], [4, 0]])])
    assert step(two_top_lefts) is None


def checker(h, w) -> np.ndarray:
    """A background of 1 and 2 with no one-colour 2 x 2 block in it."""
    return (1 + (np.add.outer(np.arange(h), np.arange(w)) % 2)).astype(np.int8)


def test_noisy_rectangle_cut_out_with_its_noise_drawn_as_lines():
    first = checker(8, 8)
    first[2:7, 1:6] = 4
    first[3, 3] = 6
    second = checker(8, 8)
    second[1:6, 2:8] = 3
    second[2, 4], second[4, 6] = 7, 8
    wanted = [A([[4, 4, 6, 4, 4], [6, 6, 6, 6, 6], [4, 4, 6, 4, 4], [4, 4, 6, 4, 4], [4, 4, 6, 4, 4]]),
              A([[3, 3, 7, 3, 8, 3], [7, 7, 7, 7, 8, 7], [3, 3, 7, 3, 8, 3], [8, 8, 7, 8, 8, 8], [3, 3, 7, 3, 8, 3]])]
    step = fit_rectangle_lines([first, second], wanted)
    assert step is not None and step.name == "noisy_rectangle(lines both)"
    test = checker(8, 8)
    test[0:4, 0:4] = 5
    test[2, 1] = 9
    assert np.array_equal(step(test), A([[5, 9, 5, 5], [5, 9, 5, 5], [9, 9, 9, 9], [5, 9, 5, 5]]))
    tie = checker(8, 8)
    tie[0:3, 0:3], tie[5:8, 5:8] = 3, 4
    assert step(tie) is None  # two blocks of one size: which one is not told


def test_shrink_scaled_shape_and_scale_a_shape_into_the_frame():
    first = place((6, 6), [(1, 1, np.kron(A([[2, 0], [2, 2]]), np.ones((2, 2), dtype=np.int8))), (5, 5, [[3]])])
    second = place((8, 8), [(1, 2, np.kron(A([[0, 5], [5, 5]]), np.ones((3, 3), dtype=np.int8))), (7, 0, [[1]])])
    step = fit_shrink_scaled([first, second], [A([[2, 0], [2, 2]]), A([[0, 5], [5, 5]])])
    assert step is not None and step.name == "shrink_scaled(bg 0, paint own)"
    test = place((8, 8), [(2, 1, np.kron(A([[4, 4, 0], [0, 4, 4]]), np.ones((2, 2), dtype=np.int8))),
                          (0, 7, [[6]]), (7, 0, [[9]])])
    assert np.array_equal(step(test), A([[4, 4, 0], [0, 4, 4]]))
    assert step(place(first.shape, [(0, 0, first), (0, 4, [[7, 7], [7, 7]])])) is None  # two scaled shapes

    def frame(h, w, c):
        f = np.full((h, w), c, dtype=np.int8)
        f[1:-1, 1:-1] = -1
        return f

    made = [place((8, 9), [(0, 3, frame(6, 6, 8)), (6, 0, [[1, 2], [0, 1]])]),
            place((7, 8), [(0, 0, frame(5, 8, 3)), (6, 3, [[6, 7]])])]
    wanted = [A([[8, 8, 8, 8, 8, 8], [8, 1, 1, 2, 2, 8], [8, 1, 1, 2, 2, 8],
                 [8, 0, 0, 1, 1, 8], [8, 0, 0, 1, 1, 8], [8, 8, 8, 8, 8, 8]]),
              A([[3] * 8, [3, 6, 6, 6, 7, 7, 7, 3], [3, 6, 6, 6, 7, 7, 7, 3], [3, 6, 6, 6, 7, 7, 7, 3], [3] * 8])]
    step = fit_scale_into_frame(made, wanted)
    assert step is not None and step.name == "scale_into_frame(bg 0)"
    test = place((10, 10), [(2, 2, frame(8, 8, 2)), (0, 0, [[0, 5], [5, 9]])])
    assert np.array_equal(step(test), A([[2] * 8, *[[2, 0, 0, 0, 5, 5, 5, 2]] * 3, *[[2, 5, 5, 5, 9, 9, 9, 2]] * 3,
                                         [2] * 8]))
    assert step(place((10, 10), [(2, 2, frame(8, 8, 2)), (0, 0, [[5, 0, 0, 5]])])) is None  # 6 wide is not k x 4


def test_pattern_between_lines_painted_by_the_corner_marks():
    made = [A([[1, 8, 0, 0, 0, 0, 8, 2],
               [8, 8, 8, 8, 8, 8, 8, 8],
               [0, 8, 5, 0, 0, 5, 8, 0],
               [0, 8, 0, 5, 5, 0, 8, 0],
               [0, 8, 0, 5, 0, 0, 8, 0],
               [0, 8, 5, 0, 0, 5, 8, 0],
               [8, 8, 8, 8, 8, 8, 8, 8],
               [3, 8, 0, 0, 0, 0, 8, 4]]),
            A([[6, 3, 0, 0, 0, 0, 3, 7],
               [3, 3, 3, 3, 3, 3, 3, 3],
               [0, 3, 1, 1, 0, 1, 3, 0],
               [0, 3, 0, 1, 1, 1, 3, 0],
               [3, 3, 3, 3, 3, 3, 3, 3],
               [8, 3, 0, 0, 0, 0, 3, 9]])]
    wanted = [A([[1, 0, 0, 2], [0, 1, 2, 0], [0, 3, 0, 0], [3, 0, 0, 4]]), A([[6, 6, 0, 7], [0, 8, 9, 9]])]
    step = fit_corner_marks(made, wanted)
    assert step is not None and step.name == "corner_marks"
    test = A([[4, 2, 0, 0, 0, 0, 0, 0, 2, 3],
              [2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
              [0, 2, 8, 8, 0, 0, 0, 8, 2, 0],
              [0, 2, 0, 8, 0, 0, 8, 8, 2, 0],
              [0, 2, 0, 0, 8, 8, 0, 0, 2, 0],
              [0, 2, 8, 0, 0, 0, 0, 8, 2, 0],
              [2, 2, 2, 2, 2, 2, 2, 2, 2, 2],
              [7, 2, 0, 0, 0, 0, 0, 0, 2, 1]])
    assert np.array_equal(step(test), A([[4, 4, 0, 0, 0, 3], [0, 4, 0, 0, 3, 3],
                                         [0, 0, 7, 1, 0, 0], [7, 0, 0, 0, 0, 1]]))
    assert step(np.delete(test, 5, axis=0)) is None  # three rows inside: no quadrants


def test_cells_inside_four_lines_shot_at_the_line_of_their_colour():
    made = [A([[0, 3, 0, 0, 0, 0, 4, 0],
               [2, 2, 2, 2, 2, 2, 2, 2],
               [0, 3, 0, 0, 4, 0, 4, 0],
               [0, 3, 0, 0, 0, 8, 4, 0],
               [0, 3, 2, 0, 0, 0, 4, 0],
               [0, 3, 0, 0, 3, 0, 4, 0],
               [8, 8, 8, 8, 8, 8, 8, 8],
               [0, 3, 0, 0, 0, 0, 4, 0]]),
            A([[7, 0, 0, 0, 0, 9, 0],
               [7, 0, 0, 0, 0, 9, 0],
               [1, 1, 1, 1, 1, 1, 1],
               [7, 0, 0, 0, 0, 9, 0],
               [7, 0, 0, 9, 0, 9, 0],
               [7, 1, 0, 0, 0, 9, 0],
               [7, 0, 0, 7, 0, 9, 0],
               [6, 6, 6, 6, 6, 6, 6],
               [7, 0, 0, 0, 0, 9, 0]])]
    wanted = [A([[2, 2, 2, 2, 2, 2], [3, 2, 0, 4, 4, 4], [3, 2, 0, 0, 8, 4],
                 [3, 2, 0, 0, 8, 4], [3, 3, 3, 3, 8, 4], [8, 8, 8, 8, 8, 8]]),
              A([[1, 1, 1, 1, 1, 1], [7, 1, 0, 0, 0, 9], [7, 1, 0, 9, 9, 9],
                 [7, 1, 0, 0, 0, 9], [7, 7, 7, 7, 0, 9], [6, 6, 6, 6, 6, 6]])]
    step = fit_shoot_at_lines(made, wanted)
    assert step is not None and step.name == "shoot_at_lines(on 0)"
    test = A([[0, 9, 0, 0, 0, 0, 7, 0],
              [6, 6, 6, 6, 6, 6, 6, 6],
              [0, 9, 0, 0, 7, 0, 7, 0],
              [0, 9, 6, 0, 0, 1, 7, 0],
              [0, 9, 0, 0, 9, 0, 7, 0],
              [0, 9, 0, 0, 0, 0, 7, 0],
              [1, 1, 1, 1, 1, 1, 1, 1],
              [0, 9, 0, 0, 0, 0, 7, 0]])
    assert np.array_equal(step(test), A([[6, 6, 6, 6, 6, 6], [9, 6, 0, 7, 7, 7], [9, 6, 0, 0, 1, 7],
                                         [9, 9, 9, 9, 1, 7], [9, 0, 0, 0, 1, 7], [1, 1, 1, 1, 1, 1]]))
    stray = test.copy()
    stray[5, 3] = 5  # a colour no line has
    assert step(stray) is None


def lattice(n, marks, line=8) -> np.ndarray:
    """n full rows and n full columns of `line` (every other line), with `marks` {(i, j): colour} on crossings."""
    g = np.zeros((2 * n + 1, 2 * n + 1), dtype=np.int8)
    g[1::2, :] = line
    g[:, 1::2] = line
    for (i, j), c in marks.items():
        g[2 * i + 1, 2 * j + 1] = c
    return g


def test_lattice_crossings_and_separator_cells_read_as_cells():
    square = lambda i, j, c: {(i, j): c, (i, j + 1): c, (i + 1, j): c, (i + 1, j + 1): c}
    made = [lattice(4, {**square(0, 0, 2), **square(1, 2, 3)}), lattice(4, square(1, 1, 4))]
    step = fit_lattice_cells(made, [A([[2, 0, 0], [0, 0, 3]]), A([[4]])])
    assert step is not None and step.name == "lattice_cells"
    assert np.array_equal(step(lattice(4, {**square(0, 1, 5), **square(2, 2, 6)})), A([[5, 0], [0, 0], [0, 6]]))
    assert step(lattice(4, {})) is None  # no marks

    made = [A([[1, 0, 1], [0, 1, 0], [5, 5, 5], [2, 2, 0], [0, 0, 0], [5, 5, 5], [0, 3, 0], [3, 0, 3]]),
            A([[4, 0, 4], [5, 5, 5], [0, 1, 0], [5, 5, 5], [2, 0, 0], [5, 5, 5], [0, 0, 4]])]
    wanted = [A([[1, 1, 1], [2, 2, 2], [3, 3, 3]]), A([[4] * 4, [1] * 4, [2] * 4, [4] * 4])]
    step = fit_summary_stripes(made, wanted)
    assert step is not None and step.name == "stripes(rows, summarise(cells))"
    test = A([[6, 6, 0, 0, 0], [9] * 5, [0, 7, 0, 7, 0], [9] * 5, [1, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[6, 6, 6], [7, 7, 7], [1, 1, 1]]))
    assert step(A([[1, 0], [0, 1]])) is None  # no separator lines


def test_kron_of_halves_mask_found_by_its_single_colour():
    made = [A([[5, 0, 1, 2], [5, 5, 0, 3]]), A([[4, 0], [4, 6], [0, 7], [7, 0]])]
    wanted = [A([[1, 0, 2, 0], [1, 1, 2, 2], [0, 0, 3, 0], [0, 0, 3, 3]]),
              A([[0, 4, 0, 0], [4, 0, 0, 0], [0, 4, 0, 6], [4, 0, 6, 0]])]
    step = fit_kron_halves(made, wanted)
    assert step is not None and step.name == "kron_halves: kron_halves(long, mask single, colour)"
    assert np.array_equal(step(A([[2, 3, 1, 1], [0, 0, 0, 1]])), A([[2, 2, 3, 3], [0, 2, 0, 3], [0] * 4, [0] * 4]))
    assert step(A([[1, 0, 2, 2], [1, 1, 0, 2]])) is None  # both halves of one colour: no mask told
    assert step(A([[1, 2], [0, 1]])) is None  # square: no longer side to halve


def test_counted_copies_and_scale_by_count_read_their_numbers_off_the_input():
    Z = lambda g: np.zeros_like(g)
    made = [A([[1, 2], [1, 0]]), A([[3, 0, 4], [0, 5, 5]])]
    a, b = made
    wanted = [np.block([[a, a], [a, Z(a)]]), np.block([[b, b, b], [b, Z(b), Z(b)], [Z(b), Z(b), Z(b)]])]
    step = fit_counted_copies(made, wanted)
    assert step is not None and step.name == "counted_copies: counted_copies(side=colours, copies=cells)"
    assert np.array_equal(step(A([[6, 0, 0], [0, 0, 7]])),
                          A([[6, 0, 0, 6, 0, 0], [0, 0, 7, 0, 0, 7], [0] * 6, [0] * 6]))
    assert step(A([[1, 1, 1], [1, 2, 0]])) is None  # five copies do not fit a 2 x 2 canvas
    c = A([[3, 0], [4, 4]])  # also two colours and three cells: the side never varies
    assert fit_counted_copies([a, c], [wanted[0], np.block([[c, c], [c, Z(c)]])]) is None

    made = [A([[1, 0], [0, 2]]), A([[1, 2], [3, 3]])]
    step = fit_scale_by_count(made, [np.kron(made[0], np.ones((2, 2), dtype=np.int8)),
                                     np.kron(made[1], np.ones((3, 3), dtype=np.int8))])
    assert step is not None and step.name == "scale_by_count: scale(by colours)"
    assert np.array_equal(step(A([[5, 0], [0, 6]])), A([[5, 5, 0, 0], [5, 5, 0, 0], [0, 0, 6, 6], [0, 0, 6, 6]]))
    assert step(A([[0, 0], [0, 0]])) is None  # no colour: scale 0


def test_paint_around_each_cell_same_size_and_after_a_tiling():
    made = [place((5, 5), [(2, 2, [[3]])]), place((6, 6), [(1, 1, [[1]]), (4, 3, [[2]])])]
    wanted = [A([[0, 0, 0, 0, 0], [0, 4, 0, 4, 0], [0, 0, 3, 0, 0], [0, 4, 0, 4, 0], [0, 0, 0, 0, 0]]),
              A([[4, 0, 4, 0, 0, 0], [0, 1, 0, 0, 0, 0], [4, 0, 4, 0, 0, 0],
                 [0, 0, 4, 0, 4, 0], [0, 0, 0, 2, 0, 0], [0, 0, 4, 0, 4, 0]])]
    step = fit_paint_around(made, wanted)
    assert step is not None and step.name == "paint_around: none(1x1) | paint_around(diag, 4)"
    test = place((5, 5), [(1, 1, [[7]]), (2, 2, [[6]])])
    assert np.array_equal(step(test), A([[4, 0, 4, 0, 0], [0, 7, 0, 4, 0], [4, 0, 6, 0, 0],
                                         [0, 4, 0, 4, 0], [0, 0, 0, 0, 0]]))
    assert step(np.zeros((4, 4), dtype=np.int8)) is None  # nothing to paint around

    made = [A([[1, 0], [0, 0]]), A([[1, 0, 0], [0, 0, 0], [0, 0, 0]])]
    wanted = [A([[1, 2, 1, 2], [2, 0, 2, 0], [1, 2, 1, 2], [2, 0, 2, 0]]),
              A([[1, 2, 2, 1, 2, 0], [2, 0, 0, 2, 0, 0], [2, 0, 0, 2, 0, 0],
                 [1, 2, 2, 1, 2, 0], [2, 0, 0, 2, 0, 0], [0, 0, 0, 0, 0, 0]])]
    step = fit_paint_around(made, wanted)
    assert step is not None and step.name == "paint_around: tile(2x2) | paint_around(orth, 2)"
    assert np.array_equal(step(A([[0, 0], [0, 3]])), A([[0, 2, 0, 2], [2, 3, 2, 3], [0, 2, 0, 2], [2, 3, 2, 3]]))
    assert fit_paint_around([made[0]], [A([[1, 2, 0], [2, 0, 0]])]) is None  # 2 x 3 is no whole factor of 2 x 2


def test_corner_rays_leave_each_free_corner_of_an_object():
    made = [place((7, 7), [(2, 2, [[1, 1], [1, 1]])]), place((6, 6), [(1, 4, [[3]])])]
    wanted = [A([[2, 0, 0, 0, 0, 2, 0], [0, 2, 0, 0, 2, 0, 0], [0, 0, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 0, 0],
                 [0, 2, 0, 0, 2, 0, 0], [2, 0, 0, 0, 0, 2, 0], [0, 0, 0, 0, 0, 0, 2]]),
              A([[0, 0, 0, 2, 0, 2], [0, 0, 0, 0, 3, 0], [0, 0, 0, 2, 0, 2],
                 [0, 0, 2, 0, 0, 0], [0, 2, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0]])]
    step = fit_corner_rays(made, wanted)
    assert step is not None and step.name == "corner_rays(2)"
    test = place((6, 6), [(2, 2, [[5, 5], [5, 0]])])  # the box's bottom-right corner is not the object's
    assert np.array_equal(step(test), A([[2, 0, 0, 0, 0, 2], [0, 2, 0, 0, 2, 0], [0, 0, 5, 5, 0, 0],
                                         [0, 0, 5, 0, 0, 0], [0, 2, 0, 0, 0, 0], [2, 0, 0, 0, 0, 0]]))
    assert step(np.zeros((4, 4), dtype=np.int8)) is None  # no object, no ray


def test_lookup_answers_by_the_number_of_colours():
    made = [A([[0, 1], [1, 0]]), A([[0, 0, 3]]), A([[1, 2], [0, 0]]), A([[4, 0], [5, 5]])]
    two, three = A([[1, 1]]), A([[2], [2]])
    step = fit_lookup(made, [two, two, three, three])
    assert step is not None and step.name == "lookup(by n_colours, 2 entries)"
    assert np.array_equal(step(A([[6, 6], [0, 6]])), two)
    assert np.array_equal(step(A([[1, 2, 3]])), three)
    assert step(A([[0, 1], [2, 3]])) is None  # four colours: never seen
    assert fit_lookup(made[1:], [two, three, three]) is None  # two entries from three demonstrations: too few repeats


def test_split_parts_cut_between_one_colour_separators():
    from arcttt.programs.picks import _split_parts

    s, a, b = A([[5], [5]]), A([[1, 1], [1, 0]]), A([[2, 0], [0, 2]])
    parts = _split_parts(np.hstack([a, s, a, s, b]), (2, 2))  # 8 columns: also 4 blocks without separators
    assert [p.tolist() for p, _ in parts] == [a.tolist(), a.tolist(), b.tolist()]
    parts = _split_parts(np.hstack([a, a, b, b]), (2, 2))  # no one-colour separator: blocks side by side
    assert [p.tolist() for p, _ in parts] == [a.tolist(), a.tolist(), b.tolist(), b.tolist()]
