"""The fitted rules that copy templates and redraw shapes: shapes mirrored toward markers,
templates scaled onto markers, copied onto anchors, frames copied round holes, templates turned
by their anchor's colour; clusters boxed, bar halves repainted, empty rectangles filled largest
first, dashed lines completed, thin shapes recoloured by kind, blocks pulled along connectors.
Hand-made grids, exact outputs."""

import numpy as np

from arcttt.programs.shapes import (fit_bar_halves, fit_cluster_boxes, fit_dashed_lines, fit_greedy_rectangles,
                                    fit_recolour_by_kind, fit_retract_connectors)
from arcttt.programs.templates import (fit_frame_onto_holes, fit_mirror_to_markers, fit_scaled_template,
                                       fit_template_on_anchors, fit_templates_by_colour)


def A(rows) -> np.ndarray:
    return np.asarray(rows, dtype=np.int8)


def test_fitted_mirror_to_markers_reflects_a_shape_across_each_edge_a_marker_lies_beyond():
    made = [A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 1, 0, 2, 0, 0], [0, 1, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0]]),
            A([[0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0], [0, 0, 0, 3, 0, 0], [0, 0, 0, 0, 0, 0],
               [0, 0, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 1, 0, 2, 2, 0], [0, 1, 1, 2, 2, 0], [0, 0, 0, 0, 0, 0]]),
              A([[0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0], [0, 0, 0, 3, 3, 0], [0, 0, 0, 0, 3, 0],
                 [0, 0, 0, 0, 0, 0]])]  # a marker beyond a corner: mirrored across both edges
    step = fit_mirror_to_markers(made, wanted)
    assert step is not None and step.name == "mirror_to_markers(on 0)"
    # a marker above (the mirror cut by the top edge) and one to the left, each in its own colour
    test = A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 6, 0], [0, 0, 5, 4, 4, 0], [0, 0, 0, 4, 0, 0], [0, 0, 0, 4, 0, 0],
              [0, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 6, 0, 0], [0, 0, 0, 6, 6, 0], [0, 5, 5, 4, 4, 0],
                                         [0, 0, 5, 4, 0, 0], [0, 0, 5, 4, 0, 0], [0, 0, 0, 0, 0, 0]]))
    assert step(A([[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 2, 0], [0, 0, 0, 0]])) is None  # the marker is inside the box
    assert step(A([[0, 0, 0], [0, 1, 0], [0, 0, 0]])) is None  # no marker at all


def test_fitted_scaled_template_stamps_the_template_at_each_markers_scale_in_its_colour():
    made = [A([[1, 1, 1, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 4, 4, 0, 0],
               [0, 0, 0, 0, 4, 4, 0, 0], [0, 0, 0, 0, 2, 2, 0, 0], [0, 0, 0, 0, 2, 2, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]]),
            A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 3, 3, 3], [0, 0, 0, 0, 2, 0], [0, 0, 0, 0, 0, 0], [0, 6, 0, 0, 0, 0],
               [0, 2, 0, 0, 0, 0]])]
    wanted = [A([[1, 1, 1, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 4, 4, 4, 4, 4, 4],
                 [0, 0, 4, 4, 4, 4, 4, 4], [0, 0, 0, 0, 2, 2, 0, 0], [0, 0, 0, 0, 2, 2, 0, 0],
                 [0, 0, 0, 0, 0, 0, 0, 0]]),
              A([[0, 0, 0, 0, 0, 0], [0, 0, 0, 3, 3, 3], [0, 0, 0, 0, 2, 0], [0, 0, 0, 0, 0, 0], [6, 6, 6, 0, 0, 0],
                 [0, 2, 0, 0, 0, 0]])]
    step = fit_scaled_template(made, wanted)
    assert step is not None and step.name == "scaled_template(on 0)"
    # the test's own template (5 over an 8 beside a 5), stamped three times its size on the 8 block
    test = A([[5, 0, 0, 0, 0, 0, 0, 0, 0], [8, 5, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0],
              [0, 0, 0, 7, 7, 7, 0, 0, 0], [0, 0, 0, 7, 7, 7, 0, 0, 0], [0, 0, 0, 7, 7, 7, 0, 0, 0],
              [0, 0, 0, 8, 8, 8, 0, 0, 0], [0, 0, 0, 8, 8, 8, 0, 0, 0], [0, 0, 0, 8, 8, 8, 0, 0, 0]])
    wanted_test = test.copy()
    wanted_test[6:9, 6:9] = 7
    assert np.array_equal(step(test), wanted_test)
    assert step(A([[1, 1, 1, 0], [0, 2, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]])) is None  # a template but no marker


