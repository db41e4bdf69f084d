"""Run the program-search expert alone over a dataset, folder or suite, and score it.

Usage:
  python scripts/program_search.py --source arc-agi-1/training --time-limit 10 --workers 2
  python scripts/program_search.py --suite cpu-dev --json --out runs/programs.jsonl
  python scripts/program_search.py --quick          # a few sample tasks, seconds: for CI
Scored by the official rule: a test output is correct when it is among the 2 attempts; a task is
solved when all its test outputs are correct; the ARC Prize score gives each task its share of
correct test outputs, over the tasks. Peak memory is the largest resident size of one worker
process (a task's search included). No torch is imported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

# This checkout's arcttt, also in the worker processes (spawned: they inherit sys.path), never the
# one an editable install points to, which may be another checkout being edited meanwhile.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arcttt.core.durable import write_text_atomic  # noqa: E402
from arcttt.core.errors import ArcError, notice  # noqa: E402
from arcttt.core.grids import to_json  # noqa: E402
from arcttt.core.tasks import Task, load_source  # noqa: E402
from arcttt.programs import search_task  # noqa: E402
from arcttt.run.provenance import cpu_name, git_commit  # noqa: E402


def load_tasks(args: argparse.Namespace) -> list[Task]:
    if args.suite:
        from arcttt.run.leaderboard import load_suite  # torch-free at import

        tasks = load_suite(args.suite).load()
    else:
        tasks = list(load_source(args.source).tasks)
    return tasks[: args.limit] if args.limit else tasks


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run_task(task: Task, time_limit: float, max_depth: int, views: bool = True) -> dict:
    result = search_task(task, time_limit=time_limit, max_depth=max_depth, views=views)
    correct = [ex.output is not None and ex.output in attempts for ex, attempts in zip(task.test, result.attempts)]
    return {
        "task": task.id, "solved": all(correct), "fraction": sum(correct) / len(correct),
        "found": result.found, "programs": list(result.programs[:5]), "seconds": round(result.seconds, 4),
        "evaluated": result.evaluated, "depth_reached": result.depth_reached, "cut": result.cut,
        "kinds": list(result.kinds[:5]), "tests": len(task.test), "peak_mib": peak_mib(),
        "attempts": [[to_json(g) for g in a] for a in result.attempts],
    }


def peak_mib() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB, macOS bytes)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20 if sys.platform == "darwin" else 1 << 10), 1)


def _work(job: tuple) -> dict:
    task, time_limit, max_depth, views = job
    return run_task(task, time_limit, max_depth, views)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="arc-agi-1/training", help="dataset name, task file or folder")
    parser.add_argument("--suite", help="a suite of data/suites (overrides --source)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N tasks")
    parser.add_argument("--time-limit", type=float, default=2.0, help="seconds of search a task")
    parser.add_argument("--max-depth", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print only the summary as JSON")
    parser.add_argument("--out", type=Path, help="write one JSON line a task here")
    parser.add_argument("--quick", action="store_true", help="the sample tasks at depth 2: seconds, for CI")
    parser.add_argument("--workers", type=int, default=1, help="tasks searched at once, one process each")
    parser.add_argument("--no-views", action="store_true", help="search the task as given only")
    args = parser.parse_args(argv)
    if args.quick:
        args.source, args.suite, args.time_limit, args.limit = str(ROOT / "data" / "sample"), None, 30.0, 5
        args.max_depth = 2
    try:
        tasks = load_tasks(args)
    except ArcError as exc:
        notice(f"error: {exc}")
        return 1
    rows = []
    jobs = [(task, args.time_limit, args.max_depth, not args.no_views) for task in tasks]
    if args.workers > 1:
        import multiprocessing

        pool = multiprocessing.get_context("spawn").Pool(args.workers, maxtasksperchild=50)
        results = pool.imap(_work, jobs)
    else:
        pool, results = None, map(_work, jobs)
    for i, (task, row) in enumerate(zip(tasks, results), 1):
        rows.append(row)
        if not args.json:
            notice(f"[{i}/{len(tasks)}] {task.id} {'solved' if row['solved'] else 'found' if row['found'] else '-'} "
                   f"{row['seconds']:.2f}s {row['programs'][0] if row['programs'] else ''}")
    if pool is not None:
        pool.close()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(args.out, "".join(json.dumps(r) + "\n" for r in rows))
    seconds = [r["seconds"] for r in rows]
    summary = {
        "source": args.suite or args.source, "tasks": len(rows), "solved": sum(r["solved"] for r in rows),
        "fraction_score": round(sum(r["fraction"] for r in rows), 3), "found": sum(r["found"] for r in rows),
        "arc_prize_score": round(sum(r["fraction"] for r in rows) / max(1, len(rows)), 4),
        "peak_mib": max((r["peak_mib"] for r in rows), default=0.0), "workers": args.workers,
        "views": not args.no_views,
        "median_seconds": round(statistics.median(seconds), 3) if seconds else 0.0,
        "p90_seconds": round(percentile(seconds, 0.9), 3), "time_limit": args.time_limit,
        "max_depth": args.max_depth, "cpu": cpu_name(), "commit": git_commit(),
        "solved_ids": sorted(r["task"] for r in rows if r["solved"]),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"cpu: {summary['cpu']}; code: {summary['commit'] or 'not a git checkout'}")
        print(f"{summary['source']}: solved {summary['solved']}/{summary['tasks']}, ARC Prize score "
              f"{100 * summary['arc_prize_score']:.2f}% (2 attempts), candidates on {summary['found']}; "
              f"median {summary['median_seconds']} s, p90 {summary['p90_seconds']} s a task "
              f"(limit {args.time_limit} s, depth {args.max_depth}, {args.workers} worker(s)); "
              f"peak memory {summary['peak_mib']} MiB a worker")
        print("solved: " + " ".join(summary["solved_ids"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
