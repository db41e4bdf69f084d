"""The solver, step by step, and the run over many tasks that writes predictions as it goes.

    task -> leave-one-out set (augmented) -> LoRA training -> views -> predictions
         -> inverse transforms -> vote -> two attempts per test output
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import torch

from arcttt.core.augment import AugmentSpace, sample_transforms
from arcttt.core.budget import Budget
from arcttt.core.config import LoraConfig, SolveConfig, to_toml
from arcttt.core.durable import (append_line, output_lock, read_jsonl, remove_stale_temps, repair_tail,
                                 write_json_atomic, write_text_atomic)
from arcttt.core.encode import MAX_ANSWER_TOKENS, Encoded, encode
from arcttt.core.errors import ArcError
from arcttt.core.loo import leave_one_out
from arcttt.core.outcome import Outcome, TrainStats
from arcttt.core.predictions import Attempts, Predictions, load_predictions, write_predictions
from arcttt.core.retrieve import Pool, default_pool
from arcttt.core.scoring import answer_rank, attempts, ranked
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import Task, safe_name
from arcttt.engine.adapters import check_base_adapter, merge_base_adapter, resolve_base_adapter
from arcttt.engine.infer import predict, prompts_for
from arcttt.engine.model import LoadedModel, load_model
from arcttt.engine.policy import adaptive_train
from arcttt.engine.threads import ThreadPolicy
from arcttt.engine.ttt import train
from arcttt.run.provenance import contents, run_digest


class Engine:
    """The loaded base model and the language model that trains and decodes: one LoRA adapter
    (reset per task) when TTT or saved adapters are used, none for in-context learning alone."""

    def __init__(self, config: SolveConfig, loaded: LoadedModel | None = None, with_adapter: bool | None = None):
        self.config = config
        self.loaded = loaded if loaded is not None else load_model(config.model)
        stage1 = resolve_base_adapter(config.model)
        unmerged = None
        if stage1 is not None and self.loaded.quantize == "none":
            self.loaded = merge_base_adapter(self.loaded, stage1, config.model.name)
        elif stage1 is not None:  # quantized weights: the adapter stays beside them
            check_base_adapter(self.loaded, stage1, config.model.name)
            unmerged = stage1
        self.adapted = config.ttt if with_adapter is None else with_adapter
        self.pool: Pool | None = None  # retrieval's training pool, set by `solve_all` when asked for
        # How the base's weights are held, as the log records it per task: "bfloat16/none".
        self.base = f"{str(self.loaded.dtype).removeprefix('torch.')}/{self.loaded.quantize}"
        self.lm = build_lm(self.loaded.model, config.lora if self.adapted else None, config.seed,
                           config.infer.max_tokens + MAX_ANSWER_TOKENS, config.model.engine,
                           config.train.gradient_checkpointing, config.model.name, unmerged)


def build_lm(model: torch.nn.Module, lora: LoraConfig | None, seed: int, max_positions: int, choice: str = "auto",
             gradient_checkpointing: bool = False, name: str = "this model",
             unmerged: Path | None = None) -> torch.nn.Module:
    """The lean engine where it can run the model (or where asked), else transformers + peft.

    `unmerged`: a stage-1 adapter applied beside the base weights, frozen (for quantized bases).
    """
    from arcttt.engine.hf import HfLM
    from arcttt.engine.lm import LeanLM, supports

    if choice not in ("auto", "lean", "hf"):
        raise ArcError(f"unknown engine {choice!r}; use auto, lean or hf")
    reason = supports(model) or ("an unmerged stage-1 adapter" if unmerged is not None else None)
    if choice == "lean" and reason is not None:
        raise ArcError(f"engine = lean cannot run {name!r}: {reason}; use engine = hf or auto")
    if choice == "hf" or reason is not None:
        return HfLM(model, lora, seed, gradient_checkpointing, unmerged)
    return LeanLM(model, lora, seed, max_positions=max_positions)


def training_set(task: Task, config: SolveConfig, rng, cap: int | None = None) -> list[Encoded]:
    """The task's augmented leave-one-out samples, encoded within the training token budget."""
    samples = leave_one_out(task, rng, cap or config.train.max_examples, AugmentSpace(colours=config.train.colours),
                            config.train.leave_two_out, config.train.extras)
    max_tokens = config.train.max_tokens or config.infer.max_tokens
    return [e for s in samples if (e := encode(s.context, s.query, max_tokens,
                                               demo_loss=config.train.demo_loss)) is not None]


