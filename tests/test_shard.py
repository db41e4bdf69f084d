"""Shards: balanced assignment, and merges that refuse overlap, gaps and mixed configs."""

import json

import pytest

from arcttt.core.errors import ArcError
from arcttt.core.predictions import write_predictions
from arcttt.core.tasks import Example, Task
from arcttt.run.shard import Manifest, assign, merge, merge_files, parse_shard, task_cost, write_manifest


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


# --- hardening: merge trusts nothing it cannot check ---------------------------------------------

def write_shard(directory, name, manifest, predictions):
    path = directory / f"{name}.json"
    write_predictions(path, predictions)
    write_manifest(path, manifest)
    return path


@pytest.mark.parametrize("data, reason", [
    ({"shard": 5, "of": 2}, "shard 5 of 2"),
    ({"shard": -1, "of": 2}, "shard -1 of 2"),
    ({"shard": 0, "of": 0}, "shard 0 of 0"),
    ({"shard": "0", "of": 2}, "must be integers"),
    ({"tasks": ["a", "z"]}, "not in the run"),
    ({"all_tasks": ["a", "a", "b", "c"]}, "listed twice"),
    ({"outputs": [1]}, "each owned task"),
])
def test_manifests_with_nonsense_are_refused(tmp_path, data, reason):
    import json

    from arcttt.run.shard import manifest_path

    path = write_shard(tmp_path, "s0", Manifest(0, 2, "d", ("a", "b"), ("a", "b", "c"), (1, 1)), {})
    manifest = json.loads(manifest_path(path).read_text())
    manifest.update(data)
    manifest_path(path).write_text(json.dumps(manifest))
    with pytest.raises(ArcError, match=f"s0.shard.json: malformed shard manifest: .*{reason}"):
        merge_files([path])


def test_predictions_outside_the_shard_are_an_error_not_dropped():
    name, manifest, predictions = shard(0, 1, ["a", "b", "c"])
    with pytest.raises(ArcError, match="s0: holds predictions for task z, which this shard does not own"):
        merge([(name, manifest, {**predictions, "z": (ANSWER,)})])


@pytest.mark.parametrize("entries, message", [
    ((ANSWER, ANSWER), "task a: 2 entries; the task has 1 test input"),
    ((), "task a: 0 entries"),
    (((((1, 2), (3,)), ((1,),)),), r"field \[0\].attempt_1: ragged rows"),
    (((((12,),), ((1,),)),), r"field \[0\].attempt_1: cell \[0\]\[0\] is 12"),
])
def test_wrong_shaped_entries_are_refused(entries, message):
    manifest = Manifest(0, 1, "d", ("a",), ("a",), (1,))
    with pytest.raises(ArcError, match=message):
        merge([("s0", manifest, {"a": entries})])


def test_merge_refuses_to_clobber_its_output_or_a_shard(tmp_path):
    from typer.testing import CliRunner

    from arcttt.cli import app

    paths = [write_shard(tmp_path, *s) for s in (shard(0, 2, ["a", "c"]), shard(1, 2, ["b"]))]
    out = tmp_path / "merged.json"
    out.write_text("precious")
    runner = CliRunner()
    refused = runner.invoke(app, ["merge", *map(str, paths), "--out", str(out)])
    assert refused.exit_code == 1 and "already exists: pass --overwrite" in str(refused.exception)
    assert out.read_text() == "precious"
    into_shard = runner.invoke(app, ["merge", *map(str, paths), "--out", str(paths[0]), "--overwrite"])
    assert "is one of the shards being merged" in str(into_shard.exception)
    done = runner.invoke(app, ["merge", *map(str, paths), "--out", str(out), "--overwrite"])
    assert done.exit_code == 0 and list(json.loads(out.read_text())) == ["a", "b", "c"]
