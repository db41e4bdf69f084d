"""Threads follow the cores other processes leave free."""

import subprocess
import sys
import time

import pytest
import torch

from arcttt.engine.threads import ThreadPolicy


def test_a_fixed_count_is_used_as_given():
    before = torch.get_num_threads()
    try:
        assert ThreadPolicy(fixed=1).choose() == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/stat")
def test_a_busy_neighbour_takes_a_core_away():
    before = torch.get_num_threads()
    policy = ThreadPolicy(cores=2)
    try:
        policy.others_busy()
        time.sleep(0.5)
        idle = policy.others_busy()
        busy_loop = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            time.sleep(1.0)
            policy.others_busy()
            time.sleep(1.0)
            busy = policy.others_busy()
            threads = policy.choose()
        finally:
            busy_loop.kill()
            busy_loop.wait()
    finally:
        torch.set_num_threads(before)
    assert busy > idle + 0.6  # the loop keeps about one core busy
    assert threads == 1
