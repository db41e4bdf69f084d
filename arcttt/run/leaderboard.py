"""Leaderboard runs: solve a named suite with several configs, score, and keep one record each.

A suite (`arcttt/suites/NAME.toml`, shipped with the package) names a task source, a version and,
optionally, a list of task ids. A record (one JSON line in `leaderboard/results.jsonl`) holds the
score in both ARC conventions, the solved ids, seconds per task, tokens trained, the config's peak
memory, what was run (model, adapter by portable name and digest, config digest, git commit,
machine) and when. Rendering the records (table, Markdown, plot) needs no torch.
"""

from __future__ import annotations

import hashlib
import io
import json
import statistics
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from arcttt.core.config import load_config
from arcttt.core.errors import ArcError, printable
from arcttt.core.tasks import Task, load_source

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# Package data (pyproject's package-data ships them), so an installed arcttt finds them.
SUITES = Path(__file__).resolve().parents[1] / "suites"
PROC = Path("/proc/self")


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    source: str
    tasks: tuple[str, ...] | None  # None: every task of the source

    def load(self) -> list[Task]:
        taskset = load_source(self.source)
        if self.tasks is None:
            return list(taskset.tasks)
        known = taskset.by_id()
        missing = [t for t in self.tasks if t not in known]
        if missing:
            raise ArcError(f"task(s) {', '.join(missing)} not in {self.source}", source=f"suite {self.name}")
        return [known[t] for t in self.tasks]


def load_suite(spec: str) -> Suite:
    """A suite by name (one shipped in arcttt/suites/) or by path to its TOML file."""
    path = Path(spec) if spec.endswith(".toml") else SUITES / f"{spec}.toml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in SUITES.glob("*.toml")))
        raise ArcError(f"no such suite (known: {known})", source=str(path))
    try:
        data = tomllib.loads(path.read_text())
        return Suite(str(data["name"]), int(data["version"]), str(data["source"]),
                     tuple(data["tasks"]) if "tasks" in data else None)
    except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as exc:
        raise ArcError(f"malformed suite: {exc}", source=str(path)) from exc


def machine() -> str:
    """The GPU's name, or the CPU model and core count."""
    try:
        import torch

        if torch.cuda.is_available():
            return f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
    except ImportError:
        pass
    from arcttt.run.provenance import cpu_name

    return cpu_name()


def short_digest(path: Path) -> str:
    """The first 12 hex digits of provenance's file digest ("" for a missing file), as records keep them."""
    from arcttt.run.provenance import file_digest

    return file_digest(path)[:12] if path.exists() else ""


def portable(path: Path) -> str:
    """A path as a record keeps it: relative to the working folder when inside it, so records of a
    checkout (which get committed) never hold where that checkout lies; elsewhere as given."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def adapter_name(path: Path) -> str:
    """The stage-1 adapter by a name that means the same on every machine: "default" for the one
    shipped with arcttt, a path relative to the working folder inside it, else its folder name
    (the digests beside it in the record say which adapter it was)."""
    from arcttt.engine.adapters import EMBEDDED_ADAPTER

    if path.resolve() == EMBEDDED_ADAPTER.resolve():
        return "default"
    relative = portable(path)
    return relative if not Path(relative).is_absolute() else path.name


def reset_peak_memory() -> bool:
    """Start a new peak-memory window for this process; False where the system has none.

    Linux sets the resident high-water mark (VmHWM) back to the current size when "5" is written to
    /proc/self/clear_refs. `ru_maxrss` cannot be reset: every config after the first in one
    `leaderboard run` would carry the peak of an earlier one."""
    try:
        (PROC / "clear_refs").write_text("5")
    except OSError:
        return False
    return peak_memory_mib() is not None


def peak_memory_mib() -> int | None:
    """This process's resident high-water mark (VmHWM) in MiB, None where /proc has none."""
    try:
        for line in (PROC / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)  # kB
    except (OSError, ValueError, IndexError):
        pass
    return None


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def training_key(config) -> str:
    """What decides the per-task adapters: every knob but inference's (the prompt limit, which
    also caps training samples, stays), plus the model, adapter and arcttt version. New inference
    knobs leave it unchanged."""
    from arcttt.run.provenance import contents

    data = config.digest_dict()  # under the names digests were first recorded with: folder names stay
    data["model"].pop("cache_dir")
    data["infer"] = {"max_tokens": config.infer.max_tokens}
    data.pop("infer_budget")
    if config.policy == "fixed":  # the program expert changes no adapter (skipped tasks need none)
        data.pop("expert", None)
        data.pop("programs", None)
    known = {k: v for k, v in contents(config).items() if k != "config"}
    return hashlib.sha256(json.dumps([data, known], sort_keys=True).encode()).hexdigest()[:16]


