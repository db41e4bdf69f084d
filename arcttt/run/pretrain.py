"""Stage 1: fine-tune a LoRA adapter on many ARC tasks, in the same format TTT uses.

Samples are drawn in chunks: chunk c holds `chunk` augmented leave-one-out samples (tasks in a
seeded order, a fresh permutation each pass over the corpus), and is cut into token-budget
batches of similar lengths, one batch a step. Everything depends only on (seed, chunk), so a run
resumed from a checkpoint continues exactly where it stopped. Checkpoints (adapter, optimizer
state, losses) are written atomically every N steps; the finished adapter goes to DIR with a
manifest of what it was trained on (ids, pair and grid hashes, the base model's digest), which
`arcttt solve` reads to warn before evaluating a task the adapter has seen and to refuse an
adapter made for another base model.

A few corpus tasks (`held_out`, chosen by the seed) are kept out of training: the loss on fixed
samples of them, before and after, is the run's honest measure of what it learned.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from arcttt.core.augment import AugmentSpace
from arcttt.core.config import ModelConfig, PretrainConfig, pretrain_to_toml
from arcttt.core.contamination import Guard, task_grid_hashes, task_hashes
from arcttt.core.durable import remove_stale_temps, sync_dir, write_json_atomic, write_text_atomic
from arcttt.core.encode import MAX_ANSWER_TOKENS, SYMBOLS, Encoded, encode, pair_length
from arcttt.core.errors import ArcError
from arcttt.core.loo import random_sample
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import Task
from arcttt.engine.adapters import ADAPTER_MANIFEST
from arcttt.engine.model import LoadedModel, base_digest, digestible
from arcttt.engine.ttt import Stepper, collate, make_optimizer, masked_loss, mean_loss, token_batches
from arcttt.run.pipeline import build_lm
from arcttt.run.provenance import git_commit

CHECKPOINT = "checkpoint"
RUN_MARKER = "arcttt-pretrain.json"  # written first: a folder holding it is a stage-1 run's own
CONFIG_FILE = "pretrain.config.toml"
HELD_OUT_SAMPLES = 3  # fixed samples per held-out task


@dataclass(frozen=True)
class Corpus:
    """The tasks stage 1 trains on, the ones held out to measure it, and what was kept out and why."""

    tasks: tuple[Task, ...]
    sources: tuple[str, ...]
    excluded_sources: tuple[str, ...]
    dropped: dict[str, str]  # task id -> "id" | "content" | "grid" | "duplicate"
    held_out: tuple[Task, ...] = ()


def build_corpus(data: list[tuple[str, list[Task]]], exclude: list[tuple[str, list[Task]]]) -> Corpus:
    """Training tasks (solved tests become demonstrations), minus every excluded id, pair and grid.

    A task that repeats one already taken (the same id, or any of the same input/output pairs:
    ARC-AGI-2 training holds ARC-AGI-1 training, the Kaggle sets hold both) is dropped as a
    duplicate; the first source that has it wins.
    """
    guard = Guard.of([task for _, tasks in exclude for task in tasks])
    kept: dict[str, Task] = {}
    pairs: set[str] = set()
    dropped: dict[str, str] = {}
    for _, tasks in data:
        clean, rejected = guard.split(tasks)
        dropped.update({k: v for k, v in rejected.items() if k not in kept})
        for task in clean:
            hashes = task_hashes(task)
            if task.id in kept or hashes & pairs:
                if task.id not in kept:
                    dropped[task.id] = "duplicate"
                continue
            pairs |= hashes
            demos = task.train + tuple(e for e in task.test if e.output is not None)
            kept[task.id] = Task(task.id, demos, (), task.source)
    if not kept:
        raise ArcError("no training task left after the exclusions")
    return Corpus(tuple(kept[k] for k in sorted(kept)), tuple(name for name, _ in data),
                  tuple(name for name, _ in exclude), dropped)


def hold_out(corpus: Corpus, count: int, seed: int) -> Corpus:
    """Move `count` tasks (a seeded choice, at most a fifth of the corpus) out of training."""
    count = min(count, len(corpus.tasks) // 5)  # a small corpus keeps most of its tasks for training
    if count <= 0:
        return corpus
    rank = sorted(corpus.tasks, key=lambda t: hashlib.sha256(f"{seed}:{t.id}".encode()).hexdigest())
    held = {t.id for t in rank[:count]}
    return replace(corpus, tasks=tuple(t for t in corpus.tasks if t.id not in held),
                   held_out=tuple(t for t in corpus.tasks if t.id in held))


def fitting_queries(task: Task, max_tokens: int) -> list[int]:
    """Demonstrations short enough to be a query within `max_tokens` (context is dropped as needed)."""
    return [i for i, example in enumerate(task.train) if 1 + pair_length(example) <= max_tokens]


def trainable(corpus: Corpus, max_tokens: int) -> Corpus:
    """The corpus without tasks that have no demonstration short enough to train on."""
    return replace(corpus, tasks=tuple(t for t in corpus.tasks if fitting_queries(t, max_tokens)),
                   held_out=tuple(t for t in corpus.held_out if fitting_queries(t, max_tokens)))


def _draw(task: Task, config: PretrainConfig, label: str) -> Encoded | None:
    rng = task_rng(config.seed, task.id, label)
    sample = random_sample(task, rng, AugmentSpace(colours=config.colours),
                           fitting_queries(task, config.max_tokens), config.extra_rate)
    return encode(sample.context, sample.query, config.max_tokens)


def chunk_samples(corpus: Corpus, chunk: int, config: PretrainConfig) -> list[Encoded]:
    """The encoded samples of a chunk: a pure function of (seed, chunk).

    Sample k comes from task k mod n of pass k // n over the corpus, each pass in its own seeded
    order, so every task is seen equally often whatever its size. A sample that an extra made too
    long for `max_tokens` is skipped.
    """
    n = len(corpus.tasks)
    orders: dict[int, np.ndarray] = {}
    samples = []
    for k in range(chunk * config.chunk, (chunk + 1) * config.chunk):
        epoch, position = divmod(k, n)
        if epoch not in orders:
            orders[epoch] = np.random.default_rng([config.seed, epoch]).permutation(n)
        encoded = _draw(corpus.tasks[int(orders[epoch][position])], config, f"pretrain-{k}")
        if encoded is not None:
            samples.append(encoded)
    return samples


def chunk_batches(samples: list[Encoded], chunk: int, config: PretrainConfig) -> list[list[int]]:
    """The chunk's samples as token-budget batches, in a seeded order."""
    return token_batches([len(s) for s in samples], config.batch_tokens,
                         np.random.default_rng([config.seed, chunk, 1]))


