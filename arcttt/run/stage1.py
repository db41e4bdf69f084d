"""Stage 1 as `arcttt pretrain` runs it: the corpus from the task sources, the model, the output
folder's lock and the progress line around `arcttt.run.pretrain.pretrain`."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from arcttt.core.config import ModelConfig, PretrainConfig
from arcttt.core.tasks import Task, load_source


def tasks_of(spec: str, log: Console) -> list[Task]:
    """The tasks of one source, each file skipped as unreadable said on `log`."""
    taskset = load_source(spec)
    for error in taskset.errors:
        log.print(f"skipped: {error}", markup=False)
    return list(taskset.tasks)


def run_stage1(data: list[str], exclude: list[str], config: PretrainConfig, model_config: ModelConfig, out: Path,
               resume: bool, log: Console) -> dict:
    """Train a stage-1 adapter on the tasks of `data`, never on those of `exclude` (by id or
    content), into `out`; the manifest it wrote."""
    from arcttt.core.durable import output_lock
    from arcttt.engine import model as model_module
    from arcttt.engine.threads import keep_freed_memory
    from arcttt.run import pretrain as stage1
    from arcttt.run.progress import StepReporter

    corpus = stage1.build_corpus([(s, tasks_of(s, log)) for s in data], [(s, tasks_of(s, log)) for s in exclude])
    log.print(f"arcttt: stage 1 on {len(corpus.tasks)} task(s) from {', '.join(data)}; excluded "
              f"{len(corpus.dropped)} by id or content of {', '.join(exclude) or 'nothing'}", markup=False)
    keep_freed_memory()  # 1.5-2x faster steps on large batches (scripts/bench_pretrain.py)
    loaded = model_module.load_model(model_config)
    with output_lock(out), StepReporter(config.steps, log) as reporter:
        return stage1.pretrain(loaded, model_config, corpus, config, out, resume, reporter.step)
