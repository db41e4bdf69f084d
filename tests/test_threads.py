"""Threads follow the cores other processes leave free.

The policy's readings (the clock, the CPU time all cores and this process have spent) come from a
simulated machine, so that no test depends on the load of the machine it runs on; one test reads
the real /proc/stat.
"""

import sys
import time

import pytest
import torch

from arcttt.engine.threads import ThreadPolicy


class Machine:
    """A simulated clock and CPU counters: `others` cores busy with other processes, `mine` with
    this one, while `run` lets time pass. `stat`: whether /proc/stat can be read."""

    def __init__(self):
        self.now, self.busy_seconds, self.own_seconds = 1000.0, 500.0, 2.0
        self.others = self.mine = 0.0
        self.stat = True

    def run(self, seconds: float) -> None:
        self.now += seconds
        self.own_seconds += self.mine * seconds
        self.busy_seconds += (self.others + self.mine) * seconds

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.run(seconds)

    def busy_cpu_seconds(self) -> float | None:
        return self.busy_seconds if self.stat else None

    def own_cpu_seconds(self) -> float:
        return self.own_seconds


@pytest.fixture
def machine():
    return Machine()


@pytest.fixture(autouse=True)
def torch_threads():
    """The policy sets torch's thread count: give the next test the count it had."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_a_fixed_count_is_used_as_given():
    assert ThreadPolicy(fixed=1).choose() == 1 and torch.get_num_threads() == 1


def test_a_busy_neighbour_takes_a_core_away_and_gives_it_back(machine):
    policy = ThreadPolicy(cores=2, machine=machine)
    machine.run(1.0)
    assert policy.others_busy() == 0.0
    machine.others = 1.0
    machine.run(1.0)
    assert policy.others_busy() == pytest.approx(1.0)
    machine.run(1.0)
    assert policy.choose() == 1 and torch.get_num_threads() == 1
    machine.others = 0.0
    machine.run(1.0)
    assert policy.choose() == 2 and torch.get_num_threads() == 2


def test_a_neighbour_counts_by_the_nearest_whole_core(machine):
    policy = ThreadPolicy(cores=4, machine=machine)
    for others, threads_left in ((0.4, 4), (0.6, 3), (2.6, 1), (7.0, 1)):  # never fewer than one
        machine.others = others
        machine.run(2.0)
        assert policy.choose() == threads_left, others


def test_its_own_work_is_not_a_neighbours(machine):
    policy = ThreadPolicy(cores=2, machine=machine)
    machine.mine = 2.0
    machine.run(1.0)
    assert policy.others_busy() == 0.0
    machine.others = 1.0
    machine.run(1.0)
    assert policy.others_busy() == pytest.approx(1.0)


def test_the_first_look_samples_a_moment_of_the_machine(machine):
    machine.others = 1.0
    policy = ThreadPolicy(cores=2, machine=machine)
    assert policy.choose() == 1  # no time had passed since the policy began: it waited 0.2 s and looked
    assert machine.now == pytest.approx(1000.2)


def test_without_proc_stat_every_core_is_used(machine):
    machine.stat = False
    machine.others = 1.0
    policy = ThreadPolicy(cores=2, machine=machine)
    machine.run(1.0)
    assert policy.others_busy() is None and policy.choose() == 2


def test_omp_num_threads_caps_the_cores(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert ThreadPolicy().cores == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")
def test_this_machine_is_read():
    policy = ThreadPolicy(cores=2)
    time.sleep(0.1)
    busy = policy.others_busy()
    assert busy is not None and busy >= 0.0  # how busy depends on the machine: only that it was read
