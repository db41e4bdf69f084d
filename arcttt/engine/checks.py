"""The held-out check: how well the adapter being trained reproduces the task's demonstrations.

Each checked demonstration is the query of its leave-one-out sample under the identity view (the
other demonstrations, in the task's order, are its context), written in the task's own format
(the codec the run decodes with). One forward pass over those samples gives the model's greedy
choice at every answer token, the true answer fed in (teacher forcing): the share of answer
tokens it gets right, and whether it gets all of them right. All of them right is exactly when
greedy decoding reproduces the demonstration (each step's input is then the true prefix), so the
check costs a forward pass, not a decode.

It is the signal the `checked` policy (`engine.policy`) reads while training: a task whose
adapter reproduces none of its own demonstrations is unlikely to get its test input right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from arcttt.core.formats import Codec, Encoded
from arcttt.core.tasks import Task


@dataclass(frozen=True)
class HeldOut:
    """What one check found: answer tokens right (cells and row ends, the end included), of all."""

    right: int = 0
    tokens: int = 0
    exact: int = 0
    """Demonstrations reproduced whole."""
    checked: int = 0
    """Demonstrations checked."""

    @property
    def accuracy(self) -> float:
        return self.right / self.tokens if self.tokens else 0.0

    def record(self) -> dict:
        """For the task's log record."""
        return {"accuracy": round(self.accuracy, 4), "exact": self.exact, "checked": self.checked}


def held_out_samples(task: Task, codec: Codec, max_tokens: int, count: int) -> list[Encoded]:
    """The first `count` demonstrations as the queries of their identity leave-one-out samples,
    the answer alone the target (no loss on the context's outputs). A demonstration whose sample
    does not fit `max_tokens` (even with context dropped) is left out."""
    demos = task.train
    samples = []
    for i, query in enumerate(demos[:count]):
        context = tuple(demos[:i]) + tuple(demos[i + 1:])
        encoded = codec.encode(context, query, max_tokens, demo_loss=False)
        if encoded is not None:
            samples.append(encoded)
    return samples


def held_out_check(lm: nn.Module, samples: list[Encoded], batch_tokens: int, device: torch.device,
                   pad: int) -> HeldOut:
    """Teacher-forced greedy accuracy of `lm` on `samples` (answer positions only), in eval mode."""
    from arcttt.engine.ttt import collate, evaluating, token_batches

    right = tokens = exact = 0
    with evaluating(lm):
        for batch in token_batches([len(s) for s in samples], batch_tokens, np.random.default_rng(0)):
            ids, targets = collate([samples[i] for i in batch], device, pad)
            chosen = lm(ids)[:, :-1].argmax(-1)
            wanted = targets[:, 1:]
            hits = (chosen == ids[:, 1:]) & wanted
            per_row, counts = hits.sum(1), wanted.sum(1)
            right += int(per_row.sum())
            tokens += int(counts.sum())
            exact += int(((per_row == counts) & (counts > 0)).sum())
    return HeldOut(right, tokens, exact, len(samples))
