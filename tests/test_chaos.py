"""Chaos: SIGKILL at random moments (training, decoding, mid-write, mid-append, a rank of a torchrun
group) and in the middle of every write of stage 1 in turn, resumed each time, ends with exactly an
uninterrupted run's outputs (tiny random model); what a killed write leaves is cleared on the next start."""

import importlib.util
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from arcttt.core.durable import _temp_name, remove_stale_temps_in

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "chaos.py"


def load_chaos():
    spec = importlib.util.spec_from_file_location("chaos", SCRIPT)
    chaos = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(chaos)
    return chaos


def test_every_temp_an_atomic_write_leaves_is_removed_and_nothing_else(tmp_path):
    stale = [_temp_name(tmp_path / name) for name in ("adapter_config.json", "adapter_model.safetensors",
                                                      "README.md", ".hidden")]
    kept = [tmp_path / name for name in (".hidden", "x.tmp", "adapter_config.json", ".a.json.abc.tmp",
                                         ".a.json.0123456789AB.tmp", ".a.json.0123456789abc.tmp",
                                         "a.json.0123456789ab.tmp")]
    for path in stale + kept:
        path.write_text("{")
    below = _temp_name(tmp_path / "checkpoint.tmp" / "state.json")  # a rotation's, for recover_checkpoint
    below.parent.mkdir()
    below.write_text("{")
    assert remove_stale_temps_in(tmp_path) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([p.name for p in kept] + ["checkpoint.tmp"])
    assert below.exists()


def test_a_new_start_clears_the_temps_and_scratch_a_killed_adapter_write_left(tmp_path):
    from arcttt.run.pretrain import RUN_MARKER, claim_folder

    out = tmp_path / "out"
    out.mkdir()
    (out / RUN_MARKER).write_text("{}")
    (out / "losses.jsonl").write_text("")
    _temp_name(out / "adapter_config.json").write_text('{"peft_')  # the flaky CI run's leftover
    _temp_name(out / "README.md").write_text("")
    scratch = out / ".save-xyz"
    scratch.mkdir()
    (scratch / "adapter_model.safetensors").write_bytes(b"\0")
    claim_folder(out)
    assert sorted(p.name for p in out.iterdir()) == sorted([RUN_MARKER, "losses.jsonl"])


def test_chaos_kill_at_kills_in_the_middle_of_that_write(tmp_path):
    script = ("import sys; from pathlib import Path; from arcttt.core.durable import write_text_atomic\n"
              "for name in ('a', 'b', 'c'): write_text_atomic(Path(sys.argv[1]) / name, name * 10)")
    env = {**os.environ, "ARCTTT_CHAOS_KILL_AT": "2", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=env, timeout=60)
    assert done.returncode == -signal.SIGKILL
    (temp,) = [p for p in tmp_path.iterdir() if p.name != "a"]
    assert temp.name.startswith(".b.") and temp.read_text() == "bbbbb"  # the first half, then the kill
    assert (tmp_path / "a").read_text() == "a" * 10 and remove_stale_temps_in(tmp_path) == [temp]


@pytest.mark.slow
def test_kills_at_random_moments_lose_nothing(tmp_path):
    chaos = load_chaos()
    report = chaos.main(["--kills", "4", "--steps", "10", "--tasks", "4", "--seed", "1", "--work", str(tmp_path)])
    assert set(report) == {"solve", "pretrain", "shard"}
    for name, outcome in report.items():
        assert outcome["kills"] == 4 and outcome["result"] == "identical", (name, outcome)
        assert len(outcome["schedule"]) >= 4  # the waits before the kills, to replay them


@pytest.mark.slow
def test_a_kill_in_every_write_of_stage1_loses_nothing(tmp_path):
    chaos = load_chaos()
    report = chaos.main(["--every-write", "--steps", "1", "--tasks", "3", "--work", str(tmp_path)])
    outcome = report["pretrain"]
    assert outcome["result"] == "identical"
    # Killed at write 1, 2, ..., n and not at n + 1: each write of a 4-step run with two checkpoints.
    assert outcome["interrupted"] == [
        "arcttt-pretrain.json", "pretrain.config.toml", "losses.jsonl",
        *["checkpoint.tmp/adapter_model.safetensors", "checkpoint.tmp/adapter_config.json",
          "checkpoint.tmp/state.json"] * 2,
        "adapter_model.safetensors", "adapter_config.json", "arcttt-adapter.json"]
