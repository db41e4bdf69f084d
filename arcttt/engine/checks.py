"""The held-out check: how well the adapter being trained reproduces the task's demonstrations.

Each checked demonstration is the query of its leave-one-out sample under the identity view (the
other demonstrations, in the task's order, are its context), written in the task's own format
(the codec the run decodes with). One forward pass over those samples gives the model's greedy
choice at every answer token, the true answer fed in (teacher forcing): the share of answer
tokens it gets right, and whether it gets all of them right. All of them right is exactly when
greedy decoding reproduces the demonstration (each step's input is then the true prefix), so the
check costs a forward pass, not a decode.

It is the signal the `checked` policy (`engine.policy`) reads while training: a task whose
adapter reproduces none of its own demonstrations is unlikely to get its test input right. The
share it reads is that of the answer tokens copying the input would get wrong ("changed"): most
of an ARC output is often its input again, row ends included, and the plain token accuracy of a
model that only copies is high (on ARC-AGI-1 training tasks it told solved from unsolved worse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from arcttt.core.formats import Codec, Encoded
from arcttt.core.tasks import Task
from arcttt.engine.ttt import collate, evaluating, token_batches


@dataclass(frozen=True)
class HeldOut:
    """What one check found over the checked demonstrations' answer tokens (cells, row ends, the end)."""

    right: int = 0
    tokens: int = 0
    exact: int = 0
    """Demonstrations reproduced whole."""
    checked: int = 0
    """Demonstrations checked."""
    changed_right: int = 0
    changed: int = 0
    """Answer tokens that copying the demonstration's input would get wrong (all of them where the
    output's shape differs): the part of the answer the task is about."""
    loss: float = 0.0
    """Mean cross-entropy per answer token."""

    @property
    def accuracy(self) -> float:
        return self.right / self.tokens if self.tokens else 0.0

    @property
    def changed_accuracy(self) -> float:
        return self.changed_right / self.changed if self.changed else 1.0

    def record(self) -> dict:
        """For the task's log record."""
        return {"accuracy": round(self.accuracy, 4), "changed": round(self.changed_accuracy, 4),
                "exact": self.exact, "checked": self.checked, "held_out_loss": round(self.loss, 4)}


@dataclass(frozen=True)
class Probe:
    """One checked demonstration: its identity leave-one-out sample (the answer is its tail), and
    per answer token whether copying the input would get it wrong."""

    sample: Encoded
    changed: tuple[bool, ...]


def held_out_samples(task: Task, codec: Codec, max_tokens: int, count: int) -> list[Probe]:
    """The first `count` demonstrations as the queries of their identity leave-one-out samples,
    the answer alone the target (no loss on the context's outputs). A demonstration whose sample
    does not fit `max_tokens` (even with context dropped) is left out."""
    demos = task.train
    probes = []
    for i, query in enumerate(demos[:count]):
        context = tuple(demos[:i]) + tuple(demos[i + 1:])
        encoded = codec.encode(context, query, max_tokens, demo_loss=False)
        if encoded is None:
            continue
        answer, copied = codec.answer_ids(query.output), codec.answer_ids(query.input)
        changed = (tuple(a != c for a, c in zip(answer, copied)) if len(answer) == len(copied)
                   else (True,) * len(answer))
        probes.append(Probe(encoded, changed))
    return probes


def held_out_check(lm: nn.Module, probes: list[Probe], batch_tokens: int, device: torch.device,
                   pad: int) -> HeldOut:
    """Teacher-forced greedy accuracy and loss of `lm` on the probes' answers, in eval mode."""
    right = tokens = exact = changed_right = changed = 0
    loss = 0.0
    with evaluating(lm):
        for batch in token_batches([len(p.sample) for p in probes], batch_tokens, np.random.default_rng(0)):
            ids, targets = collate([probes[i].sample for i in batch], device, pad)
            logits = lm(ids)[:, :-1].float()
            wanted, truth = targets[:, 1:], ids[:, 1:]
            hits = (logits.argmax(-1) == truth) & wanted
            per_row, counts = hits.sum(1), wanted.sum(1)
            right += int(per_row.sum())
            tokens += int(counts.sum())
            exact += int(((per_row == counts) & (counts > 0)).sum())
            losses = nn.functional.cross_entropy(logits.transpose(1, 2), truth, reduction="none")
            loss += float((losses * wanted).sum())
            on_host = hits.cpu()  # one transfer a batch, not one a row
            for row, i in enumerate(batch):  # the answer is the tail: predicted from one position before
                probe = probes[i]
                end = len(probe.sample) - 1
                tail = on_host[row, end - len(probe.changed):end]
                mask = torch.tensor(probe.changed, dtype=torch.bool)
                changed_right += int(tail[mask].sum())
                changed += int(mask.sum())
    return HeldOut(right, tokens, exact, len(probes), changed_right, changed, loss / max(tokens, 1))
