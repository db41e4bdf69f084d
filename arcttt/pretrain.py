"""Stage 1: fine-tune a LoRA adapter on many ARC tasks, in the same format TTT uses.

Every step draws one augmented leave-one-out sample from one task; which task and which sample
depend only on (seed, step), so a run resumed from a checkpoint continues exactly where it
stopped. Checkpoints (adapter, optimizer state, losses) are written atomically every N steps;
the finished adapter goes to DIR with a manifest of what it was trained on, which `arcttt solve`
reads to warn before evaluating a task the adapter has seen.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from arcttt.augment import AugmentSpace
from arcttt.config import LoraConfig, ModelConfig
from arcttt.contamination import Guard, task_hashes
from arcttt.durable import remove_stale_temps, sync_dir, write_json_atomic, write_text_atomic
from arcttt.encode import SYMBOLS, encode, pair_length
from arcttt.errors import ArcError
from arcttt.loo import random_sample
from arcttt.model import LoadedModel
from arcttt.seeding import task_rng
from arcttt.tasks import Task
from arcttt.hf import HfLM
from arcttt.ttt import collate, masked_loss

MANIFEST = "arcttt-adapter.json"
CHECKPOINT = "checkpoint"
RUN_MARKER = "arcttt-pretrain.json"  # written first: a folder holding it is a stage-1 run's own


@dataclass(frozen=True)
class PretrainConfig:
    steps: int = 2000
    lr: float = 2e-4
    warmup: float = 0.03
    max_tokens: int = 2048
    seed: int = 0
    checkpoint_every: int = 100
    colours: str = "keep0"
    lora: LoraConfig = LoraConfig()


@dataclass(frozen=True)
class Corpus:
    """The tasks stage 1 trains on, and what was kept out and why."""

    tasks: tuple[Task, ...]
    sources: tuple[str, ...]
    excluded_sources: tuple[str, ...]
    dropped: dict[str, str]  # task id -> "id" | "content" | "duplicate"


def build_corpus(data: list[tuple[str, list[Task]]], exclude: list[tuple[str, list[Task]]]) -> Corpus:
    """Training tasks (solved tests become demonstrations), minus every excluded id and content."""
    guard = Guard.of([task for _, tasks in exclude for task in tasks])
    kept: dict[str, Task] = {}
    dropped: dict[str, str] = {}
    for _, tasks in data:
        clean, rejected = guard.split(tasks)
        dropped.update(rejected)
        for task in clean:
            if task.id in kept:
                continue  # the same task in two sources (ARC-AGI-2 training holds ARC-AGI-1 training)
            demos = task.train + tuple(e for e in task.test if e.output is not None)
            kept[task.id] = Task(task.id, demos, (), task.source)
    if not kept:
        raise ArcError("no training task left after the exclusions")
    return Corpus(tuple(kept[k] for k in sorted(kept)), tuple(name for name, _ in data),
                  tuple(name for name, _ in exclude), dropped)


def fitting_queries(task: Task, max_tokens: int) -> list[int]:
    """Demonstrations short enough to be a query within `max_tokens` (context is dropped as needed)."""
    return [i for i, example in enumerate(task.train) if 1 + pair_length(example) <= max_tokens]


def trainable(corpus: Corpus, max_tokens: int) -> Corpus:
    """The corpus without tasks that have no demonstration short enough to train on."""
    return replace(corpus, tasks=tuple(t for t in corpus.tasks if fitting_queries(t, max_tokens)))


def sample_for_step(corpus: Corpus, step: int, config: PretrainConfig):
    """The encoded sample of a step: a pure function of (seed, step)."""
    n = len(corpus.tasks)
    order = np.random.default_rng([config.seed, step // n]).permutation(n)
    task = corpus.tasks[int(order[step % n])]
    rng = task_rng(config.seed, task.id, f"pretrain-{step}")
    sample = random_sample(task, rng, AugmentSpace(colours=config.colours), fitting_queries(task, config.max_tokens))
    return encode(sample.context, sample.query, config.max_tokens)


def _save_checkpoint(directory: Path, adapter: HfLM, optimizer: torch.optim.Optimizer, state: dict) -> None:
    staging = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    adapter.save(staging)
    opt = optimizer.state_dict()
    tensors = {f"{index}.{name}": value.contiguous() for index, slots in opt["state"].items()
               for name, value in slots.items()}
    save_file(tensors, staging / "optimizer.safetensors")
    # state.json last and atomically: its presence marks a complete checkpoint (see recover_checkpoint).
    write_text_atomic(staging / "state.json", json.dumps({**state, "param_groups": opt["param_groups"]}))
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


def _load_checkpoint(directory: Path, adapter: HfLM, optimizer: torch.optim.Optimizer) -> dict:
    adapter.load(directory)
    state = json.loads((directory / "state.json").read_text())
    tensors = load_file(directory / "optimizer.safetensors")
    slots: dict[int, dict] = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        slots.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": slots, "param_groups": state.pop("param_groups")})
    return state


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).parent, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def pretrain(loaded: LoadedModel, model_config: ModelConfig, corpus: Corpus, config: PretrainConfig, out: Path,
             resume: bool = False, on_step: Callable[[int, float, int], None] = lambda step, loss, tokens: None) -> dict:
    """Train (or continue) a stage-1 adapter into `out`; returns its manifest."""
    from transformers import get_cosine_schedule_with_warmup

    corpus = trainable(corpus, config.max_tokens)
    if not corpus.tasks:
        raise ArcError(f"no training task has a demonstration within --max-tokens {config.max_tokens}")
    checkpoint = out / CHECKPOINT
    ours = [out / RUN_MARKER, out / MANIFEST, checkpoint]
    if out.is_dir():
        # A kill while writing the marker leaves only its temp file: that folder is still ours.
        remove_stale_temps(out / RUN_MARKER)
    if out.is_dir() and any(out.iterdir()) and not any(p.exists() for p in ours):
        # Not a stage-1 folder: writing into it would replace its README.md and losses.jsonl.
        raise ArcError("exists and holds other files: stage 1 writes a new or empty folder (or continues "
                       "its own with --resume)", source=str(out))
    out.mkdir(parents=True, exist_ok=True)
    for name in (RUN_MARKER, MANIFEST, "losses.jsonl"):
        remove_stale_temps(out / name)  # a kill in the middle of a write left them
    write_json_atomic(out / RUN_MARKER, {"config": asdict(config)}, indent=1)  # first: marks the folder ours
    recover_checkpoint(checkpoint)
    adapter = HfLM(loaded.model, config.lora, config.seed)
    params = [p for p in adapter.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    state = {"step": 0, "tokens": 0, "losses": [], "seconds": 0.0}
    if resume and checkpoint.exists():
        state = _load_checkpoint(checkpoint, adapter, optimizer)
    elif (out / MANIFEST).exists() or checkpoint.exists():
        raise ArcError("holds an adapter or checkpoint already: pass --resume to continue it, or another --out",
                       source=str(out))
    schedule = get_cosine_schedule_with_warmup(optimizer, round(config.warmup * config.steps), config.steps)
    with warnings.catch_warnings():  # stepping the schedule alone is the point here
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(state["step"]):
            schedule.step()  # the learning rate of the step we resume at, as if never stopped
    adapter.model.train()
    started = time.monotonic()
    # The log restarts from the checkpoint (steps after it were lost with the interrupted run),
    # replaced atomically so that a kill now cannot lose the checkpoint's part of it either.
    write_text_atomic(out / "losses.jsonl", "".join(json.dumps({"step": step, "loss": loss_value}) + "\n"
                                                    for step, loss_value in enumerate(state["losses"], 1)))
    log = (out / "losses.jsonl").open("a")
    try:
        for step in range(state["step"], config.steps):
            encoded = sample_for_step(corpus, step, config)
            loss_value = float("nan")
            if encoded is not None:
                ids, targets = collate([encoded], loaded.device)
                loss = masked_loss(adapter(ids), ids, targets)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                loss_value = float(loss.detach())
                state["tokens"] += len(encoded)
            schedule.step()
            state["step"] = step + 1
            state["losses"].append(loss_value)
            log.write(json.dumps({"step": step + 1, "loss": loss_value, "tokens": state["tokens"]}) + "\n")
            on_step(step + 1, loss_value, state["tokens"])
            if state["step"] % config.checkpoint_every == 0 or state["step"] == config.steps:
                log.flush()
                state["seconds"] += time.monotonic() - started
                started = time.monotonic()
                _save_checkpoint(checkpoint, adapter, optimizer, state)
    finally:
        log.close()
        adapter.model.eval()
    adapter.save(out)
    (out / "README.md").unlink(missing_ok=True)  # peft's empty model card; the manifest says it all
    losses = [x for x in state["losses"] if x == x]
    manifest = {
        "base_model": model_config.name,
        "symbols": list(SYMBOLS),
        "sources": list(corpus.sources),
        "excluded_sources": list(corpus.excluded_sources),
        "excluded": {reason: sum(1 for r in corpus.dropped.values() if r == reason)
                     for reason in sorted(set(corpus.dropped.values()))},
        "trained_tasks": [t.id for t in corpus.tasks],
        "trained_pair_hashes": sorted({h for t in corpus.tasks for h in task_hashes(t)}),
        "steps": state["step"],
        "tokens": state["tokens"],
        "loss_first_100": float(np.mean(losses[:100])) if losses else None,
        "loss_last_100": float(np.mean(losses[-100:])) if losses else None,
        "cpu_seconds": round(state["seconds"], 1),
        "config": asdict(config),
        "commit": git_commit(),
    }
    write_json_atomic(out / MANIFEST, manifest, indent=1)
    return manifest
