"""The fitted rules that paint regions, carry patterns on and move objects: halos and filled holes,
enclosed regions, open lines, leaky boxes, checkered floods, bands and stripes, shifts, steps,
alignments, mirrors, bridges and sorted rows. Hand-made grids, exact outputs."""

import numpy as np

from arcttt.programs.extend import (fit_complete_lines, fit_count_bars, fit_dot_bars, fit_header_cycle,
                                    fit_join_halves, fit_pattern_rays, fit_seed_stripes, fit_tile_band)
from arcttt.programs.moves import fit_sorted_rows
from arcttt.programs.regions import (fit_checker_flood, fit_enclosed_fill, fit_halo, fit_keep_unique, fit_leaky_box,
                                     fit_marker_cross, fit_open_lines, fit_ring_crossings)
from arcttt.programs.shifts import fit_align, fit_bridge, fit_mirror_to_marker, fit_shift, fit_step_toward


def A(rows) -> np.ndarray:
    return np.asarray(rows, dtype=np.int8)


def test_fitted_halo_rings_every_object_or_the_chosen_ones_and_fills_their_holes():
    made = [A([[0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 2, 2, 0],
               [0, 0, 0, 0, 0, 0]]),
            A([[0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 3, 0, 0], [0, 0, 3, 0, 0], [0, 0, 0, 0, 0]])]
    wanted = [A([[4, 4, 4, 0, 0, 0], [4, 1, 4, 0, 0, 0], [4, 4, 4, 0, 0, 0], [0, 0, 4, 4, 4, 4], [0, 0, 4, 2, 2, 4],
                 [0, 0, 4, 4, 4, 4]]),
              A([[0, 0, 0, 0, 0], [0, 4, 4, 4, 0], [0, 4, 3, 4, 0], [0, 4, 3, 4, 0], [0, 4, 4, 4, 0]])]
    step = fit_halo(made, wanted)
    assert step is not None and step.name == "halo(all, ring8 4, holes None)"
    test = A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 6, 0, 0, 0], [0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0, 0], [0, 4, 4, 4, 0, 0], [0, 4, 6, 4, 0, 0],
                                         [4, 4, 4, 4, 0, 0], [1, 4, 0, 0, 0, 0]]))  # rings clipped and merged
    assert step(np.zeros((3, 3), dtype=np.int8)) is None  # no object to ring

    # only the largest object ringed with 4, its hole filled with 6 (rings far apart: each one is seen whole)
    made = [A([[0, 0, 0, 0, 0, 0, 0, 0], [0, 1, 1, 1, 0, 0, 0, 0], [0, 1, 0, 1, 0, 0, 0, 0], [0, 1, 1, 1, 0, 0, 0, 0],
               [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 3, 3], [0, 0, 0, 0, 0, 0, 3, 3]]),
            A([[5, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 3, 3, 3, 0],
               [0, 0, 0, 3, 0, 3, 0], [0, 0, 0, 3, 3, 3, 0], [0, 0, 0, 0, 0, 0, 0]])]
    wanted = [A([[4, 4, 4, 4, 4, 0, 0, 0], [4, 1, 1, 1, 4, 0, 0, 0], [4, 1, 6, 1, 4, 0, 0, 0], [4, 1, 1, 1, 4, 0, 0, 0],
                 [4, 4, 4, 4, 4, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 3, 3], [0, 0, 0, 0, 0, 0, 3, 3]]),
              A([[5, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 4, 4, 4, 4, 4], [0, 0, 4, 3, 3, 3, 4],
                 [0, 0, 4, 3, 6, 3, 4], [0, 0, 4, 3, 3, 3, 4], [0, 0, 4, 4, 4, 4, 4]])]
    step = fit_halo(made, wanted)
    assert step is not None and step.name == "halo(largest, ring8 4, holes 6)"
    test = A([[0, 0, 0, 0, 0, 0, 0], [0, 7, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 2, 2, 2, 0],
              [0, 0, 0, 2, 0, 2, 0], [0, 0, 0, 2, 2, 2, 0], [0, 0, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0, 0, 0], [0, 7, 0, 0, 0, 0, 0], [0, 0, 4, 4, 4, 4, 4],
                                         [0, 0, 4, 2, 2, 2, 4], [0, 0, 4, 2, 6, 2, 4], [0, 0, 4, 2, 2, 2, 4],
                                         [0, 0, 4, 4, 4, 4, 4]]))


