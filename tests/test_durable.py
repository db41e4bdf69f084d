"""Files that survive kills: atomic writes with the usual mode, synced logs read back despite a torn
last line, and one writer per output. Model-free."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

from arcttt.core.durable import (append_line, lock_path, output_lock, read_jsonl, remove_stale_temps, repair_tail,
                                 write_json_atomic)
from arcttt.core.errors import ArcError
from arcttt.core.loo import leave_one_out
from arcttt.core.tasks import Example, Task


def test_atomic_writes_respect_the_umask_and_leave_no_temp_file(tmp_path):
    old = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "p.json", {"a": 1})
    finally:
        os.umask(old)
    assert (tmp_path / "p.json").stat().st_mode & 0o777 == 0o644  # mkstemp would give 0600
    assert [p.name for p in tmp_path.iterdir()] == ["p.json"]


def test_stale_temp_files_of_an_output_are_removed(tmp_path):
    out = tmp_path / "p.json"
    stale = [tmp_path / ".p.json.abc123.tmp", tmp_path / ".p.json.0f.tmp"]
    for path in stale:
        path.write_text("{")
    other = tmp_path / ".q.json.abc.tmp"
    other.write_text("{")
    assert sorted(remove_stale_temps(out)) == sorted(stale)
    assert [p.name for p in tmp_path.iterdir()] == [other.name]  # another output's temp is not ours


def test_a_torn_last_line_is_skipped_and_repaired(tmp_path):
    log = tmp_path / "log.jsonl"
    append_line(log, {"task_id": "a"})
    append_line(log, {"task_id": "b"})
    with log.open("a") as f:
        f.write('{"task_id": "c", "sta')  # a kill in the middle of an append
    assert [r["task_id"] for r in read_jsonl(log)] == ["a", "b"]
    repair_tail(log)
    append_line(log, {"task_id": "c"})
    assert [r["task_id"] for r in read_jsonl(log)] == ["a", "b", "c"]


def test_a_damaged_line_before_the_last_is_an_error_naming_the_line(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text('{"task_id": "a"}\nnot json\n{"task_id": "b"}\n')
    with pytest.raises(ArcError, match="log.jsonl: line 2 is not JSON"):
        read_jsonl(log)
    assert read_jsonl(tmp_path / "missing.jsonl") == []


HOLD = """
import sys, time
from arcttt.core.durable import output_lock
with output_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_second_writer_is_refused_and_a_killed_writer_frees_the_output(tmp_path):
    out = tmp_path / "p.json"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ArcError, match=f"another arcttt process \\(pid {holder.pid}\\) is writing this output"):
            with output_lock(out):
                pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    with output_lock(out):  # the kernel dropped the dead holder's lock
        with output_lock(out):  # re-entrant within a process
            assert lock_path(out).exists()
        assert lock_path(out).exists()
    assert not lock_path(out).exists()


def test_the_leave_one_out_set_of_a_huge_task_is_built_lazily():
    demos = tuple(Example(((i % 10,),), (((i + 1) % 10,),)) for i in range(400))
    task = Task("huge", demos, (Example(((1,),)),))
    # Measured in memory, which the machine's load does not change: the eager build took 550 MiB (and 11 s).
    tracemalloc.start()
    try:
        samples = leave_one_out(task, np.random.default_rng(0), cap=250)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(samples) == 250 and peak < 50 * 2**20
    # Small tasks (n + n(n-1) <= cap) get the same set as ever: every leave-one- and two-out sample.
    small = Task("s", demos[:5], ())
    assert len({(s.context, s.query) for s in leave_one_out(small, np.random.default_rng(0), 250,
                                                            leave_two_out=True)[:25]}) == 25
