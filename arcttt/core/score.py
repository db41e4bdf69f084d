"""Scoring by the official ARC rule: a test output counts if either of its two attempts is exact.

Two conventions are reported: the ARC Prize per-task average (a task with k test outputs gives
1/k per correct output, averaged over tasks) and Kaggle's outputs-correct / outputs-total.
"""

from __future__ import annotations

from dataclasses import dataclass

from arcttt.core.grids import Grid
from arcttt.core.predictions import Attempts, Predictions


@dataclass(frozen=True)
class TaskScore:
    """One task's outcome: which test outputs were right; `missing` if it had no predictions."""

    task_id: str
    correct: tuple[bool, ...]
    missing: bool = False

    @property
    def score(self) -> float:
        return sum(self.correct) / len(self.correct)


@dataclass(frozen=True)
class Report:
    rows: tuple[TaskScore, ...]
    unknown: tuple[str, ...]  # predicted task ids that have no solutions

    @property
    def score(self) -> float:
        """ARC Prize convention: mean over tasks of the fraction of test outputs solved."""
        return sum(r.score for r in self.rows) / len(self.rows) if self.rows else 0.0

    @property
    def outputs_correct(self) -> int:
        return sum(sum(r.correct) for r in self.rows)

    @property
    def outputs_total(self) -> int:
        return sum(len(r.correct) for r in self.rows)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(r.task_id for r in self.rows if r.missing)

    @property
    def solved(self) -> tuple[str, ...]:
        """Tasks with every test output right."""
        return tuple(r.task_id for r in self.rows if all(r.correct))

    def to_json(self) -> dict:
        return {
            "score": self.score,
            "tasks": len(self.rows),
            "tasks_solved": len(self.solved),
            "outputs_correct": self.outputs_correct,
            "outputs_total": self.outputs_total,
            "missing": list(self.missing),
            "unknown": list(self.unknown),
            "per_task": {r.task_id: {"score": r.score, "correct": list(r.correct), "missing": r.missing}
                         for r in self.rows},
        }


def outputs_correct(outputs: tuple[Attempts, ...], expected: tuple[Grid, ...]) -> tuple[bool, ...]:
    """The official rule per test output: right if either attempt is exact (a missing entry is wrong)."""
    return tuple(i < len(outputs) and truth in outputs[i] for i, truth in enumerate(expected))


def score(predictions: Predictions, solutions: dict[str, tuple[Grid, ...]]) -> Report:
    """Score predictions against solutions; tasks without predictions count as wrong."""
    rows = []
    for task_id in sorted(solutions):
        expected = solutions[task_id]
        outputs = predictions.get(task_id)
        if outputs is None:
            rows.append(TaskScore(task_id, (False,) * len(expected), missing=True))
            continue
        rows.append(TaskScore(task_id, outputs_correct(outputs, expected)))
    unknown = tuple(sorted(set(predictions) - set(solutions)))
    return Report(tuple(rows), unknown)