def test_fitted_enclosed_fill_colours_each_hole_by_its_size():
    made = [A([[1, 1, 1, 1, 1, 1, 0], [1, 0, 1, 0, 0, 1, 0], [1, 1, 1, 1, 1, 1, 0]]),
            A([[1, 1, 1], [1, 0, 1], [1, 1, 1]]), A([[1, 1, 1, 1], [1, 0, 0, 1], [1, 1, 1, 1]])]
    wanted = [A([[1, 1, 1, 1, 1, 1, 0], [1, 3, 1, 7, 7, 1, 0], [1, 1, 1, 1, 1, 1, 0]]),
              A([[1, 1, 1], [1, 3, 1], [1, 1, 1]]), A([[1, 1, 1, 1], [1, 7, 7, 1], [1, 1, 1, 1]])]
    step = fit_enclosed_fill(made, wanted)
    assert step is not None and step.name == "enclosed_fill(by size, ...)"
    # a hole of two cells standing up: by size 7 (its width, 1, would say 3); the open corners stay
    test = A([[1, 1, 1, 0], [1, 0, 1, 0], [1, 0, 1, 1], [1, 1, 0, 1], [0, 1, 1, 1]])
    assert np.array_equal(step(test), A([[1, 1, 1, 0], [1, 7, 1, 0], [1, 7, 1, 1], [1, 1, 3, 1], [0, 1, 1, 1]]))
    assert step(A([[1, 0, 1], [0, 1, 0]])) is None  # no region is enclosed


def test_fitted_open_lines_and_leaky_box_fill_what_a_frame_leaves_open():
    made = [A([[1, 1, 0, 1, 1], [1, 0, 0, 0, 1], [0, 0, 0, 0, 0], [1, 0, 0, 0, 1], [1, 1, 0, 1, 1]]),
            A([[2, 0, 0, 0, 0, 2], [2, 0, 0, 0, 0, 0], [2, 2, 0, 0, 2, 2], [2, 0, 0, 0, 0, 0]])]
    wanted = [A([[1, 1, 0, 1, 1], [1, 6, 6, 6, 1], [0, 6, 0, 6, 0], [1, 6, 6, 6, 1], [1, 1, 0, 1, 1]]),
              A([[2, 6, 6, 6, 6, 2], [2, 0, 0, 0, 0, 0], [2, 2, 0, 0, 2, 2], [2, 0, 0, 0, 0, 0]])]
    step = fit_open_lines(made, wanted)
    assert step is not None and step.name == "open_lines(rc, 6)"
    test = A([[3, 3, 3, 0, 3, 3], [3, 0, 0, 0, 0, 3], [3, 0, 0, 0, 0, 0], [3, 0, 0, 0, 0, 3], [3, 3, 0, 3, 3, 3]])
    # only the longest open rows (1, 3) and columns (1, 4) are painted, not the one-cell gaps
    assert np.array_equal(step(test), A([[3, 3, 3, 0, 3, 3], [3, 6, 6, 6, 6, 3], [3, 6, 0, 0, 6, 0],
                                         [3, 6, 6, 6, 6, 3], [3, 3, 0, 3, 3, 3]]))
    two_colours = [w.copy() for w in wanted]
    two_colours[0][1, 1] = 7
    assert fit_open_lines(made, two_colours) is None

    made = [A([[0, 0, 0, 0, 0, 0], [0, 1, 0, 1, 1, 0], [0, 1, 0, 0, 1, 0], [0, 1, 0, 0, 1, 0], [0, 1, 1, 1, 1, 0],
               [0, 0, 0, 0, 0, 0]]),
            A([[0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0], [1, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0],
               [0, 0, 0, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 2, 0, 0, 0], [0, 1, 2, 1, 1, 0], [0, 1, 2, 2, 1, 0], [0, 1, 2, 2, 1, 0], [0, 1, 1, 1, 1, 0],
                 [0, 0, 0, 0, 0, 0]]),
              A([[0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0, 0], [1, 2, 2, 2, 2, 2, 2], [1, 1, 1, 1, 1, 0, 0],
                 [0, 0, 0, 0, 0, 0, 0]])]
    step = fit_leaky_box(made, wanted)
    assert step is not None and step.name == "leaky_box(2)"
    test = A([[3, 3, 3, 3, 0, 0, 0, 0], [3, 0, 0, 3, 0, 0, 0, 0], [3, 0, 0, 3, 0, 0, 0, 0], [3, 3, 0, 3, 0, 0, 0, 0],
              [0, 0, 0, 0, 0, 5, 5, 5], [0, 0, 0, 0, 0, 0, 0, 5], [0, 0, 0, 0, 0, 5, 5, 5]])
    assert np.array_equal(step(test), A([[3, 3, 3, 3, 0, 0, 0, 0], [3, 2, 2, 3, 0, 0, 0, 0], [3, 2, 2, 3, 0, 0, 0, 0],
                                         [3, 3, 2, 3, 0, 0, 0, 0], [0, 0, 2, 0, 0, 5, 5, 5], [2, 2, 2, 2, 2, 2, 2, 5],
                                         [0, 0, 2, 0, 0, 5, 5, 5]]))  # two leaks, crossing
    assert step(A([[0, 1, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1], [1, 1, 1, 1]])) is None  # the gap is a corner


