"""The whole-run budget: never exceeded on simulated runs, every task gets attempts, time reclaimed."""

import json

import numpy as np
import pytest

from arcttt.core.budget import MIN_GRANT, Budget, fit_cost, task_size
from arcttt.core.knobs import parse_duration
from arcttt.core.config import SolveConfig, override
from arcttt.core.errors import ArcError
from arcttt.core.predictions import load_predictions
from arcttt.core.tasks import Example, Task
from arcttt.engine.runtime import Runtime
from arcttt.run.outputs import sidecar
from arcttt.testing import tiny_loaded
from conftest import run_all


def grid(side, colour=1):
    return tuple((colour,) * side for _ in range(side))


def sized_task(task_id, side):
    return Task(task_id, (Example(grid(side), grid(side, 2)), Example(grid(side, 3), grid(side, 4))),
                (Example(grid(side, 5), grid(side, 6)),))


def test_durations_read_as_people_write_them():
    assert parse_duration("2h") == 7200
    assert parse_duration("90m") == 5400
    assert parse_duration("1h30m") == 5400
    assert parse_duration("45s") == 45
    assert parse_duration("600") == 600
    assert parse_duration("0.5h") == 1800
    for bad in ("", "2 days", "h", "1x", "-5m"):
        with pytest.raises(ArcError, match="not a duration"):
            parse_duration(bad)


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class FakeRuntime:
    """What the run loop needs of a runtime when the task solver is simulated."""

    precision = "float32/none"
    pool = None


def simulated_solver(clock, rng, per_task):
    """A task as solve_task runs it: training stops at its deadline (give or take a step), then a
    batch of views decodes to the end, however long it takes."""
    from arcttt.core.outcome import Outcome, TrainStats

    def solve(task, runtime, config, deadlines, *adapters):
        wanted = float(rng.exponential(per_task))  # training it would do unbounded
        step = float(rng.uniform(0.05, 0.5))
        infer = float(rng.uniform(0.05, 0.3)) * per_task * task_size(task) / 400  # grows with size
        training = wanted if deadlines.train is None else min(wanted, max(0.0, deadlines.train - clock.now) + step)
        clock.now += training + infer
        stats = TrainStats(steps=1, seconds=training, stopped="deadline" if training < wanted else "")
        return Outcome(task.id, tuple((e.input, e.input) for e in task.test), training + infer, train=stats)
    return solve


@pytest.mark.parametrize("policy", ["fixed", "checked"])  # shares of the time left; all of it
@pytest.mark.parametrize("seed", range(12))
def test_a_simulated_run_never_exceeds_the_budget_and_every_task_gets_attempts(seed, policy, tmp_path):
    """The real run loop (`solve_all`) with a simulated task solver on a simulated clock."""
    rng = np.random.default_rng(seed)
    tasks = [sized_task(f"t{i}", int(rng.integers(1, 30))) for i in range(int(rng.integers(5, 40)))]
    per_task = float(rng.uniform(5, 60))
    total = per_task * len(tasks)
    clock = Clock()

    def load():
        clock.now += float(rng.uniform(0, 0.01 * total))  # loading the model counts
        return FakeRuntime()

    out = tmp_path / "p.json"
    run_all(tasks, override(CONFIG, {"budget": total, "policy": policy}), out, load,
            solve=simulated_solver(clock, rng, per_task), clock=clock)
    assert clock.now <= total
    records = [json.loads(line) for line in sidecar(out, "log.jsonl").read_text().splitlines()]
    # Under a budget the smallest tasks run first (the sort is stable).
    assert [r["task_id"] for r in records] == [t.id for t in sorted(tasks, key=task_size)]
    assert set(load_predictions(out)) == {t.id for t in tasks}
    assert "ok" in {r["status"] for r in records}
    assert all(r["status"] in ("ok", "skipped") for r in records)
    assert all((r["status"] == "skipped") == (r["granted"] == 0.0) for r in records)


def test_a_spent_budget_skips_tasks_and_says_why(tmp_path):
    clock = Clock()

    def load():
        clock.now += 10.0  # the whole budget goes on loading
        return FakeRuntime()

    out = tmp_path / "p.json"
    run_all(TASKS, override(CONFIG, {"budget": 10.0}), out, load, solve=simulated_solver(clock, np.random.default_rng(0), 1.0),
            clock=clock)
    records = [json.loads(line) for line in sidecar(out, "log.jsonl").read_text().splitlines()]
    assert [r["status"] for r in records] == ["skipped"] * 3
    assert all(r["skipped"] == "the run budget is spent" for r in records)
    started = []
    # Skipped tasks are not finished: a resumed run with more time solves them.
    run_all(TASKS, override(CONFIG, {"budget": 10.0}), out, load, resume=True, on_start=lambda t: started.append(t.id),
            solve=simulated_solver(clock, np.random.default_rng(0), 1.0), clock=clock)
    assert started == [t.id for t in TASKS]


