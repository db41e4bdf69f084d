"""Choosing two attempts among the answers found under many views: by vote, or by the product
of experts (PoE): an answer's probability under every view multiplied, i.e. its log-probability
summed over the views (the ARChitects' rule), plus a bonus for each time the search found it
(NVARC's rule). Pure functions over grids; the log-probabilities come from `infer`.
"""

from __future__ import annotations

from collections import Counter
from itertools import zip_longest
from dataclasses import dataclass, field

from arcttt.core.grids import Grid
from arcttt.core.vote import Candidate, mit_vote, rank, two

HIT_COUNTS = ("search", "greedy")


@dataclass(frozen=True)
class Found:
    """What the search found for one test input, in the task's own frame."""

    candidates: tuple[Candidate, ...]  # one per answer per view
    view_logprobs: dict[Grid, tuple[float, ...]] = field(default_factory=dict)  # PoE: per scoring view


@dataclass(frozen=True)
class Ranked:
    grid: Grid
    found: int  # times it was found (see `hits`)
    score: float  # what it was ranked by (votes, or the PoE score)


def poe_score(view_logprobs: tuple[float, ...], found: int, hit_weight: float) -> float:
    """The mean log-probability over the scoring views plus `hit_weight` per time found.

    The mean ranks like the sum (the product of the views' probabilities) when every answer is
    scored under the same views, which holds within one test input. With `hit_weight` 1 this is
    NVARC's rule (times found minus mean NLL); 0 gives the ARChitects' pure product.
    """
    return sum(view_logprobs) / len(view_logprobs) + hit_weight * found


def to_score(found: Found, limit: int) -> list[Grid]:
    """The distinct answers worth scoring, at most `limit`: most often found first, then the most
    probable (under its own view), then grid order."""
    count = Counter(c.grid for c in found.candidates)
    best: dict[Grid, float] = {}
    for c in found.candidates:
        best[c.grid] = max(best.get(c.grid, float("-inf")), c.logprob)
    return sorted(count, key=lambda g: (-count[g], -best[g], g))[:limit]


def hits(found: Found, counted: str) -> Counter:
    """Times each answer was found: by any view's search ("search"), or as a view's greedy answer
    ("greedy": one vote per view, the MIT count)."""
    if counted not in HIT_COUNTS:
        raise ValueError(f"unknown hit count {counted!r}")
    return Counter(c.grid for c in found.candidates if counted == "search" or c.greedy)


def ranked(found: Found, scoring: str, per_view: int = 3, hit_weight: float = 1.0,
           counted: str = "search") -> list[Ranked]:
    """Distinct answers, best first. Ties break deterministically (times found, then grid order);
    under PoE, answers left unscored come after the scored ones, in vote order."""
    votes = rank(found.candidates, per_view)
    if scoring == "vote":
        return [Ranked(r.grid, r.votes, float(r.votes)) for r in votes]
    if scoring == "mit":
        count = hits(found, "greedy")
        return [Ranked(g, count[g], float(-i)) for i, g in enumerate(mit_vote(found.candidates))]
    if scoring != "poe":
        raise ValueError(f"unknown scoring {scoring!r}")
    count = hits(found, counted)
    scored = [Ranked(g, count[g], poe_score(lp, count[g], hit_weight))
              for g, lp in found.view_logprobs.items() if lp]
    scored.sort(key=lambda r: (-r.score, -r.found, r.grid))
    done = {r.grid for r in scored}
    return scored + [Ranked(r.grid, r.votes, float("-inf")) for r in votes if r.grid not in done]


def attempts(best: list[Ranked], fallback: Grid) -> tuple[Grid, Grid]:
    """The top two grids; `fallback` (e.g. the test input) fills any gap."""
    return two([r.grid for r in best[:2]], fallback)


def answer_rank(best: list[Ranked], truth: Grid) -> int | None:
    """1-based rank of the right answer among the candidates, None when it was never found."""
    return next((i + 1 for i, r in enumerate(best) if r.grid == truth), None)


PROGRAM_MERGES = ("interleave", "first")


def with_programs(best: list[Ranked], predictions: tuple[Grid, ...], merge: str = "interleave") -> list[Ranked]:
    """The model's ranking joined by the verified programs' predictions (best program first):
    "interleave" alternates program and model answers (program first), so each expert's best
    answer is an attempt; "first" puts every program answer before the model's. Duplicates keep
    their first place. Program answers carry `found` 0 and an infinite score."""
    if merge not in PROGRAM_MERGES:
        raise ValueError(f"unknown program merge {merge!r}")
    programs = [Ranked(g, 0, float("inf")) for g in predictions]
    if merge == "first":
        order = programs + best
    else:
        order = [r for pair in zip_longest(programs, best) for r in pair if r is not None]
    seen: set[Grid] = set()
    out = []
    for r in order:
        if r.grid not in seen:
            seen.add(r.grid)
            out.append(r)
    return out
