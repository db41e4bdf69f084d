"""A whole-run time budget (`solve --budget 2h`) shared among the tasks as they come.

Before each task the scheduler grants it a share of the time left, in proportion to what it is
expected to cost among the tasks still to come. Costs are learnt as the run goes: seconds =
a + b x tokens, fitted (least squares, a, b >= 0) to the finished tasks, since what a task costs
depends on the policy, the config and the machine (a fixed number of steps makes most of it a
constant; decoding grows with the grids). Until the finished tasks span a factor of 2 in size, all
tasks count alike. A task that finishes early leaves its time to the tasks after it.

Some tasks end cheap by decision: a verified program spares their training, or the checked policy
stops them (`engine.policy`). Their seconds are learnt apart (`cheap`), and the share of tasks that
ended so is the policy's estimate for the tasks to come: each pending task counts as that mix of
the two costs, while the task about to start is granted in proportion to its full cost, which it
needs if it goes on. The time stopped tasks give back thus goes to the tasks that train.

Training gets the grant less a reserve for inference, learnt the same way. What a task cannot
cut short (its batch of views decodes to the end once started; a training step) is kept back as a
margin: the largest overrun and the longest inference seen (or, when longer, 1.5x the inference
expected of the largest task still to come), so the run ends within the budget. When less than
`MIN_GRANT` seconds would be left for a task, it gets its fallback attempts without running the
model: every task still gets attempts.

Under the checked policy a task is granted all the time left instead (less the margin): it takes
what its steps need, since training cut to a share seldom solves a task, and a hopeless task
stops at its first check and leaves the rest to the next. So the tasks train whole in the order
they come, until the budget runs out.

The run loop (`run.loop`) first searches every task's programs, each within its share of half
the time left, and finishes the tasks a trusted program solves; the model then takes the others
smallest first: the cheapest, and on a CPU the likeliest to be solved, so that what the budget
cuts at the end is the least promising.

With `--resume` the budget covers the whole run: seconds that earlier invocations logged count as
spent. Under sharding each process (rank or worker) has the budget for its own shard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from arcttt.core.grids import Grid
from arcttt.core.tasks import Task

if TYPE_CHECKING:
    from arcttt.core.config import SolveConfig

def earliest(*deadlines: float | None) -> float | None:
    """The first of the deadlines that are set (None: no deadline)."""
    return min((d for d in deadlines if d is not None), default=None)


def _lowered(limit: float, cap: float | None) -> float:
    """A per-task limit in seconds (0: none) lowered to `cap` where one is set."""
    if cap is None:
        return limit
    return min(limit, cap) if limit > 0 else cap


@dataclass(frozen=True)
class Deadlines:
    """When one task's work must stop, as `time.monotonic()` instants (None: no limit): the one
    value that carries the config's per-task limits and the run budget's grant to a task."""

    task: float | None = None
    """Training and inference stop; the task keeps the attempts it has."""
    train: float | None = None
    """Training stops (never after `task`)."""
    infer_seconds: float = 0.0
    """Inference's own limit, counted from when it starts (0: none)."""
    granted: float | None = None
    """Seconds the run budget gave the task (None: no run budget)."""

    def inference(self, now: float) -> float | None:
        """When inference that starts `now` must stop."""
        return earliest(now + self.infer_seconds if self.infer_seconds > 0 else None, self.task)

    @classmethod
    def for_task(cls, config: SolveConfig, start: float, granted: float | None = None,
                 reserve: float = 0.0) -> Deadlines:
        """The config's per-task limits from `start`, each lowered to the run budget's grant: the
        task to all of it, training to the grant less `reserve` (kept for inference)."""
        task_seconds = _lowered(config.task_budget, granted)
        train_seconds = _lowered(config.train_budget, max(granted - reserve, 1e-3) if granted is not None else None)
        task = start + task_seconds if task_seconds > 0 else None
        return cls(task, earliest(start + train_seconds if train_seconds > 0 else None, task),
                   config.infer_budget, granted)


