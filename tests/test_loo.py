from arcttt.core.augment import AugmentSpace
import numpy as np

from arcttt.core.loo import base_samples, leave_one_out, random_sample
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import Example, Task


def make_task(n, task_id="t"):
    demos = tuple(Example(((i, i + 1),), ((i + 1, i),)) for i in range(n))
    return Task(task_id, demos, (Example(((9, 9),)),))


def test_leave_one_out_uses_each_demonstration_once_as_query():
    task = make_task(4)
    samples = base_samples(task, task_rng(0, task.id), leave_two_out=False)
    assert [s.query for s in samples] == list(task.train)
    for s in samples:
        assert s.query not in s.context
        assert sorted(s.context, key=repr) == sorted(set(task.train) - {s.query}, key=repr)


def test_leave_two_out_follows_leave_one_out():
    task = make_task(4)
    samples = base_samples(task, task_rng(0, task.id))
    assert len(samples) == 4 + 4 * 3
    assert all(len(s.context) == 2 for s in samples[4:])


def test_capped_distinct_and_deterministic():
    task = make_task(3)
    first = leave_one_out(task, task_rng(1, task.id), cap=60)
    assert len(first) == 60
    assert len({(s.context, s.query) for s in first}) == 60
    assert first == leave_one_out(task, task_rng(1, task.id), cap=60)
    assert first != leave_one_out(task, task_rng(2, task.id), cap=60)


def test_augmented_samples_keep_the_rule():
    # The rule "swap the two cells" commutes with colour maps and mirrors, so every sample keeps it.
    task = make_task(3)
    for s in leave_one_out(task, task_rng(0, task.id), cap=100, space=AugmentSpace(colours="all")):
        for example in s.context + (s.query,):
            flat_in = [c for row in example.input for c in row]
            flat_out = [c for row in example.output for c in row]
            assert sorted(flat_in) == sorted(flat_out)


def test_single_demonstration_still_gives_training_data():
    task = make_task(1)
    samples = leave_one_out(task, task_rng(0, task.id), cap=20)
    assert len(samples) == 20
    assert all(s.context == () for s in samples)
    assert samples[0].query == task.train[0]


def test_small_space_gives_what_exists():
    task = make_task(2)
    samples = leave_one_out(task, task_rng(0, task.id), cap=250,
                            space=AugmentSpace(colours="none", reorder=False))
    # 2 leave-one-out samples under 8 symmetries, fewer where a symmetry maps a sample to itself.
    assert 2 < len(samples) <= 16
    assert len({(s.context, s.query) for s in samples}) == len(samples)


def test_extras_appear_only_when_asked():
    task = make_task(3)
    plain = leave_one_out(task, task_rng(0, task.id), cap=80)
    extra = leave_one_out(task, task_rng(0, task.id), cap=80, extras=True)
    assert not any("up2" in s.augmentation or "shift" in s.augmentation for s in plain)
    assert any("up2" in s.augmentation or "shift" in s.augmentation for s in extra)


def test_task_rng_depends_on_seed_and_task_only():
    assert task_rng(0, "a").integers(1 << 30) == task_rng(0, "a").integers(1 << 30)
    assert task_rng(0, "a").integers(1 << 30) != task_rng(0, "b").integers(1 << 30)
    assert task_rng(0, "a").integers(1 << 30) != task_rng(1, "a").integers(1 << 30)


def test_random_sample_adds_training_only_extras_at_the_given_rate():
    grid = ((1, 0), (0, 2))
    task = Task("t", (Example(grid, grid), Example(grid, grid), Example(grid, grid)), ())
    plain = [random_sample(task, np.random.default_rng(i)) for i in range(40)]
    extra = [random_sample(task, np.random.default_rng(i), extra_rate=1.0) for i in range(40)]
    assert all(len(s.query.input) == 2 and len(s.query.input[0]) == 2 for s in plain)
    # Every extra upscales or shifts all grids of the sample alike: never 2x2 again.
    assert all(len(s.query.input) > 2 or len(s.query.input[0]) > 2 for s in extra)
    assert all(len(c.input) == len(s.query.input) for s in extra for c in s.context)