def held_out_samples(corpus: Corpus, config: PretrainConfig) -> list[Encoded]:
    """Fixed samples of the held-out tasks, the same for every run with this seed."""
    samples = [_draw(task, config, f"held-out-{j}") for task in corpus.held_out for j in range(HELD_OUT_SAMPLES)]
    return [s for s in samples if s is not None]


def run_identity(corpus: Corpus, config: PretrainConfig, lm: torch.nn.Module, loaded: LoadedModel) -> dict:
    """What a resumed run must share with the run it continues: the same batches and schedule, the
    same base precision, and a manifest that tells the truth about what was trained on. The time
    budget may change."""
    tasks = hashlib.sha256(json.dumps([[t.id for t in corpus.tasks], [t.id for t in corpus.held_out],
                                       sorted(corpus.dropped.items())]).encode()).hexdigest()[:16]
    settings = {k: v for k, v in asdict(config).items() if k not in ("time_budget", "checkpoint_every")}
    identity = {"config": settings, "engine": type(lm).__name__, "tasks": tasks,
                "base": {"dtype": str(loaded.dtype).removeprefix("torch."), "quantize": loaded.quantize},
                "sources": list(corpus.sources), "excluded_sources": list(corpus.excluded_sources)}
    return json.loads(json.dumps(identity))  # as a checkpoint's state.json reads back


def _save_checkpoint(directory: Path, adapter: torch.nn.Module, step: Stepper, state: dict) -> None:
    staging = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    adapter.save(staging)
    opt = step.optimizer.state_dict()
    tensors = {f"{index}.{name}": value.contiguous() for index, slots in opt["state"].items()
               for name, value in slots.items()}
    save_file(tensors, staging / "optimizer.safetensors")
    # state.json last and atomically: its presence marks a complete checkpoint (see recover_checkpoint).
    write_text_atomic(staging / "state.json", json.dumps({**state, "param_groups": opt["param_groups"],
                                                         "loss_scale": step.scaler.state_dict()}))
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    staging.rename(directory)
    sync_dir(directory.parent)
    shutil.rmtree(old, ignore_errors=True)


