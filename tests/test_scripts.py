"""Every script under scripts/ runs its quick mode (seconds, tiny shapes) to the end: a benchmark
that cannot start fails CI, not the next measurement. Each runs as a subprocess from a temporary
working directory (no script may depend on where it is started), writing only there."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arcttt.programs.fitted import FITTERS
from arcttt.run.provenance import git_commit

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts"
SHIPPED_ADAPTER = ROOT / "arcttt" / "adapters" / "gemma3-270m-arc"
# Scripts whose quick run lives elsewhere, with where: none may be missing from both tables.
ELSEWHERE = {"gpu_kit": "its CPU rehearsal `gpu_kit.py run --device cpu --dry-run` (minutes) is its owner's check"}


def run(script: str, *args: str, cwd: Path, env: dict | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, str(SCRIPTS / f"{script}.py"), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    return done


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def one_json(done: subprocess.CompletedProcess) -> dict:
    """stdout is exactly one JSON object (progress goes to stderr)."""
    return json.loads(ok(done))


def check_bench_core(tmp: Path) -> None:
    result = one_json(run("bench_core", "--quick", "--json", cwd=tmp))
    assert result["load"] == {"tasks": 5, "errors": 0, "seconds": result["load"]["seconds"]}
    assert result["leave_one_out"]["median_samples"] > 0 and result["vote_ms_per_task"] > 0


def check_bench_pretrain(tmp: Path) -> None:
    result = one_json(run("bench_pretrain", "--quick", "--json", cwd=tmp))
    assert set(result["shapes"]) == {"4x32", "2x64"} and all(v > 0 for v in result["shapes"].values())
    assert result["cpu"] and result["quick"] is True


def check_bench_ttt(tmp: Path) -> None:
    result = one_json(run("bench_ttt", "--quick", "--json", cwd=tmp))
    assert result["cpu"] and result["matmul_peak_tflops"] > 0
    # 512-token steps of 16 x 32 and 8 x 64 tokens, 2 steps each (the 128 tokens asked round up).
    assert {k: (v["rows_per_step"], v["steps"], v["tokens"]) for k, v in result["sweep"].items()} == \
        {"32": (16, 2, 1024), "64": (8, 2, 1024)}
    assert all(0 < v["share_of_peak"] and v["tokens_per_s"] > 0 for v in result["sweep"].values())
    assert set(result["engines"]["train_tokens_per_s"]) == {"new", "legacy"}
    assert result["decode"]["prompts"] == 2
    assert set(result["decode"]["decode_tokens_per_s"]) == {"legacy", "new_plain", "new"}
    assert result["tasks"]["tasks"] == 1


def check_bench_gpu(tmp: Path) -> None:
    # No GPU (hidden, where there is one): it says so and stops, instead of a long CPU benchmark.
    done = run("bench_gpu", "--json", cwd=tmp, env={"CUDA_VISIBLE_DEVICES": ""}, timeout=60)
    assert done.returncode == 2 and "no CUDA GPU here" in done.stderr and done.stdout == ""
    result = one_json(run("bench_gpu", "--quick", "--device", "cpu", "--json", cwd=tmp))
    assert result["device"].startswith("CPU") and result["model"] == "tiny" and result["engine"] == "LeanLM"
    assert result["training"]["steps"] == 2 and result["training"]["tokens_per_s"] > 0
    assert result["decoding"]["prompts"] == 2 and result["solve"]["tasks"] == 1


def check_bench_contention(tmp: Path) -> None:
    result = one_json(run("bench_contention", "--quick", "--json", cwd=tmp))
    assert [(r["omp_wait_policy"], r["threads"], r["load"]) for r in result["results"]] == \
        [("PASSIVE", 1, "alone"), ("PASSIVE", 1, "twin")]
    assert all(r["tokens_per_s"] > 0 for r in result["results"])


def check_held_out_loss(tmp: Path) -> None:
    result = one_json(run("held_out_loss", "--quick", "--work", str(tmp / "work"), "--json", cwd=tmp))
    stage1 = str(tmp / "work" / "stage1")
    assert set(result["models"]) == {"bare", stage1} and result["unseen_by_all"]
    for row in result["models"].values():
        assert math.isfinite(row["unseen"]["loss"]) and row["unseen"]["samples"] > 0
    # Two steps moved the adapter: its loss is not the bare model's.
    assert result["models"][stage1]["unseen"]["loss"] != result["models"]["bare"]["unseen"]["loss"]


def check_chaos(tmp: Path) -> None:
    out = ok(run("chaos", "--quick", "--work", str(tmp / "work"), cwd=tmp, timeout=240))
    report = json.loads(out.strip().splitlines()[-1])
    assert set(report) == {"solve"}
    assert all(r["kills"] == 1 and r["result"] == "identical" for r in report.values()), report


def check_make_suite(tmp: Path) -> None:
    ok(run("make_suite", "--quick", "--out", str(tmp / "suites"), cwd=tmp))
    text = (tmp / "suites" / "quick.toml").read_text()
    ids = [line.split('"')[1] for line in text.splitlines() if line.startswith('    "')]
    assert ids == ["66e6c45b", "00576224", "be03b35f"]  # the sample tasks by (tokens, id)


def check_export_sample(tmp: Path) -> None:
    ok(run("export_sample", "--quick", "--out", str(tmp / "sample"), cwd=tmp))
    written = sorted(p.name for p in (tmp / "sample").iterdir())
    assert written == ["00576224.json", "66e6c45b.json"]
    for name in written:  # the smallest evaluation tasks are the committed sample's
        committed = json.loads((ROOT / "data" / "sample" / name).read_text())
        assert json.loads((tmp / "sample" / name).read_text()) == committed


def check_ship_adapter(tmp: Path) -> None:
    ok(run("ship_adapter", "--quick", "--dest", str(tmp / "adapter"), cwd=tmp))
    for name in ("adapter_model.safetensors", "adapter_config.json", "arcttt-adapter.json"):
        assert (tmp / "adapter" / name).read_bytes() == (SHIPPED_ADAPTER / name).read_bytes(), name


QUICK_SOLVED = ["00576224", "66e6c45b", "be03b35f", "ca8de6ea"]  # depth 2, then 3 (seconds)


def check_program_search(tmp: Path) -> None:
    summary = one_json(run("program_search", "--quick", "--json", cwd=tmp))
    # Depths 2 and 3 search every sample task to its end well within the limit: the same tasks each time.
    assert summary["tasks"] == 5 and summary["solved_ids"] == QUICK_SOLVED
    assert summary["commit"].split("+")[0] == git_commit().split("+")[0]  # the code of this checkout, named


def check_fitted_rules(tmp: Path) -> None:
    summary = one_json(run("fitted_rules", "--quick", "--json", cwd=tmp))
    # Every fitted rule but the colour map (the core's), in the search's order.
    assert summary["tasks"] == 5 and summary["cpu"] and list(summary["rules"]) == [f.__name__ for f in FITTERS[1:]]
    # One sample task is a stamp around each cell; another two quadrants combined, then rotated,
    # where a table of cell patterns, then flipped, fits the demonstrations too but not the test
    # (the search ranks the combined quadrants first); a third rows of the input, mirrored every
    # other row of blocks.
    right = [(n, r["right"]) for n, r in summary["rules"].items() if r["right"]]
    assert right == [("fit_stamp", 1), ("fit_combine", 1), ("fit_tile_maps", 1)]
    assert [(n, r["wrong"]) for n, r in summary["rules"].items() if r["wrong"]] == [("fit_summarise", 1)]


def check_bench_search(tmp: Path) -> None:
    report = one_json(run("bench_search", "--quick", cwd=tmp))
    assert report["tasks"] == 3 and report["python"]["applications"] > 0 and report["core"]["applications"] > 0
    assert report["lazy"]["applications"] == report["core"]["applications"]  # the same searches
    assert report["production"]["applications"] > 0 and set(report["rounds"][0]) == {"ratio", "ratio_lazy",
                                                                                      "ratio_production"}


def check_report_screenshots(tmp: Path) -> None:
    result = one_json(run("report_screenshots", "--quick", "--out-dir", str(tmp), cwd=tmp, timeout=300))
    if "skipped" in result:  # no Chromium on this machine: the script says so and succeeds
        assert "apt-get install chromium" in result["skipped"]
        return
    assert result["tasks"] == 5 and result["bytes"] > 0 and result["load_ms"] > 0
    assert all(Path(result[shot]).read_bytes()[:4] == b"\x89PNG" for shot in ("table", "detail"))


def check_fit_ttt_policy(tmp: Path) -> None:
    fit = one_json(run("fit_ttt_policy", "--quick", "--json", "--out", str(tmp / "fit"), cwd=tmp, timeout=300))
    assert fit["tasks_trained"] == 2 and all(sorted(t["checks"]) == ["0", "1", "2"] for t in fit["per_task"])
    assert {r["signal"] for r in fit["rules"]} == {"accuracy", "changed"} and fit["cpu"]
    stops = one_json(run("fit_ttt_policy", "--compare", str(tmp / "fit" / "predictions.log.jsonl"),
                         str(tmp / "fit" / "predictions.log.jsonl"), "--json", cwd=tmp))
    assert stops["tasks"] == 2 and stops["stopped"] == 0 and stops["default_seconds"] == stops["checked_seconds"]
    # The committed observing run on ARC-AGI-1 training fits exactly the checked policy's defaults.
    from arcttt.core.config import SolveConfig

    committed = one_json(run("fit_ttt_policy", "--log", str(ROOT / "data" / "fits" /
                             "checked-policy-arc-agi-1-training.log.jsonl"), "--json", cwd=tmp))
    defaults = SolveConfig()
    assert committed["tasks_trained"] == 19 and committed["solved"] == 5
    assert (committed["chosen"]["signal"], committed["chosen"]["check_every"], committed["chosen"]["give_up_below"],
            committed["chosen_prior"]["prior_tokens"]) == ("changed", defaults.check_every, defaults.give_up_below,
                                                           defaults.prior_tokens)


QUICK = {name.removeprefix("check_"): check for name, check in globals().items() if name.startswith("check_")}


def test_every_script_has_a_quick_run():
    scripts = {p.stem for p in SCRIPTS.glob("*.py") if not p.stem.startswith("_")}
    assert scripts - set(QUICK) - set(ELSEWHERE) == set(), "a script without a quick run in tests/test_scripts.py"
    assert set(QUICK) - scripts == set(), "a quick run of a script that is gone"


def test_no_script_imports_the_tests():
    """Scripts take the tiny models from `arcttt.testing`: none imports a test module or puts
    tests/ on its import path."""
    import ast

    found = []
    for path in sorted(SCRIPTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                names = []
            if any(name.split(".")[0] in ("conftest", "tests") or name.startswith("test_") for name in names):
                found.append(f"{path.relative_to(SCRIPTS)}:{node.lineno} imports {names}")
            if isinstance(node, ast.Call) and ast.unparse(node.func).startswith("sys.path.") and \
                    "tests" in ast.unparse(node):
                found.append(f"{path.relative_to(SCRIPTS)}:{node.lineno} {ast.unparse(node)}")
    assert not found, found


@pytest.mark.parametrize("script", sorted(QUICK))
def test_quick_run(script, tmp_path):
    if not (SCRIPTS / f"{script}.py").exists():
        pytest.skip(f"scripts/{script}.py is gone (test_every_script_has_a_quick_run says so)")
    QUICK[script](tmp_path)
    assert not list(tmp_path.glob("*.tmp")), "a temp file was left behind"
