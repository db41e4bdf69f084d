"""torchrun with 2 CPU processes (gloo) on a tiny model: same predictions as one process, and
a rank killed mid-run is resumed to the same merged file."""

import json
import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from arcttt.run.shard import shard_path

TASK_COUNT = 6


def write_tasks(folder):
    folder.mkdir()
    for i in range(TASK_COUNT):
        side = 1 + i % 3
        grid = [[(i + r + c) % 9 + 1 for c in range(side)] for r in range(side)]
        pairs = [{"input": grid, "output": [row[::-1] for row in grid]}, {"input": grid[::-1], "output": [row[::-1] for row in grid[::-1]]}]
        (folder / f"task{i}.json").write_text(json.dumps({"train": pairs, "test": [{"input": grid}]}))
    return folder


def solve_command(tasks, out, model_dir, *extra):
    """The model alone answers: a program reverses these rows in milliseconds, and a rank that trains
    nothing exits before the killed-rank test could find it alive."""
    return ["-m", "arcttt", "solve", str(tasks), "--out", str(out), "--model", str(model_dir), "--steps", "20",
            "--views", "2", "--device", "cpu", "--seed", "3", "--expert", "ttt", *extra]


def torchrun(*args):
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *args]


ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def single_run(tmp_path_factory, hub_model_dir):
    root = tmp_path_factory.mktemp("single")
    tasks = write_tasks(root / "tasks")
    out = root / "single.json"
    run = subprocess.run([sys.executable, *solve_command(tasks, out, hub_model_dir)], capture_output=True, text=True,
                         env=ENV, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return tasks, out


def test_two_processes_merge_to_the_single_process_predictions(tmp_path, single_run, hub_model_dir):
    tasks, single = single_run
    out = tmp_path / "p.json"
    run = subprocess.run(torchrun(*solve_command(tasks, out, hub_model_dir)), capture_output=True, text=True,
                         env=ENV, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(out.read_text()) == json.loads(single.read_text())
    shards = [json.loads(shard_path(out, i, 2).read_text()) for i in range(2)]
    assert sorted(list(shards[0]) + list(shards[1])) == sorted(f"task{i}" for i in range(TASK_COUNT))
    assert "rank 1: [" in run.stderr  # other ranks log plain lines with their rank
    assert "(all ranks: " in run.stderr  # rank 0 counts every rank's finished tasks


def test_a_killed_rank_resumes_to_the_same_merged_file(tmp_path, single_run, hub_model_dir):
    tasks, single = single_run
    out = tmp_path / "p.json"
    launcher = subprocess.Popen(torchrun(*solve_command(tasks, out, hub_model_dir)), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=ENV, start_new_session=True)
    log = shard_path(out, 1, 2).with_name(shard_path(out, 1, 2).stem + ".log.jsonl")
    deadline = time.monotonic() + 300
    try:
        while not (log.exists() and log.read_text().count("\n") >= 1):
            assert time.monotonic() < deadline and launcher.poll() is None, "rank 1 never finished a task"
            time.sleep(0.02)
        rank1 = next(p for p in psutil.Process(launcher.pid).children(recursive=True)
                     if p.environ().get("RANK") == "1")
        rank1.send_signal(signal.SIGKILL)
        assert launcher.wait(timeout=120) != 0
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
    assert not out.exists()  # the ranks never met: nothing merged
    finished_before = log.read_text().count("\n")
    assigned = json.loads(shard_path(out, 1, 2).with_suffix(".shard.json").read_text())["tasks"]
    assert 1 <= finished_before < len(assigned)  # killed mid-run: some of its tasks left to resume

    run = subprocess.run(torchrun(*solve_command(tasks, out, hub_model_dir, "--resume")), capture_output=True,
                         text=True, env=ENV, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(out.read_text()) == json.loads(single.read_text())


def test_merge_command_joins_shards_run_separately(tmp_path, single_run, hub_model_dir):
    tasks, single = single_run
    out = tmp_path / "p.json"
    for index in range(2):
        run = subprocess.run([sys.executable, *solve_command(tasks, out, hub_model_dir, "--shard", f"{index}/2")],
                             capture_output=True, text=True, env=ENV, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
    merged = tmp_path / "merged.json"
    run = subprocess.run([sys.executable, "-m", "arcttt", "merge", str(shard_path(out, 0, 2)), str(shard_path(out, 1, 2)),
                          "--out", str(merged)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(merged.read_text()) == json.loads(single.read_text())
    alone = subprocess.run([sys.executable, "-m", "arcttt", "merge", str(shard_path(out, 0, 2)), "--out",
                            str(tmp_path / "x.json")], capture_output=True, text=True, timeout=120)
    assert alone.returncode == 1 and "missing shard(s): 1/2" in alone.stderr


def test_workers_solve_their_shards_and_merge_to_the_single_process_predictions(tmp_path, single_run, hub_model_dir):
    tasks, single = single_run
    out = tmp_path / "w.json"
    run = subprocess.run([sys.executable, *solve_command(tasks, out, hub_model_dir, "--workers", "2")],
                         capture_output=True, text=True, env=ENV, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert json.loads(out.read_text()) == json.loads(single.read_text())
    assert all(shard_path(out, i, 2).exists() for i in range(2))
    again = subprocess.run([sys.executable, *solve_command(tasks, out, hub_model_dir, "--workers", "2")],
                           capture_output=True, text=True, env=ENV, timeout=600)
    assert again.returncode == 1 and "already exists" in again.stderr  # refused before any worker starts
