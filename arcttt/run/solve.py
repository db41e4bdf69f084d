"""A whole `arcttt solve` run: one process, one `--shard I/N`, or one rank of a torchrun group.

Under torchrun each rank takes its balanced share of the tasks on its own device, writes its own
shard file (so `--resume` works per shard after any rank died), and at the end rank 0 receives
every shard and writes the merged predictions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from arcttt.core.config import SolveConfig
from arcttt.core.contamination import overlap
from arcttt.core.durable import output_lock, remove_stale_temps
from arcttt.core.errors import ArcError
from arcttt.core.predictions import Predictions, load_predictions, write_predictions
from arcttt.core.tasks import Task
from arcttt.engine.adapters import read_base_adapter_manifest, resolve_base_adapter
from arcttt.run import distributed
from arcttt.run.loop import Hooks, RunOptions, solve_all
from arcttt.run.outputs import (check_output, finished_count, in_order, sidecar, state_path, write_effective_config,
                                write_run_state)
from arcttt.run.progress import Reporter
from arcttt.run.provenance import run_digest
from arcttt.run.shard import (Manifest, assign, manifest_path, merge, parse_shard, read_manifest, shard_path,
                              write_manifest)

if TYPE_CHECKING:
    from arcttt.engine.runtime import Runtime

__all__ = ["RunOptions", "RunResult", "run", "solve_and_score"]


@dataclass(frozen=True)
class RunResult:
    """What this process wrote: `tasks` are the ones its `predictions` cover."""

    out: Path
    tasks: list[Task]
    predictions: Predictions
    failed: tuple[str, ...] = ()  # tasks that failed in this invocation (every rank's, on rank 0)


def run(tasks: list[Task], config: SolveConfig, options: RunOptions, log: Console) -> RunResult | None:
    """Solve this process's share of `tasks`; None on torchrun ranks other than 0."""
    rank = distributed.from_env()
    if rank is not None and options.shard is not None:
        raise ArcError("--shard and torchrun both split the tasks: use one of them")
    index, count = (rank.rank, rank.world) if rank is not None else (
        parse_shard(options.shard) if options.shard else (None, None))
    engine_config = config
    if rank is not None and config.model.device == "auto":
        # The device is this rank's business; the config (and its digest) stays the group's.
        engine_config = replace(config, model=replace(config.model, device=rank.device))
    digest = run_digest(config, options.task_adapters_in)
    if rank is not None and rank.rank == 0:
        prepare_merged(options.out, digest, options)  # refused before any rank starts work
    target, mine, manifest = options.out, tasks, None
    if index is not None:
        owned = set(assign(tasks, count)[index])
        mine = [task for task in tasks if task.id in owned]
        target = shard_path(options.out, index, count)
        manifest = Manifest(index, count, digest, tuple(t.id for t in mine), tuple(t.id for t in tasks),
                            tuple(len(t.test) for t in mine))
        prepare_shard(target, manifest, options)
    warn_if_seen(mine, config, log)
    if rank is not None:
        distributed.start(rank)
    prefix = f"rank {rank.rank}: " if rank is not None and rank.rank > 0 else ""
    log.print(f"arcttt: {prefix}solving {len(mine)} of {len(tasks)} task(s) with {config.model.name} "
              f"({describe_expert(config)}), config digest {config.digest}", markup=False)
    with_adapter = config.ttt or options.task_adapters_in is not None
    overall = None
    if rank is not None and rank.rank == 0:
        logs = [sidecar(shard_path(options.out, i, rank.world), "log.jsonl") for i in range(rank.world)]
        overall = lambda: sum(finished_count(path) for path in logs)  # noqa: E731
    failed: list[str] = []

    def done(outcome) -> None:
        if outcome.error:
            failed.append(outcome.task_id)
        reporter.done(outcome)

    with Reporter(len(mine), log, live=rank is None or rank.rank == 0, prefix=prefix, overall=overall,
                  overall_total=len(tasks)) as reporter:
        predictions = solve_all(mine, config, replace(options, out=target),
                                lambda: runtime_for(engine_config, with_adapter),
                                Hooks(reporter.start, done, reporter.searching, reporter.searched), run_tasks=tasks)
    if rank is None:
        return RunResult(target, mine, predictions, tuple(failed))
    gathered = distributed.gather_to_zero((str(target), manifest, predictions, failed))
    distributed.stop()
    if rank.rank != 0:
        return None
    merged = merge([entry[:3] for entry in gathered])
    with output_lock(options.out):
        # Tasks of earlier runs with this digest stay (prepare_merged checked the digest).
        kept = load_predictions(options.out) if options.resume and options.out.exists() else {}
        # The run state first: a kill between the two writes must leave predictions that resume.
        write_run_state(options.out, config, digest, options.task_adapters_in)
        write_effective_config(options.out, config, digest)
        write_predictions(options.out, in_order({**kept, **merged}, [t.id for t in tasks]))
    return RunResult(options.out, tasks, merged, tuple(t for entry in gathered for t in entry[3]))


