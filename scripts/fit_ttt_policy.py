"""Fit the checked policy's thresholds on ARC-AGI-1 training tasks (never on evaluation).

Usage:
  python scripts/fit_ttt_policy.py                         # run the observing solve, then fit
  python scripts/fit_ttt_policy.py --log data/fits/checked-policy-arc-agi-1-training.log.jsonl
                                                           # the committed observing run: the defaults' fit
  python scripts/fit_ttt_policy.py --compare DEFAULT_LOG CHECKED_LOG   # stops against the default
  python scripts/fit_ttt_policy.py --quick --out DIR       # 2 tiny training tasks, 2 steps: for CI
The observing run is the default CPU solver (configs/cpu-combined.toml) with `policy = "checked"`
that never stops (`give_up_below = 0`, no size prior): every task that trains is checked before
training and every `check_every` steps, then answered as today's default answers it. Program search gets 2 s a
task here: it only sorts out the tasks a verified program spares training, which the policy never
sees. The tasks: `--small` of the training set's tasks under 420 tokens and `--mid` of 420-1,430
tokens (the sizes of the cpu-dev and cpu-dev-2 suites), evenly spaced through each size band.
The run resumes where it stopped.

The fit replays the logged checks: for each decision step and threshold it counts the tasks the
policy would stop, the solved ones among them, and the seconds it would save (training after the
step, and inference). The chosen rule saves the most while stopping no solved task. The size
prior is fitted the same way on a coarse grid (100 tokens a step): tasks whose training samples
average more tokens go on only while a check finds a demonstration whole. Prints the CPU: the
seconds are this machine's.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from arcttt.core.encode import task_tokens
from arcttt.core.tasks import Task, load_source
from arcttt.run.provenance import cpu_name

ROOT = Path(__file__).resolve().parent.parent
BANDS = {"small": (0, 420), "mid": (420, 1430)}
THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975)
BINS = {"accuracy": ((0.95, 1.01), (0.9, 0.95), (0.8, 0.9), (0.0, 0.8)),
        "changed": ((0.8, 1.01), (0.6, 0.8), (0.4, 0.6), (0.0, 0.4))}
SIGNALS = tuple(BINS)
PRIOR_GRID = (200, 300, 400, 500, 600, 1_000_000)


def chosen_tasks(source: str, counts: dict[str, int]) -> list[Task]:
    """`counts[band]` tasks of each size band, evenly spaced through the band sorted by (tokens, id)."""
    sized = sorted(((task_tokens(t), t.id, t) for t in load_source(source).tasks), key=lambda x: x[:2])
    chosen = []
    for band, (low, high) in BANDS.items():
        inside = [t for tokens, _, t in sized if low <= tokens < high]
        count = min(counts[band], len(inside))
        chosen += [inside[round(i * (len(inside) - 1) / max(count - 1, 1))] for i in range(count)]
    return chosen


QUICK = {"expert": "ttt", "train.steps": 2, "check_every": 1, "infer.views": 1}
"""--quick: the model alone (the smallest tasks are programs'), 2 steps, a check after each."""


def observe(tasks: list[Task], out: Path, quick: bool = False) -> Path:
    """Solve `tasks` with the never-stopping checked policy into `out` (resumed); the log's path."""
    from rich.console import Console

    from arcttt.core.config import load_config, override
    from arcttt.run.solve import RunOptions, run

    config = override(load_config(ROOT / "configs" / "cpu-combined.toml"),
                      {"policy": "checked", "give_up_below": 0.0, "prior_tokens": 1 << 30, "check_first": True,
                       "programs.time_limit": 2.0, **(QUICK if quick else {})})
    predictions = out / "predictions.json"
    run(tasks, config, RunOptions(predictions, resume=True), Console(stderr=True))
    return out / "predictions.log.jsonl"


def latest_records(log: Path) -> dict[str, dict]:
    """Each task's last record in a run's log (a resumed task's last one is its outcome)."""
    from arcttt.run.outputs import read_log

    return {record["task_id"]: record for record in read_log(log)}


def trained_records(log: Path) -> list[dict]:
    """The last record of each task that trained under the checked policy, with its outcome."""
    rows = []
    for record in latest_records(log).values():
        checks = (record.get("decision") or {}).get("checks")
        if not checks or record.get("correct") is None:
            continue
        inference = max(0.0, record["seconds"] - record["program_seconds"] - record["train_seconds"])
        # The policy logs its samples' mean length; before it did, the trained ones' mean is near it.
        tokens = record["decision"].get("sample_tokens") or record["tokens"] / max(record["samples_trained"], 1)
        rows.append({"task": record["task_id"], "solved": all(record["correct"]), "steps": record["steps"],
                     "sample_tokens": round(tokens, 1),
                     "train_seconds": record["train_seconds"], "inference_seconds": inference,
                     "checks": {c["step"]: c for c in checks}})
    return rows


def stops_at(row: dict, every: int, threshold: float, signal: str = "changed", promising: bool = True) -> int | None:
    """The step at which the policy (checks every `every` steps, and at the end) stops the task: no
    demonstration whole and, for a task the prior finds promising, `signal` below `threshold`."""
    for step, check in sorted(row["checks"].items()):
        due = step > 0 and (step % every == 0 or step == row["steps"])
        if due and check["exact"] == 0 and (not promising or check[signal] < threshold):
            return step
    return None


def saved_seconds(row: dict, step: int) -> float:
    """What stopping at `step` saves: the training after it (at the task's own pace) and inference."""
    left = max(0, row["steps"] - step) / row["steps"] if row["steps"] else 0.0
    return row["train_seconds"] * left + row["inference_seconds"]


def bin_table(rows: list[dict], signal: str, bins: tuple[tuple[float, float], ...]) -> list[dict]:
    """`signal` at each check step against solved: held-out exact, then bins of the signal (tasks
    with no demonstration whole), then the training loss."""
    table = []
    steps = sorted({s for r in rows for s in r["checks"]})
    for step in steps:
        at = [r for r in rows if step in r["checks"]]
        cells = {"step": step}
        exact = [r for r in at if r["checks"][step]["exact"] > 0]
        cells["exact>=1"] = f"{sum(r['solved'] for r in exact)}/{len(exact)}"
        for low, high in bins:
            inside = [r for r in at if r["checks"][step]["exact"] == 0 and low <= r["checks"][step][signal] < high]
            cells[f"{signal} {low:.2f}-{min(high, 1):.2f}"] = f"{sum(r['solved'] for r in inside)}/{len(inside)}"
        losses = [r for r in at if r["checks"][step].get("loss") is not None]
        low_loss = [r for r in losses if r["checks"][step]["loss"] <= 0.1]
        cells["loss<=0.1"] = f"{sum(r['solved'] for r in low_loss)}/{len(low_loss)}"
        table.append(cells)
    return table


def rule_table(rows: list[dict], every_steps: tuple[int, ...], signal: str) -> list[dict]:
    """For each (check_every, give_up_below) on `signal`: tasks stopped, solved ones among them,
    seconds saved."""
    total = sum(r["train_seconds"] + r["inference_seconds"] for r in rows)
    table = []
    for every in every_steps:
        for threshold in THRESHOLDS:
            stopped = [(r, s) for r in rows if (s := stops_at(r, every, threshold, signal)) is not None]
            saved = sum(saved_seconds(r, s) for r, s in stopped)
            table.append({"signal": signal, "check_every": every, "give_up_below": threshold, "stopped": len(stopped),
                          "solved_stopped": sum(r["solved"] for r, _ in stopped), "seconds_saved": round(saved, 1),
                          "share_saved": round(saved / total, 3) if total else 0.0})
    return table


def prior_table(rows: list[dict], every: int, signal: str, threshold: float) -> list[dict]:
    """For each size bar on the grid: tasks above it (which go on only with a demonstration whole),
    solved ones among those stopped, and the seconds the whole rule (with `threshold` below the bar)
    saves."""
    total = sum(r["train_seconds"] + r["inference_seconds"] for r in rows)
    table = []
    for bar in PRIOR_GRID:
        stops = [(r, stops_at(r, every, threshold, signal, r["sample_tokens"] <= bar)) for r in rows]
        stopped = [(r, s) for r, s in stops if s is not None]
        saved = sum(saved_seconds(r, s) for r, s in stopped)
        table.append({"prior_tokens": bar, "above": sum(r["sample_tokens"] > bar for r in rows),
                      "solved_above": sum(r["solved"] and r["sample_tokens"] > bar for r in rows),
                      "stopped": len(stopped), "solved_stopped": sum(r["solved"] for r, _ in stopped),
                      "seconds_saved": round(saved, 1), "share_saved": round(saved / total, 3) if total else 0.0})
    return table


def best_rule(table: list[dict]) -> dict | None:
    """The rule that saves the most seconds without stopping a solved task."""
    safe = [r for r in table if r["solved_stopped"] == 0 and r["stopped"] > 0]
    return max(safe, key=lambda r: (r["seconds_saved"], -r.get("give_up_below", 0)), default=None)


def compare(default_log: Path, checked_log: Path) -> dict:
    """How the checked policy's run differs from the default's on the same tasks: tasks it stopped,
    those among them the default solved, solved counts and seconds."""
    default, checked = latest_records(default_log), latest_records(checked_log)
    solved = {t for t, r in default.items() if r.get("correct") and all(r["correct"])}
    stopped = sorted(t for t, r in checked.items() if (r.get("decision") or {}).get("chose") == "stopped")
    return {"tasks": len(checked), "stopped": len(stopped), "stopped_default_solved": sorted(set(stopped) & solved),
            "default_solved": len(solved),
            "checked_solved": sum(bool(r.get("correct")) and all(r["correct"]) for r in checked.values()),
            "default_seconds": round(sum(r["seconds"] for r in default.values()), 1),
            "checked_seconds": round(sum(r["seconds"] for r in checked.values()), 1)}


def print_table(rows: list[dict]) -> None:
    keys = list(rows[0])
    widths = [max(len(str(k)), *(len(str(r[k])) for r in rows)) for k in keys]
    print("  ".join(str(k).ljust(w) for k, w in zip(keys, widths)))
    for row in rows:
        print("  ".join(str(row[k]).ljust(w) for k, w in zip(keys, widths)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="arc-agi-1/training", help="a training set (never evaluation)")
    parser.add_argument("--small", type=int, default=40, help="tasks under 420 tokens")
    parser.add_argument("--mid", type=int, default=12, help="tasks of 420-1,430 tokens")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "fit-policy")
    parser.add_argument("--log", type=Path, help="fit an existing observing run's log instead of running")
    parser.add_argument("--json", action="store_true", help="print one JSON object only")
    parser.add_argument("--quick", action="store_true", help="the 2 smallest tasks, 2 steps each (for CI)")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("DEFAULT_LOG", "CHECKED_LOG"),
                        help="the stops of a checked run against the default's run of the same tasks")
    args = parser.parse_args()
    if args.compare:
        print(json.dumps(compare(*args.compare), indent=None if args.json else 1))
        return
    if "evaluation" in args.source:
        parser.error("fit on training tasks only: evaluation is what the policy is measured on")
    if args.quick:
        args.small, args.mid = 2, 0
    log = args.log or observe(chosen_tasks(args.source, {"small": args.small, "mid": args.mid}), args.out, args.quick)
    rows = trained_records(log)
    if not rows:
        sys.exit(f"{log}: no task trained under the checked policy with known solutions")
    result = {"cpu": cpu_name(), "tasks_trained": len(rows), "solved": sum(r["solved"] for r in rows),
              "signals": {signal: bin_table(rows, signal, BINS[signal]) for signal in SIGNALS},
              "rules": [rule for signal in SIGNALS for rule in rule_table(rows, (8, 16), signal)],
              "per_task": [{"task": r["task"], "solved": r["solved"],
                            "sample_tokens": r["sample_tokens"],
                            "checks": {s: [c["accuracy"], c["changed"], c["exact"], c["held_out_loss"], c["loss"]]
                                       for s, c in r["checks"].items()}}
                           for r in rows]}
    result["chosen"] = chosen = best_rule(result["rules"])
    if chosen is not None:
        result["prior"] = prior_table(rows, chosen["check_every"], chosen["signal"], chosen["give_up_below"])
        result["chosen_prior"] = best_rule(result["prior"])
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['tasks_trained']} tasks trained, {result['solved']} solved; {result['cpu']}")
    print("\nheld-out signal at each check step: solved/tasks (exact>=1: a demonstration reproduced whole;"
          " acc bins: none whole)")
    for signal in SIGNALS:
        print_table(result["signals"][signal])
    print("\nrules: stop at the first check from check_every on with no demonstration whole and accuracy below")
    print_table(result["rules"])
    print(f"\nchosen: {result['chosen']}")
    if chosen is not None:
        print("\nsize prior with the chosen rule: tasks whose samples average more tokens than prior_tokens go on"
              " only with a demonstration whole")
        print_table(result["prior"])
        print(f"\nchosen prior: {result['chosen_prior']}")


if __name__ == "__main__":
    main()
