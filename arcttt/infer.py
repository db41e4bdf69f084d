"""Prediction under augmented views: each view transforms the whole task, the model answers,
the answer is mapped back through the view's inverse, and the candidates go to the vote.

Decoding is greedy with a KV cache and constrained to well-formed grids: only cells, row ends and
END can be produced, every row has the first row's width, at most 30 rows and 30 columns. So every
finished answer decodes to a grid, and decoding ends by itself (at most `MAX_ANSWER_TOKENS`).

All prompts of a task (views x test inputs) decode in one batch: each group of equal length is
prefilled without padding, then every row steps together; the task's LoRA is merged into a
working copy of the weights first.
"""

from __future__ import annotations

import torch
from torch import nn

from arcttt.augment import Transform
from arcttt.config import InferConfig
from arcttt.encode import END, MAX_ANSWER_TOKENS, NL, PAD, SYMBOLS, Encoded, decode_grid, encode, grid_length
from arcttt.grids import MAX_SIDE
from arcttt.tasks import Task
from arcttt.vote import Candidate


class GridConstraint:
    """Per-row grammar state, as tensors: which tokens keep each row's answer a rectangular grid."""

    def __init__(self, batch: int, device: torch.device | str = "cpu"):
        zeros = torch.zeros(batch, dtype=torch.long, device=device)
        self.rows, self.row_len, self.width = zeros.clone(), zeros.clone(), zeros.clone()
        self.done = torch.zeros(batch, dtype=torch.bool, device=device)

    def allowed(self) -> torch.Tensor:
        """[batch, vocabulary] True where a token may come next."""
        live, row_len, width = ~self.done, self.row_len, self.width
        starting = row_len == 0
        first_row = width == 0
        digits = live & torch.where(starting, self.rows < MAX_SIDE,
                                    torch.where(first_row, row_len < MAX_SIDE, row_len < width))
        newline = live & ~starting & (first_row | (row_len >= width))
        end = live & starting & (self.rows > 0)
        allowed = torch.zeros((len(live), len(SYMBOLS)), dtype=torch.bool, device=live.device)
        allowed[:, :10] = digits[:, None]
        allowed[:, NL] = newline
        allowed[:, END] = end
        allowed[:, PAD] = self.done
        return allowed

    def update(self, tokens: torch.Tensor) -> None:
        live = ~self.done
        newline = live & (tokens == NL)
        self.width = torch.where(newline & (self.width == 0), self.row_len, self.width)
        self.rows = self.rows + newline.long()
        self.row_len = torch.where(newline, 0, self.row_len + (live & (tokens < 10)).long())
        self.done = self.done | (live & (tokens == END))


@torch.inference_mode()
def decode(decoder, prompts: list[torch.Tensor], max_new_tokens: int = MAX_ANSWER_TOKENS) -> list[tuple[list[int], float]]:
    """Greedy answers (ids through END) of a batch of prompts, and their log-probabilities under
    the constraint; rows stop at END, the batch when every row has."""
    batch = len(prompts)
    logits = decoder.prefill(prompts, max_new_tokens)
    device = logits.device
    constraint = GridConstraint(batch, device)
    logprob = torch.zeros(batch, dtype=torch.float64, device=device)
    steps = []
    for step in range(max_new_tokens):
        live = ~constraint.done
        scores = logits.masked_fill(~constraint.allowed(), float("-inf")).log_softmax(-1)
        token = scores.argmax(-1)
        logprob += torch.where(live, scores.gather(1, token[:, None])[:, 0].double(), 0.0)
        constraint.update(token)
        steps.append(token)
        if bool(constraint.done.all()) or step == max_new_tokens - 1:
            break
        logits = decoder.step(token)
    tokens = torch.stack(steps, dim=1).tolist()
    answers = []
    for row, value in zip(tokens, logprob.tolist()):
        answers.append((row[:row.index(END) + 1] if END in row else row, value))
    return answers


def generate(lm: nn.Module, prompts: list[Encoded], device: torch.device, batch_size: int = 16,
             max_new_tokens: int = MAX_ANSWER_TOKENS, merged: bool = True) -> list[tuple[list[int], float]]:
    """Greedy constrained answers for prompts of any lengths, in the prompts' order.

    Up to `batch_size` prompts decode together, similar lengths in the same batch; the task's
    LoRA is merged into working weights once for all of them.
    """
    order = sorted(range(len(prompts)), key=lambda i: (len(prompts[i]), i))
    answers: list[tuple[list[int], float]] = [([], 0.0)] * len(prompts)
    decoder = lm.decoder(merged=merged)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        ids = [torch.tensor(prompts[i].ids, dtype=torch.long, device=device) for i in chunk]
        for i, answer in zip(chunk, decode(decoder, ids, max_new_tokens)):
            answers[i] = answer
    return answers


def answer_reserve(task: Task, test_index: int) -> int:
    """Tokens to keep free for the answer: the largest grid seen in the task, plus END."""
    grids = [e.output for e in task.train] + [e.input for e in task.train] + [task.test[test_index].input]
    return max(grid_length(g) for g in grids) + 1


def prompts_for(task: Task, views: tuple[Transform, ...], config: InferConfig) -> list[tuple[int, Transform, Encoded]]:
    """(test index, view, prompt) for every test input under every view whose prompt fits."""
    out = []
    for view in views:
        seen = view.apply_task(task)
        for i in range(len(task.test)):
            prompt = encode(seen.train, seen.test[i], max_tokens=config.max_tokens, with_answer=False,
                            reserve=answer_reserve(task, i))
            if prompt is not None:
                out.append((i, view, prompt))
    return out


def predict(lm: nn.Module, task: Task, prompts: list[tuple[int, Transform, Encoded]], config: InferConfig,
            device: torch.device) -> list[list[Candidate]]:
    """Per test input, one candidate per prompt whose answer is a grid, mapped back to the task's frame."""
    answers = generate(lm, [p for _, _, p in prompts], device, config.batch_size)
    candidates: list[list[Candidate]] = [[] for _ in task.test]
    for (i, view, _), (tokens, logprob) in zip(prompts, answers):
        grid = decode_grid(tokens)
        if grid is not None:
            candidates[i].append(Candidate(view.invert(grid), view.key, logprob))
    return candidates