def solve_and_score(source: str, solutions: Path | None, tasks: list[Task], config: SolveConfig, options: RunOptions,
                    workers: int, log: Console) -> dict:
    """`arcttt solve` after its options are read: run (in `workers` CPU processes, or this one),
    refuse a run where every task failed, and score where the tasks carry their solutions. The
    summary it prints; torchrun ranks other than 0 leave here (rank 0 reports for the group)."""
    if workers > 1:
        from arcttt.engine.placement import resolve_device
        from arcttt.run.workers import run_workers

        if resolve_device(config.model.device).type != "cpu":
            raise ArcError("--workers is for CPU runs (--device resolves to a GPU here); on GPUs use torchrun "
                           "(one process per device)")
        predictions = run_workers(source, str(solutions) if solutions else None, [t.id for t in tasks], config,
                                  options, workers, options.threads or 1)
        result = RunResult(options.out, tasks, predictions)
    else:
        result = run(tasks, config, options, log)
    if result is None:
        distributed.leave()
    summary = {"out": str(result.out), "tasks": len(result.predictions), "config_digest": config.digest}
    if result.failed and len(set(result.failed)) == len(result.tasks):
        # Predictions were written (fallbacks), but a run where nothing worked must not pass for one.
        raise ArcError(f"every task failed ({len(result.tasks)} of {len(result.tasks)}): see the errors above and "
                       f"the log beside the predictions", source=str(result.out))
    if all(task.has_solutions for task in result.tasks):
        from arcttt.core.score import score

        report = score(result.predictions, {task.id: task.solutions for task in result.tasks})
        summary.update(score=report.score, tasks_solved=len(report.solved), solved=list(report.solved),
                       outputs_correct=report.outputs_correct, outputs_total=report.outputs_total)
    return summary


def describe_expert(config: SolveConfig) -> str:
    """What solves the tasks, in words for the run's first line."""
    model = "TTT" if config.ttt else "in-context only"
    return {"program": "program search only, no model", "both": f"program search + {model}"}.get(config.expert, model)


def runtime_for(config: SolveConfig, with_adapter: bool) -> Runtime | None:
    """The model the run needs; none for the program expert alone (no model is loaded)."""
    if config.expert == "program":
        return None
    from arcttt.engine.runtime import Runtime  # torch-free for --expert program

    return Runtime(config, with_adapter=with_adapter)


def prepare_shard(target: Path, manifest: Manifest, options: RunOptions) -> None:
    """Check first, then write the shard's manifest (atomically): a refused run changes nothing."""
    with output_lock(target):
        check_output(target, options.resume, options.overwrite)
        if options.resume and manifest_path(target).exists():
            earlier = read_manifest(target)
            if (earlier.shard, earlier.of, earlier.config_digest, earlier.all_tasks) != (
                    manifest.shard, manifest.of, manifest.config_digest, manifest.all_tasks):
                raise ArcError(f"was written as shard {earlier.shard}/{earlier.of} of another run (digest "
                               f"{earlier.config_digest}, {len(earlier.all_tasks)} tasks); resume with the same "
                               "tasks, config and split, or use another --out", source=str(target))
        write_manifest(target, manifest)


def prepare_merged(out: Path, digest: str, options: RunOptions) -> None:
    """Under torchrun, rank 0 writes `out` at the end: hold it to the rules of any output now."""
    with output_lock(out):
        check_output(out, options.resume, options.overwrite)
        state = state_path(out)
        for path in (out, state, sidecar(out, "config.toml")):
            remove_stale_temps(path)  # a rank 0 killed while writing them left these
        if options.resume and out.exists():
            try:
                recorded = json.loads(state.read_text(encoding="utf-8")).get("digest")
            except (OSError, ValueError, AttributeError):
                recorded = None
            if recorded != digest:
                raise ArcError(f"was written by another run or its run state {state.name} is missing (digest "
                               f"{recorded}, now {digest}); use --overwrite or another --out", source=str(out))
        elif options.overwrite:
            for path in (out, state):
                path.unlink(missing_ok=True)


def warn_if_seen(tasks: list[Task], config: SolveConfig, log: Console) -> None:
    """Say loudly when the stage-1 adapter was trained on a task about to be evaluated."""
    path = resolve_base_adapter(config.model)
    if path is None:
        return
    manifest = read_base_adapter_manifest(path)
    seen = overlap(set(manifest.get("trained_tasks", [])), set(manifest.get("trained_pair_hashes", [])), tasks,
                   set(manifest.get("trained_grid_hashes", [])))
    if seen:
        log.print(f"WARNING: the stage-1 adapter {path} was trained on {len(seen)} of the {len(tasks)} task(s) "
                  f"being solved ({', '.join(seen[:10])}{' ...' if len(seen) > 10 else ''}): "
                  "their scores are not a measure of generalisation", style="bold red", markup=False)