MIN_GRANT = 1.0
"""Seconds below which a task is not started (fallback attempts instead)."""


def grid_size(grid: Grid) -> int:
    """A grid's cells and row ends."""
    return len(grid) * (len(grid[0]) + 1)


def task_size(task: Task) -> float:
    """Cells and row ends of all the task's grids (demonstrations and test inputs).

    A measure of the grids, not of any codec's tokens: the budget is shared out before the model
    (and so its codec) is loaded, and with no model at all for the program expert. The cost model
    fits seconds to it, so only how sizes compare matters."""
    grids = [g for e in task.train for g in (e.input, e.output)] + [e.input for e in task.test]
    return float(sum(grid_size(g) for g in grids))


MIN_SPREAD = 2.0
"""The largest finished task must be this many times the smallest before cost may grow with size:
a slope fitted to similar sizes would extrapolate wildly to large ones."""


def fit_cost(sizes: list[float], seconds: list[float]) -> tuple[float, float]:
    """(a, b) of seconds = a + b x size by least squares with a, b >= 0. Flat (the mean, 0) while
    the sizes span less than `MIN_SPREAD` or the line would cross zero; (1, 0) with nothing."""
    if not sizes:
        return 1.0, 0.0
    mean_size, mean_seconds = sum(sizes) / len(sizes), sum(seconds) / len(seconds)
    flat = (max(mean_seconds, 1e-3), 0.0)
    if min(sizes) <= 0 or max(sizes) < MIN_SPREAD * min(sizes):
        return flat
    spread = sum((x - mean_size) ** 2 for x in sizes)
    slope = max(0.0, sum((x - mean_size) * (y - mean_seconds) for x, y in zip(sizes, seconds)) / spread)
    intercept = mean_seconds - slope * mean_size
    return flat if intercept <= 0 else (intercept, slope)


