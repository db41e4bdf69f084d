"""Stage 1: fine-tune one LoRA adapter on many ARC tasks (in the format TTT uses), resumably.

Samples are drawn in chunks: chunk c holds `chunk` augmented leave-one-out samples (tasks in a
seeded order, a fresh permutation each pass over the corpus), and is cut into token-budget
batches of similar lengths, one batch a step. Everything depends only on (seed, chunk), so a run
resumed from a checkpoint continues exactly where it stopped. The steps themselves are
`engine.ttt.run_steps`, the loop TTT uses; around it this module adds the chunks, the loss log,
checkpoints (adapter, optimizer state, losses; written atomically every N steps) and resume. The
finished adapter goes to DIR with a manifest of what it was trained on (ids, pair and grid
hashes, the base model's digest), which `arcttt solve` reads to warn before evaluating a task the
adapter has seen and to refuse an adapter made for another base model.

A resumed run must be the same run (`run_identity`), with two exceptions: `time_budget` (the
whole run's seconds of training, summed over every resume) and `checkpoint_every` may change,
and `steps` may grow: the run is then extended, its learning-rate schedule re-planned as if it
had been started for the new number of steps (warm-up and cosine over the new total, taken up
at the step reached), and the extension recorded in the manifest (`extended`).

A few corpus tasks (`held_out`, chosen by the seed) are kept out of training: the loss on fixed
samples of them, before and after, is the run's honest measure of what it learned.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from arcttt.core.augment import AugmentSpace
from arcttt.core.config import ModelConfig, PretrainConfig, pretrain_to_toml
from arcttt.core.contamination import Guard, task_grid_hashes, task_hashes
from arcttt.core.durable import (remove_stale_temps, remove_stale_temps_in, sync_dir, write_json_atomic,
                                 write_text_atomic)
from arcttt.core.formats import ARCTTT, Codec, Encoded
from arcttt.core.errors import ArcError
from arcttt.core.loo import random_sample
from arcttt.core.outcome import TrainStats
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import Task
from arcttt.engine.adapters import ADAPTER_MANIFEST
from arcttt.engine.digest import base_digest, digestible
from arcttt.engine.model import LoadedModel
from arcttt.engine.ttt import Losses, Stepper, make_optimizer, mean_loss, run_steps, token_batches, warmup_cosine
from arcttt.engine.runtime import build_lm
from arcttt.run.provenance import git_commit

CHECKPOINT = "checkpoint"
RUN_MARKER = "arcttt-pretrain.json"  # written first: a folder holding it is a stage-1 run's own
CONFIG_FILE = "pretrain.config.toml"
HELD_OUT_SAMPLES = 3  # fixed samples per held-out task
LOG_EVERY = 10
"""Steps between reads of the loss (each is one host sync): losses.jsonl and the progress get the
steps in bursts. The first step, each checkpoint and the last step read them too."""


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


def fitting_queries(task: Task, max_tokens: int, codec: Codec = ARCTTT) -> list[int]:
    """Demonstrations short enough to be a query within `max_tokens` (context is dropped as needed)."""
    return [i for i, example in enumerate(task.train) if codec.encode((), example, max_tokens) is not None]


def trainable(corpus: Corpus, max_tokens: int, codec: Codec = ARCTTT) -> Corpus:
    """The corpus without tasks that have no demonstration short enough to train on."""
    return replace(corpus, tasks=tuple(t for t in corpus.tasks if fitting_queries(t, max_tokens, codec)),
                   held_out=tuple(t for t in corpus.held_out if fitting_queries(t, max_tokens, codec)))


def _draw(task: Task, config: PretrainConfig, label: str, codec: Codec) -> Encoded | None:
    rng = task_rng(config.seed, task.id, label)
    sample = random_sample(task, rng, AugmentSpace(colours=config.colours),
                           fitting_queries(task, config.max_tokens, codec), config.extra_rate)
    return codec.encode(sample.context, sample.query, config.max_tokens)


def chunk_samples(corpus: Corpus, chunk: int, config: PretrainConfig, codec: Codec = ARCTTT) -> list[Encoded]:
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
        encoded = _draw(corpus.tasks[int(orders[epoch][position])], config, f"pretrain-{k}", codec)
        if encoded is not None:
            samples.append(encoded)
    return samples


def chunk_batches(samples: list[Encoded], chunk: int, config: PretrainConfig) -> list[list[int]]:
    """The chunk's samples as token-budget batches, in a seeded order."""
    return token_batches([len(s) for s in samples], config.batch_tokens,
                         np.random.default_rng([config.seed, chunk, 1]))


