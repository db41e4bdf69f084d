"""Torch threads that follow what other processes leave free of the CPU.

With OpenMP, a parallel region waits for its slowest thread; when another process takes one of
two cores, every small op waits for a descheduled thread and a run slows ~3x instead of ~2x
(`scripts/bench_contention.py`: 1008 tokens/s alone, 364 beside a busy loop with 2 threads, 572
with 1 thread). So before each task arcttt counts the cores other processes kept busy since the
last look (/proc/stat minus its own CPU time) and uses the rest, at least one, and never more
than `OMP_NUM_THREADS` when that is set. Thread counts change float summation order:
`--threads N` fixes the count where runs must match bit for bit.
"""

from __future__ import annotations

import os
import sys
import time


class Machine:
    """What the policy reads of the machine: a clock, the CPU time all cores and this process have
    spent, and a way to wait. This one reads Linux's /proc/stat and the OS; tests pass another."""

    @staticmethod
    def monotonic() -> float:
        return time.monotonic()

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds)

    @staticmethod
    def busy_cpu_seconds() -> float | None:
        """Seconds all cores have spent busy since boot (Linux), or None where /proc/stat is missing."""
        try:
            with open("/proc/stat", encoding="ascii") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def own_cpu_seconds() -> float:
        times = os.times()
        return times.user + times.system


class ThreadPolicy:
    """`fixed` threads always, or (None) the cores that other processes left free, per task, as
    `machine` reports them."""

    def __init__(self, fixed: int | None = None, cores: int | None = None, machine: Machine | None = None):
        self.fixed = fixed
        self.machine = machine or Machine()
        if cores is None:
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
            # Never more than OMP_NUM_THREADS: whoever set it meant it.
            if os.environ.get("OMP_NUM_THREADS", "").isdigit() and int(os.environ["OMP_NUM_THREADS"]) > 0:
                cores = min(cores, int(os.environ["OMP_NUM_THREADS"]))
        self.cores = cores
        self._mark = self._sample()

    def _sample(self) -> tuple[float, float | None, float]:
        return self.machine.monotonic(), self.machine.busy_cpu_seconds(), self.machine.own_cpu_seconds()

    def others_busy(self) -> float | None:
        """Cores other processes kept busy since the last call (None where it cannot be read)."""
        then, now = self._mark, self._sample()
        self._mark = now
        if then[1] is None or now[1] is None or now[0] - then[0] < 0.05:
            return None
        return max(0.0, ((now[1] - then[1]) - (now[2] - then[2])) / (now[0] - then[0]))

    def choose(self) -> int:
        """The thread count for the next task, applied to torch when torch is loaded (the model
        loads it before the first task; --expert program never imports it)."""
        if self.fixed is not None:
            threads = self.fixed
        else:
            busy = self.others_busy()
            if busy is None:  # first look: sample a moment of the machine as it is
                self.machine.sleep(0.2)
                busy = self.others_busy() or 0.0
            threads = max(1, min(self.cores, self.cores - round(busy)))
        torch = sys.modules.get("torch")
        if torch is not None and torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        return threads


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse instead of handing it back to the system at once.

    A training step allocates and frees activations of hundreds of megabytes; by default glibc
    returns such blocks to the system (and maps large ones afresh), so every step pays page faults
    for all of them again: `scripts/bench_pretrain.py` measured 406 tokens/s on batches of
    16 x 512 tokens, 796 with the memory kept. The price is a resident size at the peak of the
    run. False where this is not glibc.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    trim, top_pad, mmap = -1, -2, -3  # M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD in malloc.h
    kept = [mallopt(trim, 2**31 - 1), mallopt(top_pad, 2**30), mallopt(mmap, 2**25)]
    return all(kept)
