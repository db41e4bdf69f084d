"""Chaos test: kill arcttt with SIGKILL at random moments, resume, and check that nothing was lost.

Three scenarios, each against an uninterrupted reference run with the same settings:
- `solve`: one process, killed N times (in training, in decoding, in the middle of a predictions
  write, in the middle of a log append), resumed with `--resume` each time;
- `pretrain`: stage 1 killed N times (between and during checkpoint rotations), resumed;
- `shard`: `torchrun --nproc_per_node=2`, rank 1 killed N times, the group resumed.

After each scenario: predictions (or the adapter and its loss curve) equal the reference's
exactly, every task is there once, the log says every task finished, no temp or lock file is
left. `ARCTTT_CHAOS_PAUSE` makes every write and append pause in its middle, so that random kills
land inside them. A run that finishes before its kill is checked, then the scenario starts over.
The wait before each kill (seconds after the launch) is printed as it happens and kept in the
report's `schedule`; `--schedule` replays one (timings differ between machines, so a replay
lands near, not exactly on, the moments it reproduces).

`--every-write` kills stage 1 deterministically instead: a fresh run in the middle of its first
atomic write (`ARCTTT_CHAOS_KILL_AT=1`), resumed and checked; then another at its second write,
and so on until a run finishes before its kill, so that every write of the folder was a kill point.

    python scripts/chaos.py --kills 20                 # a tiny random model built on the spot
    python scripts/chaos.py --kills 20 --model embedded --scenarios solve
    python scripts/chaos.py --quick --work DIR         # one kill of a 2-task solve (CI)
    python scripts/chaos.py --scenarios pretrain --schedule 0.31,1.2,0.8   # replay a report's schedule
    python scripts/chaos.py --every-write --steps 1 --tasks 2              # 4 steps, 2 checkpoints
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 600


def write_tasks(folder: Path, count: int) -> Path:
    """Small deterministic tasks (mirror each row), one file each."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        side = 1 + i % 3
        grid = [[(i + r + c) % 9 + 1 for c in range(side)] for r in range(side)]
        pairs = [{"input": g, "output": [row[::-1] for row in g]} for g in (grid, grid[::-1])]
        (folder / f"task{i}.json").write_text(json.dumps({"train": pairs, "test": [{"input": grid}]}))
    return folder


def tiny_model(folder: Path) -> Path:
    """The tests' tiny random Llama and tokenizer (`arcttt.testing`), saved as a Hugging Face folder."""
    from arcttt.testing import save_tiny_hub_model

    save_tiny_hub_model(folder)
    return folder


def load_unique(path: Path) -> dict:
    """A JSON object, refusing a key seen twice (a task duplicated in the predictions)."""
    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise AssertionError(f"{path}: a key appears twice")
        return dict(pairs)

    return json.loads(path.read_text(), object_pairs_hook=no_duplicates)


