"""`arcttt solve --workers N` on a CPU: N single-threaded processes, each solving one shard.

On a few cores one process with N threads pays OpenMP's fork/join on every small op; N processes
of one thread each pay nothing of the kind and keep every core busy. The shards are the ones
`--shard I/N` makes (balanced by size), so a killed run resumes per worker with `--resume`, and
the results are merged with the same checks as `arcttt merge`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from arcttt.core.errors import ArcError


def run_workers(source: str, solutions: str | None, task_ids: list[str], config, options, workers: int,
                threads: int = 1) -> dict:
    """Solve `task_ids` in `workers` processes of `threads` threads, one `--shard I/N` each, then
    merge their shards into `options.out` and return the merged predictions.

    Each worker gets the effective config (as TOML) and the task list (as a file), so it solves
    exactly what this process would; their progress goes to stderr. A worker that fails fails the
    run once the others have finished (`--resume` finishes it later).
    """
    import tempfile

    from arcttt.core.config import to_toml
    from arcttt.core.durable import output_lock, write_text_atomic
    from arcttt.core.predictions import write_predictions
    from arcttt.run.outputs import check_output
    from arcttt.run.shard import merge_files, shard_path

    out = options.out
    with output_lock(out):
        check_output(out, options.resume, options.overwrite)  # refused before any worker starts
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    with tempfile.TemporaryDirectory(prefix="arcttt-workers-") as scratch:
        config_file, tasks_file = Path(scratch) / "config.toml", Path(scratch) / "tasks.txt"
        write_text_atomic(config_file, to_toml(config))
        write_text_atomic(tasks_file, "".join(f"{task}\n" for task in task_ids))
        common = ["solve", source, "--config", str(config_file), "--tasks", f"@{tasks_file}", "--out", str(out)]
        common += ["--threads", str(threads)] if config.expert != "program" else []  # refused where no model runs
        common += ["--solutions", solutions] if solutions else []
        common += ["--resume"] if options.resume else []
        common += ["--overwrite"] if options.overwrite else []
        common += ["--task-adapters-in", str(options.task_adapters_in)] if options.task_adapters_in else []
        common += ["--task-adapters-out", str(options.task_adapters_out)] if options.task_adapters_out else []
        processes = [subprocess.Popen([sys.executable, "-m", "arcttt", *common, "--shard", f"{i}/{workers}"], env=env)
                     for i in range(workers)]
        codes = [p.wait() for p in processes]
    failed = [i for i, code in enumerate(codes) if code != 0]
    if failed:
        raise ArcError(f"worker(s) {', '.join(map(str, failed))} of {workers} failed (exit "
                       f"{', '.join(str(codes[i]) for i in failed)}); rerun with --resume to finish them",
                       source=str(out))
    with output_lock(out):
        merged = merge_files([shard_path(out, i, workers) for i in range(workers)])
        write_predictions(out, {task: merged[task] for task in task_ids if task in merged})
    return merged