def test_fitted_template_on_anchors_copies_the_template_onto_lone_anchors_and_scaled_blocks():
    made = [A([[2, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 2, 0, 0], [0, 0, 0, 0, 0, 0],
               [0, 0, 0, 0, 0, 0]]),
            A([[0, 0, 0, 0, 0], [0, 2, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 2, 1], [0, 0, 0, 1, 1]])]
    wanted = [A([[2, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 0, 2, 1, 0], [0, 0, 0, 1, 1, 0],
                 [0, 0, 0, 0, 0, 0]]),
              A([[0, 0, 0, 0, 0], [0, 2, 1, 0, 0], [0, 1, 1, 0, 0], [0, 0, 0, 2, 1], [0, 0, 0, 1, 1]])]
    step = fit_template_on_anchors(made, wanted)
    assert step is not None and step.name.startswith("template_on_anchors: template_on_anchors(on 0, as is, ")
    test = A([[0, 0, 0, 0, 0, 0, 0], [0, 2, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0],
              [0, 0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0, 0, 0], [0, 2, 1, 0, 0, 0, 0], [0, 1, 1, 0, 0, 0, 0],
                                         [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 2], [0, 0, 0, 0, 0, 0, 1],
                                         [0, 2, 1, 0, 0, 0, 0]]))  # copies cut by the edges
    # a 2x2 block of the anchor: no demonstration showed a scale, so the settings disagree
    assert step(A([[2, 1, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], [0, 0, 2, 2, 0, 0],
                   [0, 0, 2, 2, 0, 0], [0, 0, 0, 0, 0, 0]])) is None

    # a demonstration with a 2x2 anchor: the template copied at twice its size there
    made = [A([[2, 1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 2, 2, 0, 0],
               [0, 0, 0, 2, 2, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]]), made[1]]
    wanted = [A([[2, 1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 2, 2, 1, 1],
                 [0, 0, 0, 2, 2, 1, 1], [0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1]]), wanted[1]]
    step = fit_template_on_anchors(made, wanted)
    assert step is not None and "scale <= 10" in step.name
    test = A([[2, 2, 2, 0, 0, 0, 0, 0, 0], [2, 2, 2, 0, 0, 0, 0, 0, 0], [2, 2, 2, 0, 0, 0, 0, 0, 0],
              [0, 0, 0, 0, 0, 0, 0, 2, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0],
              [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 2, 1], [0, 0, 0, 0, 0, 0, 0, 1, 1]])
    assert np.array_equal(step(test), A([[2, 2, 2, 1, 1, 1, 0, 0, 0], [2, 2, 2, 1, 1, 1, 0, 0, 0],
                                         [2, 2, 2, 1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1, 0, 2, 1],
                                         [1, 1, 1, 1, 1, 1, 0, 1, 1], [1, 1, 1, 1, 1, 1, 0, 0, 0],
                                         [0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 2, 1],
                                         [0, 0, 0, 0, 0, 0, 0, 1, 1]]))  # three times over the 3x3 block


