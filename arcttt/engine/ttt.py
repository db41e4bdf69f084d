"""Training a LoRA adapter: the one step loop (`run_steps`) that test-time training (`train`) runs
directly and stage 1 (`arcttt.run.pretrain`) wraps with chunks, checkpoints and resume.

A step trains on a batch of up to `batch_tokens` tokens (padding included): samples of similar
length share a batch, right-padded, so the per-op cost of a step is paid for thousands of tokens
instead of one sample's few hundred. AdamW steps under a linear warm-up then cosine decay to 0.

Losses stay on the device (`Losses`): the loop itself never reads one back, since each read is a
host sync that drains the accelerator's queue. A caller reads them when it needs them: TTT's
convergence check every `CHECK_EVERY` steps, stage 1's log every few steps, everyone at the end.

Batches are right-padded with the codec's padding id (`pad`): pads come after every token that
matters and are never targets, so no real position reads them.

In test-time training the LM (`arcttt.engine.lm.LeanLM`, or `arcttt.engine.hf.HfLM` for other
models) keeps one adapter for the whole run; before each task it goes back to the same fresh
initialisation (B = 0, so the model starts as the base model), and the base weights are never
written, so no task leaks into the next.
"""

from __future__ import annotations

import math
import time
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from arcttt.core.config import TrainConfig
from arcttt.core.formats import Encoded
from arcttt.core.outcome import TrainStats


