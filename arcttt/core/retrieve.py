"""Retrieval for TTT: the training tasks most like a task, by cheap features of its demonstrations.

A task's features (`features`, 24 numbers) describe what its demonstrations do, not what they
look like in detail: grid sizes and how the output's size relates to the input's, whether the
shape is kept, how much of a same-shape grid changes, how many colours inputs and outputs use and
in what shares (blind to which colours), and whether the outputs bring new ones. Each feature is standardised over the pool and tasks
are compared by cosine similarity, so no single feature's scale dominates.

The pool is the allowed training sets minus the contamination guard: every task of every
evaluation set and every task of the run is excluded by id, by pair and by single grid
(`arcttt.core.contamination.Guard`), so a neighbour is never an evaluated task under another name.
The pool's features are cached on disk (`$ARCTTT_CACHE/neighbours-<key>.npz`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from arcttt.core.contamination import Guard
from arcttt.core.grids import Grid
from arcttt.core.tasks import DATASETS, Task, load_source

FEATURES_VERSION = 2
FEATURES = 24
POOL = ("arc-agi-1/training", "arc-agi-2/training")
"""Training sets neighbours come from (before the guard)."""
EVALUATION = tuple(name for name in DATASETS if name.endswith("/evaluation"))


def _colours(grid: Grid) -> np.ndarray:
    counts = np.bincount(np.asarray(grid).ravel(), minlength=10)[:10]
    return counts / max(counts.sum(), 1)


def _palette(shares: np.ndarray) -> np.ndarray:
    """Colour shares blind to which colours: background (0), then the five largest others."""
    return np.concatenate([[shares[0]], np.sort(shares[1:])[::-1][:5]])


def features(task: Task) -> np.ndarray:
    """24 numbers describing what the task's demonstrations do (the mean over its pairs); blind
    to which colours are used, as the colour augmentations are."""
    rows = []
    for example in task.train:
        source, target = np.asarray(example.input), np.asarray(example.output)
        (hi, wi), (ho, wo) = source.shape, target.shape
        same = source.shape == target.shape
        colours_in, colours_out = _colours(example.input), _colours(example.output)
        new_colours = ((colours_out > 0) & (colours_in == 0)).sum()
        rows.append(np.concatenate([
            [hi / 30, wi / 30, ho / 30, wo / 30, float(same), np.log2(ho * wo / (hi * wi)) / 10,
             float(ho > hi or wo > wi), float(ho < hi or wo < wi),
             float(np.mean(source != target)) if same else 1.0,
             (colours_in > 0).sum() / 10, (colours_out > 0).sum() / 10, new_colours / 10],
            _palette(colours_in), _palette(colours_out)]))
    return np.mean(rows, axis=0)


@dataclass
class Pool:
    """Allowed training tasks and their standardised features."""

    tasks: list[Task]
    matrix: np.ndarray  # [tasks, features], standardised, rows of unit length
    mean: np.ndarray
    scale: np.ndarray

    def embed(self, task: Task) -> np.ndarray:
        vector = (features(task) - self.mean) / self.scale
        return vector / max(float(np.linalg.norm(vector)), 1e-9)

    def nearest(self, task: Task, k: int, exclude: Guard | None = None) -> list[Task]:
        """The k pool tasks most like `task` (ties by id), none that `exclude` (or the task) rules out."""
        similarity = self.matrix @ self.embed(task)
        order = sorted(range(len(self.tasks)), key=lambda i: (-similarity[i], self.tasks[i].id))
        out = []
        own = Guard.of([task])
        for i in order:
            candidate = self.tasks[i]
            if own.reason(candidate) is None and (exclude is None or exclude.reason(candidate) is None):
                out.append(candidate)
                if len(out) == k:
                    break
        return out


SCALE_FLOOR = 0.05
"""Added to each feature's spread: a feature (nearly) constant over the pool must not blow up
a task that differs in it (every feature lies within about [-1, 1])."""


def _standardised(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = raw.mean(axis=0)
    scale = raw.std(axis=0) + SCALE_FLOOR
    matrix = (raw - mean) / scale
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)
    return matrix, mean, scale


def pool_features(tasks: list[Task], cache: Path | None = None) -> np.ndarray:
    """`features` of every task, read from `cache` when it holds exactly these tasks."""
    key = hashlib.sha256(json.dumps([FEATURES_VERSION, [t.id for t in tasks]]).encode()).hexdigest()[:16]
    path = cache / f"neighbours-{key}.npz" if cache is not None else None
    if path is not None and path.exists():
        try:
            with np.load(path) as stored:
                if list(stored["ids"]) == [t.id for t in tasks]:
                    return stored["features"]
        except Exception:  # noqa: BLE001 - a damaged or foreign cache file is rebuilt, whatever is wrong
            pass
    raw = np.stack([features(t) for t in tasks]) if tasks else np.zeros((0, FEATURES))
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temp name of this process's own: workers and ranks build the same cache at once.
        temp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(temp, ids=np.array([t.id for t in tasks]), features=raw)
        temp.replace(path)
    return raw


def build_pool(training: list[Task], guard: Guard, cache: Path | None = None) -> Pool:
    """The training tasks the guard allows, with their standardised features."""
    raw = pool_features(training, cache)
    keep = [i for i, task in enumerate(training) if guard.reason(task) is None]
    allowed, raw = [training[i] for i in keep], raw[keep]
    matrix, mean, scale = _standardised(raw) if allowed else (raw, np.zeros(raw.shape[1]), np.ones(raw.shape[1]))
    return Pool(allowed, matrix, mean, scale)


def default_pool(run_tasks: list[Task], cache: Path | None = None) -> Pool:
    """`POOL` minus every evaluation set and the run's own tasks (by id, pair and grid)."""
    training: dict[str, Task] = {}
    for name in POOL:
        for task in load_source(name).tasks:
            training.setdefault(task.id, task)
    evaluated = [t for name in EVALUATION for t in load_source(name).tasks]
    return build_pool(list(training.values()), Guard.of(evaluated + list(run_tasks)), cache)