def held_out_samples(corpus: Corpus, config: PretrainConfig, codec: Codec = ARCTTT) -> list[Encoded]:
    """Fixed samples of the held-out tasks, the same for every run with this seed."""
    samples = [_draw(task, config, f"held-out-{j}", codec) for task in corpus.held_out
               for j in range(HELD_OUT_SAMPLES)]
    return [s for s in samples if s is not None]


def run_identity(corpus: Corpus, config: PretrainConfig, lm: torch.nn.Module, loaded: LoadedModel) -> dict:
    """What a resumed run must share with the run it continues: the same batches and schedule, the
    same base precision, and a manifest that tells the truth about what was trained on. The time
    budget and the checkpoint interval may change; `steps` may grow (see `resumed_extensions`)."""
    tasks = hashlib.sha256(json.dumps([[t.id for t in corpus.tasks], [t.id for t in corpus.held_out],
                                       sorted(corpus.dropped.items())]).encode()).hexdigest()[:16]
    settings = {k: v for k, v in asdict(config).items() if k not in ("time_budget", "checkpoint_every")}
    identity = {"config": settings, "engine": type(lm).__name__, "tasks": tasks,
                "base": {"dtype": str(loaded.dtype).removeprefix("torch."), "quantize": loaded.quantize},
                "sources": list(corpus.sources), "excluded_sources": list(corpus.excluded_sources)}
    if loaded.codec.name != ARCTTT.name:  # runs in arcttt's format predate the key: they resume as they were
        identity["format"] = loaded.codec.name
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


class ChunkStream:
    """Stage 1's batches in order, from a position (chunk, batch within it) that a checkpoint records."""

    def __init__(self, corpus: Corpus, config: PretrainConfig, chunk: int = 0, batch: int = 0,
                 codec: Codec = ARCTTT):
        self.corpus, self.config, self.chunk, self.batch, self.codec = corpus, config, chunk, batch, codec

    def __iter__(self) -> Iterator[list[Encoded]]:
        while True:
            samples = chunk_samples(self.corpus, self.chunk, self.config, self.codec)
            batches = chunk_batches(samples, self.chunk, self.config)
            while self.batch < len(batches):
                self.batch += 1
                yield [samples[i] for i in batches[self.batch - 1]]
            self.chunk, self.batch = self.chunk + 1, 0


def differences(theirs: dict, ours: dict) -> list[str]:
    """What makes the run `ours` another one than the checkpoint's `theirs` (`run_identity`s), a
    phrase each; the number of steps is `resumed_extensions`' to judge."""
    if not theirs:
        return ["the checkpoint records no run identity"]

    def settings(identity: dict) -> dict:
        config = identity.get("config", {})
        flat = {key: value for key, value in config.items() if key not in ("steps", "lora")}
        flat.update({f"lora.{key}": value for key, value in config.get("lora", {}).items()})
        base = identity.get("base", {})
        flat.update({"base dtype/quantization": f"{base.get('dtype')}/{base.get('quantize')}",
                     "backend": identity.get("engine"), "--data": identity.get("sources"),
                     "--exclude": identity.get("excluded_sources")})
        return flat

    there, here = settings(theirs), settings(ours)
    phrases = [f"{key} {there.get(key)} there, {here.get(key)} here"
               for key in dict.fromkeys([*here, *there]) if there.get(key) != here.get(key)]
    if theirs.get("tasks") != ours.get("tasks"):
        phrases.append("other training tasks (data, exclusions or held-out split)")
    return phrases


def resumed_extensions(checkpoint: Path, identity: dict) -> list[dict]:
    """Check that `checkpoint` is of the run `identity`, perhaps extended; the run's extensions.

    Another run is refused naming what differs; so is a `steps` below the checkpoint's plan (a
    run can be extended, not shortened). A larger `steps` is an extension, recorded as
    `{"from_steps", "to_steps", "at_step"}`: `warmup_cosine` then plans the schedule over the new
    total from the step reached on (see the module docstring)."""
    saved = json.loads((checkpoint / "state.json").read_text())
    theirs = saved.get("run") or {}
    differing = differences(theirs, identity)
    if differing:
        raise ArcError(f"the checkpoint is of another run ({'; '.join(differing)}): resume it with the options it "
                       "was started with, or start anew in another --out", source=str(checkpoint))
    planned, wanted, done = theirs["config"]["steps"], identity["config"]["steps"], saved["step"]
    if wanted < done:
        raise ArcError(f"--steps {wanted} is fewer than the {done} steps this run has trained already: pass "
                       f"--steps {planned} (its own) or more (to extend it)", source=str(checkpoint))
    if wanted < planned:
        raise ArcError(f"--steps {wanted} would shorten the run below the {planned} steps it plans: a run can be "
                       "extended, not shortened (stop it sooner with --time-budget)", source=str(checkpoint))
    extended = list(saved.get("extended", []))
    if wanted > planned:
        extended.append({"from_steps": planned, "to_steps": wanted, "at_step": done})
    return extended


