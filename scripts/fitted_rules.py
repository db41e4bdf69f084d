"""Each fitted rule of the program search alone, over a dataset: where it verifies on every
demonstration, is it right on the test?

Usage:
  python scripts/fitted_rules.py --source arc-agi-1/training
  python scripts/fitted_rules.py --source arc-agi-1/training --solved runs/train.jsonl --json
  python scripts/fitted_rules.py --quick          # the sample tasks: seconds, for CI
Per rule (`arcttt.programs.fitted.FITTERS` but the colour map, which runs inside the core): the
tasks where it verifies and is right on every test output, where it verifies and is wrong, how
many of its right ones a program-search run (`--solved`, the JSON lines of
`scripts/program_search.py --out`) left unsolved, and its seconds over the whole set. Design
rules on ARC-AGI-1 training; measure evaluation once.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's arcttt, as scripts/program_search.py

from arcttt.core.grids import to_array  # noqa: E402
from arcttt.core.tasks import load_source  # noqa: E402
from arcttt.programs.fitted import FITTERS, verified  # noqa: E402
from arcttt.run.provenance import cpu_name, git_commit  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="arc-agi-1/training", help="dataset name, task file or folder")
    parser.add_argument("--solved", type=Path, default=None, help="program_search.py --out lines: count the new ones")
    parser.add_argument("--json", action="store_true", help="print only the summary as JSON")
    parser.add_argument("--quick", action="store_true", help="data/sample: seconds, for CI")
    args = parser.parse_args(argv)
    import numpy as np

    source = "data/sample" if args.quick else args.source
    tasks = [t for t in load_source(ROOT / source if args.quick else source).tasks if t.has_solutions]
    solved = set()
    if args.solved is not None:
        solved = {r["task"] for r in map(json.loads, args.solved.read_text().splitlines()) if r["solved"]}
    rules = {f.__name__: {"right": 0, "wrong": 0, "new": 0, "seconds": 0.0, "wrong_tasks": []} for f in FITTERS[1:]}
    for task in tasks:
        made = [to_array(e.input) for e in task.train]
        wanted = [to_array(e.output) for e in task.train]
        tests = [to_array(e.input) for e in task.test]
        for fitter in FITTERS[1:]:
            row = rules[fitter.__name__]
            began = time.perf_counter()
            found = verified(fitter, made, wanted, tests)
            row["seconds"] += time.perf_counter() - began
            if found is None:
                continue
            name, outs = found
            right = all(np.array_equal(o, to_array(s)) for o, s in zip(outs, task.solutions))
            row["right" if right else "wrong"] += 1
            row["new"] += right and args.solved is not None and task.id not in solved
            if not right:
                row["wrong_tasks"].append(f"{task.id}: {name}")
    for row in rules.values():
        row["seconds"] = round(row["seconds"], 2)
    summary = {"source": source, "tasks": len(tasks), "rules": rules, "cpu": cpu_name(), "commit": git_commit()}
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"cpu: {summary['cpu']}; code: {summary['commit'] or 'not a git checkout'}; {source}, {len(tasks)} tasks")
    for name, row in rules.items():
        new = f", {row['new']} unsolved by the search" if args.solved is not None else ""
        print(f"{name:22s} right {row['right']:3d}, wrong {row['wrong']:3d}{new}; {row['seconds']:.1f} s"
              + (f"; wrong: {', '.join(row['wrong_tasks'])}" if row["wrong_tasks"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
