"""The solver for one task, step by step:

    task -> verified programs (search) ------------------------------------------+
         -> leave-one-out set (augmented) -> LoRA training -> views -> predictions   |
         -> inverse transforms -> vote -> joined with the programs' answers <--------+
         -> two attempts per test output

`solve_task` is that line; the run over many tasks (resume, budget, writing) is `run.loop`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from arcttt.core.budget import Deadlines
from arcttt.core.config import SolveConfig
from arcttt.core.errors import ArcError
from arcttt.core.outcome import Outcome, TrainStats
from arcttt.core.samples import task_views, training_data, training_max_tokens
from arcttt.core.ranking import Found, Ranked, attempts, ranked, with_programs
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import Task, safe_name
from arcttt.programs import SearchResult, search_task

if TYPE_CHECKING:
    from arcttt.engine.runtime import Runtime

ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")


def solve_task(task: Task, runtime: Runtime | None, config: SolveConfig, deadlines: Deadlines | None = None,
               task_adapters_in: Path | None = None, task_adapters_out: Path | None = None,
               searched: SearchResult | None = None) -> Outcome:
    """Solve one task: search for programs that reproduce its demonstrations; train a fresh
    adapter on them, predict under views, vote; join the two experts' answers.

    `deadlines`: when training, inference and the task must stop (default: the config's
    per-task limits from now). `runtime` may be None when `config.expert` is "program".
    `searched`: the programs found when the run searched first (`run.loop.search_first`); their
    seconds count in the task's."""
    start = time.monotonic() - (searched.seconds if searched is not None else 0.0)
    deadlines = deadlines or Deadlines.for_task(config, time.monotonic())
    found = searched if searched is not None else search_programs(task, config, deadlines)
    # Only a trusted candidate spares training (programs.search.TRUSTED_LAYERS): a tall stack of
    # pieces fits the demonstrations by accident too often to stand alone.
    if config.expert == "program" or (found is not None and found.trusted and skips_training(config)):
        return program_outcome(task, found, config, time.monotonic() - start)
    trained = adapt(task, runtime, config, deadlines, task_adapters_in, task_adapters_out)
    if trained.decision.get("infer", True):
        views = task_views(task, config)
        prompts = prompts_for(task, views, config.infer, runtime.codec)
        answers, search_cut = predict(runtime.lm, task, prompts, config.infer, runtime.device,
                                      deadlines.inference(time.monotonic()), runtime.codec)
    else:  # the checked policy found the model hopeless here: the programs' answers, else the inputs
        prompts, answers, search_cut = [], [Found(()) for _ in task.test], False
    best = [ranked(a, config.infer.scoring, config.infer.per_view, config.infer.hit_weight, config.infer.hit_count)
            for a in answers]
    if found is not None and found.found:
        best = [with_programs(b, p, config.programs.merge) for b, p in zip(best, found.attempts)]
    return Outcome(task.id, tuple(attempts(b, example.input) for b, example in zip(best, task.test)),
                   time.monotonic() - start, samples=trained.samples, dropped_train=trained.dropped,
                   dropped_infer=sum(len(p.dropped) for _, _, p in prompts), train=trained.stats,
                   candidates=sum(len(a.candidates) for a in answers), search_cut=search_cut, ranked=best,
                   decision=trained.decision, neighbours=trained.neighbours, expert=config.expert,
                   programs=list(found.programs) if found is not None else [],
                   program_seconds=found.seconds if found is not None else 0.0)


# The engine imports torch, so it is imported where the model runs (torch-free for --expert
# program); these two stay names of this module, where tests replace them.
def prompts_for(*args, **kwargs):
    """`engine.infer.prompts_for`."""
    from arcttt.engine.infer import prompts_for

    return prompts_for(*args, **kwargs)


def predict(*args, **kwargs):
    """`engine.infer.predict`."""
    from arcttt.engine.infer import predict

    return predict(*args, **kwargs)


def skips_training(config: SolveConfig) -> bool:
    """Whether a verified program takes the place of training (`programs.skip_ttt`, or the adaptive policy)."""
    return config.programs.skip_ttt or config.policy == "adaptive"