def leftovers(folder: Path) -> list[str]:
    """Temp files, lock files, half-rotated checkpoints and scratch folders anywhere under `folder`."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name.endswith((".tmp", ".lock", ".old")) or (p.name.startswith(".") and p.is_file())
                  or p.name.startswith(".save-"))


def half_written(folder: Path) -> list[str]:
    """The files under `folder` whose atomic write a kill interrupted (named by their temp files)."""
    return sorted(str(p.parent.relative_to(folder) / p.name[1:].rsplit(".", 2)[0])
                  for p in folder.rglob(".*.tmp") if p.is_file())


class Scenario:
    """One thing to kill: how to start it (first time, resumed) and how to check it at the end."""

    name = ""

    def __init__(self, work: Path, env: dict, rng: random.Random):
        self.work, self.env, self.rng = work, env, rng
        self.kills: Counter = Counter()
        self.cycles = 0
        self.schedule: list[float] = []  # the wait before each kill, in order (a run that finished first too)

    def command(self, out: Path, resume: bool) -> list[str]:
        raise NotImplementedError

    def outputs(self, out: Path) -> Path:
        return out.parent

    def check(self, out: Path) -> None:
        raise NotImplementedError

    def classify(self, out: Path) -> str:
        """What the kill interrupted, judged from what it left behind."""
        folder = self.outputs(out)
        logs = [p for p in folder.glob("*.jsonl") if p.stat().st_size]
        if any(not p.read_bytes().endswith(b"\n") for p in logs):
            return "log append"
        if any(p.name.endswith(".tmp") for p in folder.rglob("*")):
            return "file write or checkpoint rotation"
        return "training, decoding or start-up"

    def run_reference(self) -> float:
        out = self.work / "reference" / "out"
        started = time.monotonic()
        done = subprocess.run(self.command(out, resume=False), env=self.env, capture_output=True, text=True,
                              timeout=TIMEOUT)
        assert done.returncode == 0, done.stderr[-3000:]
        self.reference = out
        return time.monotonic() - started

    def launch(self, command: list[str]) -> subprocess.Popen:
        self.stderr = self.work / "last-run.stderr"
        with self.stderr.open("w") as errors:
            return subprocess.Popen(command, env=self.env, stdout=subprocess.DEVNULL, stderr=errors,
                                    start_new_session=True)

    def kill(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(ProcessLookupError):  # it may have finished in the meantime
            os.killpg(process.pid, signal.SIGKILL)

    def delays(self, kills: int, duration: float, schedule: list[float] | None) -> Iterator[float]:
        """Seconds to wait before each kill: `schedule`'s, or drawn until `kills` kills have happened."""
        if schedule is not None:
            yield from schedule
            return
        while sum(self.kills.values()) < kills:
            yield round(self.rng.uniform(0.05, 1.0) * duration, 3)

    def run(self, kills: int, duration: float, schedule: list[float] | None = None) -> None:
        """Kill `kills` times at random moments (or after each delay of `schedule`); resume after
        each; check at the end of every cycle."""
        cycle_out, failures = None, 0
        for delay in self.delays(kills, duration, schedule):
            self.schedule.append(delay)
            if cycle_out is None:
                self.cycles += 1
                cycle_out = self.work / f"cycle{self.cycles}" / "out"
                resume = False
            process = self.launch(self.command(cycle_out, resume))
            resume = True
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                self.kill(process)
                process.wait(timeout=TIMEOUT)
                self.kills[self.classify(cycle_out)] += 1
                print(f"{self.name}: kill {sum(self.kills.values())} at {delay} s ({self.classify(cycle_out)})",
                      file=sys.stderr, flush=True)
                continue
            print(f"{self.name}: the run finished before its kill at {delay} s", file=sys.stderr, flush=True)
            if process.returncode != 0:
                failures += 1
                # torchrun's rendezvous port can stay taken a moment after a kill: retry a few times.
                assert failures < 3, f"{self.name}: a resumed run failed: {self.stderr.read_text()[-3000:]}"
                time.sleep(2)
                continue
            failures = 0
            self.check(cycle_out)
            cycle_out = None
        if cycle_out is not None:
            done = subprocess.run(self.command(cycle_out, resume=True), env=self.env, capture_output=True, text=True,
                                  timeout=TIMEOUT)
            assert done.returncode == 0, done.stderr[-3000:]
            self.check(cycle_out)


