"""What happened to a task: its training stats and its outcome, as the log records them.

Plain data (no torch), so progress displays and log readers need not load the engine.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from arcttt.core.predictions import Attempts
from arcttt.core.grids import grid_digest
from arcttt.core.ranking import Ranked


@dataclass
class TrainStats:
    """What one task's training did."""

    steps: int = 0
    samples: int = 0
    tokens: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    stopped: str = ""
    """Why training ended before its steps: "converged", "deadline", or the checked policy's "hopeless"
    or "fitted" (empty: it ran them all; "hopeless" also after the last step, when the end check says so)."""


LOGGED = 3  # candidates per test output whose digest, count and score the log keeps
LOSS_POINTS = 64
"""Points of a task's training loss curve the log keeps, evenly spaced (first and last kept).
With the attempts' digests, it is what `arcttt report` reads beyond the counts: at most 640 bytes
plus 42 bytes per test output in each task's record, however long training ran."""


def loss_curve(losses: list[float], points: int = LOSS_POINTS) -> list[float]:
    """At most `points` of `losses`, evenly spaced from the first to the last, to 4 decimals."""
    if len(losses) > points:
        last = len(losses) - 1
        losses = [losses[round(i * last / (points - 1))] for i in range(points)]
    return [round(float(loss), 4) for loss in losses]


@dataclass
class Outcome:
    """What happened to one task; `error` is set (and attempts are fallbacks) if it failed."""

    task_id: str
    attempts: tuple[Attempts, ...]
    seconds: float
    samples: int = 0
    dropped_train: int = 0  # context demonstrations left out of training samples to fit max_tokens
    dropped_infer: int = 0  # ... and out of prompts
    threads: int = 0  # torch threads the task ran with
    train: TrainStats = field(default_factory=TrainStats)
    candidates: int = 0
    error: str | None = None
    # Why the model never ran (e.g. the run budget): the attempts are the programs' candidates, else fallbacks.
    skipped: str | None = None
    correct: list[bool] | None = None  # per test output: either attempt right (the ARC rule)
    top_correct: list[bool] | None = None  # per test output: attempt 1 right
    answer_rank: list[int | None] | None = None  # per test output: the right answer's rank among all found
    search_cut: bool = False  # a deadline or the branch cap cut the search
    ranked: list[list[Ranked]] = field(default_factory=list)  # per test input, best first
    decision: dict = field(default_factory=dict)  # the adaptive policy's, or the budget's
    neighbours: list[str] = field(default_factory=list)  # training tasks whose samples were added
    programs: list[str] = field(default_factory=list)  # verified programs (readable text), best first
    program_seconds: float = 0.0  # the program search's time
    expert: str = ""  # what produced the attempts: "ttt", "program" or "both"
    granted: float | None = None  # seconds the run budget gave the task
    budget_left: float | None = None  # seconds of the run budget left after the task

    @property
    def status(self) -> str:
        """"ok", "failed" (`error` says why) or "skipped" (`skipped` says why)."""
        return "failed" if self.error else "skipped" if self.skipped else "ok"

    def record(self, digest: str) -> dict:
        record = {k: v for k, v in asdict(self).items() if k not in ("attempts", "train", "ranked", "programs")}
        record["programs"] = self.programs[:LOGGED]
        record["top"] = [[{"grid": grid_digest(r.grid), "found": r.found, "score": round(r.score, 4)}
                          for r in best[:LOGGED]] for best in self.ranked]
        # Their digests tell a log from another run's beside these predictions (`arcttt report`).
        record["attempts"] = [[grid_digest(grid) for grid in pair] for pair in self.attempts]
        losses = self.train.losses
        record["loss_curve"] = loss_curve(losses)
        record.update(status=self.status, config_digest=digest, steps=self.train.steps,
                      samples_trained=self.train.samples, tokens=self.train.tokens, train_seconds=round(self.train.seconds, 2),
                      train_stopped=self.train.stopped or None,
                      loss_first=losses[0] if losses else None, loss_last=losses[-1] if losses else None,
                      seconds=round(self.seconds, 2))
        return record
