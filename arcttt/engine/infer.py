"""Prediction under augmented views: each view transforms the whole task, the model answers,
the answers are mapped back through the view's inverse and go to the vote or the product of
experts (`arcttt.core.ranking`).

Decoding is constrained to well-formed grids: only cells, row ends and END can be produced, every
row has the first row's width, at most 30 rows and 30 columns. So every finished answer decodes
to a grid, and decoding ends by itself (at most the codec's `max_answer_tokens`).

All prompts of a task (views x test inputs) decode in one batch: each group of equal length is
prefilled without padding, then every row steps together; the task's LoRA is merged into a
working copy of the weights first. Greedy decoding gives one answer per prompt; the depth-first
search (`find_answers` with `min_prob`) also follows every branch that keeps an answer's probability
at or above `min_prob`, in decoders forked from the prompt's cache; `Answers.score` scores any
answer under any prompt, teacher-forced on that cache.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from arcttt.core.augment import Transform
from arcttt.core.config import InferConfig
from arcttt.core.formats import ARCTTT, Codec, Encoded, Grammar, answer_reserve
from arcttt.core.errors import ArcError
from arcttt.core.grids import MAX_SIDE, to_array
from arcttt.core.ranking import Found, to_score
from arcttt.core.tasks import Task
from arcttt.core.vote import Candidate
from arcttt.engine.protocol import LM
from arcttt.programs.search import predicted_sizes


class GridConstraint:
    """Per-row grammar state, as tensors: which tokens keep each row's answer a rectangular grid
    in the format's layout (rows ended by NL, or joined by it); for a text format (no grid
    grammar) any token until the end. With `shapes`, a row's answer also has the height and width
    given for it (a size rule's prediction, `infer.size_rule`)."""

    def __init__(self, batch: int, device: torch.device | str = "cpu", grammar: Grammar = ARCTTT.grammar,
                 shapes: torch.Tensor | None = None):
        self.grammar = grammar
        zeros = torch.zeros(batch, dtype=torch.long, device=device)
        self.rows, self.row_len, self.width = zeros.clone(), zeros.clone(), zeros.clone()
        self.done = torch.zeros(batch, dtype=torch.bool, device=device)
        # [batch, 2]: the (height, width) each row's answer must have; 0 leaves a side free.
        self.shapes = shapes.to(device) if shapes is not None else torch.zeros((batch, 2), dtype=torch.long,
                                                                               device=device)

    def allowed(self) -> torch.Tensor:
        """[batch, vocabulary] True where a token may come next."""
        g, live, row_len, width = self.grammar, ~self.done, self.row_len, self.width
        allowed = torch.zeros((len(live), g.vocab), dtype=torch.bool, device=live.device)
        if not g.grid:
            allowed[:] = live[:, None]
            allowed[:, g.pad] |= self.done
            return allowed
        starting = row_len == 0
        first_row = width == 0
        height, wide = self.shapes[:, 0], self.shapes[:, 1]
        max_rows = torch.where(height > 0, height, MAX_SIDE)
        max_cols = torch.where(wide > 0, wide, MAX_SIDE)
        full_row = (wide == 0) | (row_len == wide)  # a row of a given width ends at that width only
        complete = ~starting & (first_row | (row_len >= width)) & full_row
        if g.rows_ended:
            digits = live & torch.where(starting, self.rows < max_rows,
                                        torch.where(first_row, row_len < max_cols, row_len < width))
            newline = live & complete
            end = live & starting & (self.rows > 0) & ((height == 0) | (self.rows == height))
        else:  # `rows` counts the separators seen: the row being written is row `rows` + 1
            digits = live & torch.where(first_row, row_len < max_cols, row_len < width)
            newline = live & complete & (self.rows + 1 < max_rows)
            end = live & complete & ((height == 0) | (self.rows + 1 == height))
        allowed[:, :10] = digits[:, None]
        allowed[:, g.nl] = newline
        allowed[:, g.end] = end
        allowed[:, g.pad] |= self.done
        return allowed

    def update(self, tokens: torch.Tensor, where: torch.Tensor | None = None) -> None:
        """Advance each row by its token (only the rows `where` is True, if given)."""
        g = self.grammar
        live = ~self.done if where is None else ~self.done & where
        newline = live & (tokens == g.nl) if g.grid else torch.zeros_like(live)
        self.width = torch.where(newline & (self.width == 0), self.row_len, self.width)
        self.rows = self.rows + newline.long()
        self.row_len = torch.where(newline, 0, self.row_len + (live & (tokens < 10)).long())
        self.done = self.done | (live & (tokens == g.end))


def guess(draft: list[int], rows: int, row_len: int, width: int, count: int, end: int) -> list[int]:
    """The next `count` tokens if the answer copies `draft` (a grid's ids) cell for cell from
    where it is now (row `rows`, column `row_len`); `end` once the draft grid is used up."""
    start = rows * (width + 1) + row_len if width else row_len
    out = draft[start:start + count]
    return out + [end] * (count - len(out))


@dataclass
class _Rows:
    """The rows one decoder is answering: each row's answer so far, its log-probability under the
    grid constraint, and where its answer starts (the position of its first answer token)."""

    origin: list[int]  # the prompt each row answers
    answers: list[list[int]]
    logprob: torch.Tensor  # float64 [rows]
    count: torch.Tensor  # answer tokens so far [rows]
    start: torch.Tensor  # position of the first answer token [rows]
    constraint: GridConstraint
    drafts: list[list[int]] | None
    branch: bool  # rows of a branch end (unanswered) once below the floor; the greedy roots never do

    def __post_init__(self):
        self.pruned = torch.zeros(len(self.origin), dtype=torch.bool, device=self.logprob.device)


@dataclass(frozen=True)
class _Branch:
    row: int  # the row whose answer it leaves
    index: int  # at this answer token
    token: int  # for this token instead of the one the row chose
    logprob: float  # of the answer so far, this token included


@dataclass
class _Search:
    max_new: int
    speculate: int
    floor: float | None  # log(min_prob); None: greedy, no branches
    batch_size: int
    deadline: float | None
    branches_left: int
    found: list[list[tuple[list[int], float]]]
    grammar: Grammar = ARCTTT.grammar
    truncated: bool = False  # the deadline or the branch cap cut the search short

    def room(self, emitted: int = 0) -> int:
        """Cache slots a row needs after `emitted` answer tokens: the rest of the answer, plus
        some for the holes rejected guesses leave."""
        return self.max_new - emitted + (self.speculate - 1) * 64


def _emit(rows: _Rows, scores: torch.Tensor, token: torch.Tensor, where: torch.Tensor, search: _Search,
          branches: list[_Branch]) -> None:
    """Rows `where` take `token`; with a floor, every other allowed token that keeps the answer's
    probability at or above it becomes a branch, and branch rows that fall below it end."""
    before = rows.logprob
    chosen = scores.gather(1, token[:, None])[:, 0].double()
    if search.floor is not None:
        alternatives = where[:, None] & (before[:, None] + scores.double() >= search.floor)
        alternatives[torch.arange(len(token), device=token.device), token] = False
        # Each list read from the device at once: a GPU pays a synchronisation per read.
        pairs = torch.nonzero(alternatives)
        at, alt = pairs[:, 0], pairs[:, 1]
        for row, index, other, logprob in zip(at.tolist(), rows.count[at].tolist(), alt.tolist(),
                                              (before[at] + scores[at, alt].double()).tolist()):
            branches.append(_Branch(row, index, other, logprob))
    rows.logprob = before + torch.where(where, chosen, 0.0)
    rows.constraint.update(token, where=where)
    rows.count += where.long()
    for answer, taken, emitted in zip(rows.answers, token.tolist(), where.tolist()):
        if emitted:
            answer.append(taken)
    if search.floor is not None and rows.branch:
        low = where & (rows.logprob < search.floor)
        rows.constraint.done |= low
        rows.pruned |= low


def _advance(decoder, logits: torch.Tensor, rows: _Rows, search: _Search, branches: list[_Branch]) -> None:
    """Greedy decoding of every row until it ends (END, the length cap, or below the floor).

    With drafts and `speculate` k > 1, a step feeds the sure next token plus k - 1 guessed ones
    and keeps each row's guesses up to the first one greedy decoding would not have chosen."""
    batch, device = len(rows.origin), logits.device
    constraint, max_new = rows.constraint, search.max_new
    speculate = search.speculate if rows.drafts is not None and decoder.branches else 1
    k, rest = speculate, 0  # guesses per step; plain steps left before guessing again
    while True:
        live = ~constraint.done & (rows.count < max_new)
        if not bool(live.any()):
            return
        scores = logits.masked_fill(~constraint.allowed(), float("-inf")).log_softmax(-1)
        token = scores.argmax(-1)
        _emit(rows, scores, token, live, search, branches)
        going = ~constraint.done & (rows.count < max_new)
        if not bool(going.any()):
            return
        emitted = int(rows.count[going].min())
        if k > 1 and k + (max_new - emitted) > decoder.room():
            k, speculate = 1, 1  # out of room for holes: plain greedy from here
        if k == 1:
            logits = decoder.step(token)
            rest = max(0, rest - 1)
            k = speculate if rest == 0 else 1
            continue
        state = zip(constraint.rows.tolist(), constraint.row_len.tolist(), constraint.width.tolist())
        guesses = torch.tensor([guess(rows.drafts[r], *st, k - 1, search.grammar.end) for r, st in enumerate(state)], device=device)
        all_logits = decoder.step(torch.cat([token[:, None], guesses], dim=1))  # [batch, k, vocabulary]
        kept = torch.ones(batch, dtype=torch.long, device=device)
        chain = going.clone()
        for j in range(k - 1):
            scores = all_logits[:, j].masked_fill(~constraint.allowed(), float("-inf")).log_softmax(-1)
            ok = chain & (scores.argmax(-1) == guesses[:, j])
            if not bool(ok.any()):
                break
            _emit(rows, scores, guesses[:, j], ok, search, branches)
            kept += ok.long()
            chain &= ok & ~constraint.done & (rows.count < max_new)
        decoder.accept(kept)
        logits = all_logits[torch.arange(batch, device=device), kept - 1]
        # Guesses that mostly fail cost more than they save: a few plain steps, then try again.
        if float(kept[going].float().mean()) <= 1.5:
            k, rest = 1, 4


def _replayed(prefixes: list[list[int]], device, grammar: Grammar, shapes: torch.Tensor) -> GridConstraint:
    """The grammar state after each prefix, for answers of `shapes` (see `GridConstraint`)."""
    constraint = GridConstraint(len(prefixes), device, grammar, shapes)
    lengths = torch.tensor([len(p) for p in prefixes], device=device)
    for j in range(max(map(len, prefixes), default=0)):
        tokens = torch.tensor([p[j] if j < len(p) else grammar.pad for p in prefixes], device=device)
        constraint.update(tokens, where=lengths > j)
    return constraint


def _explore(decoder, logits: torch.Tensor, rows: _Rows, search: _Search) -> None:
    """Decode the rows, keep their answers, then follow their branches, most probable first,
    each batch of branches in a decoder forked from this one (the prompt's cache is copied)."""
    branches: list[_Branch] = []
    end = search.grammar.end
    _advance(decoder, logits, rows, search, branches)
    for row, answer in enumerate(rows.answers):
        finished = bool(answer) and answer[-1] == end
        if not rows.pruned[row] and (finished or not rows.branch):
            search.found[rows.origin[row]].append((answer[:answer.index(end) + 1] if end in answer else answer,
                                                   float(rows.logprob[row])))
    branches.sort(key=lambda b: (-b.logprob, b.row, b.index, b.token))
    for b in (b for b in branches if b.token == end):  # an answer already: nothing to decode
        search.found[rows.origin[b.row]].append((rows.answers[b.row][:b.index] + [end], b.logprob))
    pending = [b for b in branches if b.token != end]
    for first in range(0, len(pending), search.batch_size):
        late = search.deadline is not None and time.monotonic() > search.deadline
        chunk = pending[first:first + min(search.batch_size, search.branches_left)]
        if late or len(chunk) < min(search.batch_size, len(pending) - first):
            search.truncated = True  # the cap or the deadline: the most probable branches went first
        if late or not chunk:
            return
        search.branches_left -= len(chunk)
        device = logits.device
        source = torch.tensor([b.row for b in chunk], device=device)
        index = torch.tensor([b.index for b in chunk], device=device)
        child = decoder.fork(source, rows.start[source] + index, search.room(int(index.min())))
        prefixes = [rows.answers[b.row][:b.index] + [b.token] for b in chunk]
        replayed = _replayed(prefixes, device, search.grammar, rows.constraint.shapes[source])
        child_rows = _Rows([rows.origin[b.row] for b in chunk], prefixes,
                           torch.tensor([b.logprob for b in chunk], dtype=torch.float64, device=device), index + 1,
                           rows.start[source], replayed,
                           [rows.answers[b.row] for b in chunk], branch=True)  # the answer left is the best guess
        _explore(child, child.step(torch.tensor([b.token for b in chunk], device=device)), child_rows, search)


def _search(decoder, prompts: list[torch.Tensor], drafts: list[list[int]] | None, shapes: torch.Tensor,
            search: _Search) -> tuple[torch.Tensor, torch.Tensor]:
    """Prefill the prompts and search from them (answers go to `search.found`), each answer of its
    prompt's shape (see `GridConstraint`); the prompts' last logits and lengths, which scoring
    starts from."""
    logits = decoder.prefill(prompts, search.room(), search.grammar.pad)
    ends = decoder.positions.clone()
    count = len(prompts)
    rows = _Rows(list(range(count)), [[] for _ in prompts], torch.zeros(count, dtype=torch.float64, device=logits.device),
                 torch.zeros(count, dtype=torch.long, device=logits.device), ends,
                 GridConstraint(count, logits.device, search.grammar, shapes), drafts, branch=False)
    _explore(decoder, logits, rows, search)  # steps the decoder; `logits` itself stays as it is
    return logits, ends


@dataclass
class _Root:
    decoder: object
    prompts: list[int]  # prompt index of each row
    first_logits: torch.Tensor  # each prompt's logits for the first answer token
    ends: torch.Tensor  # each prompt's length: where its answer starts


@dataclass
class Answers:
    """Every prompt's answers (ids through END, log-probability), the greedy one first, and the
    decoders that hold the prompts' keys and values, to score other answers without a prefill."""

    answers: list[list[tuple[list[int], float]]]
    roots: list[_Root]
    truncated: bool = False
    grammar: Grammar = ARCTTT.grammar
    shapes: torch.Tensor | None = None  # [prompts, 2]: each prompt's answer shape (0: free)

    @torch.inference_mode()
    def score(self, requests: list[tuple[int, list[int]]], tokens_per_batch: int = 4096) -> list[float]:
        """The constrained log-probability of each (prompt index, answer ids through END), teacher-forced
        after that prompt's cached keys and values: all of an answer's tokens in one step."""
        out = [0.0] * len(requests)
        for root in self.roots:
            row_of = {p: row for row, p in enumerate(root.prompts)}
            order = sorted((j for j, (p, _) in enumerate(requests) if p in row_of),
                           key=lambda j: (len(requests[j][1]), j))
            first = 0
            while first < len(order):
                chunk = [order[first]]  # ascending lengths: the last one added is the longest
                while (first + len(chunk) < len(order) and len(chunk) < len(root.prompts)  # a cache copy a row
                       and (len(chunk) + 1) * len(requests[order[first + len(chunk)]][1]) <= tokens_per_batch):
                    chunk.append(order[first + len(chunk)])
                first += len(chunk)
                longest = len(requests[chunk[-1]][1])
                device = root.first_logits.device
                rows = torch.tensor([row_of[requests[j][0]] for j in chunk], device=device)
                ids = torch.full((len(chunk), longest), self.grammar.pad, dtype=torch.long, device=device)
                for r, j in enumerate(chunk):
                    ids[r, :len(requests[j][1])] = torch.tensor(requests[j][1], device=device)
                child = root.decoder.fork(rows, root.ends[rows], longest)
                logits = torch.cat([root.first_logits[rows][:, None], child.step(ids)[:, :-1]], dim=1)
                lengths = torch.tensor([len(requests[j][1]) for j in chunk], device=device)
                shapes = self.shapes[[requests[j][0] for j in chunk]] if self.shapes is not None else None
                constraint = GridConstraint(len(chunk), device, self.grammar, shapes)
                total = torch.zeros(len(chunk), dtype=torch.float64, device=device)
                for t in range(longest):
                    inside = lengths > t
                    scores = logits[:, t].masked_fill(~constraint.allowed(), float("-inf")).log_softmax(-1)
                    total += torch.where(inside, scores.gather(1, ids[:, t:t + 1])[:, 0].double(), 0.0)
                    constraint.update(ids[:, t], where=inside)
                for r, j in enumerate(chunk):
                    out[j] = float(total[r])
        return out


@torch.inference_mode()
def find_answers(lm: LM, prompts: list[Encoded], device: torch.device, batch_prompts: int = 16,
                 max_new_tokens: int = ARCTTT.max_answer_tokens, drafts: list[list[int]] | None = None,
                 speculate: int = 1, min_prob: float | None = None, deadline: float | None = None,
                 max_branches: int = 256, keep: bool = False, grammar: Grammar = ARCTTT.grammar,
                 shapes: list[tuple[int, int] | None] | None = None) -> Answers:
    """Every prompt's answers: the greedy one, and with `min_prob`, every other answer whose
    probability under the grid constraint is at least `min_prob` (an exact depth-first search
    over the token tree that follows each branch greedily, most probable branches first, batched).

    Prompts decode `batch_prompts` at a time in the given order; the deadline (time.monotonic) is
    checked before each batch and each batch of branches, `max_branches` caps the branches a
    batch of prompts may follow: `truncated` tells when either cut the search short. With `keep`,
    the decoders stay for `Answers.score`. `grammar`: the format's (see `arcttt.core.formats`).
    `shapes`: per prompt, the (height, width) its answers must have, or None where it is free."""
    decoder = lm.decoder()
    if (min_prob is not None or keep) and not decoder.branches:
        raise ArcError(f"the depth-first search and answer scoring need a decoder that branches, which "
                       f"{type(decoder).__name__} is not: use the lean backend (model.backend = auto or lean, "
                       "with a Gemma 3, Llama or Qwen model)")
    table = torch.tensor([shape or (0, 0) for shape in shapes] if shapes is not None else [(0, 0)] * len(prompts),
                         dtype=torch.long, device=device).reshape(len(prompts), 2)
    result = Answers([[] for _ in prompts], [], grammar=grammar, shapes=table)
    for start in range(0, len(prompts), batch_prompts):
        if deadline is not None and time.monotonic() > deadline:
            result.truncated = True
            break
        chunk = list(range(start, min(len(prompts), start + batch_prompts)))
        if start > 0 and keep:  # a decoder of its own, over the same (merged) weights
            decoder = decoder.sibling()
        ids = [torch.tensor(prompts[i].ids, dtype=torch.long, device=device) for i in chunk]
        search = _Search(max_new_tokens, speculate if drafts is not None else 1,
                         math.log(min_prob) if min_prob else None, batch_prompts, deadline, max_branches,
                         [[] for _ in chunk], grammar)
        logits, ends = _search(decoder, ids, [drafts[i] for i in chunk] if drafts is not None else None, table[chunk],
                               search)
        if keep:  # its answers lie past its prompts: scoring forks at each prompt's end
            result.roots.append(_Root(decoder, chunk, logits, ends))
        for i, found in zip(chunk, search.found):
            result.answers[i] = found
        result.truncated |= search.truncated
    return result


def prompts_for(task: Task, views: tuple[Transform, ...], config: InferConfig,
                codec: Codec = ARCTTT) -> list[tuple[int, Transform, Encoded]]:
    """(test index, view, prompt) for every test input under every view whose prompt fits."""
    out = []
    reserves = [answer_reserve(task, i, codec) for i in range(len(task.test))]  # the same under every view
    for view in views:
        seen = view.apply_task(task)
        for i in range(len(task.test)):
            prompt = codec.encode(seen.train, seen.test[i], max_tokens=config.max_tokens, with_answer=False,
                                  reserve=reserves[i])
            if prompt is not None:
                out.append((i, view, prompt))
    return out


def view_shapes(task: Task, prompts: list[tuple[int, Transform, Encoded]]) -> list[tuple[int, int] | None]:
    """Per prompt, the (height, width) of its answer where the demonstrations imply its test
    output's size (`programs.search.predicted_sizes`), as its view shows it; None elsewhere."""
    sizes = predicted_sizes(task)
    out = []
    for i, view, _ in prompts:
        size = sizes[i]
        out.append(None if size is None else np.shape(to_array(view.apply(np.zeros(size, dtype=np.int8)))))
    return out


def predict(lm: LM, task: Task, prompts: list[tuple[int, Transform, Encoded]], config: InferConfig,
            device: torch.device, deadline: float | None = None, codec: Codec = ARCTTT) -> tuple[list[Found], bool]:
    """Per test input, every answer that is a grid, from every view, mapped back to the task's
    frame; with scoring = "poe", the distinct answers (at most `max_scored`) are also scored
    under every view of their test input. Also: whether the deadline or a cap cut the search."""
    grammar = codec.grammar
    drafts = [codec.grid_ids(view.apply(task.test[i].input)) for i, view, _ in prompts] if grammar.grid else None
    poe = config.scoring == "poe"
    shapes = view_shapes(task, prompts) if config.size_rule and grammar.grid else None
    sampled = find_answers(lm, [p for _, _, p in prompts], device, config.batch_prompts,
                           max_new_tokens=codec.max_answer_tokens, drafts=drafts, speculate=config.speculate,
                           min_prob=config.min_prob if config.sampler == "dfs" else None, deadline=deadline,
                           max_branches=config.max_branches, keep=poe, grammar=grammar, shapes=shapes)
    candidates: list[list[Candidate]] = [[] for _ in task.test]
    for (i, view, _), answers in zip(prompts, sampled.answers):
        for rank, (tokens, logprob) in enumerate(answers):
            grid = codec.parse(tokens)
            if grid is not None:
                candidates[i].append(Candidate(view.invert(grid), view.key, logprob, greedy=rank == 0))
    found = [Found(tuple(c)) for c in candidates]
    if not poe:
        return found, sampled.truncated
    for i, answers in enumerate(found):
        if deadline is not None and time.monotonic() > deadline:
            return found, True  # test inputs left unscored rank in vote order
        grids = to_score(answers, config.max_scored)
        # The decoded prompts of this test input are its scoring views (views a deadline cut are
        # not), the first `score_views` of them if set: the same views for every answer.
        views = [(p, view) for p, (j, view, _) in enumerate(prompts) if j == i and sampled.answers[p]]
        views = views[:config.score_views] if config.score_views else views
        requests = [(p, codec.answer_ids(view.apply(g))) for g in grids for p, view in views]
        scores = iter(sampled.score(requests))
        found[i] = Found(answers.candidates, {g: tuple(next(scores) for _ in views) for g in grids})
    return found, sampled.truncated
