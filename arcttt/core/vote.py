"""Hierarchical voting over candidates predicted under several views (the MIT paper's scheme).

Within each view (transform) count the candidates and keep the top `per_view`; then count those
across views and return the top two as the two attempts. Ties break deterministically: more
votes, then seen under the identity view, then higher log-probability, then grid order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from arcttt.core.augment import IDENTITY as IDENTITY_VIEW
from arcttt.core.grids import Grid


@dataclass(frozen=True)
class Candidate:
    """A prediction already mapped back through its view's inverse transform."""

    grid: Grid
    view: str
    logprob: float = 0.0
    greedy: bool = True  # the view's greedy answer (a search finds others too)


@dataclass(frozen=True)
class Tally:
    """A distinct grid with the votes for it."""

    grid: Grid
    votes: int
    in_identity: bool
    logprob: float


def _order(votes: int, in_identity: bool, logprob: float, grid: Grid) -> tuple:
    return (-votes, not in_identity, -logprob, grid)


def rank(candidates: list[Candidate] | tuple[Candidate, ...], per_view: int = 3) -> list[Tally]:
    """Distinct grids, best first, after per-view top-`per_view` selection and a global count."""
    by_view: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        by_view[candidate.view].append(candidate)
    votes: dict[Grid, int] = defaultdict(int)
    in_identity: dict[Grid, bool] = defaultdict(bool)
    best_logprob: dict[Grid, float] = {}
    for view in sorted(by_view):
        counts: dict[Grid, int] = defaultdict(int)
        view_logprob: dict[Grid, float] = {}
        for candidate in by_view[view]:
            counts[candidate.grid] += 1
            view_logprob[candidate.grid] = max(view_logprob.get(candidate.grid, float("-inf")), candidate.logprob)
        top = sorted(counts, key=lambda g: _order(counts[g], view == IDENTITY_VIEW, view_logprob[g], g))[:per_view]
        for grid in top:
            votes[grid] += counts[grid]
            in_identity[grid] |= view == IDENTITY_VIEW
            best_logprob[grid] = max(best_logprob.get(grid, float("-inf")), view_logprob[grid])
    ranked = [Tally(g, votes[g], in_identity[g], best_logprob[g]) for g in votes]
    return sorted(ranked, key=lambda r: _order(r.votes, r.in_identity, r.logprob, r.grid))


def two(grids: list[Grid], fallback: Grid) -> tuple[Grid, Grid]:
    """The first two grids as the two attempts; `fallback` (e.g. the test input) fills any gap."""
    grids = grids[:2] + [fallback] * (2 - min(2, len(grids)))
    return grids[0], grids[1]