def test_fitted_frame_onto_holes_frames_the_inner_holes_of_the_frames_inside():
    made = [A([[1, 1, 1, 1, 1, 1, 1, 1], [1, 2, 2, 2, 2, 1, 3, 1], [1, 2, 0, 0, 2, 1, 1, 1], [1, 2, 0, 0, 2, 1, 1, 1],
               [1, 2, 2, 2, 2, 1, 1, 1], [1, 1, 3, 1, 1, 0, 0, 1], [1, 1, 1, 1, 1, 0, 0, 1], [1, 1, 1, 1, 1, 1, 1, 1]]),
            A([[1, 4, 1, 1, 1, 4, 1], [3, 3, 3, 3, 3, 1, 1], [3, 0, 0, 0, 3, 1, 4], [3, 3, 3, 3, 3, 1, 1],
               [1, 1, 4, 1, 1, 1, 1], [1, 0, 0, 0, 1, 4, 1], [1, 1, 1, 1, 1, 1, 1]])]
    wanted = [A([[1, 1, 1, 1, 1, 1, 1, 1], [1, 2, 2, 2, 2, 1, 3, 1], [1, 2, 0, 0, 2, 1, 1, 1], [1, 2, 0, 0, 2, 1, 1, 1],
                 [1, 2, 2, 2, 2, 2, 2, 2], [1, 1, 3, 1, 2, 0, 0, 2], [1, 1, 1, 1, 2, 0, 0, 2],
                 [1, 1, 1, 1, 2, 2, 2, 2]]),
              A([[1, 4, 1, 1, 1, 4, 1], [3, 3, 3, 3, 3, 1, 1], [3, 0, 0, 0, 3, 1, 4], [3, 3, 3, 3, 3, 1, 1],
                 [3, 3, 3, 3, 3, 1, 1], [3, 0, 0, 0, 3, 4, 1], [3, 3, 3, 3, 3, 1, 1]])]
    step = fit_frame_onto_holes(made, wanted)
    assert step is not None and step.name == "frame_onto_holes(on 0)"
    # framed: the 2x3 hole inside the grid; left: the 3x2 hole (turned) and the 2x3 hole at the edge
    test = A([[1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 5, 5, 5, 5, 5, 1, 1, 4, 1], [1, 5, 0, 0, 0, 5, 1, 0, 0, 1],
              [1, 5, 0, 0, 0, 5, 1, 0, 0, 1], [1, 5, 5, 5, 5, 5, 1, 0, 0, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
              [1, 4, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 1, 1, 0, 0, 0],
              [1, 1, 1, 1, 4, 1, 1, 1, 1, 1]])
    wanted_test = test.copy()
    wanted_test[6, 1:6] = wanted_test[9, 1:6] = wanted_test[6:10, 1] = wanted_test[6:10, 5] = 5
    assert np.array_equal(step(test), wanted_test)
    assert step(A([[1, 1, 1, 1, 1, 1], [1, 2, 2, 2, 1, 1], [1, 2, 0, 2, 1, 1], [1, 2, 2, 2, 1, 1],
                   [1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]])) is None  # no other hole


def test_fitted_templates_by_colour_turn_each_colours_template_by_its_own_map():
    # templates anchored on 2 are mirrored left-right, those anchored on 4 are copied as they are
    made = [A([[3, 3, 0, 0, 0, 4, 5, 0], [2, 0, 0, 0, 0, 0, 5, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0],
               [0, 0, 0, 0, 0, 2, 0, 0], [0, 4, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]]),
            A([[4, 5, 0, 0, 0, 0, 0], [0, 5, 0, 0, 0, 0, 0], [0, 0, 0, 0, 4, 0, 0], [0, 0, 2, 0, 0, 0, 0],
               [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 3, 3], [0, 0, 0, 0, 0, 2, 0]])]
    wanted = [A([[3, 3, 0, 0, 0, 4, 5, 0], [2, 0, 0, 0, 0, 0, 5, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 3, 3, 0, 0],
                 [0, 0, 0, 0, 0, 2, 0, 0], [0, 4, 5, 0, 0, 0, 0, 0], [0, 0, 5, 0, 0, 0, 0, 0],
                 [0, 0, 0, 0, 0, 0, 0, 0]]),
              A([[4, 5, 0, 0, 0, 0, 0], [0, 5, 0, 0, 0, 0, 0], [0, 3, 3, 0, 4, 5, 0], [0, 0, 2, 0, 0, 5, 0],
                 [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 3, 3], [0, 0, 0, 0, 0, 2, 0]])]
    step = fit_templates_by_colour(made, wanted)
    assert step is not None and step.name == "templates_by_colour(on 0, maps {2: (4,), 4: (0,)})"
    # new templates: a bar of 6 beside the 2 (mirrored), a 7 under the 4 (as is; cut off at the bottom)
    test = A([[2, 6, 0, 0, 0, 0, 4, 0], [0, 6, 0, 0, 0, 0, 7, 0], [0, 6, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 4, 0],
              [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 2, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 4]])
    assert np.array_equal(step(test), A([[2, 6, 0, 0, 0, 0, 4, 0], [0, 6, 0, 0, 0, 0, 7, 0], [0, 6, 0, 0, 0, 0, 0, 0],
                                         [0, 0, 0, 0, 0, 0, 4, 0], [0, 0, 0, 0, 0, 0, 7, 0], [0, 0, 6, 2, 0, 0, 0, 0],
                                         [0, 0, 6, 0, 0, 0, 0, 0], [0, 0, 6, 0, 0, 0, 0, 4]]))
    assert step(A([[8, 6, 0, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 8, 0], [0, 0, 0, 0, 0]])) is None  # 8 has no map


def test_fitted_cluster_boxes_and_bar_halves_repaint_within_one_colours_shapes():
    made = [A([[2, 0, 2, 0, 0, 0, 0], [0, 2, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 2, 0, 0],
               [0, 0, 0, 0, 1, 2, 1], [0, 0, 0, 0, 1, 0, 0], [2, 0, 0, 0, 0, 0, 0]]),
            A([[2, 0, 2, 0, 0], [0, 0, 0, 0, 0], [0, 0, 2, 2, 0], [0, 1, 0, 2, 0], [0, 0, 0, 0, 0]])]
    wanted = [A([[2, 4, 2, 0, 0, 0, 0], [4, 2, 4, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 2, 4, 0],
                 [0, 0, 0, 0, 4, 2, 1], [0, 0, 0, 0, 1, 0, 0], [2, 0, 0, 0, 0, 0, 0]]),
              A([[2, 0, 2, 0, 0], [0, 0, 0, 0, 0], [0, 0, 2, 2, 0], [0, 1, 4, 2, 0], [0, 0, 0, 0, 0]])]
    step = fit_cluster_boxes(made, wanted)  # the 2s two cells apart stay apart: gap 1 only
    assert step is not None and step.name == "cluster_boxes: cluster_boxes(2 gap 1 -> 4)"
    test = A([[0, 0, 0, 0, 0, 0, 0], [0, 2, 1, 0, 0, 0, 0], [0, 1, 2, 2, 0, 0, 0], [0, 0, 0, 1, 2, 0, 0],
              [0, 0, 0, 0, 0, 0, 0], [2, 0, 2, 0, 0, 0, 1], [0, 0, 0, 0, 0, 2, 2]])
    assert np.array_equal(step(test), A([[0, 0, 0, 0, 0, 0, 0], [0, 2, 4, 4, 4, 0, 0], [0, 4, 2, 2, 4, 0, 0],
                                         [0, 4, 4, 4, 2, 0, 0], [0, 0, 0, 0, 0, 0, 0], [2, 0, 2, 0, 0, 0, 1],
                                         [0, 0, 0, 0, 0, 2, 2]]))
    assert step(A([[1, 0], [0, 1]])) is None  # no 2 to cluster

    made = [A([[0, 0, 0, 0, 0], [2, 0, 0, 0, 0], [2, 0, 2, 0, 0], [2, 0, 2, 0, 2], [2, 0, 2, 0, 2], [0, 0, 0, 0, 0]]),
            A([[0, 2, 0, 0], [0, 2, 0, 0], [0, 2, 0, 2], [0, 2, 0, 2], [0, 2, 0, 2]])]
    wanted = [A([[0, 0, 0, 0, 0], [2, 0, 0, 0, 0], [2, 0, 2, 0, 0], [8, 0, 2, 0, 2], [8, 0, 8, 0, 8], [0, 0, 0, 0, 0]]),
              A([[0, 2, 0, 0], [0, 2, 0, 0], [0, 2, 0, 2], [0, 8, 0, 2], [0, 8, 0, 8]])]
    step = fit_bar_halves(made, wanted)  # the bars of three and five cells say: rounded down
    assert step is not None and step.name == "bar_halves: bar_halves(2->8 toward down, floor)"
    test = A([[0, 2, 0, 0, 0, 0], [0, 2, 0, 2, 0, 0], [0, 2, 0, 2, 0, 0], [0, 2, 0, 2, 0, 0], [0, 2, 0, 2, 0, 0],
              [0, 2, 0, 2, 0, 2], [0, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 2, 0, 0, 0, 0], [0, 2, 0, 2, 0, 0], [0, 2, 0, 2, 0, 0],
                                         [0, 8, 0, 2, 0, 0], [0, 8, 0, 8, 0, 0], [0, 8, 0, 8, 0, 2],
                                         [0, 0, 0, 0, 0, 0]]))  # a bar of one cell has no half to paint
    assert step(A([[0, 0, 0], [0, 2, 0], [0, 2, 2]])) is None  # an L is no bar


