"""Function applications a second: the compiled search core against the Python search it replaced.

Both search the same ARC-AGI-1 training tasks to depth 2 (every state expanded, no time cut), one
after the other in this process, and each reports how many function applications (one function
on every image of a task) it made and in how many seconds. The Python search is read from the
commit that last had it (`--old`, default 4e39a10) into a temp folder, so nothing of it stays in
the package. The core runs without its last-depth shortcut (`lazy_last=False`), so that every
application it counts computed every image, as the Python search's do.

    python scripts/bench_search.py --tasks 40
    python scripts/bench_search.py --quick      # 3 tasks, depth 1: seconds, for CI
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OLD_FILES = ("dsl.py", "primitives.py", "fitted.py", "search.py")


def load_old_search(commit: str, folder: Path):
    """The Python search of `commit` as a package `oldprograms` under `folder`."""
    package = folder / "oldprograms"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in OLD_FILES:
        text = subprocess.run(["git", "show", f"{commit}:arcttt/programs/{name}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
        (package / name).write_text(text.replace("arcttt.programs.", "oldprograms."))
    sys.path.insert(0, str(folder))
    return importlib.import_module("oldprograms.search")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40, help="the first N ARC-AGI-1 training tasks")
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--old", default="4e39a10", help="the commit whose Python search to compare with")
    parser.add_argument("--quick", action="store_true", help="3 tasks at depth 1: for CI")
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.depth = 3, 1

    from arcttt.core.tasks import load_source
    from arcttt.programs import _core
    from arcttt.programs.search import _grids, size_rules

    from arcttt.run.provenance import cpu_name

    tasks = list(load_source("arc-agi-1/training").tasks)[:args.tasks]
    with tempfile.TemporaryDirectory() as folder:
        old = load_old_search(args.old, Path(folder))
        old_apps, old_seconds = 0, 0.0
        for task in tasks:
            result = old.search_task(task, time_limit=1e9, max_depth=args.depth)
            old_apps += result.evaluated
            old_seconds += result.seconds
    new_apps, new_seconds = 0, 0.0
    for task in tasks:
        demo_in, demo_out, test_in = _grids(task, "identity", None)
        sizes = [s for _, s in size_rules(task)[:2]]
        started = time.perf_counter()
        result = _core.search(demo_in, demo_out, test_in, sizes, max_depth=args.depth, time_limit=1e9,
                              lazy_last=False)
        new_seconds += time.perf_counter() - started
        new_apps += result["applications"]
    report = {
        "cpu": cpu_name(), "tasks": len(tasks), "depth": args.depth,
        "python": {"applications": old_apps, "seconds": round(old_seconds, 2),
                   "per_second": round(old_apps / old_seconds)},
        "core": {"applications": new_apps, "seconds": round(new_seconds, 2),
                 "per_second": round(new_apps / new_seconds)},
    }
    report["ratio"] = round(report["core"]["per_second"] / report["python"]["per_second"], 1)
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
