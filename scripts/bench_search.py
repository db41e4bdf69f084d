"""Function applications a second: the compiled search core against the Python search it replaced.

Both search the same ARC-AGI-1 training tasks to depth 2 (every state expanded, no time cut), each
in a fresh process of its own, one after the other, in `--rounds` rounds; each reports how many
function applications (one function on every image of a task) it made and in how many seconds,
and the ratios are the rounds' medians. The Python search is read from the commit that last had
it (`--old`, default 4e39a10) into a temp folder, so nothing of it stays in the package.

The core runs three ways. `core` ("ratio"): without its last-depth shortcut (`lazy_last=False`),
so that every application it counts computed every image. `lazy` ("ratio_lazy"): with it, where at
the last depth an application computes the smallest demonstration's image first and stops after
any demonstration's image that no candidate could follow (the output's size, and right after a
colour map or as a piece). This is the like-for-like measure: at its last depth the Python search
skipped a size-keeping function where the sizes were already wrong and stopped an application at
the first image of the wrong size. `production` ("ratio_production"): the core as the solver runs
it, lazy and with an image of another size placed on the predicted output size (`place`), which
makes more applications go on past their first image (the Python search placed nothing).

    python scripts/bench_search.py --tasks 40
    python scripts/bench_search.py --quick      # 3 tasks, depth 1: seconds, for CI
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
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


SIDES = ("python", "core", "lazy", "production")
RATIOS = {"ratio": "core", "ratio_lazy": "lazy", "ratio_production": "production"}


def rate(applications: int, seconds: float) -> dict:
    # Seconds to 0.1 ms: a quick run's core takes milliseconds, and rounds add them up again.
    return {"applications": applications, "seconds": round(seconds, 4),
            "per_second": round(applications / max(seconds, 1e-4))}


def measure_python(tasks: list, commit: str, depth: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        old = load_old_search(commit, Path(folder))
        apps, seconds = 0, 0.0
        for task in tasks:
            result = old.search_task(task, time_limit=1e9, max_depth=depth)
            apps += result.evaluated
            seconds += result.seconds
    return rate(apps, seconds)


def measure_core(tasks: list, depth: int, side: str, repeat: int) -> dict:
    from arcttt.programs import _core
    from arcttt.programs.search import _grids, size_rules

    prepared = [(*_grids(task, "identity", None), [s for _, s in size_rules(task)[:2]]) for task in tasks]
    lazy = side != "core"
    apps, seconds = 0, 0.0
    for _ in range(repeat):
        for demo_in, demo_out, test_in, sizes in prepared:
            # As the solver places: on the simplest size rule's sizes (search._core_search).
            place = sizes[0] if side == "production" and sizes else []
            started = time.perf_counter()
            result = _core.search(demo_in, demo_out, test_in, sizes, max_depth=depth, time_limit=1e9, lazy_last=lazy,
                                  place=place)
            seconds += time.perf_counter() - started
            apps += result["applications"]
    return rate(apps, seconds)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=40, help="the first N ARC-AGI-1 training tasks")
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--old", default="4e39a10", help="the commit whose Python search to compare with")
    parser.add_argument("--repeat", type=int, default=5,
                        help="runs of the core over the tasks, timed together (one lasts a fraction of a second)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the four measurements; the ratios' median")
    parser.add_argument("--quick", action="store_true", help="3 tasks at depth 1: for CI")
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)  # one measurement, in a child process
    args = parser.parse_args(argv)
    if args.quick:
        args.tasks, args.depth, args.repeat, args.rounds = 3, 1, 1, 1

    from arcttt.core.tasks import load_source
    from arcttt.run.provenance import cpu_name

    if args.side:
        tasks = list(load_source("arc-agi-1/training").tasks)[:args.tasks]
        if args.side == "python":
            measured = measure_python(tasks, args.old, args.depth)
        else:
            measured = measure_core(tasks, args.depth, args.side, args.repeat)
        print(json.dumps(measured))
        return measured
    # Each side in a fresh process: after the Python search, whose caches stay alive, the core
    # ran 12% slower in the same process (a larger heap, and collections that walk it). Rounds
    # of the four sides one after the other: the Python search's speed moved with the machine's
    # load more than the core's (57-91 k applications a second in one session), so each round
    # gives its own ratios and the report their median.
    report = {"cpu": cpu_name(), "tasks": args.tasks, "depth": args.depth, "core_runs": args.repeat}
    own = [f"--tasks={args.tasks}", f"--depth={args.depth}", f"--old={args.old}", f"--repeat={args.repeat}"]
    rounds = []
    for _ in range(args.rounds):
        measured = {}
        for side in SIDES:
            child = subprocess.run([sys.executable, __file__, *own, f"--side={side}"], cwd=ROOT, check=True,
                                   capture_output=True, text=True)
            measured[side] = json.loads(child.stdout.strip().splitlines()[-1])
        for ratio, side in RATIOS.items():
            measured[ratio] = round(measured[side]["per_second"] / measured["python"]["per_second"], 1)
        rounds.append(measured)
    for side in SIDES:
        report[side] = rate(sum(r[side]["applications"] for r in rounds), sum(r[side]["seconds"] for r in rounds))
    for ratio in RATIOS:
        report[ratio] = statistics.median(r[ratio] for r in rounds)
    report["rounds"] = [{k: r[k] for k in RATIOS} for r in rounds]
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
