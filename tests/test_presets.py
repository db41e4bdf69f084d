"""The anchors' presets: each loads, validates and holds the numbers its comments cite; and the
knob they needed that arcttt lacked (`infer.score_views`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from arcttt.core.config import InferConfig, SolveConfig, load_config, override
from arcttt.core.errors import ArcError

CONFIGS = Path(__file__).parent.parent / "configs"
EVERY_PROJECTION = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

# The numbers as ANCHORS.md cites them (PoE: PoEc evaluate_NemoReArc1200_on_ARCeval_16x_dfs0.090_with_ttt.py;
# NVARC: NVc 002_ivan_arc1.ipynb worker(); MIT: MITc README and test_time_train.py, MITp Table 4).
EXPECTED = {
    "architects-poe.toml": dict(
        name="da-fr/Mistral-NeMo-Minitron-8B-ARChitects-ReArc1200-bnb-4bit", format="architects",
        rank=32, alpha=16, rslora=True, targets=EVERY_PROJECTION + ("embed_tokens", "lm_head"),
        lr=1e-4, steps=64, samples=64, batch=1, sampler="dfs", min_prob=0.09, views=16, scoring="poe",
        hit_weight=0.0, score_views=0),
    "nvarc.toml": dict(
        name="qwen3_4b_grids15_sft139", format="nvarc",
        rank=256, alpha=32, rslora=True, targets=EVERY_PROJECTION + ("embed_tokens", "lm_head"),
        lr=5e-5, steps=128, samples=128, batch=1, sampler="dfs", min_prob=0.2, views=16, scoring="poe",
        hit_weight=1.0, score_views=8),
    "marc-8b.toml": dict(
        name="ekinakyurek/marc-8B-finetuned-llama3", format="marc",
        rank=128, alpha=16, rslora=False, targets=("q_proj", "v_proj", "gate_proj", "up_proj", "down_proj", "lm_head"),
        lr=1e-4, steps=0, samples=250, batch=2, sampler="greedy", min_prob=None, views=8, scoring="mit",
        hit_weight=None, score_views=0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_preset_holds_the_anchors_numbers(name):
    config, want = load_config(CONFIGS / name), EXPECTED[name]
    assert (config.model.name, config.model.format) == (want["name"], want["format"])
    assert (config.lora.rank, config.lora.alpha, config.lora.use_rslora) == (want["rank"], want["alpha"], want["rslora"])
    assert config.lora.target_modules == want["targets"] and config.lora.dropout == 0.0
    assert (config.train.lr, config.train.steps, config.train.max_examples) == (want["lr"], want["steps"], want["samples"])
    assert config.train.max_batch_samples == want["batch"]
    assert (config.infer.sampler, config.infer.views, config.infer.scoring) == (want["sampler"], want["views"],
                                                                               want["scoring"])
    assert config.infer.score_views == want["score_views"]
    if want["min_prob"] is not None:
        assert config.infer.min_prob == want["min_prob"]
    if want["hit_weight"] is not None:
        assert config.infer.hit_weight == want["hit_weight"]
    assert config.expert == "ttt" and config.ttt and config.train.max_tokens == config.infer.max_tokens == 8192


def test_the_recipes_that_differ_where_their_anchors_do():
    poe, nvarc, marc = (load_config(CONFIGS / n) for n in ("architects-poe.toml", "nvarc.toml", "marc-8b.toml"))
    # Every sequence holds all demonstrations in the two one-sequence recipes; MIT tops up from leave-two-out.
    assert not poe.train.leave_two_out and not nvarc.train.leave_two_out and marc.train.leave_two_out
    assert poe.train.warmup == 0.5 and nvarc.train.warmup == marc.train.warmup == 0.1  # 32 of 64 steps; 10%
    assert poe.train.colours == nvarc.train.colours == "all" and marc.train.colours == "keep0"
    assert marc.train.epochs == 2.0 and marc.train.weight_decay == 0.01 and marc.train.extras
    assert nvarc.model.quantize == "none" and nvarc.task_budget == 1200


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_value_cites_its_source(name):
    """Each setting has a comment on its line, or sits in a block right under a comment."""
    covered, bare = False, []
    for number, line in enumerate((CONFIGS / name).read_text().splitlines(), 1):
        text = line.strip()
        if text.startswith("#"):
            covered = True
        elif not text or text.startswith("["):
            covered = False
        elif "#" not in text and not covered:
            bare.append(f"{name}:{number}: {text}")
    assert not bare, bare


# --- infer.score_views --------------------------------------------------------------------------

def test_score_views_is_checked_and_digest_stable():
    assert "score_views" not in SolveConfig().digest_dict()["infer"]  # 0, the default: old digests hold
    assert override(SolveConfig(), {"infer.score_views": 8}).digest != SolveConfig().digest
    with pytest.raises(ArcError, match="field infer.score_views: must be at least 0"):
        override(SolveConfig(), {"infer.score_views": -1})


def test_score_views_scores_every_answer_under_the_first_k_views_only():
    from arcttt.core.augment import sample_transforms
    from arcttt.core.seeding import task_rng
    from arcttt.core.tasks import load_source
    from arcttt.engine.infer import predict, prompts_for
    from arcttt.engine.lm import LeanLM
    from arcttt.testing import tiny_loaded
    from conftest import SAMPLE

    task = load_source(SAMPLE).tasks[0]
    loaded = tiny_loaded(seed=1)
    lm = LeanLM(loaded.model, None)
    every = InferConfig(views=4, scoring="poe")
    prompts = prompts_for(task, sample_transforms(task_rng(0, task.id, "views"), 4, len(task.train)), every)
    all_views, _ = predict(lm, task, prompts, every, loaded.device)
    first_two, _ = predict(lm, task, prompts, replace(every, score_views=2), loaded.device)
    scored = all_views[0].view_logprobs
    assert scored and set(scored) == set(first_two[0].view_logprobs)
    for grid, logprobs in scored.items():
        assert len(logprobs) == 4  # one per view of the test input
        assert first_two[0].view_logprobs[grid] == pytest.approx(logprobs[:2], abs=1e-4)