def test_fitted_greedy_rectangles_take_the_largest_empty_rectangle_first():
    made = [A([[5, 0, 0, 0, 5, 0], [5, 0, 0, 0, 5, 0], [5, 5, 5, 5, 5, 0], [0, 0, 5, 0, 0, 5], [0, 0, 5, 0, 0, 5]])]
    wanted = [A([[5, 2, 2, 2, 5, 0], [5, 2, 2, 2, 5, 0], [5, 5, 5, 5, 5, 0], [2, 2, 5, 2, 2, 5], [2, 2, 5, 2, 2, 5]])]
    step = fit_greedy_rectangles(made, wanted)
    assert step is not None and step.name == "greedy_rectangles(sides >= 2 of 0 -> 2)"
    # the 3x4 block first; of the two 2x2 blocks left, the one first in reading order; the rest stays
    test = A([[0, 0, 0, 0, 5, 5], [0, 0, 0, 0, 5, 5], [0, 0, 0, 0, 0, 0], [5, 5, 0, 0, 0, 0], [5, 5, 5, 0, 0, 5],
              [5, 5, 5, 5, 5, 5]])
    assert np.array_equal(step(test), A([[2, 2, 2, 2, 5, 5], [2, 2, 2, 2, 5, 5], [2, 2, 2, 2, 2, 2],
                                         [5, 5, 0, 0, 2, 2], [5, 5, 5, 0, 0, 5], [5, 5, 5, 5, 5, 5]]))
    assert step(A([[0, 5, 0], [5, 0, 5], [0, 5, 0]])) is None  # no empty 2x2

    made = [A([[0, 0, 0, 5, 0, 0], [0, 0, 0, 5, 0, 0], [0, 0, 0, 5, 5, 5], [5, 5, 5, 5, 5, 5]])]
    wanted = [A([[2, 2, 2, 5, 0, 0], [2, 2, 2, 5, 0, 0], [2, 2, 2, 5, 5, 5], [5, 5, 5, 5, 5, 5]])]
    step = fit_greedy_rectangles(made, wanted)  # the 2x2 left empty: sides of three at least
    assert step is not None and step.name == "greedy_rectangles(sides >= 3 of 0 -> 2)"
    test = A([[0, 0, 0, 0, 5, 0], [0, 0, 0, 0, 5, 0], [0, 0, 0, 0, 5, 0], [5, 0, 0, 0, 0, 0], [5, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 2, 2, 2, 5, 0], [0, 2, 2, 2, 5, 0], [0, 2, 2, 2, 5, 0],
                                         [5, 2, 2, 2, 0, 0], [5, 2, 2, 2, 0, 0]]))  # 5x3 beats 3x4