def test_fitted_keep_unique_and_ring_crossings_ring_single_cells():
    made = [A([[1, 1, 0, 2], [0, 1, 5, 2], [3, 0, 0, 0], [3, 0, 2, 0]]),
            A([[0, 0, 0, 6, 6], [7, 0, 0, 0, 0], [0, 0, 0, 0, 6], [8, 8, 0, 0, 0]])]
    wanted = [A([[0, 4, 4, 4], [0, 4, 5, 4], [0, 4, 4, 4], [0, 0, 0, 0]]),
              A([[4, 4, 0, 0, 0], [7, 4, 0, 0, 0], [4, 4, 0, 0, 0], [0, 0, 0, 0, 0]])]
    step = fit_keep_unique(made, wanted)
    assert step is not None and step.name == "keep_unique(ring 4)"
    assert np.array_equal(step(A([[2, 0, 0, 2], [0, 0, 0, 0], [1, 1, 0, 9], [0, 0, 0, 0]])),
                          A([[0, 0, 0, 0], [0, 0, 4, 4], [0, 0, 4, 9], [0, 0, 4, 4]]))
    assert step(A([[1, 2, 0], [0, 0, 0]])) is None  # two colours seen once

    made = [A([[0, 0, 0, 5, 0], [5, 5, 5, 5, 5], [0, 0, 0, 5, 0], [0, 0, 0, 5, 0], [0, 0, 0, 5, 0]]),
            A([[8, 0, 0, 0, 0, 0], [8, 0, 0, 0, 0, 0], [8, 0, 0, 0, 0, 0], [8, 8, 8, 8, 8, 8], [8, 0, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 2, 2, 2], [5, 5, 2, 5, 2], [0, 0, 2, 2, 2], [0, 0, 0, 5, 0], [0, 0, 0, 5, 0]]),
              A([[8, 0, 0, 0, 0, 0], [8, 0, 0, 0, 0, 0], [2, 2, 0, 0, 0, 0], [8, 2, 8, 8, 8, 8], [2, 2, 0, 0, 0, 0]])]
    step = fit_ring_crossings(made, wanted)
    assert step is not None and step.name == "ring_crossings(2)"
    test = A([[0, 0, 0, 0, 3, 0], [3, 3, 3, 3, 3, 3], [0, 0, 0, 0, 3, 0], [0, 0, 0, 0, 3, 0], [3, 3, 3, 3, 3, 3],
              [0, 0, 0, 0, 3, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 2, 2, 2], [3, 3, 3, 2, 3, 2], [0, 0, 0, 2, 2, 2],
                                         [0, 0, 0, 2, 2, 2], [3, 3, 3, 2, 3, 2], [0, 0, 0, 2, 2, 2]]))
    assert step(A([[1, 1, 1], [0, 0, 0], [0, 1, 0]])) is None  # a full row but no full column