def token_batches(lengths: list[int], batch_tokens: int, rng: np.random.Generator,
                  max_rows: int = 0) -> list[list[int]]:
    """One epoch of batches: every sample once, similar lengths together, rows x longest <= batch_tokens.

    A sample longer than `batch_tokens` gets a batch of its own. Ties in length are broken by a
    shuffle and the batches come in a random order, both from `rng`.
    """
    order = sorted(rng.permutation(len(lengths)).tolist(), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        # Sorted ascending, so the newest sample is the longest of its batch.
        if current and ((len(current) + 1) * lengths[i] > batch_tokens or (max_rows and len(current) >= max_rows)):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(samples: list[Encoded], device: torch.device, pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids right-padded with `pad` (the codec's) and the loss mask (True where a position is a target)."""
    width = max(len(s) for s in samples)
    ids = torch.full((len(samples), width), pad, dtype=torch.long)
    targets = torch.zeros((len(samples), width), dtype=torch.bool)
    for row, sample in enumerate(samples):
        ids[row, :len(sample)] = torch.tensor(sample.ids)
        targets[row, :len(sample)] = torch.tensor(sample.mask)
    return ids.to(device), targets.to(device)


def masked_loss(logits: torch.Tensor, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the target positions of the whole batch (position t predicts t + 1)."""
    logits = logits[:, :-1].float()
    labels = ids[:, 1:]
    weights = targets[:, 1:].float()
    losses = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none")
    return (losses * weights.reshape(-1)).sum() / weights.sum().clamp(min=1)


def epoch_steps(lengths: list[int], config: TrainConfig) -> int:
    """Batches in one pass over samples of these lengths."""
    return len(token_batches(lengths, config.batch_tokens, np.random.default_rng(0), config.max_batch_samples))


def total_steps(lengths: list[int], config: TrainConfig) -> int:
    if config.steps > 0:
        return config.steps
    return max(1, math.ceil(config.epochs * epoch_steps(lengths, config)))


@contextmanager
def evaluating(module: nn.Module):
    """Eval mode and no autograd inside; the previous mode after."""
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        module.train(was_training)


def mean_loss(lm: torch.nn.Module, samples: list[Encoded], batch_tokens: int, device: torch.device,
              pad: int) -> float | None:
    """Target-token-weighted mean loss of `lm` on `samples` (padded with `pad`), without training."""
    if not samples:
        return None
    total, weight = 0.0, 0
    with evaluating(lm):
        for batch in token_batches([len(s) for s in samples], batch_tokens, np.random.default_rng(0)):
            ids, targets = collate([samples[i] for i in batch], device, pad)
            count = int(targets[:, 1:].sum())
            total += float(masked_loss(lm(ids), ids, targets)) * count
            weight += count
    return total / max(weight, 1)


def make_optimizer(params: list[nn.Parameter], lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """AdamW, fused where this torch has a fused kernel for the device (CPU included), else foreach."""
    try:
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, foreach=True)


class Stepper:
    """One optimizer step from a loss: backward, clip the gradient norm to 1, AdamW, zero grads.

    In float16 the loss is scaled first (float16 gradients underflow unscaled) and a step whose
    gradients overflowed is skipped with a smaller scale; bfloat16 and float32 need neither.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, params: list[nn.Parameter], device: torch.device,
                 dtype: torch.dtype):
        self.optimizer, self.params = optimizer, params
        # A fresh scale per task, started low: at the default 65536 a task's first steps overflow
        # and are skipped while its short schedule runs on.
        self.scaler = torch.amp.GradScaler(device.type, init_scale=2.0**10, enabled=dtype == torch.float16)

    def __call__(self, loss: torch.Tensor) -> None:
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.params, 1.0, foreach=True)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)


class Losses:
    """Each step's loss, left on the device until read: one read is one host sync for every pending step."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.pending: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.values) + len(self.pending)

    def add(self, loss: torch.Tensor) -> None:
        self.pending.append(loss.detach())

    def read(self) -> list[float]:
        """Every step's loss so far, as floats."""
        if self.pending:
            self.values += torch.stack(self.pending).float().tolist()
            self.pending = []
        return self.values

    def recent_mean(self, count: int) -> float:
        """The mean loss of the last `count` steps."""
        if len(self.pending) >= count:
            return float(torch.stack(self.pending[-count:]).mean())
        return float(torch.tensor(self.read()[-count:]).mean())


def warmup_cosine(optimizer: torch.optim.Optimizer, warmup: float, steps: int,
                  done: int = 0) -> torch.optim.lr_scheduler.LRScheduler:
    """Linear warm-up over a `warmup` share of `steps`, then cosine decay to 0 at `steps`; moved on
    past the `done` steps already taken, so a resumed run gets the learning rate it stopped at."""
    from transformers import get_cosine_schedule_with_warmup

    schedule = get_cosine_schedule_with_warmup(optimizer, round(warmup * steps), steps)
    with warnings.catch_warnings():  # stepping the schedule without the optimizer is the point here
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(done):
            schedule.step()
    return schedule


AfterStep = Callable[[TrainStats, Losses], str]
"""Called after every step with the stats and losses so far; returns a reason to stop, or ""."""


def run_steps(lm: nn.Module, step: Stepper, schedule: torch.optim.lr_scheduler.LRScheduler,
              batches: Iterator[list[Encoded]], steps: int, device: torch.device, deadline: float | None = None,
              after_step: AfterStep | None = None, *, pad: int) -> TrainStats:
    """Train `lm` for `steps` steps, one batch from `batches` each (padded with `pad`, the codec's),
    and the stats of what it did.

    Training stops early once `time.monotonic()` passes `deadline` ("deadline"; it is looked at
    after each step, so at least one runs) or when `after_step` names a reason. No loss is read
    back inside the loop unless `after_step` asks; `stats.losses` holds them all at the end.
    """
    stats, losses = TrainStats(), Losses()
    start = time.monotonic()
    lm.train()
    try:
        while stats.steps < steps:
            batch = next(batches)
            ids, targets = collate(batch, device, pad)
            loss = masked_loss(lm(ids), ids, targets)
            step(loss)
            schedule.step()
            stats.steps += 1
            stats.samples += len(batch)
            stats.tokens += sum(len(s) for s in batch)
            losses.add(loss)
            if deadline is not None and time.monotonic() > deadline and stats.steps < steps:
                stats.stopped = "deadline"
            if after_step is not None:
                stats.stopped = after_step(stats, losses) or stats.stopped
            if stats.stopped:
                break
    finally:
        lm.eval()
        stats.losses = losses.read()
        stats.seconds = time.monotonic() - start
    return stats


def epochs(samples: list[Encoded], config: TrainConfig, rng: np.random.Generator) -> Iterator[list[Encoded]]:
    """Batches of `samples` without end: a fresh epoch of `token_batches` each time one runs out
    (drawn from `rng` only then, so a run of n steps consumes `rng` as n steps need)."""
    lengths = [len(s) for s in samples]
    while True:
        for batch in reversed(token_batches(lengths, config.batch_tokens, rng, config.max_batch_samples)):
            yield [samples[i] for i in batch]


CHECK_EVERY = 8
"""Steps between convergence checks (each reads the losses from the device once)."""


def train(lm: nn.Module, samples: list[Encoded], config: TrainConfig, rng: np.random.Generator,
          device: torch.device, deadline: float | None = None, converged: float | None = None, *,
          pad: int, after_step: AfterStep | None = None) -> TrainStats:
    """Train `lm`'s adapter on a task's `samples` (padded with `pad`, the codec's): token-budget
    batches, AdamW, warm-up then cosine decay.

    With `converged`, training ends early ("converged") once the mean loss of the last
    `CHECK_EVERY` steps is at most that; `after_step` may stop it for a reason of its own (a
    policy's checks). Gradient checkpointing is the LM's own setting (it is built with
    `config.gradient_checkpointing`)."""
    if not samples:
        return TrainStats()
    params = lm.trainable()
    step = Stepper(make_optimizer(params, config.lr, config.weight_decay), params, device, lm.dtype)
    n_steps = total_steps([len(s) for s in samples], config)
    schedule = warmup_cosine(step.optimizer, config.warmup, n_steps)

    def check(stats: TrainStats, losses: Losses) -> str:
        due = converged is not None and not stats.stopped and stats.steps % CHECK_EVERY == 0 and stats.steps < n_steps
        if due and losses.recent_mean(CHECK_EVERY) <= converged:
            return "converged"
        return after_step(stats, losses) if after_step is not None else ""

    return run_steps(lm, step, schedule, epochs(samples, config, rng), n_steps, device, deadline, check, pad=pad)
