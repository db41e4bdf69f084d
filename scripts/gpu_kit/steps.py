"""What the device runs, in the order of value: the steps' actions, which call runs which, and
`run` itself. Configs for arcttt's own commands are written with arcttt's config writer."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from dataclasses import fields, replace
from pathlib import Path

from arcttt.core.config import (PretrainConfig, from_dict, load_config, pretrain_from_dict, pretrain_to_toml,
                                to_toml)
from arcttt.core.durable import write_json_atomic, write_text_atomic

from .common import ADAPTER_MANIFEST, ENTRY, ROOT, log, sha256_file
from .runner import Run, Step, StepFailed
from .unpack import check_files, environment, read_manifest, seed_cache
from .wheels import install_wheels


def options_of(run: Run) -> argparse.Namespace:
    assert run.options is not None
    return run.options


def site_env(run: Run) -> dict[str, str]:
    o = options_of(run)
    return environment(o.work / "site", o.work / "cache")


def step_wheels(run: Run) -> dict:
    o = options_of(run)
    manifest = read_manifest(o.kit)
    checked = check_files(o.kit, manifest, tuple(c for c in ("call1", "call2") if (o.kit / c).is_dir()))
    run.note(f"sha256 checked: {', '.join(checked)}; pip install --target {o.work / 'site'}")
    install_wheels(o.kit, manifest, o.work / "site")
    return {"files_checked": checked, "site": str(o.work / "site")}


def step_model(run: Run) -> dict:
    o = options_of(run)
    manifest = read_manifest(o.kit)
    checked = check_files(o.kit, manifest, ("call1", "call2"))
    target = seed_cache(o.kit, manifest, o.work / "cache")
    return {"files_checked": len(checked), "tensors_checked": len(manifest["tensors"]), "cache": str(target),
            "model_file_identical": sha256_file(target / "model.safetensors") == manifest["model_sha256"]}


def step_smoke(run: Run) -> dict:
    o = options_of(run)
    path = o.work / "smoke.json"
    run.child([sys.executable, str(ENTRY), "smoke", "--device", o.device, "--result", str(path)], run.step_left(),
              env=site_env(run))
    result = json.loads(path.read_text())
    run.summary.setdefault("device", result.get("device"))
    if not result["ok"]:
        raise StepFailed(f"the device's results differ from the CPU's: {result['errors']}")
    return result


def step_embedded(run: Run) -> dict:
    o = options_of(run)
    path = o.work / "embedded.json"
    run.child([sys.executable, str(ENTRY), "embedded-step", "--device", o.device, "--result", str(path)],
              run.step_left(), env=site_env(run))
    result = json.loads(path.read_text())
    expected = read_manifest(o.kit)["base_digest"]
    result["base_digest_matches"] = result["base_digest"] == expected
    if not result["base_digest_matches"]:
        raise StepFailed(f"base digest {result['base_digest']} != {expected} (the stage-1 adapter's)")
    if not result["finite"]:
        raise StepFailed(f"a training step gave a non-finite loss: {result['losses']}")
    return result


# --- stage 1 ---------------------------------------------------------------------------------------

def stage1_settings(o: argparse.Namespace, budget: float, steps: int, held_out: int | None = None) -> dict:
    """The shipped adapter's stage-1 settings, with batches, rate and schedule sized for this device."""
    shipped = json.loads(ADAPTER_MANIFEST.read_text())["config"]
    known = {f.name for f in fields(PretrainConfig)}
    settings = {k: v for k, v in shipped.items() if k in known}
    settings.update(steps=steps, batch_tokens=o.batch_tokens, lr=o.lr, chunk=o.chunk, time_budget=round(budget, 1),
                    checkpoint_every=max(20, steps // 4))
    if held_out is not None:
        settings["held_out"] = held_out
    if o.dry_run:
        settings["held_out"] = min(settings["held_out"], 2)
    return settings


def stage1_toml(settings: dict) -> str:
    """The settings as a complete `arcttt pretrain --config` file, checked as arcttt checks one."""
    return pretrain_to_toml(pretrain_from_dict(settings, source="the GPU kit's stage-1 settings"))


def pretrain_command(o: argparse.Namespace, settings: dict, folder: Path) -> list[str]:
    shipped = json.loads(ADAPTER_MANIFEST.read_text())
    config = folder.with_suffix(".toml")
    write_text_atomic(config, stage1_toml(settings))
    shutil.rmtree(folder, ignore_errors=True)
    data = [a for s in shipped["sources"] for a in ("--data", s)]
    exclude = [a for s in shipped["excluded_sources"] for a in ("--exclude", s)]
    dtype = "bfloat16" if o.device.startswith("cuda") else "auto"
    return [sys.executable, "-m", "arcttt", "pretrain", *data, *exclude, "--out", str(folder), "--config", str(config),
            "--device", o.device, "--dtype", dtype, "--quantize", "none", "--json"]


def train_seconds(manifest: dict) -> float:
    """Seconds of training a stage-1 manifest reports (`cpu_seconds` in older manifests)."""
    return float(manifest.get("train_seconds", manifest.get("cpu_seconds")) or 0.0)


def seconds_per_step(manifest: dict, log_text: str) -> float:
    """From a calibration run: tokens per step over the tokens/s of its progress lines (which leave
    the first step's warm-up out), else its training seconds over its steps."""
    speeds = re.findall(r"step \d+/\d+, loss \S+, (\d+) tokens/s", log_text)
    if speeds and int(speeds[-1]) > 0 and manifest.get("steps"):
        return manifest["tokens"] / manifest["steps"] / int(speeds[-1])
    return train_seconds(manifest) / max(1, manifest["steps"])


def calibrate(run: Run, result: dict) -> float:
    """Seconds a stage-1 step takes, from a short run without held-out tasks; an out-of-memory halves
    the batch once (noted in `result`) and calibrates again."""
    o = options_of(run)
    calibration = o.work / "calibration"
    for attempt in range(2):
        before = run.log_path.stat().st_size if run.log_path.exists() else 0
        command = pretrain_command(o, stage1_settings(o, 0, o.calibration_steps, held_out=0), calibration)
        try:
            run.child(command, min(o.calibration_timeout, run.step_left()), env=site_env(run),
                      stdout=o.work / "calibration.json", keep=0)  # the manifest: hashes, mostly
            break
        except StepFailed:
            if attempt == 0 and "out of memory" in run.log_path.read_text()[before:].lower():
                o.batch_tokens //= 2
                result["batch_tokens"] = o.batch_tokens
                run.note(f"out of memory: calibrating again with --batch-tokens {o.batch_tokens}")
                continue
            raise
    manifest = json.loads((calibration / "arcttt-adapter.json").read_text())
    per_step = seconds_per_step(manifest, run.log_path.read_text()[before:])
    run.note(f"calibration: {manifest['steps']} steps, {manifest['tokens']} tokens, {per_step:.3f} s a step")
    result["calibration"] = {"steps": manifest["steps"], "tokens": manifest["tokens"],
                             "seconds_per_step": round(per_step, 4), "train_seconds": train_seconds(manifest)}
    return per_step


def step_stage1(run: Run) -> dict:
    o = options_of(run)
    result: dict = {"batch_tokens": o.batch_tokens, "lr": o.lr}
    per_step = calibrate(run, result)
    overhead = 45.0 if o.device.startswith("cuda") else 60.0  # start, load, corpus, held-out losses, save
    budget = max(5.0, min(o.pretrain_seconds, run.step_left() - overhead))
    steps = max(o.calibration_steps, int(0.95 * budget / per_step))  # the cosine schedule ends inside the budget
    result.update(budget_s=round(budget, 1), steps_planned=steps)
    run.summary["stage1_plan"] = result
    run.write_summary()
    folder = o.work / "stage1"
    command = pretrain_command(o, stage1_settings(o, budget, steps), folder)
    try:
        run.child(command, run.step_left(), env=site_env(run), stdout=o.work / "stage1.json", keep=0)
        manifest = json.loads((folder / "arcttt-adapter.json").read_text())
    finally:
        result["adapter_files"] = copy_adapter(folder, run.out / "adapter")
    run.note(f"stage 1: {manifest['steps']} steps ({manifest['stopped']}), {manifest['tokens']} tokens, held-out "
             f"loss {manifest['held_out_loss']}")
    losses = [json.loads(line)["loss"] for line in (folder / "losses.jsonl").read_text().splitlines() if line]
    stride = max(1, len(losses) // 100)
    result.update({k: manifest.get(k) for k in ("steps", "stopped", "tokens", "samples", "held_out_loss",
                                                "loss_first_20", "loss_last_20", "base_digest")})
    result["train_seconds"] = train_seconds(manifest)
    result["tokens_per_s"] = round(manifest["tokens"] / max(result["train_seconds"], 1e-9))
    result.update(losses_every=stride, losses=[round(x, 4) for x in losses[::stride]], adapter=str(folder))
    return result


def copy_adapter(folder: Path, target: Path) -> list[str]:
    """The adapter and its manifest into the output, a cut-off run's last checkpoint if that is all.

    The weights go in bfloat16, as scripts/ship_adapter.py ships them: the run keeps float32 LoRA
    weights (30 MB at rank 32), and a file over 16 MiB would not come back from the device.
    """
    from safetensors.torch import load_file, save_file

    source = folder if (folder / "arcttt-adapter.json").exists() else folder / "checkpoint"
    names = [n for n in ("adapter_model.safetensors", "adapter_config.json", "arcttt-adapter.json")
             if (source / n).exists()]
    if names:
        target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if name == "adapter_model.safetensors":
            weights = load_file(str(source / name))
            save_file({k: (v.bfloat16() if v.is_floating_point() else v).contiguous() for k, v in weights.items()},
                      str(target / name))
        else:
            shutil.copy2(source / name, target / name)
    return [f"{source.name}/{n}" for n in names]


# --- tests, benchmark, leaderboard ------------------------------------------------------------------

def step_pytest(run: Run) -> dict:
    o = options_of(run)
    code, text = run.child([sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-rs", "-p", "no:cacheprovider"],
                           run.step_left(), env=site_env(run), stdout=o.work / "pytest.txt", check=False,
                           keep=1_000_000)
    counts = re.findall(r"(\d+) (passed|failed|skipped|deselected|errors?)", text)
    result = {"exit": code, "counts": {kind: int(n) for n, kind in counts},
              "failed": re.findall(r"^(?:FAILED|ERROR) (\S+)", text, re.M)}
    if code not in (0, 5):  # 5: nothing collected
        raise StepFailed(f"pytest exit {code}: {result['counts']}; failed: {result['failed']}")
    return result


def tiny_ttt_config(work: Path) -> Path:
    """A TTT config small enough for a CPU rehearsal (the real runs use configs/gpu-ttt.toml)."""
    path = work / "tiny-ttt.toml"
    config = from_dict({"seed": 0, "ttt": True, "model": {"name": "embedded"},
                        "train": {"steps": 2, "batch_tokens": 512}, "infer": {"views": 2}}, source="tiny TTT")
    write_text_atomic(path, to_toml(config))
    return path


def step_bench(run: Run, model: str = "embedded") -> dict:
    o = options_of(run)
    command = [sys.executable, "scripts/bench_gpu.py", "--json", "--device", o.device, "--model", model]
    if model == "1b":  # random weights decode to the length limit: time one task only
        command += ["--limit", "1"]
    if o.dry_run:
        command += ["--config", str(tiny_ttt_config(o.work)), "--steps", "1", "--length", "64", "--limit", "1"]
    _, text = run.child(command, run.step_left(), env=site_env(run), stdout=o.work / "bench.json")
    result = json.loads(text.strip().splitlines()[-1])
    write_json_atomic(run.out / "bench.json", result, indent=1)
    training = result.get("training", {})
    return {"device": result.get("device"), "tokens_per_s": training.get("tokens_per_s"),
            "tflops": training.get("tflops"), "of_matmul_peak": training.get("of_matmul_peak"),
            "decode_tokens_per_s": result.get("decoding", {}).get("decode_tokens_per_s"),
            "solve_median_s": result.get("solve", {}).get("median_s")}


def leaderboard_config(o: argparse.Namespace, adapter: Path, budget: float, name: str) -> Path:
    """The suite's config (configs/gpu-ttt.toml, its `extends` resolved) with this run's adapter, device
    and a run budget, as one complete file in the work folder."""
    base = load_config(tiny_ttt_config(o.work) if o.dry_run else ROOT / "configs" / "gpu-ttt.toml")
    config = replace(base, model=replace(base.model, adapter=str(adapter), device=o.device), budget=budget)
    path = o.work / f"{name}.toml"
    write_text_atomic(path, to_toml(config))
    return path


def step_leaderboard(run: Run) -> dict:
    o = options_of(run)
    adapter = o.work / "stage1"
    if not (adapter / "arcttt-adapter.json").exists():
        raise StepFailed("no stage-1 adapter from this run to measure")
    budget = max(10.0, round(run.step_left() - 40, 1))  # the records come only at the end: end in time
    config = leaderboard_config(o, adapter, budget, f"gpu-stage1-{run.results.get('stage1', {}).get('steps', 'x')}")
    suite = "cpu-smoke" if o.dry_run else o.suite
    results = o.work / "leaderboard" / "results.jsonl"
    shutil.rmtree(results.parent, ignore_errors=True)
    run.child([sys.executable, "-m", "arcttt", "leaderboard", "run", "--suite", suite, "--config", str(config),
               "--results", str(results), "--runs", str(results.parent / "runs"), "--json"],
              run.step_left(), env=site_env(run), stdout=o.work / "leaderboard.txt")
    shutil.copy2(results, run.out / "leaderboard.jsonl")
    records = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    keep = ("suite", "config", "score", "tasks", "tasks_solved", "solved", "failed_tasks", "skipped_tasks",
            "seconds_per_task_median", "tokens_trained", "machine")
    return {"suite": suite, "budget_s": budget, "records": [{k: r[k] for k in keep if k in r} for r in records]}


# --- the table and the run ----------------------------------------------------------------------------

STEPS = [  # in the order of value; a step names the calls whose files it needs
    Step("wheels", ("1", "2"), 120, step_wheels),
    Step("model", ("2",), 120, step_model, needs=20),
    Step("cuda_smoke", ("1",), 90, step_smoke, needs=20),
    Step("embedded_step", ("2",), 120, step_embedded, needs=20),
    Step("stage1", ("2",), 560, step_stage1, needs=60),
    Step("pytest_gpu", ("1",), 180, step_pytest, needs=30),
    Step("bench", ("2",), 180, step_bench, needs=45),
    Step("leaderboard", ("2",), 600, step_leaderboard, needs=60),
    Step("bench_1b", ("2-alone",), 240, lambda run: step_bench(run, "1b"), needs=45),
]
ALONE = ("wheels", "cuda_smoke", "pytest_gpu", "bench_1b")  # call 2 on a machine without call 1's files
BUDGETS = {"1": 200.0, "2": 585.0, "all": 585.0}  # seconds of one command (timeout_s 240 / 600 in `plan`)


def steps_for(call: str) -> list[Step]:
    if call == "2-alone":
        return [s for name in ALONE for s in STEPS if s.name == name]
    return [s for s in STEPS if (call == "all" and "2-alone" not in s.calls) or call in s.calls]


def run_steps(o: argparse.Namespace) -> dict:
    """`run`: the call's steps under its budget, then a table of what each did."""
    if o.dry_run:  # tiny budgets: every step once, on the CPU, in minutes
        o.pretrain_seconds = min(o.pretrain_seconds, 20.0)
        o.calibration_steps, o.batch_tokens, o.chunk = 2, 1024, 16
    o.work.mkdir(parents=True, exist_ok=True)
    run = Run(o.out, o.budget or BUDGETS[o.call], o)
    call = o.call
    if call == "2" and not (o.kit / "call1").is_dir():
        call = "2-alone"  # the machine went back after call 1: what needs no model still runs
        log("call 1's files are not here (a fresh machine): running the steps that need no embedded model")
    run.summary.update(call=call, device_asked=o.device, dry_run=o.dry_run, pretrain_seconds=o.pretrain_seconds)
    log(f"gpu_kit run: call {call}, device {o.device}, budget {run.left():.0f} s, out {o.out}, work {o.work}")
    summary = run.execute(steps_for(call))
    files = summary["files"]
    deep = [f for f in files if f.count("/") > 2]
    if len(files) > 8 or deep:
        log(f"warning: {len(files)} files under out (8 come back), too deep: {deep}")
    log("\nstep            ok     seconds  note")
    for record in summary["steps"]:
        note = record.get("error") or record.get("skipped") or ""
        log(f"{record['name']:<15} {str(record['ok']):<6} {record.get('seconds', 0):>7}  {note[:90]}")
    log(f"files under out: {', '.join(files)}")
    return summary
