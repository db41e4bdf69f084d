"""How the device run goes: steps in order, each with its own timeout, each result written to the
output folder as soon as it is known, a failure recorded and the next step run anyway."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from arcttt.core.durable import write_json_atomic

from .common import FORMAT, ROOT, log


class StepFailed(Exception):
    """A step's own failure, already said in one line (its log has the rest)."""


@dataclass
class Step:
    name: str
    calls: tuple[str, ...]  # the device calls ("1", "2") whose carried files it needs; "all" runs every step
    seconds: float  # its timeout
    action: Callable[[Run], dict]
    needs: float = 10.0  # seconds left below which it is skipped rather than started


class Run:
    """One `run` invocation: the output folder, the log, the summary and the time left."""

    def __init__(self, out: Path, budget: float, options: argparse.Namespace | None = None):
        self.out = out
        self.options = options
        self.started = time.monotonic()
        self.deadline = self.started + budget
        self.step_deadline = self.deadline
        self.log_path = out / "log.txt"
        self.summary = {"kit": FORMAT, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "budget_s": budget,
                        "steps": []}
        self.results: dict[str, dict] = {}
        out.mkdir(parents=True, exist_ok=True)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def step_left(self) -> float:
        return max(1.0, self.step_deadline - time.monotonic())

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def note(self, text: str) -> None:
        with open(self.log_path, "a") as handle:
            handle.write(text.rstrip("\n") + "\n")

    def write_summary(self) -> None:
        self.summary["elapsed_s"] = round(self.elapsed(), 1)
        write_json_atomic(self.out / "summary.json", self.summary, indent=1)

    def child(self, command: list[str], timeout: float, env: dict | None = None, stdout: Path | None = None,
              check: bool = True, keep: int = 4000) -> tuple[int, str]:
        """Run a command with its stderr (and its stdout, unless captured in `stdout`) going to the log;
        its exit status and captured stdout (the last `keep` characters of which are logged too).

        It gets a process group of its own, so that a timeout ends it with everything it started.
        """
        self.note(f"$ {' '.join(command)}")
        timeout = max(1.0, min(timeout, self.left()))
        timed_out = False
        with open(self.log_path, "a") as log_file, open(stdout or os.devnull, "w") as out_file:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out_file if stdout else log_file,
                                       stderr=log_file, start_new_session=True)
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                code, timed_out = process.wait(), True
        text = stdout.read_text() if stdout else ""
        if text and keep:
            self.note(text[-keep:])
        if timed_out:
            raise StepFailed(f"timed out after {timeout:.0f} s: {' '.join(command[:5])} ...")
        if check and code != 0:
            raise StepFailed(f"exit {code}: {' '.join(command[:5])} ... (see log.txt)")
        return code, text

    def execute(self, steps: list[Step]) -> dict:
        """Every step in order, each recorded (ok, failed, or skipped for lack of time) before the next."""
        for step in steps:
            record = self.skipped(step) if self.left() < step.needs else self.attempt(step)
            self.summary["steps"].append(record)
            self.write_summary()
        self.summary["files"] = sorted(p.relative_to(self.out).as_posix() for p in self.out.rglob("*") if p.is_file())
        self.write_summary()
        return self.summary

    def skipped(self, step: Step) -> dict:
        record = {"name": step.name, "ok": False, "skipped": f"{self.left():.0f} s left, it needs {step.needs:.0f}"}
        log(f"[{self.elapsed():6.1f} s] {step.name}: skipped ({record['skipped']})")
        return record

    def attempt(self, step: Step) -> dict:
        """One step under its timeout; its record (what it returned, or its error)."""
        record: dict = {"name": step.name}
        log(f"[{self.elapsed():6.1f} s] {step.name} ...")
        self.note(f"\n===== {step.name} (at {self.elapsed():.1f} s, timeout {min(step.seconds, self.left()):.0f} s)")
        begun = time.monotonic()
        self.step_deadline = begun + min(step.seconds, self.left())
        try:
            record.update({**(step.action(self) or {}), "ok": True})
        except Exception as exc:  # the boundary: recorded, and the next step runs
            record.update(ok=False, error=f"{type(exc).__name__}: {exc}")
            self.note(f"FAILED: {record['error']}")
        record["seconds"] = round(time.monotonic() - begun, 1)
        self.results[step.name] = record
        log(f"[{self.elapsed():6.1f} s] {step.name}: {'ok' if record['ok'] else 'FAILED'} ({record['seconds']} s)"
            + ("" if record["ok"] else f" {record['error']}"))
        return record
