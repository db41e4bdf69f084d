"""One random generator per (seed, task id, purpose): same seed, same output, in any task order."""

from __future__ import annotations

import hashlib

import numpy as np


def task_rng(seed: int, task_id: str, purpose: str = "") -> np.random.Generator:
    """A generator that depends only on its arguments, never on global state or task order."""
    digest = hashlib.sha256(f"{task_id}\0{purpose}".encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])