def test_fitted_dashed_lines_complete_the_mostly_full_lines_of_a_box():
    made = [A([[0, 0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 1, 1, 0], [0, 1, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1, 0],
               [0, 1, 0, 0, 0, 1, 0], [0, 1, 1, 1, 0, 1, 0], [0, 0, 0, 0, 0, 0, 0]])]
    wanted = [A([[0, 0, 0, 0, 0, 0, 0], [0, 1, 1, 2, 1, 1, 0], [0, 1, 0, 0, 0, 2, 0], [0, 2, 0, 0, 0, 1, 0],
                 [0, 1, 0, 0, 0, 1, 0], [0, 1, 1, 1, 2, 1, 0], [0, 0, 0, 0, 0, 0, 0]])]
    step = fit_dashed_lines(made, wanted)  # lines 4/5 full completed, those 2/5 full left
    assert step is not None and step.name == "dashed_lines: dashed_lines(1, share >= 0.80 -> 2)"
    test = A([[0, 0, 0, 0, 0, 0, 0, 0], [0, 1, 1, 1, 0, 1, 1, 0], [0, 1, 0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 0, 1, 0],
              [0, 1, 0, 0, 0, 0, 1, 0], [0, 1, 0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0, 0]])
    wanted_test = test.copy()
    wanted_test[1, 4] = wanted_test[3, 1] = wanted_test[5, 6] = wanted_test[6, 3] = 2  # the 5/6 lines
    assert np.array_equal(step(test), wanted_test)
    # a row and a column 3/5 full: between what the demonstration left and what it completed
    assert step(A([[1, 1, 1, 1, 1], [1, 0, 0, 0, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 1], [1, 1, 1, 1, 1]])) is None