TRAINING_LOG = "training.json"
TRAINED = ("steps", "samples", "samples_trained", "tokens", "train_seconds", "loss_first", "loss_last")


def trained_adapters(folder: Path, tasks: list[Task]) -> dict | None:
    """The training records of a folder of adapters that covers every task, else None."""
    from arcttt.core.tasks import safe_name

    try:
        training = json.loads((folder / TRAINING_LOG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if all(t.id in training and (folder / safe_name(t.id)).is_dir() for t in tasks):
        return training
    return None


def oracle(records: list[dict]) -> dict:
    """Over every test output: the right answer among the candidates at all, ranked first, in the top two."""
    ranks = [rank for r in records for rank in (r.get("answer_rank") or [])]
    return {"outputs": len(ranks), "found": sum(r is not None for r in ranks),
            "rank1": sum(r == 1 for r in ranks), "rank2": sum(r is not None and r <= 2 for r in ranks)}


def run_suite(suite: Suite, config_path: Path, runs_dir: Path, log, reuse_training: bool = False) -> dict:
    """Solve the suite with one config (resuming an earlier run of the same config) and make its record.

    With `reuse_training`, configs that differ only in inference share the per-task adapters: the
    first run saves them (runs/SUITE/adapters-KEY), later ones load them instead of training, and
    their record adds the first run's training seconds to each task's time, so the seconds stay
    those of a full solve. Peak memory is this config's own: the window opens here."""
    from arcttt.core.score import score
    from arcttt.run.provenance import git_commit, run_digest
    from arcttt.run.solve import run

    config = load_config(config_path)
    tasks = suite.load()
    measured = reset_peak_memory()
    # The run digest names the folder: a retrained adapter or new model starts a new run, never a mix.
    digest = run_digest(config)
    out = runs_dir / suite.name / f"{config_path.stem}-{digest}" / "predictions.json"
    options, training = run_options(out, config, digest, tasks, runs_dir / suite.name, reuse_training)
    result = run(tasks, config, options, log)
    latest = task_outcomes(out, options, training)
    report = score(result.predictions, {t.id: t.solutions for t in tasks})
    seconds = [r["seconds"] for r in latest.values()]
    return {
        "suite": suite.name,
        "suite_version": suite.version,
        "config": config_path.stem,
        "config_digest": config.digest,
        "run_digest": digest,
        "ttt": config.ttt,
        "model": model_name(config),
        **adapter_fields(config),
        "score": report.score,
        "tasks": len(report.rows),
        "tasks_solved": len(report.solved),
        "solved": list(report.solved),
        "outputs_correct": report.outputs_correct,
        "outputs_total": report.outputs_total,
        "failed_tasks": sorted(t for t, r in latest.items() if r["status"] == "failed"),
        "skipped_tasks": sorted(t for t, r in latest.items() if r["status"] == "skipped"),
        "seconds_per_task_median": round(statistics.median(seconds), 2) if seconds else 0.0,
        "seconds_per_task_p90": round(percentile(seconds, 0.9), 2),
        "tokens_trained": sum(r.get("tokens") or 0 for r in latest.values()),
        "expert": config.expert,
        "programs_found": sum(bool(r.get("programs")) for r in latest.values()),
        "ttt_skipped": sum(bool((r.get("decision") or {}).get("ttt_skipped")) for r in latest.values()),
        "ttt_stopped": sum((r.get("decision") or {}).get("chose") == "stopped" for r in latest.values()),
        "seconds_total": round(sum(seconds), 1),
        "seconds_saved": round(sum((r.get("decision") or {}).get("ttt_seconds_saved") or 0.0 for r in latest.values()
                                   if (r.get("decision") or {}).get("chose") == "stopped"), 1),
        "training_reused": portable(options.task_adapters_in) if training is not None else "",
        "oracle": oracle(list(latest.values())),
        "peak_memory_mib": peak_memory_mib() if measured else None,
        "peak_memory_window": "config",
        "commit": git_commit(),
        "machine": machine(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "predictions": portable(out),
    }


def run_options(out: Path, config, digest: str, tasks: list[Task], suite_runs: Path, reuse_training: bool):
    """The run's options, and the training records of shared adapters it loads (None: it trains)."""
    from arcttt.run.outputs import state_path
    from arcttt.run.solve import RunOptions

    options = RunOptions(out, resume=True)
    # A task or run budget spans training and inference: a run that loads adapters would decode longer.
    if not (reuse_training and config.ttt and config.expert != "program" and config.task_budget == 0
            and config.budget == 0):
        return options, None
    shared = suite_runs / f"adapters-{training_key(config)}"
    # A run that trained (and saved) its adapters goes on training: its digest does not cover loading them.
    trained_itself = state_path(out).exists() and json.loads(state_path(out).read_text()).get("digest") == digest
    training = None if trained_itself else trained_adapters(shared, tasks)
    if training is not None:
        return replace(options, task_adapters_in=shared), training
    return replace(options, task_adapters_out=shared), None


def task_outcomes(out: Path, options, training: dict | None) -> dict[str, dict]:
    """Each task's last log record (a resumed task's last record is its outcome); a run that saved
    shared adapters writes their training records, one that loaded them adds their training."""
    from arcttt.core.durable import write_json_atomic
    from arcttt.run.outputs import read_log, sidecar

    latest = {r["task_id"]: r for r in read_log(sidecar(out, "log.jsonl"))}
    if options.task_adapters_out is not None:
        trained = {t: {k: r.get(k) for k in TRAINED} for t, r in latest.items()}
        write_json_atomic(options.task_adapters_out / TRAINING_LOG, trained, indent=1)
    elif training is not None:
        for task_id, record in latest.items():
            if (record.get("decision") or {}).get("ttt_skipped"):
                continue  # a verified program answered: it neither trained nor loaded an adapter
            record.update({k: v for k, v in training[task_id].items() if k != "seconds"},
                          seconds=record["seconds"] + (training[task_id].get("train_seconds") or 0.0))
    return latest


def model_name(config) -> str:
    if config.model.name == "embedded":
        from arcttt.engine.embedded import embedded_cache_key

        return f"embedded gemma3-270m ({embedded_cache_key()})"
    return config.model.name


def adapter_fields(config) -> dict:
    """The stage-1 adapter by portable name and by the digests of its weights and manifest."""
    from arcttt.engine.adapters import ADAPTER_MANIFEST, resolve_base_adapter

    adapter = resolve_base_adapter(config.model)
    if adapter is None:
        return {"adapter": "", "adapter_digest": "", "adapter_manifest_digest": ""}
    return {"adapter": adapter_name(adapter), "adapter_digest": short_digest(adapter / "adapter_model.safetensors"),
            "adapter_manifest_digest": short_digest(adapter / ADAPTER_MANIFEST)}


def append_record(results: Path, record: dict) -> None:
    from arcttt.core.durable import append_line, repair_tail

    results.parent.mkdir(parents=True, exist_ok=True)
    repair_tail(results)  # a record torn by a kill would otherwise swallow this one
    append_line(results, record)


def read_records(results: Path) -> list[dict]:
    if not results.exists():
        raise ArcError("no leaderboard records yet: run `arcttt leaderboard run`", source=str(results))
    from arcttt.core.durable import read_jsonl

    return read_jsonl(results)  # a torn last record (a kill mid-append) is skipped


COLUMNS = ("suite", "config", "score", "Δ", "solved", "outputs", "pass@any", "pass@1", "s/task (median)", "s/task (p90)",
           "s (all tasks)", "TTT stopped", "tokens trained", "peak MiB", "model", "adapter", "commit", "machine", "date")
# What fits 80 columns: the commit tells apart records of one config name made at different commits.
COMPACT = ("suite", "config", "solved", "score", "Δ", "s/task (median)", "commit")
SHORT = {"s/task (median)": "s/task"}  # compact headers; the table's caption says what s/task is


def oracle_cells(record: dict) -> list[str]:
    """How often the right answer was among the candidates at all, and ranked first (records
    from before the oracle was logged show "-")."""
    stats = record.get("oracle") or {}
    if not stats.get("outputs"):
        return ["-", "-"]
    return [f"{stats['found']}/{stats['outputs']}", f"{stats['rank1']}/{stats['outputs']}"]


def total_cell(record: dict) -> str:
    """All tasks' seconds together, with the policy's estimate of what its stops saved ("-" in
    records from before the total was recorded)."""
    if "seconds_total" not in record:
        return "-"
    saved = record.get("seconds_saved")
    return f"{record['seconds_total']:.0f}" + (f" (saved ~{saved:.0f})" if saved else "")


def peak_cell(record: dict) -> str:
    """The config's peak MiB; "≤N" for records from before it was measured per config (the process's
    lifetime peak, which may be an earlier config's); "-" where it could not be measured."""
    peak = record.get("peak_memory_mib")
    if peak is None:
        return "-"
    return str(peak) if record.get("peak_memory_window") == "config" else f"≤{peak}"


def shown(records: list[dict]) -> list[dict]:
    """The latest record per (suite, config, config digest), suites in order, best score first."""
    latest: dict[tuple, dict] = {}
    for record in records:
        latest[(record["suite"], record["config"], record["config_digest"])] = record
    return sorted(latest.values(), key=lambda r: (r["suite"], -r["score"], r["seconds_per_task_median"], r["config"]))


def table_rows(records: list[dict], baseline: str | None = None) -> list[dict[str, str]]:
    """One row of cells (by COLUMNS name) per shown record; Δ against the baseline config's latest
    record on the same suite."""
    bases = {r["suite"]: r for r in records if r["config"] == baseline}
    rows = []
    for r in shown(records):
        base = bases.get(r["suite"])
        delta = "" if base is None or r is base else f"{r['score'] - base['score']:+.3f}"
        cells = [
            r["suite"], r["config"], f"{r['score']:.3f}", delta, f"{r['tasks_solved']}/{r['tasks']}",
            f"{r['outputs_correct']}/{r['outputs_total']}", *oracle_cells(r), f"{r['seconds_per_task_median']:.1f}",
            f"{r['seconds_per_task_p90']:.1f}", total_cell(r), str(r.get("ttt_stopped", "-")),
            str(r["tokens_trained"]), peak_cell(r),
            r["model"], r["adapter_digest"] or "none", r["commit"], r["machine"], r["date"][:10],
        ]
        rows.append(dict(zip(COLUMNS, cells)))
    return rows


def columns(baseline: str | None, wide: bool) -> tuple[str, ...]:
    """The columns `leaderboard show` prints: COMPACT (Δ only with a baseline), or all with --wide."""
    chosen = COLUMNS if wide else COMPACT
    return tuple(c for c in chosen if c != "Δ" or baseline is not None)


def console_table(records: list[dict], title: str, baseline: str | None = None, wide: bool = False):
    """A Rich table of the records. At 80 columns the compact columns of ordinary names fit on one
    line each; a longer suite or config name folds onto more lines rather than lose characters."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    names = columns(baseline, wide)
    caption = None if wide else "s/task: median seconds per task; --wide or LEADERBOARD.md for the rest"
    table = Table(title=escape(printable(title)), caption=caption, caption_justify="left", box=box.SIMPLE_HEAD,
                  show_edge=False, pad_edge=False, collapse_padding=True)
    for name in names:
        numeric = name not in ("suite", "config", "model", "adapter", "commit", "machine", "date")
        # Only names may fold (and in the compact table only they need to): numbers stay whole.
        table.add_column(name if wide else SHORT.get(name, name), justify="right" if numeric else "left",
                         no_wrap=not wide and name not in ("suite", "config"), overflow="fold")
    for row in table_rows(records, baseline):
        table.add_row(*(escape(printable(row[name])) for name in names))
    return table


def markdown(records: list[dict], baseline: str | None = None) -> str:
    rows = table_rows(records, baseline)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row[c].replace("|", "/") for c in COLUMNS) + " |" for row in rows]
    note = f" Δ is the score minus that of the latest `{baseline}` record on the same suite." if baseline else ""
    return ("# arcttt leaderboard\n\nWritten by `arcttt leaderboard show --markdown` from "
            f"`leaderboard/results.jsonl`. Score: ARC Prize per-task average; outputs: Kaggle's count.{note} "
            "Peak MiB is the config's own resident peak; \"≤N\" marks records from before it was measured per "
            "config (the process's lifetime peak, which may be an earlier config's).\n\n"
            + "\n".join(lines) + "\n")


def plot(records: list[dict], path: Path) -> None:
    """Accuracy against median seconds per task, one point per shown record, one panel per suite."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ArcError("--plot needs matplotlib: pip install 'arcttt[plot]'") from exc
    entries = shown(records)
    suites = sorted({r["suite"] for r in entries})
    heights = [max(3.5, 0.2 * sum(r["suite"] == suite for r in entries)) for suite in suites]
    fig, axes = plt.subplots(len(suites), 2, figsize=(12, sum(heights) + 0.5), squeeze=False,
                             gridspec_kw={"width_ratios": [3, 2], "height_ratios": heights})
    for (ax, key), suite in zip(axes, suites):
        points = [r for r in entries if r["suite"] == suite]  # best first: numbered in the key in that order
        repeated = {r["config"] for r in points if sum(p["config"] == r["config"] for p in points) > 1}
        lines = []
        for number, r in enumerate(points, 1):
            x, y = r["seconds_per_task_median"], r["score"]
            ax.scatter([x], [y], s=18, color="tab:red" if r["ttt"] else "tab:blue", zorder=2)
            # Points of equal score crowd together: the numbers step around them.
            offset = ((4, 3), (4, -9), (-12, 3), (-12, -9))[number % 4]
            ax.annotate(str(number), (x, y), textcoords="offset points", xytext=offset, fontsize=7)
            # A config name recorded at several commits is told apart by the commit.
            name = f"{r['config']} @{r['commit']}" if r["config"] in repeated else r["config"]
            lines.append(f"{number:>2}  {r['score']:.3f}  {x:6.1f} s  {name}")
        ax.set_title(f"{suite} ({points[0]['tasks']} tasks; red: TTT, blue: in-context only)")
        ax.set_xlabel("seconds per task (median)")
        ax.set_ylabel("score (ARC Prize)")
        ax.set_xlim(left=0)
        ax.set_ylim(-0.05, 1.05 if max(r["score"] for r in points) > 0.45 else 0.5)
        ax.grid(alpha=0.3)
        key.axis("off")
        key.text(0, 1, "\n".join([" #  score  s/task    config", *lines]), va="top", family="monospace", fontsize=7,
                 transform=key.transAxes)
    fig.tight_layout()
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=100)
    plt.close(fig)
    from arcttt.core.durable import write_bytes_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, image.getvalue())
