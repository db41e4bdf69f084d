"""How much test-time training a task gets: the fixed recipe, or the adaptive policy.

Adaptive (`policy = "adaptive"`):
1. In-context first: the fresh adapter is the base (stage-1) model itself, so its mean loss on
   the task's own leave-one-out samples says how well the model already predicts the task from
   its demonstrations. At or below `icl_loss`, training is skipped.
2. Otherwise train for up to `max_rounds` x `train.steps` steps under one cosine schedule, and
   stop as soon as the last `ttt.CHECK_EVERY` steps' mean loss is at most `converged_loss`;
   tasks that converge early leave their time to the tasks after them (under `--budget`).

The decision is a dict for the task's log record. Both steps depend only on the seed and the
task, so the decisions are deterministic (a deadline can still cut training short).
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
from arcttt.engine.ttt import mean_loss, total_steps, train

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
