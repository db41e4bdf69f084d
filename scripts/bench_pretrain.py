"""Stage-1 training throughput of the lean engine on the embedded model, by batch shape.

Each shape (rows x length, random ARC-like token ids) runs `--steps` timed training steps after
one warm-up step: forward, masked loss, backward, clipping and a fused AdamW step, as `pretrain`
does. Prints the CPU and tokens/s per shape, so `--batch-tokens` and `--max-tokens` can be sized
by measurement. Run it alone on the machine.

Usage: python scripts/bench_pretrain.py [--shapes 16x512,4x2048,2x4096] [--rank 32] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import torch

from arcttt.core.config import LoraConfig, ModelConfig
from arcttt.engine.lm import LeanLM
from arcttt.engine.model import load_model
from arcttt.engine.threads import keep_freed_memory
from arcttt.engine.ttt import make_optimizer, masked_loss

sys.path.insert(0, os.path.dirname(__file__))
from bench_ttt import cpu_name  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="16x512,8x1024,4x2048,2x4096")
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--release-memory", action="store_true", help="glibc's default: freed memory goes back at once")
    args = parser.parse_args()
    kept = False if args.release_memory else keep_freed_memory()
    name, amx = cpu_name()
    loaded = load_model(ModelConfig(adapter=""))
    lm = LeanLM(loaded.model, LoraConfig(rank=args.rank, alpha=2 * args.rank), max_positions=8192)
    optimizer = make_optimizer(lm.trainable(), 1e-4)
    generator = torch.Generator().manual_seed(0)
    results = {"cpu": name, "amx": amx, "threads": torch.get_num_threads(), "rank": args.rank,
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
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lm.trainable(), 1.0, foreach=True)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
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
