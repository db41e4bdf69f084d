"""The checked policy: held-out checks while training, and the decisions they make."""

import json

import pytest

from arcttt.core.config import SolveConfig, override
from arcttt.core.encode import ARCTTT
from arcttt.core.schema import RelationError
from arcttt.engine.checks import HeldOut, held_out_check, held_out_samples
from arcttt.engine.infer import find_answers
from arcttt.engine.policy import verdict
from arcttt.engine.runtime import Runtime
from arcttt.run.loop import RunOptions, solve_all
from arcttt.run.pipeline import solve_task
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
    assert [c["step"] for c in decision["checks"]] == [0, 8]
    assert decision["checks"][-1]["exact"] == 0 and decision["checks"][-1]["accuracy"] < 0.99
    # No view was decoded: the attempts are the test input's fallback.
    assert outcome.candidates == 0 and outcome.attempts[0][0] == SWAP.test[0].input


def test_a_task_that_converges_trains_every_step_and_is_answered():
    cfg = config(give_up_below=0.5)
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg)
    decision = outcome.decision
    assert outcome.train.steps == 40 and decision["chose"] == "ttt" and decision["stopped"] == "all steps"
    assert [c["step"] for c in decision["checks"]] == [0, 8, 16, 24, 32, 40]
    assert decision["checks"][-1]["exact"] == decision["checks"][-1]["checked"] == 3
    assert outcome.candidates > 0 and outcome.attempts[0][0] == SWAP.test[0].output


def test_stop_fitted_ends_training_at_the_first_check_that_reproduces_every_demonstration():
    cfg = config(give_up_below=0.0, stop_fitted=True)
    outcome = solve_task(SWAP, Runtime(cfg, tiny_loaded()), cfg)
    last = outcome.decision["checks"][-1]
    assert outcome.train.stopped == "fitted" and outcome.train.steps == last["step"] < 40
    assert last["exact"] == last["checked"] and outcome.decision["infer"] is True and outcome.candidates > 0


def test_the_verdict_reads_exact_demonstrations_before_accuracy():
    cfg = config(give_up_below=0.9)
    assert verdict(HeldOut(right=5, tokens=10, exact=0, checked=2), cfg) == "hopeless"
    assert verdict(HeldOut(right=5, tokens=10, exact=1, checked=2), cfg) == ""
    assert verdict(HeldOut(right=19, tokens=20, exact=0, checked=2), cfg) == ""
    fitted = config(give_up_below=0.9, stop_fitted=True)
    assert verdict(HeldOut(right=20, tokens=20, exact=2, checked=2), fitted) == "fitted"
    assert verdict(HeldOut(right=5, tokens=10, exact=0, checked=2), config(give_up_below=0.0)) == ""


def test_held_out_samples_are_the_identity_leave_one_out_samples_in_the_tasks_own_format():
    samples = held_out_samples(OTHER, ARCTTT, 8192, 2)
    demos = OTHER.train
    assert samples == [ARCTTT.encode(demos[1:], demos[0], demo_loss=False),
                       ARCTTT.encode(demos[:1] + demos[2:], demos[1], demo_loss=False)]
    # Only the query's answer is a target: the loss mask ends the sequence.
    answer = len(ARCTTT.answer_ids(demos[0].output))
    assert sum(samples[0].mask) == answer and all(samples[0].mask[-answer:])


def test_a_check_that_finds_every_demonstration_exact_means_greedy_decoding_reproduces_them():
    cfg = config(give_up_below=0.0)
    runtime = Runtime(cfg, tiny_loaded())
    solve_task(SWAP, runtime, cfg)  # trains the adapter, which stays in place after the task
    samples = held_out_samples(SWAP, runtime.codec, 8192, 4)
    found = held_out_check(runtime.lm, samples, 512, runtime.device, runtime.codec.pad)
    assert found.exact == found.checked == 4 and found.accuracy == 1.0
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
        assert {"step", "accuracy", "exact", "checked", "loss", "seconds"} <= set(record["decision"]["checks"][-1])
        strip = [{k: v for k, v in c.items() if k != "seconds"} for c in record["decision"]["checks"]]
        assert strip == [{k: v for k, v in c.items() if k != "seconds"} for c in other["decision"]["checks"]]


def test_the_checked_knobs_are_refused_without_the_checked_policy():
    with pytest.raises(RelationError, match="policy"):
        override(SolveConfig(), {"give_up_below": 0.5})
    assert override(SolveConfig(), {"policy": "checked", "give_up_below": 0.5}).give_up_below == 0.5