def recover_checkpoint(directory: Path) -> None:
    """Finish a rotation that a kill interrupted, so the newest complete checkpoint is at `directory`.

    A kill between the two renames of `_save_checkpoint` leaves no `checkpoint`, a complete
    `checkpoint.tmp` (newer) and `checkpoint.old`; any other leftover is incomplete or superseded.
    """
    staging = directory.with_name(directory.name + ".tmp")
    old = directory.with_name(directory.name + ".old")
    if not directory.exists():
        for candidate in (staging, old):
            if (candidate / "state.json").exists():
                candidate.rename(directory)
                sync_dir(directory.parent)
                break
    for leftover in (staging, old):
        shutil.rmtree(leftover, ignore_errors=True)


def _load_checkpoint(directory: Path, adapter: torch.nn.Module, step: Stepper) -> dict:
    adapter.load(directory)
    state = json.loads((directory / "state.json").read_text())
    tensors = load_file(directory / "optimizer.safetensors")
    slots: dict[int, dict] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        slots.setdefault(int(index), {})[name] = value
    step.optimizer.load_state_dict({"state": slots, "param_groups": state.pop("param_groups")})
    loss_scale = state.pop("loss_scale", {})
    if loss_scale:  # float16 runs only
        step.scaler.load_state_dict(loss_scale)
    return state


