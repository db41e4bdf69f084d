"""Leave-one-out training sets: each demonstration in turn is the query, the others its context.

Order of the set: the n leave-one-out samples, then leave-two-out samples, then augmented copies of
both (a random invertible transform on every grid, context order shuffled), de-duplicated and cut
at `cap` (250 in the MIT paper). Deterministic for a given generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import numpy as np

from arcttt.core.augment import IDENTITY, AugmentSpace, Transform, sample_extra, sample_transforms
from arcttt.core.tasks import Example, Task

MAX_ROUNDS = 6


@dataclass(frozen=True)
class Sample:
    """One training sequence: context demonstrations and a query whose output is the target."""

    context: tuple[Example, ...]
    query: Example
    augmentation: str = IDENTITY
    """What was applied, by the transforms' keys: for reading a training set (and testing it)."""


def _shuffled(items: list[Example], rng: np.random.Generator) -> tuple[Example, ...]:
    return tuple(items[i] for i in rng.permutation(len(items)))


def _transformed(sample: Sample, transform: Transform, rng: np.random.Generator) -> Sample:
    def t(example: Example) -> Example:
        return Example(transform.apply(example.input), transform.apply(example.output))

    context = _shuffled([t(e) for e in sample.context], rng)
    return Sample(context, t(sample.query), transform.key)


def _with_extra(sample: Sample, rng: np.random.Generator) -> Sample | None:
    extra = sample_extra(rng)
    changed = extra.apply_examples(sample.context + (sample.query,))
    if changed is None:
        return None
    return Sample(changed[:-1], changed[-1], f"{sample.augmentation} {extra.key}")


def base_samples(task: Task, rng: np.random.Generator, leave_two_out: bool = True,
                 cap: int | None = None) -> list[Sample]:
    """The un-augmented samples: leave-one-out, then leave-two-out (when n >= 3), at most `cap`.

    Built one at a time and stopped at the cap: n demonstrations have n(n - 1) leave-two-out
    samples of n - 2 demonstrations each, cubic in n, so building them all first would take
    gigabytes for a task with hundreds of demonstrations.
    """
    demos = list(task.train)
    n = len(demos)
    if n == 1:
        return [Sample((), demos[0])]
    limit = cap if cap is not None else n + n * (n - 1)
    samples = [Sample(_shuffled(demos[:i] + demos[i + 1:], rng), demos[i]) for i in range(min(n, limit))]
    if leave_two_out and n >= 3:
        for i, j in permutations(range(n), 2):
            if len(samples) >= limit:
                break
            rest = [d for k, d in enumerate(demos) if k not in (i, j)]
            samples.append(Sample(_shuffled(rest, rng), demos[i]))
    return samples


def leave_one_out(task: Task, rng: np.random.Generator, cap: int = 250,
                  space: AugmentSpace = AugmentSpace(), leave_two_out: bool = True,
                  extras: bool = False, extra_rate: float = 0.3) -> tuple[Sample, ...]:
    """The task's training set, at most `cap` distinct samples.

    `extras` adds the non-invertible augmentations (x2 upscaling, shifts) to a share
    `extra_rate` of the augmented samples; they are for training only. Of `space`, only the
    symmetries and colours are used: every sample's context comes in an order of its own anyway,
    so `space.reorder` has nothing to add.
    """
    base = base_samples(task, rng, leave_two_out, cap)
    out: dict[tuple, Sample] = {}

    def add(sample: Sample) -> None:
        out.setdefault((sample.context, sample.query), sample)

    for sample in base:
        if len(out) >= cap:
            break
        add(sample)
    # Context order is shuffled per sample, so transforms need not carry a demonstration order.
    geometry_and_colours = AugmentSpace(space.geometric, space.colours, reorder=False)
    # Transforms can map a sample onto one already there (few colours, symmetric grids): sample
    # more in later rounds, a bounded number of them.
    for _ in range(MAX_ROUNDS):
        n_transforms = -(-(cap - len(out)) // len(base)) + 8
        for transform in sample_transforms(rng, n_transforms, len(task.train), geometry_and_colours)[1:]:
            for sample in base:
                if len(out) >= cap:
                    return tuple(out.values())
                augmented = _transformed(sample, transform, rng)
                if extras and rng.random() < extra_rate:
                    augmented = _with_extra(augmented, rng) or augmented
                add(augmented)
    return tuple(out.values())


def random_sample(task: Task, rng: np.random.Generator, space: AugmentSpace = AugmentSpace(),
                  queries: list[int] | None = None, extra_rate: float = 0.0) -> Sample:
    """One random augmented leave-one-out sample, its query drawn from `queries` (default: any).

    A share `extra_rate` of samples also gets a training-only extra (x2 upscaling, a shift).
    As in `leave_one_out`, `space.reorder` is not used: the context is shuffled.
    """
    demos = list(task.train)
    choices = queries if queries else list(range(len(demos)))
    i = choices[int(rng.integers(len(choices)))]
    sample = Sample(_shuffled(demos[:i] + demos[i + 1:], rng), demos[i])
    geometry_and_colours = AugmentSpace(space.geometric, space.colours, reorder=False)
    transform = sample_transforms(rng, 1, len(demos), geometry_and_colours, include_identity=False)[0]
    augmented = _transformed(sample, transform, rng)
    if extra_rate and rng.random() < extra_rate:
        augmented = _with_extra(augmented, rng) or augmented
    return augmented