def test_fitted_recolour_by_kind_and_retract_connectors_read_each_shapes_form():
    # lines to 1, Ls (one turn) to 2, Us (two turns) to 6
    made = [A([[3, 3, 3, 0, 0, 3, 0], [0, 0, 0, 0, 0, 3, 0], [3, 0, 0, 0, 0, 3, 0], [3, 3, 3, 0, 0, 3, 0],
               [0, 0, 0, 0, 0, 0, 0], [3, 0, 3, 0, 0, 0, 0], [3, 3, 3, 0, 0, 0, 0]]),
            A([[3, 3, 0, 3, 0, 3], [0, 3, 0, 3, 3, 3], [0, 0, 0, 0, 0, 0], [3, 3, 3, 3, 0, 0], [0, 0, 0, 0, 0, 0]])]
    wanted = [A([[1, 1, 1, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1, 0], [2, 0, 0, 0, 0, 1, 0], [2, 2, 2, 0, 0, 1, 0],
                 [0, 0, 0, 0, 0, 0, 0], [6, 0, 6, 0, 0, 0, 0], [6, 6, 6, 0, 0, 0, 0]]),
              A([[2, 2, 0, 6, 0, 6], [0, 2, 0, 6, 6, 6], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0]])]
    step = fit_recolour_by_kind(made, wanted)
    assert step is not None and step.name == "recolour_by_kind(on 0, 3 kinds)"
    test = A([[3, 3, 0, 0, 0, 0, 0], [0, 0, 0, 3, 3, 0, 0], [0, 0, 0, 0, 3, 0, 0], [3, 0, 0, 0, 3, 3, 0],
              [3, 3, 0, 0, 0, 0, 0], [0, 0, 0, 3, 3, 3, 3], [0, 0, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[1, 1, 0, 0, 0, 0, 0], [0, 0, 0, 6, 6, 0, 0], [0, 0, 0, 0, 6, 0, 0],
                                         [2, 0, 0, 0, 6, 6, 0], [2, 2, 0, 0, 0, 0, 0], [0, 0, 0, 1, 1, 1, 1],
                                         [0, 0, 0, 0, 0, 0, 0]]))  # an S has two turns, like a U
    assert step(A([[3, 3, 3], [0, 3, 0], [0, 0, 0]])) is None  # a branch was never seen
    assert fit_recolour_by_kind(made[:1], wanted[:1]) is None  # an L and a U seen once each

    made = [A([[0, 0, 0, 0, 0, 0, 2, 2], [0, 4, 4, 4, 4, 4, 2, 2], [0, 4, 4, 0, 0, 0, 2, 2], [0, 0, 0, 0, 0, 0, 2, 2],
               [0, 0, 0, 0, 0, 0, 0, 0]]),
            A([[1, 1, 1, 1], [1, 1, 1, 1], [0, 5, 0, 0], [0, 5, 0, 0], [0, 5, 5, 0], [0, 5, 5, 0], [0, 5, 5, 0]])]
    wanted = [A([[0, 0, 0, 0, 0, 0, 2, 2], [0, 0, 0, 0, 4, 4, 2, 2], [0, 0, 0, 0, 4, 4, 2, 2], [0, 0, 0, 0, 0, 0, 2, 2],
                 [0, 0, 0, 0, 0, 0, 0, 0]]),
              A([[1, 1, 1, 1], [1, 1, 1, 1], [0, 5, 5, 0], [0, 5, 5, 0], [0, 5, 5, 0], [0, 0, 0, 0], [0, 0, 0, 0]])]
    step = fit_retract_connectors(made, wanted)
    assert step is not None and step.name == "retract_connectors(on 0)"
    test = A([[0, 0, 0, 6, 6, 6, 6, 6], [0, 0, 0, 0, 0, 6, 6, 6], [0, 0, 0, 0, 0, 0, 0, 0], [0, 7, 7, 0, 0, 0, 0, 0],
              [0, 7, 7, 0, 0, 0, 0, 0], [0, 0, 7, 0, 0, 0, 0, 0], [0, 0, 7, 0, 0, 0, 0, 0], [0, 0, 7, 0, 0, 0, 0, 0]])
    assert np.array_equal(step(test), A([[0, 0, 0, 6, 6, 6, 0, 0], [0, 0, 0, 6, 6, 6, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0],
                                         [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0],
                                         [0, 7, 7, 0, 0, 0, 0, 0], [0, 7, 7, 0, 0, 0, 0, 0]]))  # left and down
    assert step(A([[0, 0, 0, 0, 0], [0, 4, 4, 4, 4], [0, 4, 4, 0, 4], [0, 0, 0, 0, 0]])) is None  # a bent connector


def test_frame_onto_holes_leaves_a_larger_empty_block_alone():
    from arcttt.programs.templates import frame_onto_holes

    g = A([[1, 1, 1, 1, 1, 1, 1, 1], [1, 2, 2, 2, 2, 1, 1, 1], [1, 2, 0, 0, 2, 1, 1, 1], [1, 2, 0, 0, 2, 1, 1, 1],
           [1, 2, 2, 2, 2, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 1, 1, 1], [1, 1, 0, 0, 0, 1, 1, 1],
           [1, 1, 1, 1, 1, 1, 1, 1]])
    assert frame_onto_holes(g, 0) is None  # the 2x3 block is no hole of the frame's 2x2 inside
    g[6, 4] = 1
    out = frame_onto_holes(g, 0)
    assert out is not None and (out[5:9, 1:5] == A([[2, 2, 2, 2], [2, 0, 0, 2], [2, 0, 0, 2], [2, 2, 2, 2]])).all()
