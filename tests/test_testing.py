"""arcttt.testing: importing it loads no torch, and a seed gives the same tiny model, bit for bit."""

import subprocess
import sys

import pytest

from arcttt.testing import ARCHITECTURES, tiny_loaded, tiny_model
from conftest import ROOT

BLOCKED = 'import sys; sys.modules["torch"] = None; import arcttt.testing; print("ok")'


def test_importing_it_loads_no_torch():
    run = subprocess.run([sys.executable, "-c", BLOCKED], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert run.returncode == 0 and run.stdout.strip() == "ok", run.stderr[-2000:]


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_a_seed_gives_the_same_frozen_model(arch):
    import torch

    first, again, other = (tiny_model(arch, 16, seed).state_dict() for seed in (3, 3, 4))
    assert list(first) == list(again) and all(torch.equal(first[k], again[k]) for k in first)
    assert not all(torch.equal(first[k], other[k]) for k in first)
    model = tiny_model(arch, 16)
    assert not model.training and not any(p.requires_grad for p in model.parameters())
    assert model.config.vocab_size == 16 and model.config.hidden_size == 64


def test_tiny_loaded_is_a_model_on_arcttts_symbols():
    import torch

    from arcttt.core.encode import END, PAD, SYMBOLS

    loaded = tiny_loaded(dtype=torch.bfloat16)
    assert (loaded.device, loaded.dtype, loaded.quantize) == (torch.device("cpu"), torch.bfloat16, "none")
    assert loaded.model.config.vocab_size == len(SYMBOLS)
    assert (loaded.model.config.eos_token_id, loaded.model.config.pad_token_id) == (END, PAD)
    assert all(p.dtype == torch.bfloat16 for p in loaded.model.parameters())
