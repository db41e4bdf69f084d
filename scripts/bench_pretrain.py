"""Stage-1 training throughput of the lean engine on the embedded model, by batch shape.

Each shape (rows x length, random ARC-like token ids) runs `--steps` timed training steps after
one warm-up step: forward, masked loss, and `pretrain`'s own step (backward, clipping, fused AdamW). Prints the CPU and tokens/s per shape, so `--batch-tokens` and `--max-tokens` can be sized
by measurement. Run it alone on the machine.

Usage: python scripts/bench_pretrain.py [--shapes 16x512,4x2048,2x4096] [--rank 32] [--json]
       python scripts/bench_pretrain.py --quick --json    # seconds: the tiny random model, tiny shapes (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

from arcttt.core.config import LoraConfig, ModelConfig
from arcttt.engine.model import load_model
from arcttt.engine.runtime import build_lm
from arcttt.engine.threads import keep_freed_memory
from arcttt.engine.ttt import Stepper, make_optimizer, masked_loss
from arcttt.testing import tiny_loaded

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_ttt import cpu_name  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="16x512,8x1024,4x2048,2x4096")
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--release-memory", action="store_true", help="glibc's default: freed memory goes back at once")
    parser.add_argument("--quick", action="store_true", help="the tiny random model, shapes 4x32,2x64, one step (CI)")
    args = parser.parse_args()
    if args.quick:
        args.shapes, args.steps = "4x32,2x64", 1
    kept = False if args.release_memory else keep_freed_memory()
    name, amx = cpu_name()
    loaded = tiny_loaded() if args.quick else load_model(ModelConfig(adapter=""))
    longest = max(int(shape.split("x")[1]) for shape in args.shapes.split(","))
    lm = build_lm(loaded.model, LoraConfig(rank=args.rank, alpha=2 * args.rank), 0, max(longest, 8192), backend="lean")
    step_with = Stepper(make_optimizer(lm.trainable(), 1e-4), lm.trainable(), loaded.device, lm.dtype)
    generator = torch.Generator().manual_seed(0)
    results = {"cpu": name, "amx": amx, "quick": args.quick, "threads": torch.get_num_threads(), "rank": args.rank,
               "memory_kept": kept, "shapes": {}}
    lm.train()
    for shape in args.shapes.split(","):
        rows, length = (int(x) for x in shape.split("x"))
        ids = torch.randint(0, 11, (rows, length), generator=generator)
        targets = torch.rand((rows, length), generator=generator) < 0.4
        times = []
        for step in range(args.steps + 1):
            start = time.perf_counter()
            loss = masked_loss(lm(ids), ids, targets)
            step_with(loss)
            loss.item()
            if step:
                times.append(time.perf_counter() - start)
        seconds = sum(times) / len(times)
        results["shapes"][shape] = round(rows * length / seconds)
        print(f"{shape}: {rows * length / seconds:.0f} tokens/s ({seconds:.2f} s a step)", file=sys.stderr, flush=True)
    print(json.dumps(results) if args.json else f"CPU: {name} (AMX: {amx}), {results['threads']} threads, freed memory kept: {kept}: "
          + ", ".join(f"{k} {v} tokens/s" for k, v in results["shapes"].items()))


if __name__ == "__main__":
    main()