def test_fitted_checker_flood_and_marker_cross_paint_from_seeds_and_markers():
    made = [A([[1, 2, 0, 5, 0], [0, 0, 0, 5, 0], [0, 0, 0, 5, 0], [5, 5, 5, 5, 0], [0, 0, 0, 0, 0]]),
            A([[0, 0, 5, 0, 0, 0], [0, 0, 5, 0, 4, 0], [5, 5, 5, 0, 3, 0], [0, 0, 0, 0, 0, 0]])]
    wanted = [A([[1, 2, 1, 5, 0], [2, 1, 2, 5, 0], [1, 2, 1, 5, 0], [5, 5, 5, 5, 0], [0, 0, 0, 0, 0]]),
              A([[0, 0, 5, 4, 3, 4], [0, 0, 5, 3, 4, 3], [5, 5, 5, 4, 3, 4], [4, 3, 4, 3, 4, 3]])]
    step = fit_checker_flood(made, wanted)
    assert step is not None and step.name == "checker_flood(walls 5)"
    test = A([[0, 0, 0, 0, 0], [0, 5, 5, 5, 0], [0, 5, 0, 5, 0], [0, 5, 5, 5, 0], [7, 6, 0, 0, 0]])
    assert np.array_equal(step(test), A([[7, 6, 7, 6, 7], [6, 5, 5, 5, 6], [7, 5, 0, 5, 7], [6, 5, 5, 5, 6],
                                         [7, 6, 7, 6, 7]]))  # the walled-in cell is not reached
    assert step(A([[7, 0, 6], [0, 0, 0], [5, 0, 0]])) is None  # two colours on one parity

    made = [A([[0, 0, 0, 8, 0, 8], [0, 0, 0, 0, 0, 0], [8, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [8, 0, 0, 0, 0, 0],
               [0, 0, 0, 0, 0, 0]]),
            A([[0, 0, 8, 0, 0], [8, 0, 0, 0, 0], [0, 0, 0, 0, 0], [8, 0, 3, 0, 0], [0, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 8, 0, 8], [0, 0, 0, 0, 0, 0], [8, 0, 0, 2, 0, 2], [0, 0, 0, 0, 0, 0], [8, 0, 0, 2, 0, 2],
                 [0, 0, 0, 0, 0, 0]]),
              A([[0, 0, 8, 0, 0], [8, 0, 2, 0, 0], [0, 0, 0, 0, 0], [8, 0, 3, 0, 0], [0, 0, 0, 0, 0]])]
    step = fit_marker_cross(made, wanted)
    assert step is not None and step.name == "marker_cross(2)"
    test = A([[0, 8, 0, 0, 8, 0], [0, 0, 0, 0, 0, 0], [8, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [8, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 8, 0, 0, 8, 0], [0, 0, 0, 0, 0, 0], [8, 2, 0, 0, 2, 0],
                                         [0, 0, 0, 0, 0, 0], [8, 2, 0, 0, 2, 0]]))
    assert step(A([[0, 0, 0], [8, 0, 0], [0, 0, 0]])) is None  # no marker names a column


def test_fitted_tile_band_header_cycle_and_seed_stripes_repeat_across_the_grid():
    made = [A([[0, 0, 0], [1, 2, 1], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]),
            A([[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [3, 0, 0, 3], [0, 3, 3, 0], [0, 0, 0, 0], [0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0], [1, 2, 1], [0, 0, 0], [1, 2, 1], [0, 0, 0], [1, 2, 1]]),
              A([[3, 0, 0, 3], [0, 3, 3, 0], [0, 0, 0, 0], [3, 0, 0, 3], [0, 3, 3, 0], [0, 0, 0, 0], [3, 0, 0, 3]])]
    step = fit_tile_band(made, wanted)
    assert step is not None and step.name == "tile_band(axis 0, gap 1)"
    test = A([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [5, 0, 0], [5, 5, 0], [0, 0, 0], [0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0], [5, 0, 0], [5, 5, 0], [0, 0, 0], [5, 0, 0], [5, 5, 0],
                                         [0, 0, 0], [5, 0, 0]]))  # the band repeats upwards too
    assert step(np.zeros((4, 3), dtype=np.int8)) is None  # no band

    made = [A([[2, 3, 4], [5, 5, 5], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0]]),
            A([[6, 1, 7, 9], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])]
    wanted = [A([[2, 3, 4], [5, 5, 5], [2, 2, 2], [3, 3, 3], [4, 4, 4], [2, 2, 2]]),
              A([[6, 1, 7, 9], [6, 6, 6, 6], [1, 1, 1, 1], [7, 7, 7, 7]])]
    step = fit_header_cycle(made, wanted)
    assert step is not None and step.name == "header_cycle(axis 0)"
    assert np.array_equal(step(A([[3, 8], [0, 0], [0, 0], [0, 0], [0, 0]])),
                          A([[3, 8], [3, 3], [8, 8], [3, 3], [8, 8]]))
    assert step(A([[3, 0], [0, 0], [0, 0]])) is None  # the header has a gap

    made = [A([[0, 2, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 8, 0, 0, 0, 0, 0]]),
            A([[0, 0, 0], [0, 4, 0], [0, 0, 0], [0, 0, 0], [0, 0, 6], [0, 0, 0], [0, 0, 0], [0, 0, 0]])]
    wanted = [A([[0, 2, 0, 8, 0, 2, 0, 8, 0]] * 3),
              A([[0, 0, 0], [4, 4, 4], [0, 0, 0], [0, 0, 0], [6, 6, 6], [0, 0, 0], [0, 0, 0], [4, 4, 4]])]
    step = fit_seed_stripes(made, wanted)
    assert step is not None and step.name == "seed_stripes"
    test = np.zeros((4, 10), dtype=np.int8)
    test[1, 2], test[3, 5] = 3, 4
    assert np.array_equal(step(test), A([[0, 0, 3, 0, 0, 4, 0, 0, 3, 0]] * 4))
    assert step(A([[1, 0, 0], [0, 0, 0], [0, 0, 2]])) is None  # a square grid: no short side


