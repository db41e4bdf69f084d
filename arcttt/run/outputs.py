"""The files of a solve run and the rules for touching them: `predictions.json` with its
sidecars (`.log.jsonl`, `.config.toml`, `.run.json`), which run owns them, and what a resume
may keep of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from arcttt.core.config import SolveConfig, to_toml
from arcttt.core.durable import (append_line, read_jsonl, remove_stale_temps, repair_tail, write_json_atomic,
                                 write_text_atomic)
from arcttt.core.errors import ArcError
from arcttt.core.predictions import Predictions, load_predictions, write_predictions
from arcttt.run.provenance import contents


def sidecar(out: Path, suffix: str) -> Path:
    """`predictions.json` -> `predictions.config.toml`, `predictions.log.jsonl`."""
    return out.with_name(f"{out.stem}.{suffix}")


def state_path(out: Path) -> Path:
    """`predictions.run.json`: which run owns these predictions (its digest and what it covers)."""
    return sidecar(out, "run.json")


def write_effective_config(out: Path, config: SolveConfig, digest: str | None = None) -> None:
    """The config beside the predictions, loadable with --config, with its digest (and the run's)."""
    run = f"; run digest {digest} (config, model, adapters, arcttt version)" if digest else ""
    write_text_atomic(sidecar(out, "config.toml"),
                      f"# effective config of {out.name}; digest {config.digest}{run}\n" + to_toml(config))


def write_run_state(out: Path, config: SolveConfig, digest: str, task_adapters_in: Path | None) -> None:
    """Mark `out` as this run's (its digest and what that covers), atomically."""
    write_json_atomic(state_path(out), {"format": 1, "digest": digest, "predictions": out.name,
                                        "contents": contents(config, task_adapters_in)}, indent=1)


def read_log(log: Path) -> list[dict]:
    """A run's task records, in order; a torn last line (a kill mid-append) is skipped."""
    return [record for record in read_jsonl(log) if "task_id" in record]


def finished_count(log: Path) -> int:
    """Tasks logged as solved in a run's log (0 if there is none yet): for progress across ranks."""
    try:
        return sum(record.get("status") == "ok" for record in read_log(log))
    except (ArcError, OSError):
        return 0


def check_output(out: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to touch an earlier run's files unless told to continue it or to start over."""
    existing = [p.name for p in (out, sidecar(out, "log.jsonl"), state_path(out)) if p.exists()]
    if existing and not (resume or overwrite):
        raise ArcError(f"already exists ({', '.join(existing)}): pass --resume to continue that run or "
                       "--overwrite to start over", source=str(out))


def finished(out: Path, digest: str) -> tuple[Predictions, set[str]]:
    """Predictions and the ids of tasks solved without error by an earlier run with this digest."""
    log, state = sidecar(out, "log.jsonl"), state_path(out)
    if state.exists():
        try:
            recorded = json.loads(state.read_text(encoding="utf-8")).get("digest")
        except (OSError, ValueError, AttributeError) as exc:
            raise ArcError(f"unreadable run state {state.name} ({exc}): pass --overwrite to start over",
                           source=str(out)) from exc
        if recorded != digest:
            raise ArcError(f"was written by another run: another config, model, adapter or arcttt version "
                           f"(digest {recorded}, now {digest}); use the same to resume, or another --out",
                           source=str(out))
    if out.exists() and not log.exists():
        raise ArcError(f"its log {log.name} is missing, so which tasks finished, and with which config, is "
                       "unknown: pass --overwrite to start over, or choose another --out", source=str(out))
    done = set()
    for record in read_log(log):
        if record.get("config_digest") != digest:
            raise ArcError(f"was written with another config (digest {record.get('config_digest')}, now {digest}); "
                           "use the same config to resume, or another --out", source=str(out))
        if record.get("status") == "ok":
            done.add(record["task_id"])
        else:
            done.discard(record["task_id"])
    predictions = load_predictions(out) if out.exists() else {}
    return predictions, done & set(predictions)


def spent_seconds(log: Path, total: float) -> float:
    """Seconds of the run budget earlier invocations of a resumed run used: up to its last logged
    task, model loading included (the task a kill interrupted is lost time, not counted)."""
    if not log.exists():
        return 0.0
    records = read_log(log)
    used = [total - r["budget_left"] for r in records if r.get("budget_left") is not None]
    return max(used) if used else sum(float(r.get("seconds") or 0.0) for r in records)


def check_same_precision(log: Path, precision: str, out: Path) -> None:
    """Refuse to resume a run whose finished tasks ran on another dtype or quantization: `auto`
    decides from the free GPU memory, which the config digest cannot know."""
    # Logs before the rename call the field "base".
    earlier = sorted({r.get("precision") or r.get("base") for r in read_log(log)
                      if r.get("status") == "ok" and (r.get("precision") or r.get("base"))})
    if earlier and earlier != [precision]:
        raise ArcError(f"its finished tasks ran on a base loaded as {', '.join(earlier)}, this run's is {precision}: "
                       "set --dtype and --quantize to match, or use another --out", source=str(out))


def in_order(predictions: Predictions, order: list[str]) -> Predictions:
    """This run's tasks in run order, then every other task already there: never drop one."""
    first = {k: predictions[k] for k in order if k in predictions}
    return {**first, **{k: v for k, v in predictions.items() if k not in first}}


@dataclass
class RunFiles:
    """The open files of one run: predictions so far, the log, the tasks already done."""

    out: Path
    digest: str
    predictions: Predictions
    done: set[str]
    order: list[str]

    @property
    def log(self) -> Path:
        return sidecar(self.out, "log.jsonl")

    @classmethod
    def open(cls, out: Path, config: SolveConfig, digest: str, order: list[str], resume: bool, overwrite: bool,
             task_adapters_in: Path | None) -> RunFiles:
        """Check, then claim `out` for this run: an earlier run's finished tasks are kept with
        `resume`, its files removed with `overwrite`. The caller holds `output_lock(out)`."""
        check_output(out, resume, overwrite)
        log = sidecar(out, "log.jsonl")
        for path in (out, log, state_path(out), sidecar(out, "config.toml")):
            remove_stale_temps(path)  # what a writer killed mid-write left behind
        if resume:
            predictions, done = finished(out, digest)
            repair_tail(log)
        else:
            # Predictions first: from here on a kill leaves no file of the old run to resume.
            for path in (out, log, state_path(out)):
                path.unlink(missing_ok=True)
            predictions, done = {}, set()
        write_run_state(out, config, digest, task_adapters_in)
        write_effective_config(out, config, digest)
        if not log.exists():
            write_text_atomic(log, "")
        return cls(out, digest, predictions, done, order)

    def record(self, task_id: str, attempts, record: dict) -> None:
        """A task's attempts into the predictions (atomically), then its log line (synced)."""
        self.predictions[task_id] = attempts
        write_predictions(self.out, in_order(self.predictions, self.order))
        append_line(self.log, record)

    def close(self) -> Predictions:
        """Make sure the predictions file exists; this run's tasks' predictions, in order."""
        if not self.out.exists():  # every task was done already, or none was given: the file still exists
            write_predictions(self.out, in_order(self.predictions, self.order))
        return {k: self.predictions[k] for k in self.order if k in self.predictions}
