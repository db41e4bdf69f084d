"""A whole-run time budget (`solve --budget 2h`) shared among the tasks as they come.

Before each task the scheduler grants it a share of the time left, in proportion to its weight
(`task_weight`), so time a fast task leaves is reclaimed by the tasks after it. Training gets the
grant less a reserve for inference, learnt from the tasks before. The task stops training and decoding at its grant
(`SolveConfig.task_budget`); how far a task can overrun its grant (one training step or one batch
of views) is learnt as the run goes and kept back as a margin, so the run ends within the
budget. When less than `MIN_GRANT` seconds would be left for a task, it gets its fallback attempts
without running the model: every task still gets attempts.

With `--resume` the budget covers the whole run: seconds that earlier invocations logged count as
spent. Under sharding each process (rank or worker) has the budget for its own shard.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Callable

from arcttt.encode import grid_length
from arcttt.errors import ArcError
from arcttt.tasks import Task

MIN_GRANT = 1.0
"""Seconds below which a task is not started (fallback attempts instead)."""

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """Seconds of "2h", "90m", "1h30m", "45s" or a plain number of seconds."""
    spec = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", spec):
        return float(spec)
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", spec)
    if not parts or "".join(n + u for n, u in parts) != spec.replace(" ", ""):
        raise ArcError(f"not a duration: {text!r} (e.g. 2h, 90m, 1h30m, 45s or seconds)")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def task_weight(task: Task) -> float:
    """How much of the time a task should get: the square root of its tokens (all its grids).

    A task's cost grows with its size but less than in proportion: training takes a fixed number
    of steps of capped tokens, and only decoding grows with the prompt."""
    grids = [g for e in task.train for g in (e.input, e.output)] + [e.input for e in task.test]
    return float(sum(grid_length(g) for g in grids)) ** 0.5


@dataclass
class Budget:
    """Grants each pending task its share of the time left; see the module docstring."""

    total: float
    weights: dict[str, float]
    """Pending tasks' weights; a task leaves this when it finishes."""
    spent: float = 0.0
    """Seconds spent before this invocation (earlier runs of a resumed run)."""
    margin: float = 0.0
    """Seconds kept back for a task's overrun of its grant; grows to the largest overrun seen."""
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0, init=False)
    infer_rate: list[float] = field(default_factory=list, init=False)
    """Inference seconds per unit of weight, of each finished task."""

    def __post_init__(self):
        self.started = self.clock()

    def left(self) -> float:
        """Seconds of the budget not yet used."""
        return self.total - self.spent - (self.clock() - self.started)

    def grant(self, task_id: str) -> float:
        """Seconds the task may take (0: none, give it fallback attempts)."""
        pending = sum(self.weights.values())
        available = self.left() - self.margin
        share = available * self.weights[task_id] / pending if pending > 0 else available
        return share if share >= MIN_GRANT else 0.0

    def reserve(self, task_id: str, granted: float) -> float:
        """Seconds of the grant to keep for inference: 1.5x what finished tasks of this weight
        needed (a third of the grant before any has finished), at most 90% of it."""
        if not self.infer_rate:
            return granted / 3
        expected = 1.5 * float(sum(self.infer_rate) / len(self.infer_rate)) * self.weights[task_id]
        return min(expected, 0.9 * granted)

    def finished(self, task_id: str, granted: float, seconds: float, infer_seconds: float = 0.0) -> None:
        """Record a task's end: it stops sharing, its overrun (if any) sizes the margin, and its
        inference time teaches `reserve`."""
        weight = self.weights.pop(task_id, None)
        if granted > 0:
            self.margin = max(self.margin, seconds - granted)
            if weight:
                self.infer_rate.append(infer_seconds / weight)

    @classmethod
    def for_tasks(cls, total: float, tasks: list[Task], spent: float = 0.0,
                  clock: Callable[[], float] = time.monotonic) -> Budget:
        # A first margin before any overrun is known: 2% of the budget, at most a minute.
        return cls(total, {t.id: task_weight(t) for t in tasks}, spent, min(60.0, 0.02 * total), clock)
