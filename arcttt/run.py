"""A whole `arcttt solve` run: one process, one `--shard I/N`, or one rank of a torchrun group.

Under torchrun each rank takes its balanced share of the tasks on its own device, writes its own
shard file (so `--resume` works per shard after any rank died), and at the end rank 0 receives
every shard and writes the merged predictions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console

from arcttt import distributed
from arcttt.config import SolveConfig
from arcttt.contamination import overlap
from arcttt.errors import ArcError
from arcttt.model import read_adapter_manifest, resolve_adapter
from arcttt.pipeline import Engine, finished_count, sidecar, solve_all, write_effective_config
from arcttt.predictions import Predictions, write_predictions
from arcttt.progress import Reporter
from arcttt.shard import Manifest, assign, merge, parse_shard, shard_path, write_manifest
from arcttt.tasks import Task


@dataclass(frozen=True)
class RunOptions:
    out: Path
    resume: bool = False
    overwrite: bool = False
    adapters_in: Path | None = None
    adapters_out: Path | None = None
    shard: str | None = None  # "I/N"


@dataclass(frozen=True)
class RunResult:
    """What this process wrote: `tasks` are the ones its `predictions` cover."""

    out: Path
    tasks: list[Task]
    predictions: Predictions


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
    target, mine, manifest = options.out, tasks, None
    if index is not None:
        owned = set(assign(tasks, count)[index])
        mine = [task for task in tasks if task.id in owned]
        target = shard_path(options.out, index, count)
        manifest = Manifest(index, count, config.digest, tuple(t.id for t in mine), tuple(t.id for t in tasks))
        write_manifest(target, manifest)
    warn_if_seen(mine, config, log)
    if rank is not None:
        distributed.start(rank)
    prefix = f"rank {rank.rank}: " if rank is not None and rank.rank > 0 else ""
    log.print(f"arcttt: {prefix}solving {len(mine)} of {len(tasks)} task(s) with {config.model.name} "
              f"({'TTT' if config.ttt else 'in-context only'}), config digest {config.digest}", markup=False)
    with_adapter = config.ttt or options.adapters_in is not None
    overall = None
    if rank is not None and rank.rank == 0:
        logs = [sidecar(shard_path(options.out, i, rank.world), "log.jsonl") for i in range(rank.world)]
        overall = lambda: sum(finished_count(path) for path in logs)  # noqa: E731
    with Reporter(len(mine), log, live=rank is None or rank.rank == 0, prefix=prefix, overall=overall,
                  overall_total=len(tasks)) as reporter:
        predictions = solve_all(mine, config, target, lambda: Engine(engine_config, with_adapter=with_adapter),
                                options.resume, options.overwrite, options.adapters_in, options.adapters_out,
                                reporter.start, reporter.done)
    if rank is None:
        return RunResult(target, mine, predictions)
    gathered = distributed.gather_to_zero((str(target), manifest, predictions))
    distributed.stop()
    if rank.rank != 0:
        return None
    merged = merge(gathered)
    write_predictions(options.out, merged)
    write_effective_config(options.out, config)
    return RunResult(options.out, tasks, merged)


def warn_if_seen(tasks: list[Task], config: SolveConfig, log: Console) -> None:
    """Say loudly when the stage-1 adapter was trained on a task about to be evaluated."""
    path = resolve_adapter(config.model)
    if path is None:
        return
    manifest = read_adapter_manifest(path)
    seen = overlap(set(manifest.get("trained_tasks", [])), set(manifest.get("trained_pair_hashes", [])), tasks)
    if seen:
        log.print(f"WARNING: the stage-1 adapter {path} was trained on {len(seen)} of the {len(tasks)} task(s) "
                  f"being solved ({', '.join(seen[:10])}{' ...' if len(seen) > 10 else ''}): "
                  "their scores are not a measure of generalisation", style="bold red", markup=False)