def search_programs(task: Task, config: SolveConfig, deadlines: Deadlines) -> SearchResult | None:
    """The program expert's verified programs (None when only the model is asked for), within
    `programs.time_limit` and the task's deadline."""
    if config.expert == "ttt":
        return None
    limit = config.programs.time_limit
    if deadlines.task is not None:
        limit = max(0.0, min(limit, deadlines.task - time.monotonic()))
    return search_task(task, time_limit=limit, max_depth=config.programs.max_depth)


def program_outcome(task: Task, found: SearchResult, config: SolveConfig, seconds: float) -> Outcome:
    """The attempts of the program expert alone (the test input fills a missing one)."""
    best = [[Ranked(g, 0, float("inf")) for g in predictions] for predictions in found.attempts]
    decision = {"chose": "program", "ttt_skipped": config.expert != "program"} if found.found else {}
    return Outcome(task.id, tuple(attempts(b, example.input) for b, example in zip(best, task.test)), seconds,
                   ranked=best, decision=decision, expert="program", programs=list(found.programs),
                   program_seconds=found.seconds)


@dataclass
class Trained:
    """What adapting the model to a task did, for the task's outcome."""

    stats: TrainStats = field(default_factory=TrainStats)
    samples: int = 0
    dropped: int = 0  # context demonstrations left out of samples to fit max_tokens
    neighbours: list[str] = field(default_factory=list)
    decision: dict = field(default_factory=dict)


def adapt(task: Task, runtime: Runtime, config: SolveConfig, deadlines: Deadlines,
          task_adapters_in: Path | None, task_adapters_out: Path | None) -> Trained:
    """Put the task's adapter in place: reset, then a saved one loaded or a fresh one trained
    (and saved when asked); nothing for in-context learning alone."""
    if not runtime.adapted:
        return Trained()
    runtime.lm.reset()
    saved = task_adapters_in / safe_name(task.id) if task_adapters_in is not None else None
    if saved is not None and saved.exists():
        load_task_adapter(runtime, saved, task)
        return Trained()
    if not config.ttt:
        return Trained()
    trained = train_task_adapter(task, runtime, config, task_rng(config.seed, task.id, "train"), deadlines.train)
    if task_adapters_out is not None:
        runtime.lm.save(task_adapters_out / safe_name(task.id))
    return trained


def load_task_adapter(runtime: Runtime, folder: Path, task: Task) -> None:
    """Put a saved task adapter (`--task-adapters-in DIR`) in place of training one."""
    # Without weights in it, peft would take the folder name for a hub id and go online.
    if not any((folder / name).is_file() for name in ADAPTER_WEIGHTS):
        raise ArcError(f"no adapter weights ({ADAPTER_WEIGHTS[0]}) in this folder", source=str(folder), task=task.id)
    runtime.lm.load(folder)


def train_task_adapter(task: Task, runtime: Runtime, config: SolveConfig, rng: np.random.Generator,
                       deadline: float | None) -> Trained:
    """Train the (freshly reset) task adapter on the task's leave-one-out set (plus neighbours'),
    as `config.policy` says."""
    import torch  # torch-free for --expert program

    from arcttt.engine.checks import held_out_samples
    from arcttt.engine.policy import adaptive_train, checked_train
    from arcttt.engine.ttt import train

    data = training_data(task, runtime.pool, config, rng, runtime.codec)
    trained = Trained(samples=len(data.samples), dropped=data.dropped, neighbours=data.neighbours)
    device = runtime.device
    # Dropout draws from torch's global generator: seeded per (seed, task), and restored after.
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        torch.manual_seed(int(rng.integers(2**62)))
        if config.policy == "adaptive":
            trained.stats, trained.decision = adaptive_train(runtime.lm, data.own, data.extra, config, rng, device,
                                                             deadline, pad=runtime.codec.pad)
        elif config.policy == "checked":
            held_out = held_out_samples(task, runtime.codec, training_max_tokens(config), config.held_out)
            trained.stats, trained.decision = checked_train(runtime.lm, data.samples, held_out, config, rng, device,
                                                            deadline, pad=runtime.codec.pad)
        else:
            trained.stats = train(runtime.lm, data.samples, config.train, rng, device, deadline, pad=runtime.codec.pad)
    return trained
