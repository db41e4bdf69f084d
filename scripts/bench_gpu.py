"""TTT throughput on a GPU (or, with small settings, the CPU): what `solve` costs and how close
training comes to the device's peak.

For one model (the embedded Gemma 3 270M, a 1B-class Llama with random weights in Llama 3.2 1B's
shape, so nothing is downloaded, or any model `arcttt solve --model` takes):
- the device, the placement decision (dtype, quantization and why), a bf16 matmul micro-benchmark
  of the model's own linear shapes, and the device's nominal dense bf16 peak where known;
- training: tokens/s, achieved TFLOP/s (matmul FLOPs of the LoRA step) and its share of both
  peaks, over `--steps` steps of `--batch-tokens` tokens in samples of `--length` tokens;
- decoding: prefill and decode tokens/s for every view of one task;
- seconds per task of `solve_task` over a suite or task source (training + decoding + vote);
- peak GPU memory of each phase.

Usage: python scripts/bench_gpu.py [--model embedded|1b|tiny|PATH] [--config configs/gpu-ttt.toml]
       [--suite cpu-dev | --tasks data/sample] [--limit N] [--json]
       python scripts/bench_gpu.py --quick --device cpu --json   # seconds: a dry run of the same code (CI)
Without a CUDA GPU it stops at once (exit 2) unless `--device cpu` is asked for.
Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from arcttt.core.augment import AugmentSpace, sample_transforms
from arcttt.core.config import load_config, override
from arcttt.core.encode import MAX_ANSWER_TOKENS, SYMBOLS, grid_ids
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import load_source
from arcttt.engine.infer import prompts_for
from arcttt.engine.model import LoadedModel, load_model
from arcttt.engine.placement import device_facts, enable_tf32, place, resolve_device
from arcttt.engine.runtime import Runtime
from arcttt.engine.ttt import train
from arcttt.run.leaderboard import load_suite
from arcttt.run.pipeline import solve_task
from arcttt.testing import tiny_loaded

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_ttt import (cpu_name, matmul_peak, new_decode, quick_config, synchronize,  # noqa: E402
                       synthetic_samples, train_flops)

ROOT = Path(__file__).resolve().parent.parent
# Nominal dense bf16 tensor-core peaks (TFLOP/s, no sparsity), by a part of the device's name.
NOMINAL_BF16 = {"H200": 989.0, "H100 80GB HBM3": 989.0, "H100 PCIe": 756.0, "H100 NVL": 835.0, "A100": 312.0,
                "L40S": 362.0, "L4": 121.0, "RTX 4090": 165.0, "A10G": 70.0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def nominal_peak(name: str) -> float | None:
    return next((peak for part, peak in NOMINAL_BF16.items() if part in name), None)


def llama_1b(device: torch.device, dtype_spec: str) -> LoadedModel:
    """Llama 3.2 1B's shape (1.24B parameters with its vocabulary; 0.97B with arcttt's 16 symbols),
    random weights: throughput does not depend on what the weights are."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from arcttt.core.encode import BOS, END, PAD

    config = LlamaConfig(vocab_size=len(SYMBOLS), hidden_size=2048, intermediate_size=8192, num_hidden_layers=16,
                         num_attention_heads=32, num_key_value_heads=8, head_dim=64, rope_theta=500000.0,
                         max_position_embeddings=131072, tie_word_embeddings=True, bos_token_id=BOS,
                         eos_token_id=END, pad_token_id=PAD)
    placement = place(dtype_spec, "none", device_facts(device), None)
    if device.type == "cuda":
        enable_tf32()  # as load_model does for every CUDA run
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(config).to(placement.dtype)
    model.requires_grad_(False)
    model.eval()
    return LoadedModel(model, device, placement.dtype, "llama-1b-random", "none", placement.reason)


def peak_memory(device: torch.device) -> float | None:
    """GiB allocated at most since the last reset (GPU only); resets the counter."""
    if device.type != "cuda":
        return None
    peak = torch.cuda.max_memory_allocated(device) / 2**30
    torch.cuda.reset_peak_memory_stats(device)
    return round(peak, 2)