def pretrain(loaded: LoadedModel, model_config: ModelConfig, corpus: Corpus, config: PretrainConfig, out: Path,
             resume: bool = False, on_step: Callable[[int, float, int], None] = lambda step, loss, tokens: None) -> dict:
    """Train (or continue) a stage-1 adapter into `out`; returns its manifest."""
    from transformers import get_cosine_schedule_with_warmup

    corpus = trainable(hold_out(corpus, config.held_out, config.seed), config.max_tokens)
    if not corpus.tasks:
        raise ArcError(f"no training task has a demonstration within --max-tokens {config.max_tokens}")
    checkpoint = out / CHECKPOINT
    ours = [out / RUN_MARKER, out / ADAPTER_MANIFEST, checkpoint]
    if out.is_dir():
        # A kill while writing the marker leaves only its temp file: that folder is still ours.
        remove_stale_temps(out / RUN_MARKER)
    if out.is_dir() and any(out.iterdir()) and not any(p.exists() for p in ours):
        # Not a stage-1 folder: writing into it would replace its README.md and losses.jsonl.
        raise ArcError("exists and holds other files: stage 1 writes a new or empty folder (or continues "
                       "its own with --resume)", source=str(out))
    out.mkdir(parents=True, exist_ok=True)
    for name in (RUN_MARKER, ADAPTER_MANIFEST, CONFIG_FILE, "losses.jsonl"):
        remove_stale_temps(out / name)  # a kill in the middle of a write left them
    write_json_atomic(out / RUN_MARKER, {"config": asdict(config)}, indent=1)  # first: marks the folder ours
    write_text_atomic(out / CONFIG_FILE, pretrain_to_toml(config))  # loadable with `pretrain --config`
    recover_checkpoint(checkpoint)
    digest = base_digest(loaded.model) if digestible(loaded) else None
    lm = build_lm(loaded.model, config.lora, config.seed, config.max_tokens + MAX_ANSWER_TOKENS)
    params = lm.trainable()
    optimizer = make_optimizer(params, config.lr)
    step = Stepper(optimizer, params, loaded.device, lm.dtype)
    held = held_out_samples(corpus, config)
    identity = run_identity(corpus, config, lm, loaded)
    state = {"run": identity, "step": 0, "chunk": 0, "batch": 0, "tokens": 0, "samples": 0, "losses": [], "seconds": 0.0}
    if resume and checkpoint.exists():
        # Checked before loading: another run's optimizer state may not even fit this one's.
        if json.loads((checkpoint / "state.json").read_text()).get("run") != identity:
            raise ArcError("the checkpoint is of another run (other data, exclusions, seed, settings, or base "
                           "dtype/quantization): resume it with the options it was started with, or start anew "
                           "in another --out", source=str(checkpoint))
        state = _load_checkpoint(checkpoint, lm, step)
    elif (out / ADAPTER_MANIFEST).exists() or checkpoint.exists():
        raise ArcError("holds an adapter or checkpoint already: pass --resume to continue it, or another --out",
                       source=str(out))
    if "held_out_start" not in state:
        state["held_out_start"] = mean_loss(lm, held, config.batch_tokens, loaded.device)
    schedule = get_cosine_schedule_with_warmup(optimizer, round(config.warmup * config.steps), config.steps)
    with warnings.catch_warnings():  # stepping the schedule alone is the point here
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(state["step"]):
            schedule.step()  # the learning rate of the step we resume at, as if never stopped
    started = time.monotonic()
    # The log restarts from the checkpoint (steps after it were lost with the interrupted run),
    # replaced atomically so that a kill now cannot lose the checkpoint's part of it either.
    write_text_atomic(out / "losses.jsonl", "".join(json.dumps({"step": step, "loss": loss_value}) + "\n"
                                                    for step, loss_value in enumerate(state["losses"], 1)))
    log = (out / "losses.jsonl").open("a")
    samples = chunk_samples(corpus, state["chunk"], config)
    batches = chunk_batches(samples, state["chunk"], config)
    stopped = ""
    lm.train()
    try:
        while state["step"] < config.steps:
            if state["batch"] == len(batches):
                state["chunk"], state["batch"] = state["chunk"] + 1, 0
                samples = chunk_samples(corpus, state["chunk"], config)
                batches = chunk_batches(samples, state["chunk"], config)
                continue
            batch = [samples[i] for i in batches[state["batch"]]]
            ids, targets = collate(batch, loaded.device)
            loss = masked_loss(lm(ids), ids, targets)
            step(loss)
            schedule.step()
            loss_value = float(loss.detach())
            state["batch"] += 1
            state["step"] += 1
            state["tokens"] += sum(len(s) for s in batch)
            state["samples"] += len(batch)
            state["losses"].append(loss_value)
            log.write(json.dumps({"step": state["step"], "loss": loss_value, "tokens": state["tokens"]}) + "\n")
            on_step(state["step"], loss_value, state["tokens"])
            elapsed = state["seconds"] + time.monotonic() - started
            if config.time_budget and elapsed >= config.time_budget and state["step"] < config.steps:
                stopped = f"time budget of {config.time_budget:.0f} s"
            if stopped or state["step"] % config.checkpoint_every == 0 or state["step"] == config.steps:
                log.flush()
                state["seconds"] += time.monotonic() - started
                started = time.monotonic()
                _save_checkpoint(checkpoint, lm, step, state)
            if stopped:
                break
    finally:
        log.close()
        lm.eval()
    held_out_end = mean_loss(lm, held, config.batch_tokens, loaded.device)
    lm.save(out)
    (out / "README.md").unlink(missing_ok=True)  # peft's empty model card; the manifest says it all
    losses = [x for x in state["losses"] if x == x]
    manifest = {
        "base_model": model_config.name,
        "base_digest": digest,
        "dtype": str(loaded.dtype).removeprefix("torch."),
        "quantize": loaded.quantize,
        "symbols": list(SYMBOLS),
        "sources": list(corpus.sources),
        "excluded_sources": list(corpus.excluded_sources),
        "excluded": {reason: sum(1 for r in corpus.dropped.values() if r == reason)
                     for reason in sorted(set(corpus.dropped.values()))},
        "trained_tasks": [t.id for t in corpus.tasks],
        "trained_pair_hashes": sorted({h for t in corpus.tasks for h in task_hashes(t)}),
        "trained_grid_hashes": sorted({h for t in corpus.tasks for h in task_grid_hashes(t)}),
        "held_out_tasks": [t.id for t in corpus.held_out],
        "held_out_loss": {"before": state["held_out_start"], "after": held_out_end,
                          "samples": len(held)},
        "steps": state["step"],
        "stopped": stopped or "all steps",
        "samples": state["samples"],
        "tokens": state["tokens"],
        "loss_first_20": float(np.mean(losses[:20])) if losses else None,
        "loss_last_20": float(np.mean(losses[-20:])) if losses else None,
        "cpu_seconds": round(state["seconds"], 1),
        "config": asdict(config),
        "commit": git_commit(),
    }
    write_json_atomic(out / ADAPTER_MANIFEST, manifest, indent=1)
    return manifest
