"""Prediction under augmented views: each view transforms the whole task, the model answers,
the answer is mapped back through the view's inverse, and the candidates go to the vote.

Decoding is greedy with a KV cache and constrained to well-formed grids: only cells, row ends and
END can be produced, every row has the first row's width, at most 30 rows and 30 columns. So every
finished answer decodes to a grid.
"""

from __future__ import annotations

import torch
from torch import nn

from arcttt.augment import Transform
from arcttt.config import InferConfig
from arcttt.encode import END, MAX_ANSWER_TOKENS, NL, PAD, Encoded, decode_grid, encode, grid_length
from arcttt.grids import MAX_SIDE
from arcttt.tasks import Task
from arcttt.vote import Candidate

DIGITS = list(range(10))


class GridConstraint:
    """A logits processor that allows only the tokens that keep the answer a rectangular grid."""

    def __init__(self, prompt_length: int, batch: int):
        self.prompt_length = prompt_length
        self.rows = [0] * batch
        self.row_len = [0] * batch
        self.width = [0] * batch
        self.done = [False] * batch

    def _update(self, b: int, token: int) -> None:
        if self.done[b]:
            return
        if token == END:
            self.done[b] = True
        elif token == NL:
            self.width[b] = self.width[b] or self.row_len[b]
            self.rows[b] += 1
            self.row_len[b] = 0
        else:
            self.row_len[b] += 1

    def allowed(self, b: int) -> list[int]:
        if self.done[b]:
            return [PAD]
        if self.row_len[b] == 0:
            if self.rows[b] == 0:
                return DIGITS
            return [END] if self.rows[b] >= MAX_SIDE else DIGITS + [END]
        if self.width[b] == 0:
            return DIGITS + [NL] if self.row_len[b] < MAX_SIDE else [NL]
        return DIGITS if self.row_len[b] < self.width[b] else [NL]

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[1] > self.prompt_length:
            for b, token in enumerate(input_ids[:, -1].tolist()):
                self._update(b, token)
        mask = torch.full_like(scores, float("-inf"))
        for b in range(scores.shape[0]):
            mask[b, self.allowed(b)] = 0.0
        return scores + mask


def left_pad(prompts: list[Encoded], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), PAD, dtype=torch.long)
    attention = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt):] = torch.tensor(prompt.ids)
        attention[row, width - len(prompt):] = 1
    return ids.to(device), attention.to(device)


@torch.no_grad()
def generate(model: nn.Module, prompts: list[Encoded], device: torch.device,
             max_new_tokens: int = MAX_ANSWER_TOKENS) -> list[tuple[list[int], float]]:
    """Greedy answers (ids through END) and their log-probabilities under the constraint."""
    from transformers import LogitsProcessorList

    ids, attention = left_pad(prompts, device)
    constraint = GridConstraint(ids.shape[1], len(prompts))
    out = model.generate(
        input_ids=ids, attention_mask=attention, max_new_tokens=max_new_tokens, do_sample=False,
        logits_processor=LogitsProcessorList([constraint]), eos_token_id=END, pad_token_id=PAD,
        output_scores=True, return_dict_in_generate=True)
    new = out.sequences[:, ids.shape[1]:]
    answers = []
    for b in range(len(prompts)):
        tokens, logprob = [], 0.0
        for step, token in enumerate(new[b].tolist()):
            logprob += float(torch.log_softmax(out.scores[step][b].float(), -1)[token])
            tokens.append(token)
            if token == END:
                break
        answers.append((tokens, logprob))
    return answers


def answer_reserve(task: Task, test_index: int) -> int:
    """Tokens to keep free for the answer: the largest grid seen in the task, plus END."""
    grids = [e.output for e in task.train] + [e.input for e in task.train] + [task.test[test_index].input]
    return max(grid_length(g) for g in grids) + 1


def predict(model: nn.Module, task: Task, test_index: int, views: tuple[Transform, ...], config: InferConfig,
            device: torch.device) -> list[Candidate]:
    """One candidate per view whose answer is a grid, already mapped back to the task's frame."""
    reserve = answer_reserve(task, test_index)
    prompts: list[tuple[Transform, Encoded]] = []
    for view in views:
        seen = view.apply_task(task)
        prompt = encode(seen.train, seen.test[test_index], max_tokens=config.max_tokens, with_answer=False,
                        reserve=reserve)
        if prompt is not None:
            prompts.append((view, prompt))
    # Decode similar lengths together: less padding, less wasted compute.
    prompts.sort(key=lambda vp: len(vp[1]))
    candidates = []
    for start in range(0, len(prompts), config.batch_size):
        chunk = prompts[start:start + config.batch_size]
        answers = generate(model, [p for _, p in chunk], device, max_new_tokens=min(MAX_ANSWER_TOKENS, reserve * 2))
        for (view, _), (tokens, logprob) in zip(chunk, answers):
            grid = decode_grid(tokens)
            if grid is not None:
                candidates.append(Candidate(view.invert(grid), view.key, logprob))
    return candidates
