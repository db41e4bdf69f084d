"""The solver, step by step, and the run over many tasks that writes predictions as it goes.

    task -> leave-one-out set (augmented) -> LoRA training -> views -> predictions
         -> inverse transforms -> vote -> two attempts per test output
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch

from arcttt.augment import AugmentSpace, sample_transforms
from arcttt.config import SolveConfig, to_toml
from arcttt.encode import encode
from arcttt.errors import ArcError
from arcttt.infer import predict
from arcttt.loo import leave_one_out
from arcttt.model import LoadedModel, load_model, merge_adapter, resolve_adapter
from arcttt.predictions import Attempts, Predictions, load_predictions, write_predictions
from arcttt.seeding import task_rng
from arcttt.tasks import Task
from arcttt.ttt import Adapter, TrainStats, train
from arcttt.vote import vote


@dataclass
class Outcome:
    """What happened to one task; `error` is set (and attempts are fallbacks) if it failed."""

    task_id: str
    attempts: tuple[Attempts, ...]
    seconds: float
    samples: int = 0
    train: TrainStats = field(default_factory=TrainStats)
    candidates: int = 0
    error: str | None = None
    correct: list[bool] | None = None  # per test output: either attempt right (the ARC rule)
    top_correct: list[bool] | None = None  # per test output: attempt 1 right

    def record(self, digest: str) -> dict:
        record = {k: v for k, v in asdict(self).items() if k not in ("attempts", "train")}
        losses = self.train.losses
        record.update(status="failed" if self.error else "ok", config_digest=digest, steps=self.train.steps,
                      tokens=self.train.tokens, train_seconds=round(self.train.seconds, 2),
                      loss_first=losses[0] if losses else None, loss_last=losses[-1] if losses else None,
                      seconds=round(self.seconds, 2))
        return record


class Engine:
    """The loaded base model and, when adapters are used, the one LoRA wrapper reset per task."""

    def __init__(self, config: SolveConfig, loaded: LoadedModel | None = None, with_adapter: bool | None = None):
        self.config = config
        self.loaded = loaded if loaded is not None else load_model(config.model)
        stage1 = resolve_adapter(config.model)
        if stage1 is not None:
            self.loaded = merge_adapter(self.loaded, stage1, config.model.name)
        use_adapter = config.ttt if with_adapter is None else with_adapter
        self.adapter = Adapter(self.loaded.model, config.lora, config.seed,
                               config.train.gradient_checkpointing) if use_adapter else None

    @property
    def model(self) -> torch.nn.Module:
        return self.adapter.model if self.adapter is not None else self.loaded.model


def fallback_attempts(task: Task) -> tuple[Attempts, ...]:
    """What a failed task submits: each test input as both attempts."""
    return tuple((example.input, example.input) for example in task.test)


def solve_task(task: Task, engine: Engine, config: SolveConfig, adapters_in: Path | None = None,
               adapters_out: Path | None = None) -> Outcome:
    """Solve one task: train a fresh adapter on its demonstrations, predict under views, vote."""
    start = time.monotonic()
    rng = task_rng(config.seed, task.id, "train")
    device = engine.loaded.device
    outcome = Outcome(task.id, (), 0.0)
    if engine.adapter is not None:
        engine.adapter.reset()
        saved = adapters_in / task.id if adapters_in is not None else None
        if saved is not None and saved.exists():
            engine.adapter.load(saved)
        elif config.ttt:
            samples = leave_one_out(task, rng, config.train.max_examples,
                                    AugmentSpace(colours=config.train.colours), config.train.leave_two_out,
                                    config.train.extras)
            encoded = [e for s in samples if (e := encode(s.context, s.query, config.train.max_tokens,
                                                          demo_loss=config.train.demo_loss)) is not None]
            outcome.samples = len(encoded)
            deadline = start + config.time_budget if config.time_budget > 0 else None
            torch.manual_seed(int(rng.integers(2**62)))  # dropout, if any: fixed per (seed, task)
            outcome.train = train(engine.model, encoded, config.train, rng, device, deadline)
            if adapters_out is not None:
                engine.adapter.save(adapters_out / task.id)
    views = sample_transforms(task_rng(config.seed, task.id, "views"), config.infer.views, len(task.train),
                              AugmentSpace(colours=config.train.colours))
    attempts = []
    for i, example in enumerate(task.test):
        candidates = predict(engine.model, task, i, views, config.infer, device)
        outcome.candidates += len(candidates)
        attempts.append(vote(candidates, fallback=example.input, per_view=config.infer.per_view))
    outcome.attempts = tuple(attempts)
    outcome.seconds = time.monotonic() - start
    return outcome


def sidecar(out: Path, suffix: str) -> Path:
    """`predictions.json` -> `predictions.config.toml`, `predictions.log.jsonl`."""
    return out.with_name(f"{out.stem}.{suffix}")


def write_effective_config(out: Path, config: SolveConfig) -> None:
    """The config beside the predictions, loadable with --config, with its digest."""
    out.parent.mkdir(parents=True, exist_ok=True)
    sidecar(out, "config.toml").write_text(f"# effective config of {out.name}; digest {config.digest}\n"
                                           + to_toml(config))


def finished_count(log: Path) -> int:
    """Tasks logged as solved in a run's log (0 if there is none yet): for progress across ranks."""
    try:
        return sum(json.loads(line)["status"] == "ok" for line in log.read_text().splitlines())
    except OSError:
        return 0


