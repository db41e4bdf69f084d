import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcttt.core.augment import AugmentSpace, Extra, Transform, sample_transforms
from arcttt.core.tasks import Example, Task


@st.composite
def grids(draw, max_side=8):
    rows = draw(st.integers(1, max_side))
    cols = draw(st.integers(1, max_side))
    cells = draw(st.lists(st.integers(0, 9), min_size=rows * cols, max_size=rows * cols))
    return tuple(tuple(cells[r * cols:(r + 1) * cols]) for r in range(rows))


transforms = st.builds(
    Transform,
    dihedral=st.integers(0, 7),
    colours=st.permutations(range(10)).map(tuple),
)


@given(grids(), transforms)
def test_invert_undoes_apply(grid, transform):
    assert transform.invert(transform.apply(grid)) == grid


@given(st.lists(grids(), min_size=2, max_size=4), transforms)
def test_transform_acts_identically_on_every_grid_of_a_task(grids_, transform):
    task = Task("t", tuple(Example(g, g) for g in grids_[:-1]), (Example(grids_[-1]),))
    moved = transform.apply_task(task)
    assert [e.input for e in moved.train] == [transform.apply(g) for g in grids_[:-1]]
    assert [e.output for e in moved.train] == [transform.apply(g) for g in grids_[:-1]]
    assert moved.test[0].input == transform.apply(grids_[-1]) and moved.test[0].output is None


def test_the_eight_symmetries_are_distinct_and_exact():
    grid = ((1, 2, 3), (4, 5, 6))
    images = {Transform(e).apply(grid) for e in range(8)}
    assert len(images) == 8
    assert Transform(1).apply(grid) == ((3, 6), (2, 5), (1, 4))  # a quarter turn anticlockwise
    assert Transform(4).apply(grid) == ((3, 2, 1), (6, 5, 4))  # mirror left-right


def test_colour_map_and_order_and_key():
    task = Task("t", (Example(((1,),), ((2,),)), Example(((3,),), ((4,),))), (Example(((5,),)),))
    colours = (0, 2, 1, 3, 4, 5, 6, 7, 8, 9)
    t = Transform(0, colours, (1, 0))
    moved = t.apply_task(task)
    assert moved.train == (Example(((3,),), ((4,),)), Example(((2,),), ((1,),)))
    assert t.key == "c:0213456789 o:1,0"
    assert Transform().key == "id" and Transform(order=(0, 1, 2)).is_identity
    assert Transform(5).key == "mirror+rot90"


def test_invalid_transforms_are_refused():
    with pytest.raises(ValueError):
        Transform(8)
    with pytest.raises(ValueError):
        Transform(0, (0,) * 10)
    with pytest.raises(ValueError):
        Transform(0, order=(0, 0))


def test_sampling_is_distinct_deterministic_and_starts_with_identity():
    first = sample_transforms(np.random.default_rng(7), 12, 3)
    again = sample_transforms(np.random.default_rng(7), 12, 3)
    assert first == again
    assert len({t.key for t in first}) == 12
    assert first[0].is_identity
    # The first eight views use the eight different symmetries.
    assert sorted(t.dihedral for t in first[:8]) == list(range(8))
    assert all(t.colours[0] == 0 for t in first)


def test_sampling_respects_the_space():
    only_geometry = AugmentSpace(colours="none", reorder=False)
    views = sample_transforms(np.random.default_rng(0), 50, 3, only_geometry)
    assert len(views) == 8  # the space holds just the 8 symmetries
    all_colours = sample_transforms(np.random.default_rng(0), 30, 2, AugmentSpace(colours="all"))
    assert any(t.colours[0] != 0 for t in all_colours)


def test_extras_change_sizes_and_refuse_what_does_not_fit():
    grid = ((1, 2), (3, 4))
    assert Extra(upscale=2).apply(grid) == ((1, 1, 2, 2), (1, 1, 2, 2), (3, 3, 4, 4), (3, 3, 4, 4))
    assert Extra(shift=(1, 2)).apply(grid) == ((0, 0, 0, 0), (0, 0, 1, 2), (0, 0, 3, 4))
    big = tuple((0,) * 16 for _ in range(16))
    assert Extra(upscale=2).apply(big) is None
    task = Task("t", (Example(grid, big),), (Example(grid),))
    assert Extra(upscale=2).apply_task(task) is None
