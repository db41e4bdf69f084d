"""A whole-run time budget (`solve --budget 2h`) shared among the tasks as they come.

Before each task the scheduler grants it a share of the time left, in proportion to its size
(tokens of its grids, which is what training and decoding cost scale with), so time a fast task
leaves is reclaimed by the tasks after it. The task stops training and decoding at its grant
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
    """The task's size: tokens of all its grids (demonstrations and test inputs)."""
    grids = [g for e in task.train for g in (e.input, e.output)] + [e.input for e in task.test]
    return float(sum(grid_length(g) for g in grids))


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

    def finished(self, task_id: str, granted: float, seconds: float) -> None:
        """Record a task's end: it stops sharing, and its overrun (if any) sizes the margin."""
        self.weights.pop(task_id, None)
        if granted > 0:
            self.margin = max(self.margin, seconds - granted)

    @classmethod
    def for_tasks(cls, total: float, tasks: list[Task], spent: float = 0.0,
                  clock: Callable[[], float] = time.monotonic) -> Budget:
        # A first margin before any overrun is known: 2% of the budget, at most a minute.
        return cls(total, {t.id: task_weight(t) for t in tasks}, spent, min(60.0, 0.02 * total), clock)