def test_time_a_fast_task_leaves_goes_to_the_tasks_after_it():
    tasks = [sized_task(f"t{i}", 5) for i in range(4)]
    clock = Clock()
    budget = Budget.for_tasks(400.0, tasks, clock=clock)
    first = budget.grant("t0")
    assert first == pytest.approx((400.0 - budget.margin) / 4)
    clock.now += 10.0  # far less than granted
    budget.finished("t0", first, 10.0)
    assert budget.grant("t1") == pytest.approx((390.0 - budget.margin) / 3)  # equal sizes: equal shares


def test_shares_follow_the_costs_learnt_from_finished_tasks():
    tasks = [sized_task("a", 2), sized_task("b", 20), sized_task("small", 3), sized_task("large", 25)]
    clock = Clock()
    budget = Budget.for_tasks(1000.0, tasks, clock=clock)
    assert budget.grant("small") == budget.grant("large")  # nothing learnt yet: alike
    for task_id, seconds in (("a", 10.0), ("b", 50.0)):  # cost grows with size here
        clock.now += seconds
        budget.finished(task_id, budget.grant(task_id), seconds)
    assert budget.grant("large") > 3 * budget.grant("small")
    a, b = budget.cost_model()
    assert a + b * task_size(tasks[1]) == pytest.approx(50.0)


def test_the_cost_fit_never_goes_negative_nor_extrapolates_from_similar_sizes():
    assert fit_cost([], []) == (1.0, 0.0)
    assert fit_cost([10.0, 10.0], [4.0, 6.0]) == (5.0, 0.0)
    assert fit_cost([130.0, 154.0], [14.0, 18.0]) == (16.0, 0.0)  # too alike to fit a slope
    a, b = fit_cost([10.0, 100.0], [20.0, 10.0])  # bigger was faster: a flat cost
    assert b == 0.0 and a == pytest.approx(15.0)
    assert fit_cost([10.0, 100.0], [0.0, 100.0]) == (50.0, 0.0)  # the line would cross zero
    a, b = fit_cost([100.0, 200.0, 400.0], [12.0, 14.0, 18.0])
    assert (a, b) == (pytest.approx(10.0), pytest.approx(0.02))


def test_nothing_is_granted_below_the_minimum():
    small = sized_task("s", 2)
    spent = Budget.for_tasks(100.0, [small], spent=100.0 - MIN_GRANT / 2, clock=Clock())
    assert spent.grant("s") == 0.0


def test_an_overrun_grows_the_margin_kept_back():
    tasks = [sized_task(f"t{i}", 5) for i in range(3)]
    budget = Budget.for_tasks(1000.0, tasks, clock=Clock())
    assert budget.margin == 20.0
    budget.finished("t0", 10.0, 45.0, 5.0)
    assert budget.margin == 35.0  # the overrun
    budget.finished("t1", 100.0, 90.0, 50.0)
    assert budget.margin == 50.0  # an inference longer than that: it cannot be cut


CONFIG = override(SolveConfig(), {"model.adapter": "", "train.steps": 3, "infer.views": 2, "train.colours": "none", "expert": "ttt"})
TASKS = [sized_task(f"t{i}", 2 + i) for i in range(3)]


def test_a_spent_budget_still_writes_attempts_for_every_task(tmp_path):
    out = tmp_path / "p.json"
    run_all(TASKS, override(CONFIG, {"budget": 0.01}), out, lambda: Runtime(CONFIG, tiny_loaded()))
    predictions = load_predictions(out)
    assert list(predictions) == [t.id for t in TASKS]
    assert all(predictions[t.id][0] == (t.test[0].input, t.test[0].input) for t in TASKS)
    records = [json.loads(line) for line in sidecar(out, "log.jsonl").read_text().splitlines()]
    assert all(r["status"] == "skipped" and r["skipped"] == "the run budget is spent" for r in records)


def test_a_budgeted_run_logs_each_grant_and_the_time_left(tmp_path):
    out = tmp_path / "p.json"
    run_all(TASKS, override(CONFIG, {"budget": 600.0}), out, lambda: Runtime(CONFIG, tiny_loaded()))
    records = [json.loads(line) for line in sidecar(out, "log.jsonl").read_text().splitlines()]
    assert all(r["granted"] > 0 and r["steps"] == 3 for r in records)
    left = [r["budget_left"] for r in records]
    assert left == sorted(left, reverse=True) and left[-1] < 600.0


