"""The real embedded Gemma 3 270M, end to end on one tiny task (slow: about two minutes on a CPU,
most of it converting the GGUF once into the cache)."""

import json
import os
import subprocess
import sys

import pytest

from arcttt.core.predictions import load_predictions
from arcttt.core.tasks import load_source
from arcttt.run.outputs import sidecar
from conftest import ROOT, SAMPLE

pytestmark = pytest.mark.slow


def test_embedded_model_solves_end_to_end(tmp_path):
    out = tmp_path / "p.json"
    # From a folder of its own, as a user would run it: nothing may depend on the working directory.
    # The model alone (`--expert ttt`): a fitted rule of the program search solves this task and
    # would spare it the training this test is about.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "arcttt", "solve", str(SAMPLE), "--tasks", "00576224", "--expert", "ttt",
                          "--steps", "12", "--views", "2", "--out", str(out), "--json"],
                         capture_output=True, text=True, timeout=1200, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout)
    assert summary["tasks"] == 1 and summary["outputs_total"] == 1
    (attempts,) = load_predictions(out)["00576224"]
    assert all(grid and all(len(row) == len(grid[0]) for row in grid) for grid in attempts)
    (record,) = [json.loads(line) for line in sidecar(out, "log.jsonl").read_text().splitlines()]
    assert record["status"] == "ok" and record["steps"] == 12
    assert record["loss_last"] < record["loss_first"]
    # And the outcome, not only the loss of two different samples: the shipped model learns the task.
    assert record["correct"] == [True] and load_source(SAMPLE).by_id()["00576224"].solutions[0] in attempts
