"""Shared test fixtures and helpers; the tiny models themselves are `arcttt.testing`'s."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from arcttt.testing import save_tiny_hub_model

ROOT = Path(__file__).resolve().parents[1]
"""The repository, found from here: tests run from any working directory."""
SAMPLE = ROOT / "data" / "sample"
"""The committed sample tasks."""


@pytest.fixture(scope="session")
def hub_model_dir(tmp_path_factory):
    """`arcttt.testing`'s tiny Llama and tokenizer saved once per session as a Hugging Face folder."""
    directory = tmp_path_factory.mktemp("tiny-hub-model")
    save_tiny_hub_model(directory)
    return directory


def weights_checksum(model) -> str:
    """A digest of every base (non-LoRA) weight: equal before and after a task, or the base changed."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if "lora_" in name:
            continue
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


def run_all(tasks, config, out, runtime_factory, on_start=None, on_done=None, solve=None, clock=None, **options):
    """`solve_all` with the run options and hooks as keywords, as most tests want it."""
    from arcttt.run.loop import Hooks, RunOptions, solve_all

    hooks = Hooks()
    if on_start is not None:
        hooks.start = on_start
    if on_done is not None:
        hooks.done = on_done
    extra = {k: v for k, v in (("solve", solve), ("clock", clock)) if v is not None}
    return solve_all(tasks, config, RunOptions(out, **options), runtime_factory, hooks, **extra)


def greedy(lm, prompts, device, max_new_tokens=None, **kwargs):
    """Each prompt's greedy answer (ids through END, log-probability), from the solver's own search."""
    from arcttt.core.encode import MAX_ANSWER_TOKENS
    from arcttt.engine.infer import find_answers

    found = find_answers(lm, prompts, device, max_new_tokens=max_new_tokens or MAX_ANSWER_TOKENS, **kwargs)
    return [answers[0] for answers in found.answers]


# --- the command line's tests: a one-task folder, and what `solve` would run --------------------

@pytest.fixture
def tasks(tmp_path) -> Path:
    folder = tmp_path / "tasks"
    folder.mkdir()
    (folder / "t.json").write_text(json.dumps({"train": [{"input": [[1]], "output": [[2]]}],
                                               "test": [{"input": [[1]], "output": [[2]]}]}))
    return folder


@pytest.fixture
def solved(monkeypatch):
    """What `solve` would run: the config and options it hands to `arcttt.run.solve.run`."""
    import arcttt.run.solve as solve_module

    seen = {}

    def fake_run(tasks, config, options, log):
        seen.update(config=config, options=options)
        return solve_module.RunResult(options.out, tasks, {})

    monkeypatch.setattr(solve_module, "run", fake_run)
    return seen
