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
from arcttt.encode import END, MAX_ANSWER_TOKENS, NL, PAD, SYMBOLS, Encoded, decode_grid, encode, grid_ids, grid_length
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

    def update(self, tokens: torch.Tensor, where: torch.Tensor | None = None) -> None:
        """Advance each row by its token (only the rows `where` is True, if given)."""
        live = ~self.done if where is None else ~self.done & where
        newline = live & (tokens == NL)
        self.width = torch.where(newline & (self.width == 0), self.row_len, self.width)
        self.rows = self.rows + newline.long()
        self.row_len = torch.where(newline, 0, self.row_len + (live & (tokens < 10)).long())
        self.done = self.done | (live & (tokens == END))


def guess(draft: list[int], rows: int, row_len: int, width: int, count: int) -> list[int]:
    """The next `count` tokens if the answer copies `draft` (a grid's ids) cell for cell from
    where it is now (row `rows`, column `row_len`); END once the draft grid is used up."""
    start = rows * (width + 1) + row_len if width else row_len
    out = draft[start:start + count]
    return out + [END] * (count - len(out))


@torch.inference_mode()
def decode(decoder, prompts: list[torch.Tensor], max_new_tokens: int = MAX_ANSWER_TOKENS,
           drafts: list[list[int]] | None = None, speculate: int = 1) -> list[tuple[list[int], float]]:
    """Greedy answers (ids through END) of a batch of prompts, and their log-probabilities under
    the grid constraint; rows stop at END, the batch when every row has.

    With `drafts` (per row, a grid the answer may copy: the view's test input) and `speculate`
    k > 1, a step feeds the sure next token plus k - 1 guessed ones, and keeps each row's guesses
    up to the first one greedy decoding would not have chosen: the same answers in fewer steps
    when the answer resembles its draft (on a CPU a step of k tokens costs little more than one).
    """
    batch = len(prompts)
    speculate = speculate if drafts is not None and hasattr(decoder, "accept") else 1
    # Holes left by rejected guesses take slots: reserve some, and stop guessing when they run out.
    room = max_new_tokens + (speculate - 1) * 64
    logits = decoder.prefill(prompts, room)
    device = logits.device
    constraint = GridConstraint(batch, device)
    logprob = torch.zeros(batch, dtype=torch.float64, device=device)
    answers: list[list[int]] = [[] for _ in range(batch)]
    count = torch.zeros(batch, dtype=torch.long, device=device)  # tokens emitted per row
    k, rest = speculate, 0  # guesses per step; plain steps left before guessing again
    while True:
        live = ~constraint.done & (count < max_new_tokens)
        if not bool(live.any()):
            break
        scores = logits.masked_fill(~constraint.allowed(), float("-inf")).log_softmax(-1)
        token = scores.argmax(-1)
        logprob += torch.where(live, scores.gather(1, token[:, None])[:, 0].double(), 0.0)
        constraint.update(token, where=live)
        count += live.long()
        for row in torch.nonzero(live).flatten().tolist():
            answers[row].append(int(token[row]))
        going = ~constraint.done & (count < max_new_tokens)
        if not bool(going.any()):
            break
        emitted = int(count[going].min())
        if k > 1 and decoder.slot + k + (max_new_tokens - emitted) > decoder.slot_positions.shape[1]:
            k, speculate = 1, 1  # out of room for holes: plain greedy from here
        if k == 1:
            logits = decoder.step(token)
            rest = max(0, rest - 1)
            k = speculate if rest == 0 else 1
            continue
        state = zip(constraint.rows.tolist(), constraint.row_len.tolist(), constraint.width.tolist())
        guesses = torch.tensor([guess(drafts[r], *st, k - 1) for r, st in enumerate(state)], device=device)
        all_logits = decoder.step(torch.cat([token[:, None], guesses], dim=1))  # [batch, k, vocabulary]
        kept = torch.ones(batch, dtype=torch.long, device=device)
        chain = going.clone()
        for j in range(k - 1):
            scores = all_logits[:, j].masked_fill(~constraint.allowed(), float("-inf")).log_softmax(-1)
            ok = chain & (scores.argmax(-1) == guesses[:, j])
            if not bool(ok.any()):
                break
            logprob += torch.where(ok, scores.gather(1, guesses[:, j:j + 1])[:, 0].double(), 0.0)
            constraint.update(guesses[:, j], where=ok)
            count += ok.long()
            for row in torch.nonzero(ok).flatten().tolist():
                answers[row].append(int(guesses[row, j]))
            kept += ok.long()
            chain &= ok & ~constraint.done & (count < max_new_tokens)
        decoder.accept(kept)
        logits = all_logits[torch.arange(batch, device=device), kept - 1]
        # Guesses that mostly fail cost more than they save: a few plain steps, then try again.
        if float(kept[going].float().mean()) <= 1.5:
            k, rest = 1, 4
    return [(row[:row.index(END) + 1] if END in row else row, value) for row, value in zip(answers, logprob.tolist())]


def generate(lm: nn.Module, prompts: list[Encoded], device: torch.device, batch_size: int = 16,
             max_new_tokens: int = MAX_ANSWER_TOKENS, merged: bool = True, drafts: list[list[int]] | None = None,
             speculate: int = 1) -> list[tuple[list[int], float]]:
    """Greedy constrained answers for prompts of any lengths, in the prompts' order.

    Up to `batch_size` prompts decode together, similar lengths in the same batch; the task's
    LoRA is merged into working weights once for all of them. `drafts` and `speculate`: see `decode`.
    """
    order = sorted(range(len(prompts)), key=lambda i: (len(prompts[i]), i))
    answers: list[tuple[list[int], float]] = [([], 0.0)] * len(prompts)
    decoder = lm.decoder(merged=merged)
    for start in range(0, len(order), batch_size):
        chunk = order[start:start + batch_size]
        ids = [torch.tensor(prompts[i].ids, dtype=torch.long, device=device) for i in chunk]
        guesses = [drafts[i] for i in chunk] if drafts is not None else None
        for i, answer in zip(chunk, decode(decoder, ids, max_new_tokens, guesses, speculate)):
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
    drafts = [grid_ids(view.apply(task.test[i].input)) for i, view, _ in prompts]
    answers = generate(lm, [p for _, _, p in prompts], device, config.batch_size, drafts=drafts,
                       speculate=config.speculate)
    candidates: list[list[Candidate]] = [[] for _ in task.test]
    for (i, view, _), (tokens, logprob) in zip(prompts, answers):
        grid = decode_grid(tokens)
        if grid is not None:
            candidates[i].append(Candidate(view.invert(grid), view.key, logprob))
    return candidates