def test_fitted_complete_lines_and_pattern_rays_carry_a_pattern_on():
    made = [A([[1, 2, 1, 2, 1], [0, 0, 0, 0, 0], [3, 4, 0, 0, 0], [0, 0, 0, 0, 0]]),
            A([[0, 0, 0, 0], [7, 7, 8, 7], [0, 0, 0, 0], [2, 2, 9, 0], [0, 0, 0, 0]])]
    wanted = [A([[1, 2, 1, 2, 1], [0, 0, 0, 0, 0], [3, 4, 3, 4, 3], [0, 0, 0, 0, 0]]),
              A([[0, 0, 0, 0], [7, 7, 8, 7], [0, 0, 0, 0], [2, 2, 9, 2], [0, 0, 0, 0]])]
    step = fit_complete_lines(made, wanted)
    assert step is not None and step.name == "complete_lines(axis 0)"
    test = A([[0, 0, 0, 0, 0, 0], [1, 1, 2, 2, 1, 1], [4, 4, 6, 0, 0, 0], [0, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0, 0], [1, 1, 2, 2, 1, 1], [4, 4, 6, 6, 4, 4],
                                         [0, 0, 0, 0, 0, 0]]))
    test[3, 0] = 3  # a start too short to name a colour for every colour of the template
    assert step(test) is None

    made = [A([[1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0]]), A([[0, 0, 0, 0, 0], [3, 0, 0, 0, 0]])]
    wanted = [A([[1, 1, 5, 1, 5, 1], [0, 0, 0, 0, 0, 0], [0, 2, 2, 5, 2, 5]]), A([[0, 0, 0, 0, 0], [3, 3, 5, 3, 5]])]
    step = fit_pattern_rays(made, wanted)
    assert step is not None and step.name.startswith("pattern_rays(((0, 1),)")
    test = A([[0, 0, 4, 0, 0, 9, 0], [0, 0, 0, 0, 0, 0, 0], [6, 0, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 4, 4, 5, 9, 9], [0, 0, 0, 0, 0, 0, 0],
                                         [6, 6, 5, 6, 5, 6, 5]]))  # a ray stops at the next cell
    assert step(A([[1, 1, 0, 0], [0, 0, 0, 0]])) is None  # not a single cell


