"""Times the model-free core on real data: loading, leave-one-out sets, encoding, voting.

Usage: python scripts/bench_core.py [--dataset arc-agi-1/evaluation] [--seed 0] [--json]
       python scripts/bench_core.py --quick --json    # the sample tasks only, in a second (CI)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from arcttt.core.augment import sample_transforms
from arcttt.core.encode import encode
from arcttt.core.loo import leave_one_out
from arcttt.core.ranking import attempts
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import load_source
from arcttt.core.vote import Candidate, rank

SAMPLE_TASKS = Path(__file__).resolve().parent.parent / "data" / "sample"


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="arc-agi-1/evaluation", help="a dataset name or a task folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cap", type=int, default=250)
    parser.add_argument("--quick", action="store_true", help="the sample tasks only, for CI")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout, the lines on stderr")
    args = parser.parse_args()
    out = sys.stderr if args.json else sys.stdout
    sources = [str(SAMPLE_TASKS)] if args.quick else ["arc-agi-1/training", "arc-agi-1/evaluation"]
    dataset = str(SAMPLE_TASKS) if args.quick else args.dataset
    result: dict = {"dataset": "data/sample" if args.quick else dataset}

    loaded, seconds = timed(lambda: [load_source(s) for s in sources])
    result["load"] = {"tasks": sum(len(t.tasks) for t in loaded), "errors": sum(len(t.errors) for t in loaded),
                      "seconds": round(seconds, 3)}
    print(f"load {' + '.join(sources)}: {result['load']['tasks']} tasks, {result['load']['errors']} errors, "
          f"{seconds:.2f} s", file=out)

    tasks = load_source(dataset).tasks
    sizes, tokens = [], []

    def build_all():
        for task in tasks:
            samples = leave_one_out(task, task_rng(args.seed, task.id), cap=args.cap)
            sizes.append(len(samples))
            encoded = [encode(s.context, s.query, max_tokens=8192) for s in samples]
            tokens.append(statistics.median(len(e) for e in encoded if e is not None))

    _, seconds = timed(build_all)
    result["leave_one_out"] = {"ms_per_task": round(seconds / len(tasks) * 1000, 2),
                               "median_samples": statistics.median(sizes), "median_tokens": statistics.median(tokens)}
    print(f"leave-one-out sets + encoding, {result['dataset']}: {seconds / len(tasks) * 1000:.1f} ms/task, "
          f"median {statistics.median(sizes):.0f} samples/task (cap {args.cap}), "
          f"median sample length {statistics.median(tokens):.0f} tokens", file=out)

    def vote_all():
        for task in tasks:
            views = sample_transforms(task_rng(args.seed, task.id, "views"), 16, len(task.train))
            grid = task.test[0].input
            candidates = [Candidate(view.invert(view.apply(grid)), view.key) for view in views]
            first, _ = attempts(rank(candidates), grid)
            assert first == grid, f"{task.id}: a view's inverse did not give its test input back"

    _, seconds = timed(vote_all)
    result["vote_ms_per_task"] = round(seconds / len(tasks) * 1000, 3)
    print(f"16 views, apply + invert + vote: {seconds / len(tasks) * 1000:.2f} ms/task", file=out)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
