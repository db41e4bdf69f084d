"""The `arcttt` command line: scoring, listing, showing, and the error boundary."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from arcttt.cli import app
from arcttt.core.errors import ArcError
from arcttt.core.predictions import write_predictions
from arcttt.core.tasks import load_source

WRONG = ((0, 0), (0, 0))


def invoke(*args):
    """Run a command in-process; an ArcError stays in `result.exception`."""
    return CliRunner().invoke(app, [str(arg) for arg in args])


def arcttt(*args, cwd) -> subprocess.CompletedProcess:
    """Run `python -m arcttt` as a user would, through its error boundary."""
    return subprocess.run([sys.executable, "-m", "arcttt", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def write(path, obj) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj), encoding="utf-8")
    return str(path)


def make_task(*outputs) -> dict:
    """A task with one demonstration and one test input per given test output."""
    return {"train": [{"input": [[1]], "output": [[2]]}],
            "test": [{"input": [[i]], "output": output} for i, output in enumerate(outputs)]}


def perfect_predictions(path, taskset) -> str:
    """Predictions whose two attempts are both the solution."""
    write_predictions(path, {task.id: tuple((grid, grid) for grid in task.solutions) for task in taskset.tasks})
    return str(path)


def flat(text: str) -> str:
    """Text with Rich's line wrapping undone, to look for phrases."""
    return " ".join(text.split())