def test_fitted_join_halves_dot_bars_and_count_bars_draw_on_and_after_objects():
    made = [A([[0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 0, 0, 0]]),
            A([[0, 0, 0, 0, 0], [3, 0, 0, 0, 4], [0, 0, 0, 0, 0], [0, 6, 0, 1, 0]])]
    wanted = [A([[0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 5, 2, 2, 2], [0, 0, 0, 0, 0, 0, 0]]),
              A([[0, 0, 0, 0, 0], [3, 3, 5, 4, 4], [0, 0, 0, 0, 0], [0, 6, 5, 1, 0]])]
    step = fit_join_halves(made, wanted)
    assert step is not None and step.name == "join_halves(axis 0, middle 5)"
    test = A([[7, 0, 0, 0, 0, 0, 0, 0, 8], [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 2, 0, 0, 0, 4, 0, 0]])
    assert np.array_equal(step(test), A([[7, 7, 7, 7, 5, 8, 8, 8, 8], [0, 0, 0, 0, 0, 0, 0, 0, 0],
                                         [0, 0, 2, 2, 5, 4, 4, 0, 0]]))
    assert step(A([[1, 0, 0, 2]])) is None  # no middle cell

    made = [A([[0, 0, 0, 0, 0, 0], [4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4], [0, 0, 0, 0, 0, 0]]),
            A([[0, 2, 2, 2, 0]] * 5 + [[0, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0, 0, 0], [4, 4, 4, 4, 4, 4], [0, 4, 0, 4, 0, 4], [4, 4, 4, 4, 4, 4], [0, 0, 0, 0, 0, 0]]),
              A([[0, 2, 0, 2, 0], [0, 2, 2, 2, 0], [0, 2, 0, 2, 0], [0, 2, 2, 2, 0], [0, 2, 0, 2, 0], [0, 0, 0, 0, 0]])]
    step = fit_dot_bars(made, wanted)
    assert step is not None and step.name == "dot_bars(phase 0)"
    test = A([[3, 3, 3, 3, 3, 0, 0]] * 3 + [[0, 0, 0, 0, 6, 6, 6]] * 5)
    assert np.array_equal(step(test), A([[3, 3, 3, 3, 3, 0, 0], [0, 3, 0, 3, 0, 0, 0], [3, 3, 3, 3, 3, 0, 0],
                                         [0, 0, 0, 0, 6, 0, 6], [0, 0, 0, 0, 6, 6, 6], [0, 0, 0, 0, 6, 0, 6],
                                         [0, 0, 0, 0, 6, 6, 6], [0, 0, 0, 0, 6, 0, 6]]))
    assert step(A([[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0]])) is None  # a square, not a bar

    made = [A([[0, 1, 2, 0], [0, 2, 3, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
            A([[4, 5, 0, 6, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]])]
    wanted = [A([[0, 1, 2, 0], [0, 2, 3, 0], [0, 8, 8, 0], [0, 8, 8, 0], [0, 8, 8, 0], [0, 0, 0, 0]]),
              A([[4, 5, 0, 6, 0], [8, 8, 0, 8, 0], [8, 8, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]])]
    step = fit_count_bars(made, wanted)
    assert step is not None and step.name == "count_bars((1, 0), colours, 8)"
    test = A([[7, 3, 7, 0, 0, 0], [0, 0, 0, 0, 2, 0], [0, 0, 0, 0, 9, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[7, 3, 7, 0, 0, 0], [8, 8, 8, 0, 2, 0], [8, 8, 8, 0, 9, 0],
                                         [0, 0, 0, 0, 8, 0], [0, 0, 0, 0, 8, 0]]))
    assert step(A([[0, 0, 0], [0, 0, 0], [1, 2, 0]])) is None  # the bar would leave the grid


def test_fitted_shift_by_a_fixed_vector_and_by_a_count_of_markers():
    made = [A([[0, 0, 0, 0, 0, 0], [3, 3, 0, 0, 0, 0], [0, 3, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [5, 5, 5, 5, 5, 5]]),
            A([[0, 2, 0, 0, 0], [0, 3, 0, 0, 0], [5, 0, 0, 0, 0], [5, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0, 0, 0], [0, 0, 3, 3, 0, 0], [0, 0, 0, 3, 0, 0], [0, 0, 0, 0, 0, 0], [5, 5, 5, 5, 5, 5]]),
              A([[0, 0, 0, 2, 0], [0, 0, 0, 3, 0], [5, 0, 0, 0, 0], [5, 0, 0, 0, 0]])]
    step = fit_shift(made, wanted)
    assert step is not None and step.name == "shift: shift(all but [5] by (0,2), bg, grid)"
    test = A([[0, 0, 0, 0, 0, 0], [0, 4, 4, 0, 0, 5], [0, 0, 0, 0, 0, 5], [0, 7, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 4, 4, 5], [0, 0, 0, 0, 0, 5],
                                         [0, 0, 0, 7, 0, 0]]))  # every colour but the static one moves
    assert step(A([[0, 0, 3], [5, 0, 0], [0, 0, 0]])) is None  # would leave the grid

    made = [A([[1, 1, 0, 0, 0, 0], [0, 3, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]),
            A([[0, 0, 0, 0, 0, 1], [3, 3, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 3, 0, 0], [0, 0, 0, 0, 0, 0]]),
              A([[0, 0, 0, 0, 0, 0], [0, 3, 3, 0, 0, 0], [0, 0, 0, 0, 0, 0]])]
    step = fit_shift(made, wanted)
    assert step is not None and step.name == "shift: shift(all but [] by (0,1) x count(1), bg, grid)"
    test = A([[1, 0, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0], [6, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 6, 0, 0]]))
    assert step(A([[0, 0, 0, 0], [6, 0, 0, 0], [0, 0, 0, 0]])) is None  # no marker: no count


def test_fitted_step_toward_and_align_move_objects_to_the_colour_that_stays():
    made = [A([[0, 0, 0, 0, 0], [0, 0, 0, 0, 5], [3, 0, 0, 0, 5], [0, 0, 0, 0, 5], [0, 0, 0, 0, 0]]),
            A([[0, 5, 5, 5, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 3, 0, 0], [0, 0, 3, 0, 0], [0, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0, 0], [0, 0, 0, 0, 5], [0, 0, 0, 3, 5], [0, 0, 0, 0, 5], [0, 0, 0, 0, 0]]),
              A([[0, 5, 5, 5, 0], [0, 0, 3, 0, 0], [0, 0, 3, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0]])]
    step = fit_step_toward(made, wanted)
    assert step is not None and step.name == "step_toward: step_toward(3 -> 5, touch)"
    test = A([[0, 0, 0, 0, 3, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [3, 0, 0, 0, 5, 5],
              [0, 0, 0, 0, 5, 5]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0],
                                         [0, 0, 0, 0, 3, 0], [0, 0, 0, 3, 5, 5], [0, 0, 0, 0, 5, 5]]))
    assert step(A([[3, 0, 0], [0, 0, 0], [0, 0, 5]])) is None  # diagonal to the target: no straight move

    made = [A([[0, 0, 0, 2, 0], [5, 0, 0, 0, 0], [5, 0, 0, 0, 0], [5, 0, 0, 0, 0], [0, 0, 0, 0, 0]]),
            A([[0, 0, 0, 0, 5], [0, 0, 0, 0, 5], [0, 0, 0, 0, 5], [0, 1, 0, 0, 5], [0, 1, 0, 0, 5], [0, 1, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0, 0], [5, 0, 0, 0, 0], [5, 0, 0, 2, 0], [5, 0, 0, 0, 0], [0, 0, 0, 0, 0]]),
              A([[0, 0, 0, 0, 5], [0, 1, 0, 0, 5], [0, 1, 0, 0, 5], [0, 1, 0, 0, 5], [0, 0, 0, 0, 5], [0, 0, 0, 0, 0]])]
    step = fit_align(made, wanted)
    assert step is not None and step.name.startswith("align: align(to 5, rows, centre")
    test = A([[0, 3, 0, 4, 0, 0], [0, 0, 0, 4, 0, 0], [0, 0, 0, 4, 0, 5], [0, 0, 0, 0, 0, 5], [0, 0, 0, 0, 0, 5],
              [0, 0, 0, 0, 0, 5], [0, 0, 0, 0, 0, 5]])
    aligned = A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 5], [0, 0, 0, 4, 0, 5], [0, 3, 0, 4, 0, 5],
                 [0, 0, 0, 4, 0, 5], [0, 0, 0, 0, 0, 5]])
    assert np.array_equal(step(test), aligned)
    assert step(aligned) is None  # already aligned: nothing moves