def test_a_task_gets_its_grant_as_task_budget_and_training_keeps_the_inference_reserve():
    from arcttt.core.budget import Deadlines

    clock = Clock()
    clock.now = 100.0
    budget = Budget.for_tasks(100.0, TASKS, clock=clock)
    granted = budget.grant("t0")
    deadlines = budget.deadlines("t0", CONFIG)
    assert deadlines.granted == granted
    assert deadlines.task == 100.0 + granted and deadlines.train == pytest.approx(100.0 + granted * 2 / 3)
    tighter = budget.deadlines("t0", override(CONFIG, {"task_budget": 1.5, "train_budget": 0.5, "infer_budget": 0.2}))
    assert (tighter.task, tighter.train) == (101.5, 100.5)  # never raised
    assert tighter.inference(101.0) == pytest.approx(101.2) and tighter.inference(101.4) == 101.5
    plain = Deadlines.for_task(CONFIG, 5.0)
    assert (plain.task, plain.train, plain.inference(6.0), plain.granted) == (None, None, None, None)
    assert Deadlines.for_task(override(CONFIG, {"train_budget": 3.0, "task_budget": 2.0}), 5.0).train == 7.0


def test_a_resumed_run_counts_the_time_earlier_invocations_used(tmp_path):
    from arcttt.run.outputs import spent_seconds

    log = tmp_path / "p.log.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in (
        {"task_id": "a", "seconds": 10.0, "budget_left": 480.0},  # 20 s: the model load counts
        {"task_id": "b", "seconds": 30.0, "budget_left": 450.0})))
    assert spent_seconds(log, 500.0) == 50.0
    log.write_text(json.dumps({"task_id": "a", "seconds": 12.0}) + "\n")  # no budget then
    assert spent_seconds(log, 500.0) == 12.0
    assert spent_seconds(tmp_path / "missing.jsonl", 500.0) == 0.0


def test_a_budget_in_a_config_file_may_be_written_as_a_duration(tmp_path):
    from arcttt.core.config import load_config

    path = tmp_path / "c.toml"
    path.write_text('budget = "1h30m"\n')
    assert load_config(path).budget == 5400.0
    path.write_text('budget = "soon"\n')
    with pytest.raises(ArcError, match="not a duration"):
        load_config(path)


def test_inference_is_learnt_from_every_task_even_when_grants_cut_training():
    tasks = [sized_task(f"t{i}", 5) for i in range(3)]
    budget = Budget.for_tasks(300.0, tasks, clock=Clock())
    granted = budget.grant("t0")
    assert budget.reserve("t0", granted) == pytest.approx(granted / 3)  # nothing known yet
    budget.finished("t0", granted, granted, 4.0, cut=True)
    assert budget.reserve("t1", budget.grant("t1")) == pytest.approx(6.0)  # 1.5 x the 4 s seen
    assert budget.cost_model() == (pytest.approx(granted), 0.0)  # a cut task: at least what it was given
    budget.finished("t1", 50.0, 30.0, 4.0)
    assert budget.cost_model() == (30.0, 0.0)  # once one finishes uncut, only such tasks count


def test_a_stopped_task_beside_only_cut_ones_does_not_make_the_full_cost_look_cheap():
    tasks = [sized_task(f"t{i}", 5) for i in range(4)]
    clock = Clock()
    budget = Budget.for_tasks(400.0, tasks, clock=clock)
    budget.finished("t0", 10.0, 10.0, 2.0, cut=True)  # needed 10 s or more
    budget.finished("t1", 20.0, 20.0, cheap=True)  # stopped: 20 s
    # A full task is expected to take at least 10 s, the pending mix 15 s: the next one's share
    # is 10/25 of the time left, not 1/11 (the "every task alike" placeholder beside 20 s).
    assert budget.grant("t2") == pytest.approx((400.0 - budget.kept_back()) * 10 / 25)


def test_under_the_checked_policy_a_task_may_take_all_the_time_left():
    tasks = [sized_task(f"t{i}", 5) for i in range(4)]
    budget = Budget.for_tasks(400.0, tasks, clock=Clock())
    checked = override(CONFIG, {"policy": "checked"})
    assert budget.deadlines("t0", checked).granted == pytest.approx(400.0 - budget.kept_back())
    assert budget.deadlines("t0", CONFIG).granted == pytest.approx((400.0 - budget.kept_back()) / 4)


def test_time_a_stopped_task_gives_back_goes_to_the_task_that_trains():
    tasks = [sized_task(f"t{i}", 5) for i in range(6)]
    clock = Clock()
    budget = Budget.for_tasks(600.0, tasks, clock=clock)
    for task_id, seconds, cheap in (("t0", 100.0, False), ("t1", 10.0, True), ("t2", 10.0, True)):
        clock.now += seconds
        budget.finished(task_id, budget.grant(task_id), seconds, 0.0, cheap=cheap)
    # Two of three finished tasks ended cheap: each of the others counts as 2/3 x 10 + 1/3 x 100 = 40 s,
    # and the next one is granted in proportion to the 100 s it needs if it trains.
    assert budget.expected(task_size(tasks[3])) == pytest.approx(40.0)
    left = 600.0 - 120.0 - budget.margin
    assert budget.grant("t3") == pytest.approx(left * 100.0 / (100.0 + 2 * 40.0))
    # Without the stops learnt apart, every pending task would have counted alike.
    assert budget.grant("t3") > left / 3
