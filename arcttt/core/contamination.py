"""The contamination guard: never train on a task that is evaluated, under any id.

ARC-AGI-2's training set holds most of ARC-AGI-1's evaluation tasks, some under the same id,
some with the same grids, so a task is excluded when its id, any of its input/output pairs
(demonstrations and solved tests) or any single grid of it matches an excluded task. Matching
single grids is strict on purpose: a few tasks share only a tiny grid with an evaluated one and
are dropped too, the price of never training on an evaluated test input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from arcttt.core.grids import Grid, grid_digest
from arcttt.core.tasks import Task


def pair_hash(grid_in: Grid, grid_out: Grid) -> str:
    """A short, stable content hash of one input/output pair."""
    text = repr((grid_in, grid_out)).encode()
    return hashlib.sha256(text).hexdigest()[:16]


grid_hash = grid_digest  # the manifest's name for it


def task_grid_hashes(task: Task) -> set[str]:
    """Hashes of every grid of the task: inputs, and outputs where known."""
    return {grid_hash(g) for e in task.train + task.test for g in (e.input, e.output) if g is not None}


def task_hashes(task: Task) -> set[str]:
    """Hashes of every pair of the task whose output is known."""
    return {pair_hash(e.input, e.output) for e in task.train + task.test if e.output is not None}


@dataclass(frozen=True)
class Guard:
    """Ids and pair hashes that training must not see."""

    ids: frozenset[str]
    hashes: frozenset[str]
    grids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, tasks: list[Task] | tuple[Task, ...]) -> Guard:
        return cls(frozenset(t.id for t in tasks), frozenset(h for t in tasks for h in task_hashes(t)),
                   frozenset(h for t in tasks for h in task_grid_hashes(t)))

    def reason(self, task: Task) -> str | None:
        """Why the task is excluded (`id`, `content` or `grid`), or None if it is clean."""
        if task.id in self.ids:
            return "id"
        if task_hashes(task) & self.hashes:
            return "content"
        if task_grid_hashes(task) & self.grids:
            return "grid"
        return None

    def split(self, tasks: list[Task]) -> tuple[list[Task], dict[str, str]]:
        """(clean tasks, {excluded id: reason})."""
        clean, dropped = [], {}
        for task in tasks:
            reason = self.reason(task)
            if reason is None:
                clean.append(task)
            else:
                dropped[task.id] = reason
        return clean, dropped


def overlap(trained_ids: set[str], trained_hashes: set[str], tasks: list[Task],
            trained_grids: set[str] = frozenset()) -> list[str]:
    """Ids of `tasks` that an adapter trained on these ids, pair hashes or grid hashes has seen."""
    return [t.id for t in tasks
            if t.id in trained_ids or task_hashes(t) & trained_hashes or task_grid_hashes(t) & trained_grids]