def test_fitted_mirror_to_marker_and_bridge_draw_beside_objects():
    made = [A([[0, 0, 0, 0, 0, 0], [0, 2, 2, 8, 0, 0], [0, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0]]),
            A([[0, 4, 0, 0], [0, 4, 4, 0], [0, 8, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0, 0, 0], [0, 2, 2, 2, 2, 0], [0, 2, 0, 0, 2, 0], [0, 0, 0, 0, 0, 0]]),
              A([[0, 4, 0, 0], [0, 4, 4, 0], [0, 4, 4, 0], [0, 4, 0, 0], [0, 0, 0, 0]])]
    step = fit_mirror_to_marker(made, wanted)
    assert step is not None and step.name.startswith("mirror_to_marker: mirror_to_marker(8")
    test = A([[0, 0, 0, 0, 0, 0], [0, 0, 8, 3, 3, 0], [0, 0, 8, 0, 3, 0], [0, 0, 0, 3, 3, 0], [0, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0, 0], [0, 3, 3, 3, 3, 0], [0, 3, 0, 0, 3, 0],
                                         [0, 3, 3, 3, 3, 0], [0, 0, 0, 0, 0, 0]]))  # the marker cell left is erased
    assert step(A([[0, 0, 0], [0, 3, 0], [0, 0, 8]])) is None  # a marker off a corner: no one side

    made = [A([[0, 0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 1, 1], [1, 1, 0, 0, 0, 1, 1],
               [0, 0, 0, 0, 0, 0, 0]]),
            A([[2, 2, 2, 2, 2], [2, 2, 2, 2, 2], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 3, 3, 3, 3],
               [0, 3, 3, 3, 3]])]
    wanted = [A([[0, 0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 1, 1], [1, 1, 8, 8, 8, 1, 1], [1, 1, 0, 0, 0, 1, 1],
                 [0, 0, 0, 0, 0, 0, 0]]),
              A([[2, 2, 2, 2, 2], [2, 2, 2, 2, 2], [0, 0, 8, 8, 0], [0, 0, 8, 8, 0], [0, 0, 8, 8, 0], [0, 3, 3, 3, 3],
                 [0, 3, 3, 3, 3]])]
    step = fit_bridge(made, wanted)
    assert step is not None and step.name == "bridge: bridge(8, inset 1)"
    test = A([[4, 4, 0, 0, 0, 0, 0, 0], [4, 4, 0, 0, 0, 6, 6, 6], [4, 4, 0, 0, 0, 6, 6, 6], [4, 4, 0, 0, 0, 6, 6, 6],
              [4, 4, 0, 0, 0, 6, 6, 6], [0, 0, 0, 0, 0, 0, 0, 0]])  # rows 1-4 face each other: rows 2-3 joined
    assert np.array_equal(step(test), A([[4, 4, 0, 0, 0, 0, 0, 0], [4, 4, 0, 0, 0, 6, 6, 6], [4, 4, 8, 8, 8, 6, 6, 6],
                                         [4, 4, 8, 8, 8, 6, 6, 6], [4, 4, 0, 0, 0, 6, 6, 6], [0, 0, 0, 0, 0, 0, 0, 0]]))
    assert step(A([[1, 1, 0], [0, 0, 0], [0, 0, 0]])) is None  # one object: nothing faces it