class Solve(Scenario):
    name = "solve"

    def __init__(self, work, env, rng, tasks: Path, model: str, steps: int, extra: tuple[str, ...] = ()):
        super().__init__(work, env, rng)
        self.tasks, self.model, self.steps, self.extra = tasks, model, steps, extra

    def command(self, out, resume):
        # The model alone answers: a program mirrors these rows in milliseconds, and kills are to
        # land in training and decoding.
        out = out.parent / "predictions.json"
        return [sys.executable, "-m", "arcttt", "solve", str(self.tasks), "--out", str(out), "--model", self.model,
                "--steps", str(self.steps), "--views", "2", "--device", "cpu", "--seed", "3", "--expert", "ttt",
                "--json", *self.extra, *(["--resume"] if resume else [])]

    def final(self, out: Path) -> Path:
        return out.parent / "predictions.json"

    def check(self, out):
        got, want = load_unique(self.final(out)), load_unique(self.final(self.reference))
        assert got == want, f"{self.name}: predictions differ from the uninterrupted run's"
        assert len(got) == len(list(self.tasks.glob("*.json")))
        log = self.final(out).with_name("predictions.log.jsonl")
        if log.exists():
            status = {}
            for line in log.read_text().splitlines():
                record = json.loads(line)  # a torn line inside the log would fail here
                status[record["task_id"]] = record["status"]
            assert set(status.values()) == {"ok"} and len(status) == len(got), status
        left = leftovers(out.parent)
        assert not left, f"{self.name}: left behind {left}"


class Shard(Solve):
    name = "shard"

    def command(self, out, resume):
        # The reference is an uninterrupted torchrun run too: what is compared is kill + resume,
        # not one process against two (near-ties of a random model can differ between those).
        base = super().command(out, resume)
        return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *base[1:]]

    def kill(self, process):
        import psutil

        def is_rank_1(child) -> bool:
            try:
                return child.environ().get("RANK") == "1"
            except psutil.Error:  # gone, or a zombie, since the listing: not a rank to kill
                return False

        try:
            ranks = [p for p in psutil.Process(process.pid).children(recursive=True) if is_rank_1(p)]
        except psutil.Error:
            ranks = []
        for rank in ranks:
            with contextlib.suppress(psutil.Error):
                rank.send_signal(signal.SIGKILL)  # torchrun then takes the other rank down
        if not ranks:
            super().kill(process)