def bench_training(runtime: Runtime, config, args) -> dict:
    """Steps of `batch_tokens` tokens in random samples of `length` tokens (every position a target)."""
    samples = synthetic_samples(args.length, max(1, config.train.batch_tokens // args.length) * args.steps)
    device = runtime.device
    train(runtime.lm, samples, replace(config.train, steps=2), np.random.default_rng(0), device,  # kernel choice
          pad=runtime.codec.pad)
    runtime.lm.reset()
    peak_memory(device)
    synchronize(device)
    start = time.perf_counter()
    stats = train(runtime.lm, samples, replace(config.train, steps=args.steps), np.random.default_rng(1), device,
                  pad=runtime.codec.pad)
    synchronize(device)
    seconds = time.perf_counter() - start
    flops = train_flops(runtime.loaded.model.config, [args.length] * stats.samples, config.lora.rank)
    runtime.lm.reset()
    return {"steps": stats.steps, "tokens": stats.tokens, "seconds": round(seconds, 3),
            "tokens_per_s": round(stats.tokens / seconds), "tflops": round(flops / seconds / 1e12, 3),
            "peak_gib": peak_memory(device), "loss_last": stats.losses[-1] if stats.losses else None}


def bench_decoding(runtime: Runtime, config, task, max_new: int) -> dict:
    """Every view of the task's test inputs, decoded together to the end of each answer."""
    views = sample_transforms(task_rng(config.seed, task.id, "views"), config.infer.views, len(task.train),
                              AugmentSpace(colours=config.train.colours))
    triples = prompts_for(task, views, config.infer)
    prompts = [p for _, _, p in triples]
    drafts = [grid_ids(view.apply(task.test[i].input)) for i, view, _ in triples]
    device = runtime.loaded.device
    peak_memory(device)
    tokens, prefill_s, decode_s = new_decode(runtime.lm, prompts, drafts, config.infer.speculate, device, max_new)
    prompt_tokens = sum(len(p) for p in prompts)
    return {"task": task.id, "prompts": len(prompts), "prompt_tokens": prompt_tokens,
            "prefill_tokens_per_s": round(prompt_tokens / prefill_s), "answer_tokens": tokens,
            "decode_tokens_per_s": round(tokens / max(decode_s, 1e-9), 1), "peak_gib": peak_memory(device)}


def bench_tasks(runtime: Runtime, config, tasks) -> dict:
    device = runtime.loaded.device
    seconds, solved = [], 0
    peak_memory(device)
    for task in tasks:
        synchronize(device)
        start = time.perf_counter()
        outcome = solve_task(task, runtime, config)
        synchronize(device)
        seconds.append(time.perf_counter() - start)
        if task.has_solutions:
            solved += all(truth in attempts for truth, attempts in zip(task.solutions, outcome.attempts))
        log(f"  {task.id}: {seconds[-1]:.2f} s")
    return {"tasks": len(tasks), "solved": solved, "median_s": round(statistics.median(seconds), 2),
            "mean_s": round(statistics.mean(seconds), 2), "peak_gib": peak_memory(device)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="embedded",
                        help="embedded, 1b (random weights), tiny (the tests' random one), a hub id or a folder")
    parser.add_argument("--config", default=str(ROOT / "configs" / "gpu-ttt.toml"))
    parser.add_argument("--device", default="auto", help="auto (a CUDA GPU, or stop), cuda, cuda:N, or cpu")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--quantize", default="auto")
    parser.add_argument("--steps", type=int, default=20, help="timed training steps")
    parser.add_argument("--length", type=int, default=1024, help="tokens per training sample")
    parser.add_argument("--suite", default="", help="suite timed end to end (e.g. cpu-dev); else --tasks")
    parser.add_argument("--tasks", default=str(ROOT / "data" / "sample"), help="task source timed end to end")
    parser.add_argument("--limit", type=int, default=0, help="time only the first N tasks (0: all)")
    parser.add_argument("--quick", action="store_true",
                        help="a dry run in seconds: the tiny model, 2 steps of 64 tokens, one sample task")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout, progress on stderr")
    args = parser.parse_args()
    if args.device != "cpu" and not torch.cuda.is_available():
        # Said at once: the CPU fallback of `auto` would run this benchmark for a quarter of an hour.
        print("bench_gpu: no CUDA GPU here; use --quick --device cpu for a dry run", file=sys.stderr)
        sys.exit(2)
    if args.quick:
        args.model, args.steps, args.length, args.limit, args.suite = "tiny", 2, 64, 1, ""
        args.tasks = str(ROOT / "data" / "sample")

    device = resolve_device(args.device)
    facts = device_facts(device)
    name = facts.name if device.type == "cuda" else f"CPU {cpu_name()[0]} ({os.cpu_count()} cores)"
    result: dict = {"device": name, "torch": torch.__version__, "model": args.model, "config": Path(args.config).name,
                    "quick": args.quick}
    if device.type == "cuda":
        result["memory_gib"] = round(torch.cuda.get_device_properties(device).total_memory / 2**30, 1)
    log(f"device: {name}, torch {torch.__version__}")

    config = override(load_config(args.config), {"model.device": str(device), "model.dtype": args.dtype, "model.quantize": args.quantize})
    if args.model in ("1b", "tiny"):
        if args.quantize not in ("auto", "none"):
            parser.error(f"--model {args.model} is built in memory, unquantized: --quantize must be auto or none")
        loaded = llama_1b(device, args.dtype) if args.model == "1b" else tiny_loaded(device=str(device))
        config = quick_config(config) if args.quick else override(config, {"model.adapter": ""})
        config = override(config, {"model.device": str(device)})
    else:
        config = override(config, {"model.name": args.model})
        loaded = load_model(config.model)
    result["placement"] = loaded.placement
    result["parameters"] = sum(p.numel() for p in loaded.model.parameters())
    log(f"model: {args.model}, {result['parameters'] / 1e6:.0f}M parameters; {loaded.placement}")
    runtime = Runtime(config, loaded, with_adapter=True)  # merges the stage-1 adapter, if any, once
    result["engine"] = type(runtime.lm).__name__
    rows, seconds = (256, 0.2) if args.quick else (4096, 3.0)
    result["matmul_peak_tflops"] = round(matmul_peak(runtime.loaded.model.config, rows, seconds, device,
                                                     runtime.loaded.dtype), 3)
    result["nominal_peak_tflops"] = nominal_peak(name)
    log(f"{runtime.precision} matmul peak (the model's linear shapes): {result['matmul_peak_tflops']} TFLOP/s; "
        f"nominal bf16: {result['nominal_peak_tflops'] or 'unknown'}")

    training = bench_training(runtime, config, args)
    for key, peak in (("of_matmul_peak", result["matmul_peak_tflops"]), ("of_nominal_peak", result["nominal_peak_tflops"])):
        training[key] = round(training["tflops"] / peak, 3) if peak else None
    result["training"] = training
    log(f"training: {training['tokens']} tokens in {training['seconds']} s: {training['tokens_per_s']} tokens/s, "
        f"{training['tflops']} TFLOP/s ({training['of_matmul_peak']} of the matmul peak), peak {training['peak_gib']} GiB")

    tasks = load_suite(args.suite).load() if args.suite else list(load_source(args.tasks).tasks)
    tasks = tasks[:args.limit] if args.limit else tasks
    result["decoding"] = bench_decoding(runtime, config, tasks[0], 48 if args.quick else MAX_ANSWER_TOKENS)
    decoding = result["decoding"]
    log(f"decoding {decoding['task']}: {decoding['prompts']} prompts, prefill {decoding['prefill_tokens_per_s']} "
        f"tokens/s, decode {decoding['decode_tokens_per_s']} tokens/s, peak {decoding['peak_gib']} GiB")
    log(f"solving {len(tasks)} task(s) of {args.suite or args.tasks} with {Path(args.config).name}:")
    result["solve"] = bench_tasks(runtime, config, tasks)
    solve = result["solve"]
    log(f"solve: {solve['median_s']} s a task (median; mean {solve['mean_s']}), {solve['solved']}/{solve['tasks']} "
        f"solved, peak {solve['peak_gib']} GiB")
    print(json.dumps(result) if args.json else json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
