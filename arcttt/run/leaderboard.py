"""Leaderboard runs: solve a named suite with several configs, score, and keep one record each.

A suite (`data/suites/NAME.toml`) names a task source, a version and, optionally, a list of task
ids. A record (one JSON line in `leaderboard/results.jsonl`) holds the score in both ARC
conventions, the solved ids, seconds per task, tokens trained, peak memory, what was run (model,
adapter and config digests, git commit, machine) and when. Rendering needs no torch.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import statistics
import sys
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from arcttt.core.config import load_config
from arcttt.core.errors import ArcError
from arcttt.core.tasks import Task, load_source

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "data" / "suites"


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
    """A suite by name (in data/suites/) or by path to its TOML file."""
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
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def file_digest(path: Path | None) -> str:
    if path is None or not path.exists():
        return ""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


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

    data = config.to_dict()
    data["model"].pop("cache_dir")
    data["infer"] = {"max_tokens": config.infer.max_tokens}
    data.pop("infer_budget")
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
    those of a full solve."""
    import resource

    from arcttt.engine.embedded import embedded_cache_key

    from arcttt.core.score import score
    from arcttt.engine.adapters import ADAPTER_MANIFEST, resolve_base_adapter
    from arcttt.run.pipeline import read_log, sidecar
    from arcttt.run.provenance import run_digest
    from arcttt.run.provenance import git_commit
    from arcttt.run.solve import RunOptions, run

    config = load_config(config_path)
    tasks = suite.load()
    # The run digest names the folder: a retrained adapter or new model starts a new run, never a mix.
    digest = run_digest(config)
    out = runs_dir / suite.name / f"{config_path.stem}-{digest}" / "predictions.json"
    options, training = RunOptions(out, resume=True), None
    # A task or run budget spans training and inference: a run that loads adapters would decode longer.
    if reuse_training and config.ttt and config.task_budget == 0 and config.budget == 0:
        shared = runs_dir / suite.name / f"adapters-{training_key(config)}"
        # A run that trained (and saved) its adapters goes on training: its digest does not cover loading them.
        from arcttt.run.pipeline import state_path

        trained_itself = state_path(out).exists() and json.loads(state_path(out).read_text()).get("digest") == digest
        training = None if trained_itself else trained_adapters(shared, tasks)
        options = replace(options, task_adapters_in=shared) if training else replace(options, task_adapters_out=shared)
    result = run(tasks, config, options, log)
    report = score(result.predictions, {t.id: t.solutions for t in tasks})
    records = read_log(sidecar(out, "log.jsonl"))
    latest = {r["task_id"]: r for r in records}  # a resumed task's last record is its outcome
    if options.task_adapters_out is not None and training is None:
        from arcttt.core.durable import write_json_atomic

        training = {t: {k: r.get(k) for k in TRAINED} for t, r in latest.items()}
        write_json_atomic(options.task_adapters_out / TRAINING_LOG, training, indent=1)
        training = None  # this run trained: its own records hold the training
    elif training is not None:
        for task_id, record in latest.items():
            record.update({k: v for k, v in training[task_id].items() if k != "seconds"},
                          seconds=record["seconds"] + (training[task_id].get("train_seconds") or 0.0))
    seconds = [r["seconds"] for r in latest.values()]
    adapter = resolve_base_adapter(config.model)
    model = config.model.name
    if model == "embedded":
        model = f"embedded gemma3-270m ({embedded_cache_key()})"
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there, KiB on Linux
        peak_kib /= 1024
    return {
        "suite": suite.name,
        "suite_version": suite.version,
        "config": config_path.stem,
        "config_digest": config.digest,
        "run_digest": digest,
        "ttt": config.ttt,
        "model": model,
        "adapter": str(adapter) if adapter else "",
        "adapter_digest": file_digest(adapter / "adapter_model.safetensors") if adapter else "",
        "adapter_manifest_digest": file_digest(adapter / ADAPTER_MANIFEST) if adapter else "",
        "score": report.score,
        "tasks": len(report.rows),
        "tasks_solved": len(report.solved),
        "solved": list(report.solved),
        "outputs_correct": report.outputs_correct,
        "outputs_total": report.outputs_total,
        "failed_tasks": sorted(t for t, r in latest.items() if r["status"] != "ok"),
        "seconds_per_task_median": round(statistics.median(seconds), 2) if seconds else 0.0,
        "seconds_per_task_p90": round(percentile(seconds, 0.9), 2),
        "tokens_trained": sum(r.get("tokens") or 0 for r in latest.values()),
        "training_reused": str(options.task_adapters_in) if training is not None else "",
        "oracle": oracle(list(latest.values())),
        "peak_memory_mib": round(peak_kib / 1024),
        "commit": git_commit(),
        "machine": machine(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "predictions": str(out),
    }


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
           "tokens trained", "peak MiB", "model", "adapter", "commit", "machine", "date")


