"""Training data for one task's adapter: its augmented leave-one-out samples, encoded, and
optionally samples of its nearest training tasks (retrieval-augmented TTT)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arcttt.core.augment import AugmentSpace, Transform, sample_transforms
from arcttt.core.config import SolveConfig
from arcttt.core.formats import ARCTTT, Codec, Encoded
from arcttt.core.loo import leave_one_out
from arcttt.core.retrieve import Pool
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import Task


@dataclass(frozen=True)
class TrainingData:
    """What a task adapter trains on: the task's own samples, then its neighbours'."""

    own: list[Encoded]
    extra: list[Encoded]
    neighbours: list[str]
    """Ids of the training tasks whose samples are in `extra`."""

    @property
    def samples(self) -> list[Encoded]:
        return self.own + self.extra

    @property
    def dropped(self) -> int:
        """Context demonstrations left out of the task's own samples to fit the token limit."""
        return sum(len(e.dropped) for e in self.own)


def training_max_tokens(config: SolveConfig) -> int:
    """The longest training sequence: `train.max_tokens`, else (0) what inference holds."""
    return config.train.max_tokens or config.infer.max_tokens


def task_samples(task: Task, config: SolveConfig, rng: np.random.Generator, cap: int | None = None,
                 codec: Codec = ARCTTT) -> list[Encoded]:
    """The task's augmented leave-one-out samples, encoded within the training token limit."""
    train = config.train
    samples = leave_one_out(task, rng, cap or train.max_examples, AugmentSpace(colours=train.colours),
                            train.leave_two_out, train.extras)
    max_tokens = training_max_tokens(config)
    return [e for s in samples
            if (e := codec.encode(s.context, s.query, max_tokens, demo_loss=train.demo_loss)) is not None]


def task_views(task: Task, config: SolveConfig) -> tuple[Transform, ...]:
    """The views the solver predicts `task` under, identity first, from the task's own generator."""
    return sample_transforms(task_rng(config.seed, task.id, "views"), config.infer.views, len(task.train),
                             AugmentSpace(colours=config.train.colours))


def neighbour_samples(task: Task, pool: Pool | None, config: SolveConfig, rng: np.random.Generator,
                      own: int, codec: Codec = ARCTTT) -> tuple[list[Encoded], list[str]]:
    """Samples of the task's nearest allowed training tasks, `neighbour_share` x `own` in all."""
    if pool is None or config.train.neighbours == 0 or own == 0:
        return [], []
    neighbours = pool.nearest(task, config.train.neighbours)
    if not neighbours:
        return [], []
    each = max(1, round(config.train.neighbour_share * own / len(neighbours)))
    return [e for n in neighbours for e in task_samples(n, config, rng, each, codec)], [n.id for n in neighbours]


def training_data(task: Task, pool: Pool | None, config: SolveConfig, rng: np.random.Generator,
                  codec: Codec = ARCTTT) -> TrainingData:
    """The task's own samples, then (with `train.neighbours`) its neighbours', from one generator."""
    own = task_samples(task, config, rng, codec=codec)
    extra, neighbours = neighbour_samples(task, pool, config, rng, len(own), codec)
    return TrainingData(own, extra, neighbours)
