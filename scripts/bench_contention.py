"""How arcttt's training throughput holds up when another process competes for the cores.

For each OpenMP wait policy (unset = libgomp's spin-then-sleep, PASSIVE = sleep at once) and each
thread count, it measures lean-engine training tokens/s alone, beside a pure-Python busy loop
(one core taken), and beside a twin of itself (two arcttt jobs on one machine). Every measurement
runs in a fresh process, because the wait policy is read when the OpenMP runtime starts.

Usage: python scripts/bench_contention.py [--seconds 8] [--json]
       python scripts/bench_contention.py --quick --json   # seconds: the tiny model, one policy, one thread (CI)
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker(threads: int, seconds: float, quick: bool = False) -> None:
    """Train on a fixed batch for `seconds` after a warm-up; print tokens/s (forever with seconds <= 0)."""
    import torch

    from arcttt.core.config import load_config, override
    from arcttt.core.samples import task_samples
    from arcttt.core.seeding import task_rng
    from arcttt.core.tasks import find_task, load_source
    from arcttt.engine.runtime import Runtime
    from arcttt.engine.ttt import collate, make_optimizer, masked_loss
    from arcttt.testing import tiny_loaded

    torch.set_num_threads(threads)
    config = load_config(ROOT / "configs" / "cpu-ttt.toml")
    if quick:
        config = override(config, {"model.adapter": "", "model.device": "cpu"})
        runtime = Runtime(config, tiny_loaded(), with_adapter=True)
        task = load_source(ROOT / "data" / "sample").tasks[0]
    else:
        runtime = Runtime(config, with_adapter=True)
        task = find_task("e345f17b", "arc-agi-1/evaluation")
    samples = task_samples(task, config, task_rng(0, task.id, "train"), cap=4)[:4]
    ids, targets = collate(samples, torch.device("cpu"), runtime.codec.pad)
    lm = runtime.lm
    optimizer = make_optimizer(lm.trainable(), config.train.lr, config.train.weight_decay)
    lm.train()

    def step() -> None:
        masked_loss(lm(ids), ids, targets).backward()
        optimizer.step()
        optimizer.zero_grad()

    step()
    tokens, start = 0, time.perf_counter()
    while seconds <= 0 or time.perf_counter() - start < seconds:
        step()
        tokens += ids.numel()
    print(json.dumps({"tokens_per_s": tokens / (time.perf_counter() - start)}), flush=True)


def measure(policy: str, threads: int, load: str, seconds: float, quick: bool = False) -> float:
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if policy != "unset":
        env["OMP_WAIT_POLICY"] = policy
    me = [sys.executable, str(Path(__file__).resolve()), "--worker", "--threads", str(threads),
          *(["--quick"] if quick else []), "--seconds", str(seconds)]
    competitor = None
    if load == "busy":
        competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    elif load == "twin":
        competitor = subprocess.Popen(me[:-1] + ["0"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1 if quick else 6)  # let the twin load its model and start training
    try:
        out = subprocess.run(me, env=env, capture_output=True, text=True, timeout=600, check=True).stdout
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    return json.loads(out.strip().splitlines()[-1])["tokens_per_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true",
                        help="seconds, for CI: the tiny random model, PASSIVE only, one thread, alone and "
                             "beside a twin")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker(args.threads, args.seconds, args.quick)
        return
    from bench_ttt import cpu_name  # noqa: E402  (same folder)

    cpu, amx = cpu_name()
    print(f"CPU: {cpu} ({os.cpu_count()} cores, AMX: {amx})", file=sys.stderr)
    cores = os.cpu_count() or 1
    if args.quick:
        runs = [("PASSIVE", 1, "alone"), ("PASSIVE", 1, "twin")]
        seconds = 0.5
    else:
        runs = list(itertools.product(("unset", "PASSIVE"), sorted({cores, 1}, reverse=True),
                                      ("alone", "busy", "twin")))
        seconds = args.seconds
    results = []
    for policy, threads, load in runs:
        value = measure(policy, threads, load, seconds, args.quick)
        results.append({"omp_wait_policy": policy, "threads": threads, "load": load, "tokens_per_s": round(value, 1)})
        print(f"OMP_WAIT_POLICY={policy:8s} threads={threads} {load:6s}: {value:7.0f} tokens/s", file=sys.stderr)
    if args.json:
        print(json.dumps({"cpu": cpu, "amx": amx, "quick": args.quick, "results": results}, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
