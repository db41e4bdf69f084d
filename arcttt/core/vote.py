"""Hierarchical voting over candidates predicted under several views (the MIT paper's scheme);
`mit_vote` is the MIT code's own variant, by kind of symmetry.

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


def _majority_rows(grids: list[Grid], transpose: bool = False) -> Grid:
    """Row by row (or column by column) the most common row among grids of the most common shape."""
    if transpose:
        grids = [tuple(zip(*g)) for g in grids]
    shapes = [(len(g), len(g[0])) for g in grids]
    height, width = max(sorted(set(shapes)), key=shapes.count)
    rows = []
    for r in range(height):
        seen = [g[r] for g in grids if len(g) > r and len(g[r]) == width]
        rows.append(max(sorted(set(seen)), key=seen.count))
    return tuple(zip(*rows)) if transpose else tuple(rows)


def _top_three(grids: list[Grid]) -> list[Grid]:
    """The three most common grids; where fewer are distinct, the row-wise and then the
    column-wise majority grid fill in (MIT's `get_all_type_of_votingsv2`)."""
    counts: dict[Grid, int] = defaultdict(int)
    for g in grids:
        counts[g] += 1
    common = sorted(counts, key=lambda g: (-counts[g], g))
    first = common[0]
    second = common[1] if len(common) > 1 else first
    third = common[2] if len(common) > 2 else first
    by_rows, by_columns = _majority_rows(grids), _majority_rows(grids, transpose=True)
    if second == first:
        second = by_rows if by_rows != first else by_columns
    if third in (first, second):
        third = by_rows if by_rows not in (first, second) else by_columns
    return [first, second, third]


def category(view: str) -> str:
    """The symmetry part of a view's key (`mirror+rot90`, or `id`): MIT votes per kind of transform."""
    head = view.split(" ")[0]
    return IDENTITY_VIEW if head.startswith(("c:", "o:")) else head


def mit_vote(candidates: list[Candidate] | tuple[Candidate, ...]) -> list[Grid]:
    """MIT's hierarchical vote (ekinakyurek/marc arclib/voting.py `vote`): the top three grids of
    every symmetry and of all answers together go to a second count, whose top two are the
    attempts; when the second and third tie, the one seen more often under the identity wins.
    Ties within a count break by grid order (theirs by set order, which is arbitrary)."""
    if not candidates:
        return []
    by_category: dict[str, list[Grid]] = defaultdict(list)
    for c in candidates:
        by_category[category(c.view)].append(c.grid)
    order = ["all", *sorted(by_category, key=lambda k: (k != IDENTITY_VIEW, k))]
    by_category["all"] = [c.grid for c in candidates]
    pool = [g for key in order for g in _top_three(by_category[key])]
    first, second, third = _top_three(pool)
    if pool.count(second) == pool.count(third) and second != third:
        identity = by_category.get(IDENTITY_VIEW, [])
        if identity.count(second) <= identity.count(third):
            second = third
    rest = sorted(set(pool) - {first, second}, key=lambda g: (-pool.count(g), g))
    return list(dict.fromkeys([first, second, *rest]))


def two(grids: list[Grid], fallback: Grid) -> tuple[Grid, Grid]:
    """The first two grids as the two attempts; `fallback` (e.g. the test input) fills any gap."""
    grids = grids[:2] + [fallback] * (2 - min(2, len(grids)))
    return grids[0], grids[1]