class Pretrain(Scenario):
    name = "pretrain"

    def __init__(self, work, env, rng, tasks: Path, model: str, steps: int):
        super().__init__(work, env, rng)
        self.tasks, self.model, self.steps = tasks, model, steps

    def command(self, out, resume):
        return [sys.executable, "-m", "arcttt", "pretrain", "--data", str(self.tasks), "--model", self.model,
                "--out", str(out), "--steps", str(self.steps), "--checkpoint-every", "2", "--rank", "4",
                "--device", "cpu", "--json", *(["--resume"] if resume else [])]

    def outputs(self, out):
        return out

    def check(self, out):
        def curve(folder):
            return [json.loads(line)["loss"] for line in (folder / "losses.jsonl").read_text().splitlines()]

        same = (out / "adapter_model.safetensors").read_bytes() == \
            (self.reference / "adapter_model.safetensors").read_bytes()
        assert same, "pretrain: the adapter differs from the uninterrupted run's"
        assert curve(out) == curve(self.reference) and len(curve(out)) == self.steps
        manifest, want = (json.loads((f / "arcttt-adapter.json").read_text()) for f in (out, self.reference))
        assert (manifest["steps"], manifest["tokens"]) == (want["steps"], want["tokens"])
        left = leftovers(out.parent)
        assert not left, f"pretrain: left behind {left}"

    def run_every_write(self) -> list[str]:
        """Kill a fresh run in the middle of its N-th atomic write for N = 1, 2, ..., resume it and
        check it, until a run finishes before its kill; the files each kill interrupted, in order."""
        interrupted: list[str] = []
        while True:
            n = len(interrupted) + 1
            out = self.work / f"write{n}" / "out"
            started = time.monotonic()
            killed = subprocess.run(self.command(out, resume=False), env={**self.env, "ARCTTT_CHAOS_KILL_AT": str(n)},
                                    capture_output=True, text=True, timeout=TIMEOUT)
            if killed.returncode == 0:  # it has fewer writes than n: every one was a kill point
                self.check(out)
                return interrupted
            assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
            left = half_written(out)
            assert len(left) == 1, f"pretrain: the kill at write {n} left {left}, not one half-written file"
            interrupted.append(left[0])
            self.kills[left[0]] += 1
            print(f"pretrain: killed in write {n} ({left[0]}) after {time.monotonic() - started:.1f} s",
                  file=sys.stderr, flush=True)
            done = subprocess.run(self.command(out, resume=True), env=self.env, capture_output=True, text=True,
                                  timeout=TIMEOUT)
            assert done.returncode == 0, done.stderr[-3000:]
            self.check(out)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs per scenario")
    parser.add_argument("--scenarios", default=None,
                        help="comma-separated: solve, pretrain, shard (default: all; --quick: solve)")
    parser.add_argument("--model", default="", help="model for the runs (default: a tiny random one)")
    parser.add_argument("--tasks", type=int, default=6, help="tasks per run")
    parser.add_argument("--steps", type=int, default=20, help="training steps per task (pretrain: 4x)")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds every write and append pauses midway")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", type=Path, default=None, help="keep the runs here (default: a temp folder)")
    parser.add_argument("--quick", action="store_true", help="seconds, for CI: 1 kill per scenario, 2 tasks, 4 steps")
    parser.add_argument("--schedule", default=None,
                        help="comma-separated seconds: wait these before the kills instead of drawing them "
                             "(a report's `schedule`; one scenario)")
    parser.add_argument("--every-write", action="store_true",
                        help="pretrain only: kill in the middle of write 1, 2, ... of a fresh run in turn (no pause)")
    args = parser.parse_args(argv)
    if args.quick:
        args.kills, args.tasks, args.steps = 1, 2, 4
    default = "solve" if args.quick else "pretrain" if args.every_write else "solve,pretrain,shard"
    scenarios = args.scenarios or default
    if args.every_write and scenarios != "pretrain":
        parser.error("--every-write kills stage 1 only: use it with --scenarios pretrain")
    schedule = None
    if args.schedule is not None:
        if "," in scenarios:
            parser.error("--schedule replays one scenario's kills: name it with --scenarios")
        try:
            schedule = [float(s) for s in args.schedule.split(",")]
        except ValueError:
            parser.error(f"--schedule: {args.schedule!r} is not comma-separated seconds")

    work = args.work or Path(tempfile.mkdtemp(prefix="arcttt-chaos-"))
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    tasks = write_tasks(work / "tasks", args.tasks)
    model = args.model or str(tiny_model(work / "model"))
    # One thread per process, as under torchrun: the sharded run must match the single reference.
    # A deterministic kill needs no pause to land inside a write.
    pause = 0 if args.every_write else args.pause
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ARCTTT_CHAOS_PAUSE": str(pause), "PYTHONPATH": str(ROOT)}
    env.pop("ARCTTT_CHAOS_KILL_AT", None)  # the kills are this script's to place
    report = {}
    for name in scenarios.split(","):
        folder = work / name
        folder.mkdir(parents=True, exist_ok=True)
        if name == "solve":
            scenario = Solve(folder, env, rng, tasks, model, args.steps)
        elif name == "shard":
            scenario = Shard(folder, env, rng, tasks, model, args.steps)
        elif name == "pretrain":
            scenario = Pretrain(folder, env, rng, tasks, model, 4 * args.steps)
        else:
            parser.error(f"unknown scenario {name!r}")
        duration = scenario.run_reference()
        started = time.monotonic()
        if args.every_write:
            interrupted = scenario.run_every_write()
            report[name] = {"mode": "every-write", "kills": len(interrupted), "interrupted": interrupted}
        else:
            scenario.run(args.kills, duration, schedule)
            report[name] = {"kills": sum(scenario.kills.values()), "by_moment": dict(scenario.kills),
                            "cycles": scenario.cycles, "schedule": scenario.schedule}
        report[name].update(reference_seconds=round(duration, 1), chaos_seconds=round(time.monotonic() - started, 1),
                            result="identical")
        print(f"{name}: {json.dumps(report[name])}", file=sys.stderr, flush=True)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
