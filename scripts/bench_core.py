"""Times the model-free core on real data: loading, leave-one-out sets, encoding, voting.

Usage: python scripts/bench_core.py [--dataset arc-agi-1/evaluation] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import time

from arcttt.core.augment import sample_transforms
from arcttt.core.encode import encode
from arcttt.core.loo import leave_one_out
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import load_dataset
from arcttt.core.vote import Candidate, vote


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="arc-agi-1/evaluation")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cap", type=int, default=250)
    args = parser.parse_args()

    (training, evaluation), seconds = timed(
        lambda: (load_dataset("arc-agi-1/training"), load_dataset("arc-agi-1/evaluation")))
    print(f"load all ARC-AGI-1 (training + evaluation): {len(training.tasks) + len(evaluation.tasks)} tasks, "
          f"{len(training.errors) + len(evaluation.errors)} errors, {seconds:.2f} s")

    tasks = load_dataset(args.dataset).tasks
    sizes, tokens = [], []

    def build_all():
        for task in tasks:
            samples = leave_one_out(task, task_rng(args.seed, task.id), cap=args.cap)
            sizes.append(len(samples))
            encoded = [encode(s.context, s.query, max_tokens=8192) for s in samples]
            tokens.append(statistics.median(len(e) for e in encoded if e is not None))

    _, seconds = timed(build_all)
    print(f"leave-one-out sets + encoding, {args.dataset}: {seconds / len(tasks) * 1000:.1f} ms/task, "
          f"median {statistics.median(sizes):.0f} samples/task (cap {args.cap}), "
          f"median sample length {statistics.median(tokens):.0f} tokens")

    def vote_all():
        for task in tasks:
            views = sample_transforms(task_rng(args.seed, task.id, "views"), 16, len(task.train))
            grid = task.test[0].input
            candidates = [Candidate(view.invert(view.apply(grid)), view.key) for view in views]
            vote(candidates, grid)

    _, seconds = timed(vote_all)
    print(f"16 views, apply + invert + vote: {seconds / len(tasks) * 1000:.2f} ms/task")


if __name__ == "__main__":
    main()