def neighbour_set(task: Task, pool: Pool | None, config: SolveConfig, rng, own: int) -> tuple[list[Encoded], list[str]]:
    """Samples of the task's nearest allowed training tasks, `neighbour_share` x `own` in all."""
    if pool is None or config.train.neighbours == 0 or own == 0:
        return [], []
    neighbours = pool.nearest(task, config.train.neighbours)
    if not neighbours:
        return [], []
    each = max(1, round(config.train.neighbour_share * own / len(neighbours)))
    return [e for n in neighbours for e in training_set(n, config, rng, each)], [n.id for n in neighbours]


def fallback_attempts(task: Task) -> tuple[Attempts, ...]:
    """What a failed task submits: each test input as both attempts."""
    return tuple((example.input, example.input) for example in task.test)


ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def earliest(*deadlines: float | None) -> float | None:
    """The first of the deadlines that are set (None: no deadline)."""
    return min((d for d in deadlines if d is not None), default=None)


def load_task_adapter(engine: Engine, folder: Path, task: Task) -> None:
    """Put a saved task adapter (`--adapters DIR`) in place of training one."""
    # Without weights in it, peft would take the folder name for a hub id and go online.
    if not any((folder / name).is_file() for name in ADAPTER_WEIGHTS):
        raise ArcError(f"no adapter weights ({ADAPTER_WEIGHTS[0]}) in this folder", source=str(folder), task=task.id)
    engine.lm.load(folder)


@dataclass
class Trained:
    """What training a task adapter did, for the task's outcome."""

    stats: TrainStats = field(default_factory=TrainStats)
    samples: int = 0
    dropped: int = 0  # context demonstrations left out of samples to fit max_tokens
    neighbours: list[str] = field(default_factory=list)
    decision: dict = field(default_factory=dict)


def train_task_adapter(task: Task, engine: Engine, config: SolveConfig, rng, deadline: float | None) -> Trained:
    """Train the (freshly reset) task adapter on the task's leave-one-out set (plus neighbours'),
    as `config.policy` says."""
    own = training_set(task, config, rng)
    extra, neighbours = neighbour_set(task, engine.pool, config, rng, len(own))
    trained = Trained(samples=len(own) + len(extra), dropped=sum(len(e.dropped) for e in own), neighbours=neighbours)
    device = engine.loaded.device
    # Dropout draws from torch's global generator: seeded per (seed, task), and restored after.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(int(rng.integers(2**62)))
        if config.policy == "adaptive":
            trained.stats, trained.decision = adaptive_train(engine.lm, own, extra, config, rng, device, deadline)
        else:
            trained.stats = train(engine.lm, own + extra, config.train, rng, device, deadline)
    return trained


def solve_task(task: Task, engine: Engine, config: SolveConfig, task_adapters_in: Path | None = None,
               task_adapters_out: Path | None = None) -> Outcome:
    """Solve one task: train a fresh adapter on its demonstrations, predict under views, vote."""
    start = time.monotonic()
    task_deadline = start + config.task_budget if config.task_budget > 0 else None
    trained = Trained()
    if engine.adapted:
        engine.lm.reset()
        saved = task_adapters_in / safe_name(task.id) if task_adapters_in is not None else None
        if saved is not None and saved.exists():
            load_task_adapter(engine, saved, task)
        elif config.ttt:
            deadline = earliest(start + config.time_budget if config.time_budget > 0 else None, task_deadline)
            trained = train_task_adapter(task, engine, config, task_rng(config.seed, task.id, "train"), deadline)
            if task_adapters_out is not None:
                engine.lm.save(task_adapters_out / safe_name(task.id))
    views = sample_transforms(task_rng(config.seed, task.id, "views"), config.infer.views, len(task.train),
                              AugmentSpace(colours=config.train.colours))
    prompts = prompts_for(task, views, config.infer)
    infer_deadline = earliest(time.monotonic() + config.infer_budget if config.infer_budget > 0 else None,
                              task_deadline)
    found, search_cut = predict(engine.lm, task, prompts, config.infer, engine.loaded.device, infer_deadline)
    best = [ranked(f, config.infer.scoring, config.infer.per_view, config.infer.hit_weight, config.infer.hit_count)
            for f in found]
    return Outcome(task.id, tuple(attempts(b, example.input) for b, example in zip(best, task.test)),
                   time.monotonic() - start, samples=trained.samples, dropped_train=trained.dropped,
                   dropped_infer=sum(len(p.dropped) for _, _, p in prompts), train=trained.stats,
                   candidates=sum(len(f.candidates) for f in found), search_cut=search_cut, ranked=best,
                   decision=trained.decision, neighbours=trained.neighbours)


def sidecar(out: Path, suffix: str) -> Path:
    """`predictions.json` -> `predictions.config.toml`, `predictions.log.jsonl`."""
    return out.with_name(f"{out.stem}.{suffix}")


