"""How much test-time training a task gets: the fixed recipe, the adaptive policy, or the checked one.

Adaptive (`policy = "adaptive"`):
1. In-context first: the fresh adapter is the base (stage-1) model itself, so its mean loss on
   the task's own leave-one-out samples says how well the model already predicts the task from
   its demonstrations. At or below `icl_loss`, training is skipped.
2. Otherwise train for up to `max_rounds` x `train.steps` steps under one cosine schedule, and
   stop as soon as the last `ttt.CHECK_EVERY` steps' mean loss is at most `converged_loss`;
   tasks that converge early leave their time to the tasks after them (under `--budget`).

Checked (`policy = "checked"`): train as the fixed recipe does, and every `check_every` steps
(and once more at the end) run the held-out check (`engine.checks`): how much of the task's own
demonstrations the adapter reproduces, teacher-forced: the share of the answer tokens that copying
the input would get wrong which it gets right ("changed"), and how many demonstrations it gets
whole. From step `check_every` on, a task with none whole and "changed" below `give_up_below`
stops ("hopeless"): no more training and no inference (the costly views), so its time goes to the
tasks after it. The prior comes first: a task whose training samples average more than
`prior_tokens` tokens, which 32 steps on a CPU have not been seen to solve, goes on only while a
check finds a demonstration whole. With `stop_fitted`, a task that reproduces every checked
demonstration whole stops training there and goes on to inference. The thresholds were fitted
on ARC-AGI-1 training tasks by `scripts/fit_ttt_policy.py`. With `check_first` a check before
training (step 0) is logged for the fit; it never decides. A task whose deadline (a grant of
the run budget) cuts its training short is checked where it stopped, and a hopeless verdict
there skips its inference too, so the time goes to the tasks after it.

The decision is a dict for the task's log record. Both policies' steps depend only on the seed and
the task, so the decisions are deterministic (a deadline can still cut training short).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from arcttt.core.config import SolveConfig
from arcttt.core.formats import Encoded
from arcttt.core.outcome import TrainStats
from arcttt.engine.checks import HeldOut, Probe, held_out_check
from arcttt.engine.ttt import Losses, mean_loss, total_steps, train

PROBE_SAMPLES = 16
"""Leave-one-out samples the in-context probe scores (a forward pass, no training)."""


def adaptive_train(lm: nn.Module, own: list[Encoded], extra: list[Encoded], config: SolveConfig,
                   rng: np.random.Generator, device: torch.device,
                   deadline: float | None = None, *, pad: int) -> tuple[TrainStats, dict]:
    """Train `lm` on the task's own samples (and `extra` ones, e.g. neighbours'; all padded with
    `pad`, the codec's) as the adaptive policy decides; the stats and the decision."""
    decision: dict = {"policy": "adaptive"}
    if not own or (deadline is not None and time.monotonic() > deadline):
        decision["chose"] = "no training" if own else "no time to train"
        return TrainStats(), decision
    probe = [own[i] for i in sorted(rng.permutation(len(own))[:PROBE_SAMPLES])]
    before = mean_loss(lm, probe, config.train.batch_tokens, device, pad)
    decision["probe_loss"] = round(before, 4)
    if before <= config.icl_loss:
        decision["chose"] = "in-context"
        return TrainStats(), decision
    samples = own + extra
    steps = config.max_rounds * total_steps([len(s) for s in samples], config.train)
    stats = train(lm, samples, replace(config.train, steps=steps), rng, device, deadline,
                  converged=config.converged_loss, pad=pad)
    decision.update(chose="ttt", steps=stats.steps, stopped=stats.stopped or "all steps")
    return stats, decision


def verdict(held_out: HeldOut, config: SolveConfig, promising: bool = True) -> str:
    """What the checked policy makes of one check: "hopeless", "fitted" (with `stop_fitted`), or "".
    A task the prior finds unpromising is hopeless unless a demonstration is reproduced whole."""
    if held_out.exact == 0 and (not promising or held_out.changed_accuracy < config.give_up_below):
        return "hopeless"
    if config.stop_fitted and held_out.checked and held_out.exact == held_out.checked:
        return "fitted"
    return ""


def checked_train(lm: nn.Module, samples: list[Encoded], held_out: list[Probe], config: SolveConfig,
                  rng: np.random.Generator, device: torch.device, deadline: float | None = None, *,
                  pad: int) -> tuple[TrainStats, dict]:
    """Train `lm` on `samples` as the checked policy decides, checking the `held_out` probes (the
    identity leave-one-out samples, `engine.checks.held_out_samples`); the stats and the decision,
    whose "infer" says whether the model's inference is worth running."""
    decision: dict = {"policy": "checked", "checks": [], "infer": True}
    n_steps = total_steps([len(s) for s in samples], config.train)
    sample_tokens = sum(len(s) for s in samples) / max(len(samples), 1)
    promising = sample_tokens <= config.prior_tokens
    decision.update(sample_tokens=round(sample_tokens, 1), prior="promising" if promising else "unpromising")

    def check(step: int, losses: Losses | None) -> HeldOut:
        began = time.monotonic()
        result = held_out_check(lm, held_out, config.train.batch_tokens, device, pad)
        loss = losses.recent_mean(min(config.check_every, len(losses))) if losses is not None and len(losses) else None
        decision["checks"].append({"step": step, **result.record(), "loss": None if loss is None else round(loss, 4),
                                   "seconds": round(time.monotonic() - began, 2)})
        return result

    def after_step(stats: TrainStats, losses: Losses) -> str:
        if not held_out or (stats.steps % config.check_every and stats.steps < n_steps):
            return ""
        found = verdict(check(stats.steps, losses), config, promising)
        if found == "hopeless":
            decision["infer"] = False
        if found == "hopeless" or (found == "fitted" and stats.steps < n_steps):
            return found
        return ""

    if not samples:
        decision["chose"] = "no training"
        return TrainStats(), decision
    if held_out and config.check_first:
        check(0, None)
    stats = train(lm, samples, config.train, rng, device, deadline, pad=pad, after_step=after_step)
    checked_last = decision["checks"] and decision["checks"][-1]["step"] == stats.steps
    if held_out and stats.stopped == "deadline" and stats.steps and not checked_last:
        # Cut short (a grant of the run budget): a check says whether inference is still worth it.
        if verdict(check(stats.steps, None), config, promising) == "hopeless":
            decision["infer"] = False
    decision.update(chose="ttt" if decision["infer"] else "stopped", steps=stats.steps, of=n_steps,
                    stopped=stats.stopped or "all steps")
    return stats, decision
