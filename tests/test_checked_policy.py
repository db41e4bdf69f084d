"""The checked policy: held-out checks while training, and the decisions they make."""

import json
import time

import pytest

from arcttt.core.budget import Deadlines
from arcttt.core.config import SolveConfig, override
from arcttt.core.encode import ARCTTT
from arcttt.core.schema import RelationError
from arcttt.core.tasks import Example, Task
from arcttt.engine.checks import HeldOut, held_out_check, held_out_samples
from arcttt.engine.infer import find_answers
from arcttt.engine.policy import verdict
from arcttt.engine.runtime import Runtime
from arcttt.core.outcome import Outcome, TrainStats
from arcttt.run.loop import RunOptions, solve_all, stop_savings
from arcttt.run.pipeline import solve_task
from arcttt.run.progress import describe
from arcttt.testing import tiny_loaded
from test_ttt import OTHER, SWAP


def config(**changes):
    """The checked policy on the tiny model: 40 steps, checks every 8."""
    return override(SolveConfig(), {"expert": "ttt", "model.adapter": "", "policy": "checked", "train.steps": 40,
                                    "train.lr": 3e-3, "train.warmup": 0.0, "train.colours": "none",
                                    "train.max_batch_samples": 1, "infer.views": 2, "check_every": 8, **changes})


def test_a_task_whose_loss_never_falls_stops_at_the_first_check_and_skips_inference():
    cfg = config(**{"train.lr": 1e-12, "give_up_below": 0.99})
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg)
    decision = outcome.decision
    assert outcome.train.steps == 8 and outcome.train.stopped == "hopeless"
    assert decision["chose"] == "stopped" and decision["infer"] is False
    assert [c["step"] for c in decision["checks"]] == [8]  # none before training without check_first
    assert decision["checks"][-1]["exact"] == 0 and decision["checks"][-1]["accuracy"] < 0.99
    # No view was decoded: the attempts are the test input's fallback.
    assert outcome.candidates == 0 and outcome.attempts[0][0] == SWAP.test[0].input
    assert "stopped: hopeless" in describe(outcome) and "whole at step 8, no inference" in describe(outcome)


def test_a_task_that_converges_trains_every_step_and_is_answered():
    cfg = config(give_up_below=0.5, check_first=True)
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg)
    decision = outcome.decision
    assert outcome.train.steps == 40 and decision["chose"] == "ttt" and decision["stopped"] == "all steps"
    assert [c["step"] for c in decision["checks"]] == [0, 8, 16, 24, 32, 40]  # step 0: check_first
    assert decision["checks"][-1]["exact"] == decision["checks"][-1]["checked"] == 3
    assert outcome.candidates > 0 and outcome.attempts[0][0] == SWAP.test[0].output


@pytest.mark.parametrize("give_up_below, infers", [(0.99, False), (0.0, True)])
def test_a_task_a_deadline_cuts_is_checked_where_it_stopped_and_skips_a_hopeless_inference(give_up_below, infers):
    # A training deadline already past: one step runs (the deadline is read after each), then the check.
    cfg = config(**{"train.lr": 1e-12, "give_up_below": give_up_below})
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg, Deadlines(train=time.monotonic() - 1.0))
    decision = outcome.decision
    assert outcome.train.steps == 1 and outcome.train.stopped == "deadline"
    assert [c["step"] for c in decision["checks"]] == [1]
    assert decision["infer"] is infers and decision["chose"] == ("ttt" if infers else "stopped")
    assert (outcome.candidates > 0) is infers


def test_stop_fitted_ends_training_at_the_first_check_that_reproduces_every_demonstration():
    cfg = config(give_up_below=0.0, stop_fitted=True)
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg)
    last = outcome.decision["checks"][-1]
    assert outcome.train.stopped == "fitted" and outcome.train.steps == last["step"] < 40
    assert last["exact"] == last["checked"] and outcome.decision["infer"] is True and outcome.candidates > 0


def test_the_verdict_reads_whole_demonstrations_then_the_changed_tokens_then_the_prior():
    cfg = config(give_up_below=0.7)
    weak = HeldOut(right=9, tokens=10, exact=0, checked=2, changed_right=1, changed=4)  # 90% of tokens, 25% changed
    assert verdict(weak, cfg) == "hopeless"
    assert verdict(HeldOut(right=9, tokens=10, exact=1, checked=2, changed_right=1, changed=4), cfg) == ""
    strong = HeldOut(right=9, tokens=10, exact=0, checked=2, changed_right=3, changed=4)
    assert verdict(strong, cfg) == ""
    assert verdict(strong, cfg, promising=False) == "hopeless"  # the prior asks for a demonstration whole
    assert verdict(HeldOut(right=9, tokens=10, exact=1, checked=2, changed_right=3, changed=4), cfg, False) == ""
    fitted = config(give_up_below=0.7, stop_fitted=True)
    assert verdict(HeldOut(right=20, tokens=20, exact=2, checked=2, changed_right=4, changed=4), fitted) == "fitted"
    assert verdict(weak, config(give_up_below=0.0)) == ""