def claim_folder(out: Path) -> None:
    """Make `out` a stage-1 folder (refusing one that holds other files) and clear what a kill left."""
    ours = [out / RUN_MARKER, out / ADAPTER_MANIFEST, out / CHECKPOINT]
    if out.is_dir():
        # A kill while writing the marker leaves only its temp file: that folder is still ours.
        remove_stale_temps(out / RUN_MARKER)
    if out.is_dir() and any(out.iterdir()) and not any(p.exists() for p in ours):
        # Not a stage-1 folder: writing into it would replace its README.md and losses.jsonl.
        raise ArcError("exists and holds other files: stage 1 writes a new or empty folder (or continues "
                       "its own with --resume)", source=str(out))
    out.mkdir(parents=True, exist_ok=True)
    # What a kill in the middle of a write left: temps of any file written here (the adapter's
    # too, whichever backend saved it) and the hf backend's scratch folders.
    remove_stale_temps_in(out)
    for scratch in out.glob(".save-*"):
        if scratch.is_dir():
            shutil.rmtree(scratch, ignore_errors=True)
    recover_checkpoint(out / CHECKPOINT)


def start_state(out: Path, identity: dict, resume: bool, lm: torch.nn.Module, step: Stepper) -> dict:
    """The run's state to train from: a fresh one, or with `resume` the checkpoint's (loaded into
    `lm` and `step`), refused where it is another run's."""
    checkpoint = out / CHECKPOINT
    if resume and checkpoint.exists():
        # Checked before loading: another run's optimizer state may not even fit this one's.
        extended = resumed_extensions(checkpoint, identity)
        return {**_load_checkpoint(checkpoint, lm, step), "run": identity, "extended": extended}
    if (out / ADAPTER_MANIFEST).exists() or checkpoint.exists():
        raise ArcError("holds an adapter or checkpoint already: pass --resume to continue it, or another --out",
                       source=str(out))
    return {"run": identity, "step": 0, "chunk": 0, "batch": 0, "tokens": 0, "samples": 0, "losses": [],
            "seconds": 0.0, "extended": []}


class Bookkeeper:
    """Stage 1's hook after each step (`run_steps`' `after_step`): the loss log and `on_step`,
    read from the device every `log_every` steps, and a checkpoint every `checkpoint_every`
    steps, at the last one and where the run stops early."""

    def __init__(self, state: dict, stream: ChunkStream, config: PretrainConfig, save: Callable[[dict], None],
                 log, on_step: Callable[[int, float, int], None], log_every: int):
        self.state, self.stream, self.config, self.save = state, stream, config, save
        self.log, self.on_step, self.log_every = log, on_step, log_every
        self.first = {key: state[key] for key in ("step", "tokens", "samples", "seconds")}
        self.started = time.monotonic()
        self.unlogged: list[tuple[int, int]] = []  # (step, tokens) of the steps whose loss is not written yet
        self.logged = 0  # losses of this call written so far

    def __call__(self, stats: TrainStats, losses: Losses) -> str:
        done = self.first["step"] + stats.steps
        self.unlogged.append((done, self.first["tokens"] + stats.tokens))
        checkpoint = bool(stats.stopped) or done % self.config.checkpoint_every == 0 or done == self.config.steps
        if checkpoint or stats.steps == 1 or done % self.log_every == 0:
            self.write_log(losses.read())
        if checkpoint:
            self.log.flush()
            self.state.update(step=done, chunk=self.stream.chunk, batch=self.stream.batch,
                              tokens=self.first["tokens"] + stats.tokens, samples=self.first["samples"] + stats.samples,
                              seconds=self.first["seconds"] + time.monotonic() - self.started)
            self.save(self.state)
        return ""

    def write_log(self, values: list[float]) -> None:
        for (number, tokens), value in zip(self.unlogged, values[self.logged:]):
            self.state["losses"].append(value)
            self.log.write(json.dumps({"step": number, "loss": value, "tokens": tokens}) + "\n")
            self.on_step(number, value, tokens)
        self.logged += len(self.unlogged)
        self.unlogged = []


