"""Shards: balanced assignment, and merges that refuse overlap, gaps and mixed configs."""

import pytest

from arcttt.errors import ArcError
from arcttt.predictions import write_predictions
from arcttt.shard import Manifest, assign, merge, merge_files, parse_shard, task_cost, write_manifest
from arcttt.tasks import Example, Task


def task(task_id, side):
    grid = tuple((1,) * side for _ in range(side))
    return Task(task_id, (Example(grid, grid),), (Example(grid),))


TASKS = [task("a", 1), task("b", 9), task("c", 3), task("d", 8), task("e", 2)]
ANSWER = (((1,),), ((1,),))


def test_assignment_is_balanced_longest_first_and_covers_every_task_once():
    shards = assign(TASKS, 2)
    assert sorted(t for s in shards for t in s) == ["a", "b", "c", "d", "e"]
    assert shards == [["b", "a"], ["d", "c", "e"]]
    costs = {t.id: task_cost(t) for t in TASKS}
    loads = [sum(costs[t] for t in s) for s in shards]
    assert max(loads) - min(loads) <= max(costs.values())
    assert assign(TASKS, 2) == shards  # deterministic


def test_parse_shard():
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "-1/2", "x", "1/0"):
        with pytest.raises(ArcError, match="--shard"):
            parse_shard(bad)


def shard(index, of, owned, predicted=None, digest="d1", all_tasks=("a", "b", "c")):
    predicted = owned if predicted is None else predicted
    return (f"s{index}", Manifest(index, of, digest, tuple(owned), tuple(all_tasks)), {t: (ANSWER,) for t in predicted})


def test_merge_puts_tasks_in_run_order():
    merged = merge([shard(1, 2, ["b"]), shard(0, 2, ["c", "a"])])
    assert list(merged) == ["a", "b", "c"]


@pytest.mark.parametrize("shards, message", [
    ([shard(0, 2, ["a", "b"]), shard(1, 2, ["b", "c"])], "overlapping shards: task b is also in s0"),
    ([shard(0, 2, ["a", "b"])], r"1 task\(s\) of the run are in no shard given \(e.g. c\); missing shard\(s\): 1/2"),
    ([shard(0, 2, ["a", "b"]), shard(1, 2, ["c"], digest="d2")], "config digest d2 differs from s0's d1"),
    ([shard(0, 2, ["a", "b"]), shard(0, 2, ["c"])], "shard 0/2 given twice"),
    ([shard(0, 2, ["a", "b"], predicted=["a"]), shard(1, 2, ["c"])], "unfinished: 1 task"),
    ([shard(0, 2, ["a", "b"]), shard(1, 3, ["c"])], "another split"),
])
def test_merge_rejects_bad_shard_sets(shards, message):
    with pytest.raises(ArcError, match=message):
        merge(shards)


def test_merge_files_reads_manifests_and_names_a_file_without_one(tmp_path):
    paths = []
    for name, manifest, predictions in [shard(0, 2, ["a", "c"]), shard(1, 2, ["b"])]:
        path = tmp_path / f"{name}.json"
        write_predictions(path, predictions)
        write_manifest(path, manifest)
        paths.append(path)
    assert list(merge_files(paths)) == ["a", "b", "c"]
    stray = tmp_path / "stray.json"
    write_predictions(stray, {"a": (ANSWER,)})
    with pytest.raises(ArcError, match="stray.json: no shard manifest beside it"):
        merge_files([stray])