def fit_pairs(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    """`fit_cost` over (size, seconds) pairs."""
    return fit_cost([size for size, _ in pairs], [seconds for _, seconds in pairs])


@dataclass
class Budget:
    """Grants each pending task its share of the time left; see the module docstring."""

    total: float
    sizes: dict[str, float]
    """Pending tasks' sizes; a task leaves this when it finishes."""
    spent: float = 0.0
    """Seconds spent before this invocation (earlier runs of a resumed run)."""
    margin: float = 0.0
    """Seconds kept back for a task's overrun of its grant; grows to the largest overrun seen."""
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0, init=False)
    history: list[tuple[float, float]] = field(default_factory=list, init=False)
    """(size, seconds) of each task that ran without its grant cutting it short."""
    inferences: list[tuple[float, float]] = field(default_factory=list, init=False)
    """(size, inference seconds) of each task that ran: a grant does not cut inference short."""
    cut: list[tuple[float, float]] = field(default_factory=list, init=False)
    """(size, seconds) of each task its grant cut short: less than it needed."""
    cheap: list[tuple[float, float]] = field(default_factory=list, init=False)
    """(size, seconds) of each task that ended cheap by decision (a verified program, a stop)."""

    def __post_init__(self):
        self.started = self.clock()

    def left(self) -> float:
        """Seconds of the budget not yet used."""
        return self.total - self.spent - (self.clock() - self.started)

    def cost_model(self) -> tuple[float, float]:
        """(a, b): a task of `size` tokens that goes on to the end is expected to take a + b x size
        seconds. Before any finished uncut, the cut ones' seconds (a lower bound); before any
        finished at all, (1, 0): every task alike."""
        return fit_pairs(self.full_costs())

    def full_costs(self) -> list[tuple[float, float]]:
        """(size, seconds) of the finished tasks that went on (not cheap): the uncut ones, else the
        cut ones, whose seconds are a lower bound."""
        return self.history or self.cut

    def expected_line(self) -> tuple[float, float]:
        """(a, b): a pending task of `size` is expected to take a + b x size seconds: its full
        cost, or the mix of full and cheap costs in the share of finished tasks that ended cheap.
        With no full cost known yet every task counts alike: a cheap cost in seconds beside the
        placeholder would count the cheap tasks as the costly ones."""
        a, b = self.cost_model()
        if not self.cheap or not self.full_costs():
            return a, b
        share = len(self.cheap) / (len(self.cheap) + len(self.history) + len(self.cut))
        ca, cb = fit_pairs(self.cheap)
        return share * ca + (1 - share) * a, share * cb + (1 - share) * b

    def expected(self, size: float) -> float:
        """Seconds a pending task of `size` is expected to take (`expected_line`)."""
        a, b = self.expected_line()
        return a + b * size

    def grant(self, task_id: str, whole: bool = False) -> float:
        """Seconds the task may take (0: none, give it fallback attempts): its full cost's share
        beside the others' expected costs, or with `whole` all the time left (the task takes what
        its steps need). Nothing below `MIN_GRANT` or below what the task's inference alone is
        expected to take: decoding a batch of views cannot stop halfway, so such a grant would
        only overrun."""
        left = self.left() - self.kept_back()
        if whole:
            share = left
        else:
            a, b = self.cost_model()
            size = self.sizes[task_id]
            full = a + b * size
            ea, eb = self.expected_line()  # linear in size: the others' sum needs one fit, not one each
            others = ea * (len(self.sizes) - 1) + eb * (sum(self.sizes.values()) - size)
            share = left * full / (full + others)
        return share if share >= max(MIN_GRANT, self.inference(task_id)) else 0.0

    def kept_back(self) -> float:
        """Seconds no grant may use: the margin, or more where the largest pending task's inference
        is expected to be longer (tasks run smallest first, so the longest seen may be short of it)."""
        largest = max(self.sizes, key=self.sizes.__getitem__, default=None)
        return max(self.margin, 1.5 * self.inference(largest)) if largest is not None else self.margin

    def inference(self, task_id: str) -> float:
        """Seconds the task's inference is expected to take (0 before any task finished)."""
        if not self.inferences:
            return 0.0
        a, b = fit_pairs(self.inferences)
        return a + b * self.sizes[task_id]

    def reserve(self, task_id: str, granted: float) -> float:
        """Seconds of the grant to keep for inference: 1.5x what the finished tasks' inference
        predicts for this size (a third of the grant before any finished), at most 90% of it."""
        if not self.inferences:
            return granted / 3
        return min(1.5 * self.inference(task_id), 0.9 * granted)

    def finished(self, task_id: str, granted: float, seconds: float, infer_seconds: float = 0.0,
                 cut: bool = False, cheap: bool = False) -> None:
        """Record a task's end: it stops sharing; its overrun and its inference (which cannot be
        cut) size the margin; if its grant did not `cut` it short, its seconds teach the cost
        model (a cut task's seconds say what it was given, not what it needed): the full cost's,
        or with `cheap` (it ended cheap by decision) the cheap one's."""
        size = self.sizes.pop(task_id, None)
        if granted > 0:
            self.margin = max(self.margin, seconds - granted, infer_seconds)
            if size is not None and cheap:  # it ran no inference to learn from
                if not cut:  # a stop where a grant cut training says what it was given, as above
                    self.cheap.append((size, seconds))
            elif size is not None:
                self.inferences.append((size, infer_seconds))
                (self.cut if cut else self.history).append((size, seconds))

    def deadlines(self, task_id: str, config: SolveConfig) -> Deadlines | None:
        """The task's deadlines under its grant from now; None when the run's time is spent
        (the task then gets its fallback attempts without the model)."""
        granted = self.grant(task_id, whole=config.policy == "checked")
        if granted == 0.0:
            return None
        return Deadlines.for_task(config, self.clock(), granted, self.reserve(task_id, granted))

    @classmethod
    def for_tasks(cls, total: float, tasks: list[Task], spent: float = 0.0,
                  clock: Callable[[], float] = time.monotonic) -> Budget:
        # A first margin before any overrun is known: 2% of the budget, at most a minute.
        return cls(total, {t.id: task_size(t) for t in tasks}, spent, min(60.0, 0.02 * total), clock)