def _finished(out: Path, digest: str) -> tuple[Predictions, set[str]]:
    """Predictions and the ids of tasks solved without error by an earlier run with this config."""
    log = sidecar(out, "log.jsonl")
    if not out.exists() or not log.exists():
        return {}, set()
    done = set()
    for line in log.read_text().splitlines():
        record = json.loads(line)
        if record["config_digest"] != digest:
            raise ArcError(f"was written with another config (digest {record['config_digest']}, now {digest}); "
                           "use the same config to resume, or another --out", source=str(out))
        if record["status"] == "ok":
            done.add(record["task_id"])
        else:
            done.discard(record["task_id"])
    predictions = load_predictions(out)
    return predictions, done & set(predictions)


def solve_all(tasks: list[Task], config: SolveConfig, out: Path, engine_factory: Callable[[], Engine],
              resume: bool = False, overwrite: bool = False, adapters_in: Path | None = None,
              adapters_out: Path | None = None, on_start: Callable[[Task], None] = lambda task: None,
              on_done: Callable[[Outcome], None] = lambda outcome: None) -> Predictions:
    """Solve every task, writing predictions (atomically) and a log line after each one.

    With `resume`, tasks already solved by an earlier run with the same config are kept and
    skipped. Every task ends up in the predictions: a failed task gets fallback attempts.
    """
    if out.exists() and not (resume or overwrite):
        raise ArcError("already exists: pass --resume to continue that run or --overwrite to start over",
                       source=str(out))
    predictions, done = _finished(out, config.digest) if resume else ({}, set())
    log = sidecar(out, "log.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_effective_config(out, config)
    if not resume:
        log.write_text("")
    order = [task.id for task in tasks]
    pending = [task for task in tasks if task.id not in done]
    engine = engine_factory() if pending else None
    for task in pending:
        on_start(task)
        try:
            outcome = solve_task(task, engine, config, adapters_in, adapters_out)
        except (ArcError, RuntimeError, ValueError) as exc:
            # One task's failure (out of memory, a bad adapter) must not lose the run.
            outcome = Outcome(task.id, fallback_attempts(task), 0.0, error=f"{type(exc).__name__}: {exc}")
            traceback.print_exc()
        if task.has_solutions:
            pairs = list(zip(task.solutions, outcome.attempts))
            outcome.correct = [truth in attempts for truth, attempts in pairs]
            outcome.top_correct = [truth == attempts[0] for truth, attempts in pairs]
        predictions[task.id] = outcome.attempts
        write_predictions(out, {k: predictions[k] for k in order if k in predictions})
        with log.open("a") as f:
            f.write(json.dumps(outcome.record(config.digest)) + "\n")
        on_done(outcome)
    return {k: predictions[k] for k in order if k in predictions}