def write_effective_config(out: Path, config: SolveConfig, digest: str | None = None) -> None:
    """The config beside the predictions, loadable with --config, with its digest (and the run's)."""
    run = f"; run digest {digest} (config, model, adapters, arcttt version)" if digest else ""
    write_text_atomic(sidecar(out, "config.toml"),
                      f"# effective config of {out.name}; digest {config.digest}{run}\n" + to_toml(config))


def state_path(out: Path) -> Path:
    """`predictions.run.json`: which run owns these predictions (its digest and what it covers)."""
    return sidecar(out, "run.json")


def read_log(log: Path) -> list[dict]:
    """A run's task records, in order; a torn last line (a kill mid-append) is skipped."""
    return [record for record in read_jsonl(log) if "task_id" in record]


def finished_count(log: Path) -> int:
    """Tasks logged as solved in a run's log (0 if there is none yet): for progress across ranks."""
    try:
        return sum(record.get("status") == "ok" for record in read_log(log))
    except (ArcError, OSError):
        return 0


def check_output(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to touch an earlier run's files unless told to continue it or to start over."""
    existing = [p.name for p in (out, sidecar(out, "log.jsonl"), state_path(out)) if p.exists()]
    if existing and not (resume or overwrite):
        raise ArcError(f"already exists ({', '.join(existing)}): pass --resume to continue that run or "
                       "--overwrite to start over", source=str(out))


def _finished(out: Path, digest: str) -> tuple[Predictions, set[str]]:
    """Predictions and the ids of tasks solved without error by an earlier run with this digest."""
    log, state = sidecar(out, "log.jsonl"), state_path(out)
    if state.exists():
        try:
            recorded = json.loads(state.read_text(encoding="utf-8")).get("digest")
        except (OSError, ValueError, AttributeError) as exc:
            raise ArcError(f"unreadable run state {state.name} ({exc}): pass --overwrite to start over",
                           source=str(out)) from exc
        if recorded != digest:
            raise ArcError(f"was written by another run: another config, model, adapter or arcttt version "
                           f"(digest {recorded}, now {digest}); use the same to resume, or another --out",
                           source=str(out))
    if out.exists() and not log.exists():
        raise ArcError(f"its log {log.name} is missing, so which tasks finished, and with which config, is "
                       "unknown: pass --overwrite to start over, or choose another --out", source=str(out))
    done = set()
    for record in read_log(log):
        if record.get("config_digest") != digest:
            raise ArcError(f"was written with another config (digest {record.get('config_digest')}, now {digest}); "
                           "use the same config to resume, or another --out", source=str(out))
        if record.get("status") == "ok":
            done.add(record["task_id"])
        else:
            done.discard(record["task_id"])
    predictions = load_predictions(out) if out.exists() else {}
    return predictions, done & set(predictions)


def spent_seconds(log: Path, total: float) -> float:
    """Seconds of the run budget earlier invocations of a resumed run used: up to its last logged
    task, model loading included (the task a kill interrupted is lost time, not counted)."""
    if not log.exists():
        return 0.0
    records = read_log(log)
    used = [total - r["budget_left"] for r in records if r.get("budget_left") is not None]
    return max(used) if used else sum(float(r.get("seconds") or 0.0) for r in records)


def within(config: SolveConfig, granted: float | None, budget: Budget | None, task_id: str) -> SolveConfig:
    """The config a task runs with under the run budget: its grant as the task budget, the grant
    less the inference reserve as the training budget (each only ever lowered)."""
    if granted is None or budget is None:
        return config

    def lowered(current: float, limit: float) -> float:
        return min(current, limit) if current > 0 else limit

    training = max(granted - budget.reserve(task_id, granted), 1e-3)
    return replace(config, task_budget=lowered(config.task_budget, granted),
                   time_budget=lowered(config.time_budget, training))


def check_same_base(log: Path, base: str, out: Path) -> None:
    """Refuse to resume a run whose finished tasks ran on another dtype or quantization: `auto`
    decides from the free GPU memory, which the config digest cannot know."""
    earlier = sorted({r["base"] for r in read_log(log) if r.get("status") == "ok" and r.get("base")})
    if earlier and earlier != [base]:
        raise ArcError(f"its finished tasks ran on a base loaded as {', '.join(earlier)}, this run's is {base}: "
                       "set --dtype and --quantize to match, or use another --out", source=str(out))


def in_order(predictions: Predictions, order: list[str]) -> Predictions:
    """This run's tasks in run order, then every other task already there: never drop one."""
    first = {k: predictions[k] for k in order if k in predictions}
    return {**first, **{k: v for k, v in predictions.items() if k not in first}}


# Errors that are bugs when arcttt's own code raises them: they stop the run to be fixed. Anything
# else (out of memory, a damaged adapter file, a library's complaint about one task) fails the task.
BUG_TYPES = (AssertionError, AttributeError, ImportError, NameError, SyntaxError, TypeError)
_PACKAGE = Path(__file__).resolve().parents[1]


def is_arcttt_bug(exc: BaseException) -> bool:
    """True for a programming error raised in arcttt's own code, not in a library it calls."""
    if not isinstance(exc, BUG_TYPES):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and Path(tb.tb_frame.f_code.co_filename).resolve().is_relative_to(_PACKAGE)


def solve_all(tasks: list[Task], config: SolveConfig, out: Path, engine_factory: Callable[[], Engine],
              resume: bool = False, overwrite: bool = False, task_adapters_in: Path | None = None,
              task_adapters_out: Path | None = None, on_start: Callable[[Task], None] = lambda task: None,
              on_done: Callable[[Outcome], None] = lambda outcome: None,
              threads: ThreadPolicy | None = None, run_tasks: list[Task] | None = None) -> Predictions:
    """Solve every task, writing predictions (atomically) and a log line (synced) after each one.

    `threads` picks torch's thread count before each task (default: the cores other processes
    leave free). `run_tasks`: every task of the run when this process solves a shard of it, so
    that retrieval never picks a task another process solves.

    With `resume`, tasks already solved by an earlier run with the same digest are kept and
    skipped, and predictions of other tasks in `out` are kept too. Every task ends up in the
    predictions: a failed task gets fallback attempts. Returns this run's tasks' predictions.
    """
    with output_lock(out):
        check_output(out, resume, overwrite)
        remove_stale_temps(out)
        digest = run_digest(config, task_adapters_in)
        log = sidecar(out, "log.jsonl")
        if resume:
            predictions, done = _finished(out, digest)
            repair_tail(log)
        else:
            # Predictions first: from here on a kill leaves no file of the old run to resume.
            for path in (out, log, state_path(out)):
                path.unlink(missing_ok=True)
            predictions, done = {}, set()
        write_json_atomic(state_path(out), {"format": 1, "digest": digest, "predictions": out.name,
                                            "contents": contents(config, task_adapters_in)}, indent=1)
        write_effective_config(out, config, digest)
        if not log.exists():
            write_text_atomic(log, "")
        order = [task.id for task in tasks]
        pending = [task for task in tasks if task.id not in done]
        # The budget's clock starts before the model loads: loading is part of the run's time.
        budget = (Budget.for_tasks(config.budget, pending, spent=spent_seconds(log, config.budget) if resume else 0.0)
                  if config.budget > 0 else None)
        engine = engine_factory() if pending else None
        if engine is not None and config.ttt and config.train.neighbours > 0:
            from arcttt.engine.embedded import cache_root

            engine.pool = default_pool(run_tasks or tasks, cache_root(config.model))
        base = engine.base if engine is not None else ""
        if resume and engine is not None:
            check_same_base(log, base, out)
        threads = threads if threads is not None else ThreadPolicy()
        for task in pending:
            on_start(task)
            used = threads.choose()
            began = time.monotonic()
            granted = budget.grant(task.id) if budget is not None else None
            try:
                if granted == 0.0:  # the run's time is spent: attempts without the model
                    outcome = Outcome(task.id, fallback_attempts(task), 0.0, decision={"budget": "no time left"})
                else:
                    outcome = solve_task(task, engine, within(config, granted, budget, task.id), task_adapters_in,
                                         task_adapters_out)
            except Exception as exc:  # one task's failure (out of memory, a bad adapter) must not lose the run
                if is_arcttt_bug(exc):
                    raise
                outcome = Outcome(task.id, fallback_attempts(task), 0.0, error=f"{type(exc).__name__}: {exc}")
                traceback.print_exc()
            outcome.threads = used
            if budget is not None:
                outcome.seconds = time.monotonic() - began
                cut = outcome.train.stopped == "deadline" or outcome.search_cut
                budget.finished(task.id, granted, outcome.seconds, outcome.seconds - outcome.train.seconds, cut)
                outcome.granted, outcome.budget_left = round(granted, 2), round(budget.left(), 1)
            if task.has_solutions:
                pairs = list(zip(task.solutions, outcome.attempts))
                outcome.correct = [truth in attempts for truth, attempts in pairs]
                outcome.top_correct = [truth == attempts[0] for truth, attempts in pairs]
                if outcome.ranked:
                    outcome.answer_rank = [answer_rank(best, truth) for best, truth in zip(outcome.ranked, task.solutions)]
            predictions[task.id] = outcome.attempts
            write_predictions(out, in_order(predictions, order))
            append_line(log, {**outcome.record(digest), "base": base})
            on_done(outcome)
        if not out.exists():  # every task was done already, or none was given: the file still exists
            write_predictions(out, in_order(predictions, order))
    return {k: predictions[k] for k in order if k in predictions}