def score_json(predictions, solutions) -> dict:
    result = invoke("score", predictions, "--solutions", solutions, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # only JSON on stdout


# --- score --------------------------------------------------------------------------------------

def test_score_is_one_for_the_solutions_of_a_folder(tmp_path):
    write(tmp_path / "tasks" / "a.json", make_task([[1, 2]], [[3]]))
    write(tmp_path / "tasks" / "sub" / "b.json", make_task([[4], [5]]))
    predictions = perfect_predictions(tmp_path / "p.json", load_source(tmp_path / "tasks"))

    report = score_json(predictions, tmp_path / "tasks")

    assert (report["score"], report["tasks"], report["tasks_solved"]) == (1.0, 2, 2)
    assert (report["outputs_correct"], report["outputs_total"]) == (3, 3)
    assert report["missing"] == report["unknown"] == []


def test_score_is_one_for_the_solutions_of_a_dataset(tmp_path):
    predictions = perfect_predictions(tmp_path / "p.json", load_source("arc-agi-1/evaluation"))

    report = score_json(predictions, "arc-agi-1/evaluation")

    assert (report["score"], report["tasks"], report["tasks_solved"]) == (1.0, 400, 400)
    assert report["outputs_correct"] == report["outputs_total"] >= 400


def test_score_is_one_for_a_kaggle_solutions_file(tmp_path):
    solutions = write(tmp_path / "arc_solutions.json", {"a": [[[1, 2]], [[3]]], "b": [[[4]]]})
    write_predictions(tmp_path / "p.json", {"a": ((((1, 2),),) * 2, (((3,),),) * 2), "b": ((((4,),),) * 2,)})

    report = score_json(tmp_path / "p.json", solutions)

    assert (report["score"], report["outputs_correct"], report["outputs_total"]) == (1.0, 3, 3)


@pytest.fixture
def partial(tmp_path):
    """A: 2 outputs, 1 right; B: right by attempt_2; C (2 outputs) missing; D not in the solutions."""
    solutions = write(tmp_path / "arc_solutions.json",
                      {"A": [[[1]], [[2]]], "B": [[[3]]], "C": [[[4]], [[5]]]})
    predictions = tmp_path / "p.json"
    write_predictions(predictions, {
        "A": ((((1,),), WRONG), (WRONG, WRONG)),
        "B": ((WRONG, ((3,),)),),
        "D": ((WRONG, WRONG),),
    })
    return str(predictions), solutions


def test_score_of_a_partial_predictions_file(partial):
    report = score_json(*partial)

    assert report["score"] == (0.5 + 1 + 0) / 3  # ARC Prize: mean over tasks
    assert (report["outputs_correct"], report["outputs_total"]) == (2, 5)  # Kaggle: over outputs
    assert (report["tasks"], report["tasks_solved"]) == (3, 1)
    assert report["missing"] == ["C"]
    assert report["unknown"] == ["D"]
    assert report["per_task"] == {
        "A": {"score": 0.5, "correct": [True, False], "missing": False},
        "B": {"score": 1.0, "correct": [True], "missing": False},
        "C": {"score": 0.0, "correct": [False, False], "missing": True},
    }


def test_score_as_a_table(partial):
    predictions, solutions = partial

    result = invoke("score", predictions, "--solutions", solutions)

    assert result.exit_code == 0, result.output
    assert "score 0.5000 (1/3 tasks solved" in flat(result.stdout)
    assert "outputs 2/5 (Kaggle)" in flat(result.stdout)
    assert "missing predictions for 1 task(s): C" in flat(result.stdout)
    assert "not in the solutions: D" in flat(result.stderr)


def test_too_few_entries_count_the_rest_wrong(tmp_path):
    solutions = write(tmp_path / "arc_solutions.json", {"A": [[[1]], [[2]]]})
    write_predictions(tmp_path / "p.json", {"A": ((((1,),), WRONG),)})

    report = score_json(tmp_path / "p.json", solutions)

    assert report["per_task"]["A"]["correct"] == [True, False]


# --- the error boundary, as a user meets it -----------------------------------------------------

def assert_one_error_line(run: subprocess.CompletedProcess, *fragments: str) -> None:
    assert run.returncode == 1, run.stderr
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith("arcttt: error: "), line
    for fragment in fragments:
        assert fragment in line, line


ONE_GRID = [[1]]
NOT_A_GRID = ", task t, field [0].attempt_{}: an attempt must be a grid"
MALFORMED_PREDICTIONS = {
    "not JSON": ('{"t": [', [": not JSON", "line 1 column 8"]),
    "top level a list": ([{"t": []}], [": predictions must be a JSON object"]),
    "task value not a list": ({"t": {"attempt_1": ONE_GRID, "attempt_2": ONE_GRID}}, [", task t: must be a list"]),
    "entry not an object": ({"t": [ONE_GRID]}, [", task t, field [0]: must be an object"]),
    "entry missing attempt_2": ({"t": [{"attempt_1": ONE_GRID}]}, [", task t, field [0].attempt_2: missing"]),
    "attempt a string": ({"t": [{"attempt_1": ONE_GRID, "attempt_2": "[[1]]"}]}, [NOT_A_GRID.format(2)]),
    "attempt a flat list": ({"t": [{"attempt_1": [1, 2], "attempt_2": ONE_GRID}]}, [NOT_A_GRID.format(1)]),
    "attempt with a float": ({"t": [{"attempt_1": [[1.5]], "attempt_2": ONE_GRID}]}, [NOT_A_GRID.format(1)]),
}


@pytest.mark.parametrize("content, fragments", MALFORMED_PREDICTIONS.values(), ids=MALFORMED_PREDICTIONS.keys())
def test_malformed_predictions_are_one_error_line(tmp_path, content, fragments):
    solutions = write(tmp_path / "tasks" / "t.json", make_task(ONE_GRID))
    predictions = write(tmp_path / "p.json", content)

    run = arcttt("score", predictions, "--solutions", solutions, cwd=tmp_path)

    assert_one_error_line(run, f"arcttt: error: {predictions}", *fragments)


def test_scoring_against_a_source_without_solutions_is_an_error(tmp_path):
    task = make_task([[1]])
    del task["test"][0]["output"]
    tasks = write(tmp_path / "tasks" / "t.json", task)
    predictions = write(tmp_path / "p.json", {"t": [{"attempt_1": [[1]], "attempt_2": [[1]]}]})

    run = arcttt("score", predictions, "--solutions", tmp_path / "tasks", cwd=tmp_path)

    assert_one_error_line(run, f"{tasks}, task t, field test[0].output: no solution to score against")


def test_unknown_solutions_source_is_an_error(tmp_path):
    predictions = write(tmp_path / "p.json", {})

    run = arcttt("score", predictions, "--solutions", "arc-agi-9/training", cwd=tmp_path)

    assert_one_error_line(run, "arc-agi-9/training: no such file, folder or dataset")


def test_missing_solutions_option_is_a_usage_error(tmp_path):
    predictions = write(tmp_path / "p.json", {})

    run = arcttt("score", predictions, cwd=tmp_path)

    assert run.returncode == 2
    assert "Missing option '--solutions'" in run.stderr
    assert "arcttt: error:" not in run.stderr


# --- datasets and show --------------------------------------------------------------------------

def test_datasets_as_json():
    result = invoke("datasets", "--json")

    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["arc-agi-1/training"]["tasks"] == 400
    assert rows["arc-agi-1/evaluation"]["tasks"] == 400


def test_show_a_task_file(tmp_path):
    task = write(tmp_path / "mytask.json", make_task([[7, 7]]))

    result = invoke("show", task)

    assert result.exit_code == 0, result.output
    assert "mytask: 1 demonstrations" in flat(result.stdout)
    assert "mytask: 1 test input(s)" in flat(result.stdout)
    assert "right" not in result.stdout and "wrong" not in result.stdout


@pytest.fixture
def shown_with_predictions(tmp_path) -> str:
    """`show` for a dataset task whose attempt_1 is the solution and attempt_2 is not."""
    task = load_source("arc-agi-1/training").by_id()["007bbfb7"]
    (example,) = task.test
    write_predictions(tmp_path / "p.json", {task.id: ((example.output, example.input),)})

    result = invoke("show", "007bbfb7", "--source", "arc-agi-1/training", "--predictions", tmp_path / "p.json")

    assert result.exit_code == 0, result.output
    return result.stdout


def test_show_a_dataset_task_with_predictions(shown_with_predictions):
    assert "007bbfb7: 5 demonstrations" in flat(shown_with_predictions)
    assert "right" in shown_with_predictions and "wrong" in shown_with_predictions


def test_show_marks_sit_under_their_attempts(shown_with_predictions):
    lines = shown_with_predictions.splitlines()
    header = next(line for line in lines if "attempt 1" in line)
    marks = next(line for line in lines if "right" in line)

    assert marks.index("right") == header.index("attempt 1")
    assert marks.index("wrong") == header.index("attempt 2")


def test_show_without_predictions_for_the_task_is_an_error(tmp_path):
    task = write(tmp_path / "mytask.json", make_task([[7]]))
    write_predictions(tmp_path / "p.json", {"other": ((WRONG, WRONG),)})

    result = invoke("show", task, "--predictions", tmp_path / "p.json")

    assert isinstance(result.exception, ArcError)
    assert str(result.exception) == f"{tmp_path / 'p.json'}, task mytask: no predictions for this task"


def test_show_a_challenges_file_with_no_good_task(tmp_path):
    path = write(tmp_path / "arc_challenges.json", {"a": {"train": [], "test": [{"input": [[1]]}]}})

    run = arcttt("show", path, cwd=tmp_path)

    assert run.returncode == 1 and run.stdout == ""
    skipped, error = run.stderr.splitlines()
    assert skipped.startswith(f"skipped: {path}, task a, field train: ")
    assert error == f"arcttt: error: {path}: no task in this file could be loaded"


# --- no torch for scoring -----------------------------------------------------------------------

NO_TORCH = """
import sys
import arcttt.cli, arcttt.core.tasks, arcttt.core.score
from typer.testing import CliRunner
result = CliRunner().invoke(arcttt.cli.app, ["score", sys.argv[1], "--solutions", sys.argv[2], "--json"])
assert result.exit_code == 0, result.output
assert '"score": 1.0' in result.stdout, result.stdout
assert "torch" not in sys.modules, "torch was imported"
"""


def test_scoring_does_not_import_torch(tmp_path):
    write(tmp_path / "tasks" / "t.json", make_task([[1]]))
    predictions = perfect_predictions(tmp_path / "p.json", load_source(tmp_path / "tasks"))

    run = subprocess.run([sys.executable, "-c", NO_TORCH, predictions, str(tmp_path / "tasks")],
                         capture_output=True, text=True, cwd=tmp_path, timeout=120)

    assert run.returncode == 0, run.stderr