def oracle_cells(record: dict) -> list[str]:
    """How often the right answer was among the candidates at all, and ranked first (records
    from before the oracle was logged show "-")."""
    stats = record.get("oracle") or {}
    if not stats.get("outputs"):
        return ["-", "-"]
    return [f"{stats['found']}/{stats['outputs']}", f"{stats['rank1']}/{stats['outputs']}"]


def table_rows(records: list[dict], baseline: str | None = None) -> list[list[str]]:
    """The latest record per (suite, config, digest), best score first within each suite."""
    latest: dict[tuple, dict] = {}
    for record in records:
        latest[(record["suite"], record["config"], record["config_digest"])] = record
    rows = []
    for suite in sorted({r["suite"] for r in latest.values()}):
        entries = [r for r in latest.values() if r["suite"] == suite]
        base = next((r for r in entries if r["config"] == baseline), None)
        for r in sorted(entries, key=lambda r: (-r["score"], r["seconds_per_task_median"], r["config"])):
            delta = "" if base is None or r is base else f"{r['score'] - base['score']:+.3f}"
            rows.append([
                suite, r["config"], f"{r['score']:.3f}", delta, f"{r['tasks_solved']}/{r['tasks']}",
                f"{r['outputs_correct']}/{r['outputs_total']}", *oracle_cells(r), f"{r['seconds_per_task_median']:.1f}",
                f"{r['seconds_per_task_p90']:.1f}", str(r["tokens_trained"]), str(r["peak_memory_mib"]),
                r["model"], r["adapter_digest"] or "none", r["commit"], r["machine"], r["date"][:10],
            ])
    return rows


def markdown(records: list[dict], baseline: str | None = None) -> str:
    rows = table_rows(records, baseline)
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    note = f" Δ is the score minus that of `{baseline}` on the same suite." if baseline else ""
    return ("# arcttt leaderboard\n\nWritten by `arcttt leaderboard show --markdown` from "
            f"`leaderboard/results.jsonl`. Score: ARC Prize per-task average; outputs: Kaggle's count.{note}\n\n"
            + "\n".join(lines) + "\n")


def plot(records: list[dict], path: Path) -> None:
    """Accuracy against median seconds per task, one point per config, one panel per suite."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ArcError("--plot needs matplotlib: pip install 'arcttt[plot]'") from exc
    rows = table_rows(records)
    suites = sorted({row[0] for row in rows})
    fig, axes = plt.subplots(1, len(suites), figsize=(5 * len(suites), 4), squeeze=False)
    for ax, suite in zip(axes[0], suites):
        for row in (r for r in rows if r[0] == suite):
            x, y = float(row[COLUMNS.index("s/task (median)")]), float(row[2])
            ax.scatter([x], [y])
            ax.annotate(row[1], (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_title(suite)
        ax.set_xlabel("seconds per task (median)")
        ax.set_ylabel("score")
        ax.set_ylim(-0.05, 1.05)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
