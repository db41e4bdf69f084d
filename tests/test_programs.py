"""The program-search expert: each primitive on hand-made grids, fitted steps, and the search."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from arcttt.core.tasks import Example, Task
from arcttt.programs import SearchResult, search_task
from arcttt.programs import primitives as P
from arcttt.programs.dsl import objects
from arcttt.programs.fitted import fit_colour_map, fit_local_rule, fit_recolour_by_size


def A(rows) -> np.ndarray:
    return np.array(rows, dtype=np.int8)


def same(got, want) -> bool:
    return got is not None and np.array_equal(got, A(want))


G = A([[1, 2, 0],
       [3, 0, 0]])

CASES = [
    (P.rot90, G, [[3, 1], [0, 2], [0, 0]]),
    (P.rot180, G, [[0, 0, 3], [0, 2, 1]]),
    (P.rot270, G, [[0, 0], [2, 0], [1, 3]]),
    (P.flip_h, G, [[0, 2, 1], [0, 0, 3]]),
    (P.flip_v, G, [[3, 0, 0], [1, 2, 0]]),
    (P.transpose, G, [[1, 3], [2, 0], [0, 0]]),
    (P.anti_transpose, G, [[0, 0], [0, 2], [3, 1]]),
    (lambda g: P.shift(g, 0, 1), G, [[0, 1, 2], [0, 3, 0]]),
    (lambda g: P.shift(g, -1, 0), G, [[3, 0, 0], [0, 0, 0]]),
    (lambda g: P.gravity(g, "down"), A([[1, 0], [0, 2], [0, 0]]), [[0, 0], [0, 0], [1, 2]]),
    (lambda g: P.gravity(g, "up"), A([[1, 0], [0, 0], [0, 2]]), [[1, 2], [0, 0], [0, 0]]),
    (lambda g: P.gravity(g, "right"), A([[1, 0, 2, 0]]), [[0, 0, 1, 2]]),
    (lambda g: P.gravity(g, "left"), A([[0, 1, 0, 2]]), [[1, 2, 0, 0]]),
    (P.crop_content, A([[0, 0, 0], [0, 5, 0], [0, 0, 6]]), [[5, 0], [0, 6]]),
    (P.crop_content_major, A([[7, 7, 7], [7, 1, 7], [7, 7, 7]]), [[1]]),
    (lambda g: P.crop_colour(g, 4), A([[4, 0, 0], [0, 1, 4]]), [[4, 0, 0], [0, 1, 4]]),
    (lambda g: P.crop_colour(g, 1), A([[4, 0, 0], [0, 1, 4]]), [[1]]),
    (lambda g: P.crop_inside_colour(g, 2), A([[2, 2, 2, 0], [2, 5, 2, 0], [2, 2, 2, 0]]), [[5]]),
    (lambda g: P.upscale(g, 2, 2), A([[1, 2]]), [[1, 1, 2, 2], [1, 1, 2, 2]]),
    (P.upscale_by_colours, A([[1, 2]]), [[1, 1, 2, 2], [1, 1, 2, 2]]),
    (lambda g: P.downscale(g, 2, 2), A([[1, 1, 2, 2], [1, 1, 2, 0]]), [[1, 2]]),
    (lambda g: P.tile(g, 1, 2), A([[1, 2]]), [[1, 2, 1, 2]]),
    (lambda g: P.mirror_tile(g, "h"), A([[1, 2]]), [[1, 2, 2, 1]]),
    (lambda g: P.mirror_tile(g, "h_rev"), A([[1, 2]]), [[2, 1, 1, 2]]),
    (lambda g: P.mirror_tile(g, "v"), A([[1], [2]]), [[1], [2], [2], [1]]),
    (lambda g: P.mirror_tile(g, "v_rev"), A([[1], [2]]), [[2], [1], [1], [2]]),
    (lambda g: P.mirror_tile(g, "2x2"), A([[1, 2]]), [[1, 2, 2, 1], [1, 2, 2, 1]]),
    (lambda g: P.mirror_tile(g, "2x2_rev"), A([[1, 2]]), [[2, 1, 1, 2], [2, 1, 1, 2]]),
    (P.fractal, A([[1, 0], [0, 0]]), [[1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    (lambda g: P.fractal(g, inverse=True), A([[1, 0]]), [[0, 0, 1, 0]]),
    (lambda g: P.combine(g, "h2", "and", 4), A([[1, 1, 5, 0, 1], [0, 1, 5, 1, 0]]), [[0, 4], [0, 0]]),
    (lambda g: P.combine(g, "h2", "or", 4), A([[1, 1, 5, 0, 1], [0, 1, 5, 1, 0]]), [[4, 4], [4, 4]]),
    (lambda g: P.combine(g, "h2", "xor", 4), A([[1, 1, 5, 0, 1], [0, 1, 5, 1, 0]]), [[4, 0], [4, 4]]),
    (lambda g: P.combine(g, "v2", "nor", 4), A([[1, 0], [0, 0]]), [[0, 4]]),
    (lambda g: P.combine(g, "h2", "diff", 4), A([[1, 1, 0, 1]]), [[4, 0]]),
    (lambda g: P.combine(g, "sep", "and", 3), A([[1, 5, 1], [0, 5, 2]]), [[3], [0]]),
    (lambda g: P.overlay(g, "h3", "first"), A([[1, 0, 2, 2, 3, 3]]), [[1, 2]]),
    (lambda g: P.overlay(g, "h3", "last"), A([[1, 0, 2, 2, 3, 3]]), [[3, 3]]),
    (lambda g: P.pick_part(g, "sep", "odd"), A([[1, 5, 1, 5, 2], [0, 5, 0, 5, 0]]), [[2], [0]]),
    (lambda g: P.pick_part(g, "v2", "most"), A([[1, 0], [0, 0], [2, 2]]), [[2, 2]]),
    (lambda g: P.pick_part(g, "v2", "least"), A([[1, 0], [0, 0], [2, 2]]), [[1, 0]]),
    (lambda g: P.pick_part(g, "h2", "most_colours"), A([[1, 2, 3, 3]]), [[1, 2]]),
    (lambda g: P.pick_part(g, "h2", "fewest_colours"), A([[1, 2, 3, 3]]), [[3, 3]]),
    (lambda g: P.symmetrize(g, "h"), A([[1, 0, 0]]), [[1, 0, 1]]),
    (lambda g: P.symmetrize(g, "v"), A([[1], [0]]), [[1], [1]]),
    (lambda g: P.symmetrize(g, "hv"), A([[1, 0], [0, 0]]), [[1, 1], [1, 1]]),
    (lambda g: P.symmetrize(g, "diag"), A([[0, 2], [0, 0]]), [[0, 2], [2, 0]]),
    (lambda g: P.symmetrize(g, "all"), A([[3, 0], [0, 0]]), [[3, 3], [3, 3]]),
    (lambda g: P.complete_symmetry(g, 9), A([[1, 2, 1], [3, 4, 9]]), [[1, 2, 1], [3, 4, 3]]),
    (lambda g: P.symmetry_patch(g, 9), A([[1, 2, 1], [3, 4, 9]]), [[3]]),
    (lambda g: P.recolour_all(g, 8), G, [[8, 8, 0], [8, 0, 0]]),
    (lambda g: P.keep_colour(g, 2), G, [[0, 2, 0], [0, 0, 0]]),
    (lambda g: P.remove_colour(g, 2), G, [[1, 0, 0], [3, 0, 0]]),
    (lambda g: P.colour_cell(g, "most"), A([[1, 1, 2]]), [[1]]),
    (lambda g: P.colour_cell(g, "least"), A([[1, 1, 2]]), [[2]]),
    (lambda g: P.fill_enclosed(g, 4), A([[1, 1, 1, 0], [1, 0, 1, 0], [1, 1, 1, 0]]),
     [[1, 1, 1, 0], [1, 4, 1, 0], [1, 1, 1, 0]]),
    (lambda g: P.connect(g, "row"), A([[2, 0, 0, 2], [3, 0, 0, 0]]), [[2, 2, 2, 2], [3, 0, 0, 0]]),
    (lambda g: P.connect(g, "col"), A([[2, 0], [0, 0], [2, 0]]), [[2, 0], [2, 0], [2, 0]]),
    (lambda g: P.connect(g, "both"), A([[2, 0, 2], [0, 0, 0], [2, 0, 0]]), [[2, 2, 2], [2, 0, 0], [2, 0, 0]]),
    (lambda g: P.count_objects(g, False), A([[1, 0, 1], [0, 0, 0], [1, 0, 0]]), [[1, 1, 1]]),
    (lambda g: P.count_objects(g, True), A([[2, 0, 2]]), [[2], [2]]),
    (lambda g: P.colours_by_frequency(g, False), A([[1, 2, 2, 3, 2, 3]]), [[2, 3, 1]]),
    (lambda g: P.colours_by_frequency(g, True), A([[1, 2, 2]]), [[2], [1]]),
    (P.remove_specks, A([[1, 0, 0], [0, 0, 2], [0, 0, 2]]), [[0, 0, 0], [0, 0, 2], [0, 0, 2]]),
]

# Objects: a 3-cell L of colour 1, a single cell of colour 2, a 2-cell bar of colour 1.
OBJ = A([[1, 1, 0, 0],
         [1, 0, 0, 2],
         [0, 0, 0, 0],
         [0, 1, 1, 0]])
OBJECT_CASES = [
    (P.crop_object, "largest", "multi8", [[1, 1], [1, 0]]),
    (P.crop_object, "smallest", "colour4", [[2]]),
    (P.crop_object, "unique_colour", "colour4", [[2]]),
    (P.crop_object, "unique_shape", "colour4", [[1, 1], [1, 0]]),  # the 1-cell and the bar differ too: None below
    (P.crop_object, "top_left", "colour8", [[1, 1], [1, 0]]),
    (P.crop_object, "bottom_right", "colour4", [[1, 1]]),
    (P.keep_object, "unique_colour", "multi8", [[0, 0, 0, 0], [0, 0, 0, 2], [0, 0, 0, 0], [0, 0, 0, 0]]),
    (P.remove_object, "largest", "colour4", [[0, 0, 0, 0], [0, 0, 0, 2], [0, 0, 0, 0], [0, 1, 1, 0]]),
]


@pytest.mark.parametrize("fn, grid, want", CASES)
def test_primitive_on_a_hand_made_grid(fn, grid, want):
    assert same(fn(grid), want)


@pytest.mark.parametrize("fn, how, mode, want", OBJECT_CASES)
def test_object_primitive(fn, how, mode, want):
    got = fn(OBJ, how, mode)
    if how == "unique_shape":
        assert got is None  # all three shapes differ: no single odd one
    else:
        assert same(got, want)


def test_object_selection_by_shape_and_colours():
    grid = A([[1, 1, 0, 2, 2, 0, 3, 0], [0, 0, 0, 0, 0, 0, 3, 0], [4, 5, 0, 0, 0, 0, 0, 0]])
    assert same(P.crop_object(grid, "unique_shape", "colour4"), [[3], [3]])
    assert same(P.crop_object(grid, "most_colours", "multi8"), [[4, 5]])
    parts = objects(grid, by_colour=False, diagonal=True)
    assert [o.size for o in parts] == [2, 2, 2, 2]


def test_primitives_that_do_not_apply_say_none():
    assert P.crop_content(A([[0, 0]])) is None
    assert P.downscale(A([[1, 2, 3]]), 2, 2) is None
    assert P.split(A([[1, 2]]), "h3") is None
    assert P.pick_part(A([[1, 2]]), "h2", "most") is None  # a tie
    assert P.fill_enclosed(A([[1, 0]]), 4) is None
    assert P.complete_symmetry(G, 9) is None
    assert P.separators(A([[1, 2], [3, 4]])) is None


def test_separators_split_into_cells():
    grid = A([[1, 5, 2], [5, 5, 5], [3, 5, 4]])
    assert P.separators(grid) == ([1], [1], 5)
    assert [p.tolist() for p in P.split(grid, "sep")] == [[[1]], [[2]], [[3]], [[4]]]


def test_fitted_colour_map():
    step = fit_colour_map([A([[1, 2]]), A([[2, 3]])], [A([[5, 6]]), A([[6, 3]])])
    assert step.name == "colour_map({1:5, 2:6})"
    assert same(step(A([[3, 1, 7]])), [[3, 5, 7]])
    assert fit_colour_map([A([[1, 1]])], [A([[1, 2]])]) is None  # 1 would need two images


def test_fitted_recolour_by_size():
    made = [A([[1, 0, 1], [0, 0, 1]]), A([[1, 1, 0, 1]])]
    wanted = [A([[3, 0, 4], [0, 0, 4]]), A([[4, 4, 0, 3]])]
    step = fit_recolour_by_size(made, wanted)
    assert step.name == "recolour_by_size({1:3, 2:4})"
    assert same(step(A([[0, 1, 1, 0, 1]])), [[0, 4, 4, 0, 3]])
    assert step(A([[1, 1, 1]])) is None  # a size never seen


def test_fitted_local_rule_needs_every_demonstration_predicted_when_left_out():
    # A 1 whose right-hand neighbour is the border becomes 2.
    made = [A([[1, 0, 1]]), A([[1, 0, 1, 0, 1]]), A([[1, 0, 1, 0, 1, 0, 1]])]
    wanted = [A([[1, 0, 2]]), A([[1, 0, 1, 0, 2]]), A([[1, 0, 1, 0, 1, 0, 2]])]
    step = fit_local_rule(made, wanted)
    assert step is not None and step.name.startswith("local_rule(cross")
    assert same(step(A([[1, 0, 1, 0, 1, 0, 1, 0, 1]])), [[1, 0, 1, 0, 1, 0, 1, 0, 2]])
    assert step(A([[1, 0, 0, 1]])) is None  # a neighbourhood never seen
    # Left out, the longest demonstration holds a neighbourhood (0 between 1 and 0) no other shows.
    assert fit_local_rule(made + [A([[1, 0, 0]])], wanted + [A([[1, 0, 0]])]) is None
    # With one demonstration no rule can be checked on a held-out one.
    assert fit_local_rule(made[:1], wanted[:1]) is None


def task_of(pairs, tests) -> Task:
    return Task("synthetic", tuple(Example(tuple(map(tuple, a)), tuple(map(tuple, b))) for a, b in pairs),
                tuple(Example(tuple(map(tuple, a)), tuple(map(tuple, b))) for a, b in tests))


def planted(g: np.ndarray) -> np.ndarray:
    # A depth-3 program: crop to content, mirror it below itself, then rotate a quarter turn.
    return P.rot90(P.mirror_tile(P.crop_content(g), "v"))


def random_grids(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    grids = []
    for _ in range(n):
        g = np.zeros((7, 7), dtype=np.int8)
        h, w = rng.integers(2, 4), rng.integers(2, 4)
        r, c = rng.integers(0, 7 - h), rng.integers(0, 7 - w)
        patch = rng.integers(1, 4, size=(h, w)).astype(np.int8)
        patch[0, 0] = 1
        patch[-1, -1] = 3  # the corners keep crop_content exact
        g[r:r + h, c:c + w] = patch
        grids.append(g)
    return grids


def test_search_finds_a_planted_depth_3_program():
    grids = random_grids(0, 4)
    task = task_of([(g, planted(g)) for g in grids[:3]], [(grids[3], planted(grids[3]))])
    result = search_task(task, time_limit=15.0, max_depth=3)
    assert isinstance(result, SearchResult) and result.found
    assert len(result.programs[0].split(" | ")) == 3
    assert result.attempts[0][0] == tuple(map(tuple, planted(grids[3]).tolist()))


def test_search_rejects_a_program_that_fits_all_but_one_demonstration():
    grids = [A([[1, 2, 0], [0, 3, 4]]), A([[5, 0], [6, 7]]), A([[1, 1, 2]])]
    outputs = [P.flip_h(g) for g in grids]
    outputs[2] = A([[9, 9, 9]])  # the last demonstration breaks flip_h (and every other program)
    task = task_of(list(zip(grids, outputs)), [(A([[1, 2]]), A([[2, 1]]))])
    result = search_task(task, time_limit=1.0, max_depth=1)
    assert not result.found and result.attempts == ((),) and result.programs == ()


def test_dedup_keeps_one_of_two_equivalent_programs():
    grids = [A([[1, 2, 0], [0, 3, 4]]), A([[5, 0], [6, 7], [8, 0]]), A([[1, 1, 2], [3, 0, 0]])]
    test = A([[1, 2], [3, 4]])
    task = task_of([(g, P.rot180(g)) for g in grids], [(test, P.rot180(test))])
    result = search_task(task, time_limit=5.0, max_depth=2)
    assert result.programs == ("rot180",)  # flip_h | flip_v makes the same outputs: dropped
    assert result.attempts == ((((4, 3), (2, 1)),),)


def test_time_limit_is_respected():
    rng = np.random.default_rng(1)
    grids = [rng.integers(0, 10, size=(20, 20)).astype(np.int8) for _ in range(4)]
    outputs = [rng.integers(0, 10, size=(20, 20)).astype(np.int8) for _ in range(3)]
    task = task_of(list(zip(grids[:3], outputs)), [(grids[3], grids[3])])
    start = time.monotonic()
    result = search_task(task, time_limit=1.0, max_depth=3)
    elapsed = time.monotonic() - start
    assert result.cut and not result.found
    assert result.seconds < 1.1 and elapsed < 1.5  # the clock is read before every application


def test_attempts_are_two_distinct_predictions_best_first():
    # Demonstrations where a grid is symmetric in both ways: many programs fit, with different tests.
    grids = [A([[1, 1], [1, 1]]), A([[2, 2, 2]])]
    task = task_of([(g, g) for g in grids], [(A([[1, 2], [3, 4]]), A([[1, 2], [3, 4]]))])
    result = search_task(task, time_limit=2.0, max_depth=1)
    assert result.programs[0] == "identity"
    assert result.attempts[0][0] == ((1, 2), (3, 4))
    assert len(result.attempts[0]) == 2 and result.attempts[0][1] != result.attempts[0][0]


BLOCKED = """
import sys
sys.modules["torch"] = None  # any `import torch` now raises ImportError
import arcttt.programs, arcttt.programs.search, arcttt.programs.primitives, arcttt.programs.fitted
assert sys.modules["torch"] is None
print("ok")
"""


def test_programs_import_with_torch_blocked():
    run = subprocess.run([sys.executable, "-c", BLOCKED], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip() == "ok"