def test_a_task_whose_samples_are_long_goes_on_only_with_a_demonstration_whole():
    cfg = config(give_up_below=0.0, prior_tokens=1)  # every sample is longer than a token
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg)
    assert outcome.decision["prior"] == "unpromising" and outcome.decision["sample_tokens"] > 1
    first = next(c for c in outcome.decision["checks"] if c["step"] > 0)
    assert (outcome.decision["chose"] == "stopped") == (first["exact"] == 0)


def test_held_out_samples_are_the_identity_leave_one_out_samples_in_the_tasks_own_format():
    probes = held_out_samples(OTHER, ARCTTT, 8192, 2)
    demos = OTHER.train
    assert [p.sample for p in probes] == [ARCTTT.encode(demos[1:], demos[0], demo_loss=False),
                                          ARCTTT.encode(demos[:1] + demos[2:], demos[1], demo_loss=False)]
    # Only the query's answer is a target: the loss mask ends the sequence.
    answer = len(ARCTTT.answer_ids(demos[0].output))
    assert sum(probes[0].sample.mask) == answer and all(probes[0].sample.mask[-answer:])
    # (3,) -> (3, 3): another shape, so every answer token is one copying the input gets wrong.
    assert probes[0].changed == (True,) * answer


def test_changed_tokens_are_those_copying_the_input_gets_wrong():
    task = Task("recolour", (Example(((1, 2), (2, 2)), ((1, 5), (5, 5))), Example(((2, 1),), ((5, 1),))),
                (Example(((1,),), ((1,),)),))
    probes = held_out_samples(task, ARCTTT, 8192, 2)
    # Rows "15\n55\n" then the end: the 5s are changed; 1, the row ends and the end are copied.
    assert probes[0].changed == (False, True, False, True, True, False, False)
    assert probes[1].changed == (True, False, False, False)


def test_a_check_that_finds_every_demonstration_exact_means_greedy_decoding_reproduces_them():
    cfg = config(give_up_below=0.0)
    runtime = Runtime(cfg, tiny_loaded())
    solve_task(SWAP, runtime, cfg)  # trains the adapter, which stays in place after the task
    samples = held_out_samples(SWAP, runtime.codec, 8192, 4)
    found = held_out_check(runtime.lm, samples, 512, runtime.device, runtime.codec.pad)
    assert found.exact == found.checked == 4 and found.accuracy == found.changed_accuracy == 1.0
    prompts = [runtime.codec.encode(tuple(d for j, d in enumerate(SWAP.train) if j != i), demo, with_answer=False)
               for i, demo in enumerate(SWAP.train)]
    answers = find_answers(runtime.lm, prompts, runtime.device)
    assert [runtime.codec.parse(a[0][0]) for a in answers.answers] == [d.output for d in SWAP.train]


def test_decisions_and_their_signals_are_logged_and_the_same_seed_gives_the_same_run(tmp_path):
    cfg = config(**{"train.lr": 1e-12, "give_up_below": 0.99})
    logs = []
    for name in ("a", "b"):
        out = tmp_path / name / "predictions.json"
        predictions = solve_all([SWAP, OTHER], cfg, RunOptions(out), lambda: Runtime(cfg, tiny_loaded()))
        records = [json.loads(line) for line in (tmp_path / name / "predictions.log.jsonl").read_text().splitlines()]
        logs.append((predictions, records))
    (first, records), (second, again) = logs
    assert first == second
    for record, other in zip(records, again):
        assert record["decision"]["chose"] == "stopped" and record["decision"]["checks"][-1]["step"] == 8
        assert {"step", "accuracy", "changed", "exact", "checked", "held_out_loss", "loss", "seconds"} == set(
            record["decision"]["checks"][-1])
        strip = [{k: v for k, v in c.items() if k != "seconds"} for c in record["decision"]["checks"]]
        assert strip == [{k: v for k, v in c.items() if k != "seconds"} for c in other["decision"]["checks"]]


def test_the_checked_knobs_are_refused_without_the_checked_policy():
    with pytest.raises(RelationError, match="policy"):
        override(SolveConfig(), {"give_up_below": 0.5})
    assert override(SolveConfig(), {"policy": "checked", "give_up_below": 0.5}).give_up_below == 0.5


def test_a_stop_saves_the_steps_left_at_the_tasks_pace_and_the_inference_others_took():
    outcome = Outcome("t", (), 5.0, train=TrainStats(steps=8, seconds=4.0), decision={"chose": "stopped", "of": 32})
    assert stop_savings(outcome, [3.0, 5.0]) == 0.5 * 24 + 4.0
    assert stop_savings(outcome, []) is None  # no inference measured yet: no estimate
