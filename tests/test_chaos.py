"""Chaos: SIGKILL at random moments (training, decoding, mid-write, mid-append, a rank of a torchrun
group), resumed each time, ends with exactly an uninterrupted run's outputs. Tiny random model."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "chaos.py"


@pytest.mark.slow
def test_kills_at_random_moments_lose_nothing(tmp_path):
    spec = importlib.util.spec_from_file_location("chaos", SCRIPT)
    chaos = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(chaos)
    report = chaos.main(["--kills", "4", "--steps", "10", "--tasks", "4", "--seed", "1", "--work", str(tmp_path)])
    assert set(report) == {"solve", "pretrain", "shard"}
    for name, outcome in report.items():
        assert outcome["kills"] == 4 and outcome["result"] == "identical", (name, outcome)
