"""Progress on stderr: a Rich bar with ETA on a terminal, one plain line per task otherwise."""

from __future__ import annotations

import sys
import time
from typing import Callable

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from arcttt.core.errors import printable
from arcttt.core.outcome import Outcome
from arcttt.core.tasks import Task


def describe(outcome: Outcome) -> str:
    """One line per task: tokens, loss first -> last, seconds, and rightness when known."""
    parts = [printable(outcome.task_id)]
    if outcome.error:
        parts.append(f"FAILED ({printable(outcome.error)})")
    if outcome.train.steps:
        losses = outcome.train.losses
        parts.append(f"{outcome.train.steps} steps, {outcome.train.tokens} tokens, "
                     f"loss {losses[0]:.3f} -> {losses[-1]:.3f}")
    if outcome.programs:
        skipped = " (TTT skipped)" if outcome.decision.get("ttt_skipped") else ""
        parts.append(f"program {printable(outcome.programs[0])}{skipped}")
    chose = outcome.decision.get("chose")
    if chose == "in-context":
        parts.append(f"in-context only (probe loss {outcome.decision['probe_loss']})")
    elif outcome.train.stopped:
        parts.append(f"stopped: {outcome.train.stopped}")
    checks = outcome.decision.get("checks")
    if checks:  # the checked policy's last held-out check
        last = checks[-1]
        parts.append(f"held-out {last['accuracy']:.2f}, {last['exact']}/{last['checked']} whole at step {last['step']}"
                     + ("" if outcome.decision.get("infer", True) else ", no inference"))
    if outcome.skipped:
        parts.append(f"skipped ({printable(outcome.skipped)})")
    if outcome.neighbours:
        parts.append(f"neighbours {', '.join(outcome.neighbours)}")
    parts.append(f"{outcome.candidates} candidates")
    parts.append(f"{outcome.seconds:.1f} s")
    if outcome.budget_left is not None:
        parts.append(f"budget left {outcome.budget_left / 60:.1f} min")
    if outcome.correct is not None:
        parts.append(f"top attempt right {sum(outcome.top_correct)}/{len(outcome.top_correct)}, "
                     f"either {sum(outcome.correct)}/{len(outcome.correct)}")
    return ", ".join(parts)


class Reporter:
    """Use as a context manager; pass `start` and `done` to `solve_all`."""

    def __init__(self, total: int, console: Console | None = None, live: bool = True, prefix: str = "",
                 overall: Callable[[], int] | None = None, overall_total: int = 0):
        self.total = total
        # Under torchrun rank 0 also counts the other ranks' finished tasks (from their shard logs).
        self.overall = overall
        self.overall_total = overall_total
        self.count = 0
        self.prefix = prefix
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.live = live and self.console.is_terminal
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TimeRemainingColumn(), console=self.console) if self.live else None
        self.bar_task = None

    def __enter__(self) -> Reporter:
        if self.bar is not None:
            self.bar.start()
            self.bar_task = self.bar.add_task("solving", total=self.overall_total if self.overall else self.total)
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def start(self, task: Task) -> None:
        if self.bar is not None:
            self.bar.update(self.bar_task, description=f"solving {escape(printable(task.id))}")

    def searching(self, task: Task) -> None:
        if self.bar is not None:
            self.bar.update(self.bar_task, description=f"searching programs for {escape(printable(task.id))}")

    def searched(self, trusted: int, searched: int) -> None:
        line = (f"{self.prefix}programs searched first: {trusted} of {searched} tasks solved by a trusted program; "
                f"the model takes the other {searched - trusted}")
        if self.bar is not None:
            self.bar.console.print(line, markup=False)
        else:
            print(line, file=sys.stderr, flush=True)

    def done(self, outcome: Outcome) -> None:
        self.count += 1
        line = f"{self.prefix}[{self.count}/{self.total}] {describe(outcome)}"
        done_overall = self.overall() if self.overall else None
        if done_overall is not None:
            line += f" (all ranks: {done_overall}/{self.overall_total})"
        if self.bar is not None:
            self.bar.console.print(line, markup=False)
            self.bar.update(self.bar_task, completed=self.count if done_overall is None else done_overall)
        else:
            print(line, file=sys.stderr, flush=True)


class StepReporter:
    """Progress of a long training run: a bar with loss, tokens/s and ETA, or a line every 20 steps."""

    EVERY = 20

    def __init__(self, total: int, console: Console):
        self.total = total
        self.console = console
        self.bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), TimeRemainingColumn(), console=console) if console.is_terminal else None
        self.started = time.monotonic()
        self.first_tokens: int | None = None
        self.recent: list[float] = []

    def __enter__(self) -> StepReporter:
        if self.bar is not None:
            self.bar.start()
            self.bar_task = self.bar.add_task("stage 1", total=self.total)
        return self

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()

    def step(self, step: int, loss: float, tokens: int) -> None:
        if self.first_tokens is None:
            self.first_tokens, self.first_step = tokens, step
            self.started = time.monotonic()
        if loss == loss:  # NaN marks a step without a sample
            self.recent = (self.recent + [loss])[-self.EVERY:]
        elapsed = max(time.monotonic() - self.started, 1e-9)
        speed = (tokens - self.first_tokens) / elapsed
        mean = sum(self.recent) / len(self.recent) if self.recent else float("nan")
        text = f"step {step}/{self.total}, loss {mean:.3f}, {speed:.0f} tokens/s"
        if self.bar is not None:
            self.bar.update(self.bar_task, completed=step, description=text)
        elif step % self.EVERY == 0 or step == self.total:
            print(text, file=sys.stderr, flush=True)
