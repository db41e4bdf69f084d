"""Programs first: a run with both experts searches every task before the model's turn, finishes
the tasks a trusted program solves, and hands the others their search; under a budget each search
keeps to its share, and the model takes the rest smallest first."""

import json

import pytest

from arcttt.core.config import SolveConfig, override
from arcttt.core.outcome import Outcome
from arcttt.core.tasks import Example, Task
from arcttt.programs import SearchResult
from arcttt.run import loop
from arcttt.run.loop import search_first
from arcttt.run.outputs import sidecar
from conftest import run_all

# A flip: a one-step program reproduces every demonstration (trusted).
FLIP = Task("flip", tuple(Example(((a, b), (c, d)), ((b, a), (d, c)))
                          for a, b, c, d in [(1, 2, 3, 4), (5, 6, 7, 8), (2, 0, 0, 3)]),
            (Example(((4, 5), (6, 7)), ((5, 4), (7, 6))),))
# Outputs with no relation to the inputs: nothing is trusted.
NOISE = Task("noise", (Example(((1, 2), (3, 4)), ((7,),)), Example(((5, 6), (7, 8)), ((2, 9, 1),)),
                       Example(((2, 2), (2, 2)), ((3, 3), (1, 0)))), (Example(((9, 9), (9, 9)), ((4,),)),))
BIG_NOISE = Task("big-noise", NOISE.train, (Example(tuple((9,) * 6 for _ in range(6)), ((4,),)),))

BOTH = override(SolveConfig(), {"model.adapter": "", "expert": "both", "programs.time_limit": 1.0})


def records(out):
    return [json.loads(line) for line in sidecar(out, "log.jsonl").read_text().splitlines()]


def stub_solver(calls):
    """The model's turn, stubbed: records what the run handed the task."""
    def solve(task, runtime, config, deadlines, adapters_in, adapters_out, searched):
        calls.append((task.id, searched))
        return Outcome(task.id, tuple((e.input, e.input) for e in task.test), 0.1)
    return solve


def test_every_task_a_trusted_program_solves_is_finished_without_the_models_turn(tmp_path):
    calls = []
    out = tmp_path / "p.json"
    run_all([FLIP], BOTH, out, lambda: None, solve=stub_solver(calls))
    (record,) = records(out)
    assert record["task_id"] == "flip" and record["decision"]["chose"] == "program" and record["correct"] == [True]
    assert calls == []


def test_the_model_gets_the_untrusted_tasks_with_their_search_and_never_searches_again(tmp_path):
    calls, loaded, searching, searched = [], [], [], []
    out = tmp_path / "p.json"
    hooks = loop.Hooks(searching=lambda task: searching.append(task.id),
                       searched=lambda trusted, total: searched.append((trusted, total)))
    loop.solve_all([NOISE, FLIP], BOTH, loop.RunOptions(out), lambda: loaded.append(1) or None, hooks,
                   solve=stub_solver(calls))
    assert searching == ["noise", "flip"] and searched == [(1, 2)]
    assert [task_id for task_id, _ in calls] == ["noise"] and loaded == [1]
    assert isinstance(calls[0][1], SearchResult) and not calls[0][1].trusted
    assert [r["task_id"] for r in records(out)] == ["flip", "noise"]  # the program's task is done first


def test_without_both_experts_nothing_is_searched_first(tmp_path):
    calls = []
    config = override(BOTH, {"programs.skip_ttt": False})  # the model trains on every task anyway
    run_all([FLIP], config, tmp_path / "p.json", lambda: None, solve=stub_solver(calls))
    assert calls == [("flip", None)]


def test_under_a_budget_each_search_keeps_to_its_share_and_the_model_takes_the_smallest_first(tmp_path,
                                                                                             monkeypatch):
    limits, calls = [], []

    def search(task, config, deadlines):
        limits.append(deadlines.task - loop.time.monotonic())
        return SearchResult(False, (), tuple(() for _ in task.test), 0.0, 0, 0, False)

    monkeypatch.setattr(loop, "search_programs", search)
    config = override(BOTH, {"budget": 12.0, "programs.time_limit": 10.0})
    run_all([BIG_NOISE, NOISE], config, tmp_path / "p.json", lambda: None, solve=stub_solver(calls),
            clock=lambda: 0.0)
    # Half of what is left (less the 2% margin) over the tasks still to search: never the 10 s limit.
    assert limits == pytest.approx([(12.0 - 0.24) / 2 / 2, (12.0 - 0.24) / 2 / 1], abs=0.05)
    assert [task_id for task_id, _ in calls] == ["noise", "big-noise"]


def test_a_task_the_budget_skips_keeps_its_programs_candidates(tmp_path, monkeypatch):
    guess = ((1,),)
    now = [0.0]

    def search(task, config, deadlines):
        return SearchResult(True, ("guess",), ((guess,),), 0.5, 1, 1, False, kinds=("pieces",))

    def search_all(*args):
        found = search_first(*args)
        now[0] = 100.0  # the search spent the whole budget
        return found

    monkeypatch.setattr(loop, "search_programs", search)
    monkeypatch.setattr(loop, "search_first", search_all)
    out = tmp_path / "p.json"
    run_all([NOISE], override(BOTH, {"budget": 10.0}), out, lambda: None, solve=stub_solver([]),
            clock=lambda: now[0])
    (record,) = records(out)
    assert record["status"] == "skipped" and record["programs"] == ["guess"]
    assert json.loads(out.read_text())["noise"][0]["attempt_1"] == [[1]]