def test_fitted_sorted_rows_stack_the_rows_into_a_staircase():
    made = [A([[0, 1, 0, 0], [2, 2, 2, 0], [0, 0, 0, 0], [0, 3, 3, 0]]),
            A([[4, 4, 4, 4, 0], [0, 0, 0, 0, 0], [0, 0, 5, 5, 0]])]
    wanted = [A([[0, 0, 0, 0], [1, 0, 0, 0], [3, 3, 0, 0], [2, 2, 2, 0]]),
              A([[0, 0, 0, 0, 0], [5, 5, 0, 0, 0], [4, 4, 4, 4, 0]])]
    step = fit_sorted_rows(made, wanted)
    assert step is not None and step.name == "sorted_rows(to the left, longest last, on 0)"
    test = A([[0, 0, 6, 6, 6], [7, 0, 0, 0, 0], [0, 0, 0, 0, 0], [0, 8, 0, 8, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0], [7, 0, 0, 0, 0], [8, 8, 0, 0, 0], [6, 6, 6, 0, 0]]))
    assert step(A([[0, 0, 0], [0, 1, 0], [1, 1, 0]])) is None  # the rows are in order already


def test_fitted_align_where_a_centre_falls_between_cells():
    from arcttt.programs.shifts import align, fit_align

    made = [A([[0, 0, 0, 2, 0], [5, 0, 0, 2, 0], [5, 0, 0, 0, 0], [5, 0, 0, 0, 0], [0, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0, 0], [5, 0, 0, 2, 0], [5, 0, 0, 2, 0], [5, 0, 0, 0, 0], [0, 0, 0, 0, 0]])]
    assert align(made[0], reference=5, axes="rows", anchor="centre", diagonal=True) is None  # no centre cell
    step = fit_align(made, wanted)
    assert step is not None and np.array_equal(step(made[0]), wanted[0])