def train_chunks(lm: torch.nn.Module, step: Stepper, corpus: Corpus, config: PretrainConfig, state: dict, out: Path,
                 on_step: Callable[[int, float, int], None], log_every: int, device: torch.device,
                 codec: Codec = ARCTTT) -> str:
    """Train the steps left after `state`, logging and checkpointing on the way; why the run
    stopped early ("" when it ran all its steps)."""
    schedule = warmup_cosine(step.optimizer, config.warmup, config.steps, done=state["step"])
    # The log restarts from the checkpoint (steps after it were lost with the interrupted run),
    # replaced atomically so that a kill now cannot lose the checkpoint's part of it either.
    write_text_atomic(out / "losses.jsonl", "".join(json.dumps({"step": number, "loss": value}) + "\n"
                                                    for number, value in enumerate(state["losses"], 1)))
    stream = ChunkStream(corpus, config, state["chunk"], state["batch"], codec)
    # The time budget is the whole run's: the seconds trained before a resume count against it.
    deadline = time.monotonic() + config.time_budget - state["seconds"] if config.time_budget else None
    with (out / "losses.jsonl").open("a") as log:
        keeper = Bookkeeper(state, stream, config, lambda s: _save_checkpoint(out / CHECKPOINT, lm, step, s), log,
                            on_step, log_every)
        stats = run_steps(lm, step, schedule, iter(stream), config.steps - state["step"], device, deadline, keeper,
                          pad=codec.pad)
    return f"time budget of {config.time_budget:.0f} s" if stats.stopped == "deadline" else ""


def corpus_manifest(corpus: Corpus) -> dict:
    """The manifest's record of what the adapter was trained on and what was kept out."""
    return {
        "sources": list(corpus.sources),
        "excluded_sources": list(corpus.excluded_sources),
        "excluded": {reason: sum(1 for r in corpus.dropped.values() if r == reason)
                     for reason in sorted(set(corpus.dropped.values()))},
        "trained_tasks": [t.id for t in corpus.tasks],
        "trained_pair_hashes": sorted({h for t in corpus.tasks for h in task_hashes(t)}),
        "trained_grid_hashes": sorted({h for t in corpus.tasks for h in task_grid_hashes(t)}),
        "held_out_tasks": [t.id for t in corpus.held_out],
    }


def pretrain(loaded: LoadedModel, model_config: ModelConfig, corpus: Corpus, config: PretrainConfig, out: Path,
             resume: bool = False, on_step: Callable[[int, float, int], None] = lambda step, loss, tokens: None,
             log_every: int = LOG_EVERY) -> dict:
    """Train, or with `resume` continue or extend, a stage-1 adapter into `out`; returns its manifest.

    `on_step(step, loss, tokens)` is called for every step in order, in bursts of up to
    `log_every` steps (one read of the losses from the device each)."""
    codec = loaded.codec  # stage 1 trains in the format the model will be solved with
    corpus = trainable(hold_out(corpus, config.held_out, config.seed), config.max_tokens, codec)
    if not corpus.tasks:
        raise ArcError(f"no training task has a demonstration within --max-tokens {config.max_tokens}")
    claim_folder(out)
    digest = base_digest(loaded.model) if digestible(loaded) else None
    lm = build_lm(loaded.model, config.lora, config.seed, config.max_tokens + codec.max_answer_tokens)
    params = lm.trainable()
    step = Stepper(make_optimizer(params, config.lr), params, loaded.device, lm.dtype)
    state = start_state(out, run_identity(corpus, config, lm, loaded), resume, lm, step)
    # Accepted: the folder's own files now say which run it holds (first the marker: it is ours).
    write_json_atomic(out / RUN_MARKER, {"config": asdict(config)}, indent=1)
    write_text_atomic(out / CONFIG_FILE, pretrain_to_toml(config))  # loadable with `pretrain --config`
    held = held_out_samples(corpus, config, codec)
    if "held_out_start" not in state:
        state["held_out_start"] = mean_loss(lm, held, config.batch_tokens, loaded.device, codec.pad)
    stopped = train_chunks(lm, step, corpus, config, state, out, on_step, log_every, loaded.device, codec)
    held_out_end = mean_loss(lm, held, config.batch_tokens, loaded.device, codec.pad)
    lm.save(out)
    (out / "README.md").unlink(missing_ok=True)  # peft's empty model card; the manifest says it all
    losses = [x for x in state["losses"] if x == x]
    manifest = {
        "base_model": model_config.name,
        "base_digest": digest,
        "dtype": str(loaded.dtype).removeprefix("torch."),
        "quantize": loaded.quantize,
        "format": codec.name,
        "symbols": list(codec.symbols) if codec.symbols is not None else None,
        **corpus_manifest(corpus),
        "held_out_loss": {"before": state["held_out_start"], "after": held_out_end, "samples": len(held)},
        "steps": state["step"],
        "stopped": stopped or "all steps",
        "extended": state.get("extended", []),
        "samples": state["samples"],
        "tokens": state["tokens"],
        "loss_first_20": float(np.mean(losses[:20])) if losses else None,
        "loss_last_20": float(np.mean(losses[-20:])) if losses else None,
        "train_seconds": round(state["seconds"], 1),  # wall-clock seconds of training, summed over resumes
        "config": asdict(config),
        "commit": git_commit(),
    }
    write_json_atomic(out / ADAPTER_MANIFEST, manifest, indent=1)
    return manifest
