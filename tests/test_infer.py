"""Constrained decoding: whatever a model prefers, every finished answer is a rectangular grid."""

import torch

from arcttt.augment import sample_transforms
from arcttt.config import InferConfig
from arcttt import infer
from arcttt.encode import END, NL, PAD, decode_grid, encode, grid_ids
from arcttt.infer import GridConstraint, generate
from arcttt.seeding import task_rng
from arcttt.tasks import load_source
from conftest import tiny_loaded


def test_constraint_forces_rectangular_rows_and_the_end():
    constraint = GridConstraint(prompt_length=0, batch=1)
    assert constraint.allowed(0) == list(range(10))
    for token in (3, 4, NL):
        constraint._update(0, token)
    assert constraint.allowed(0) == list(range(10)) + [END]
    constraint._update(0, 5)
    constraint._update(0, 6)
    assert constraint.allowed(0) == [NL]  # the row is as wide as the first one
    constraint._update(0, NL)
    constraint._update(0, END)
    assert constraint.allowed(0) == [PAD]


def test_random_model_answers_always_decode(tmp_path):
    task = load_source("data/sample").tasks[0]
    loaded = tiny_loaded(seed=3)
    prompts = [encode(task.train, task.test[0], with_answer=False)] * 2
    for tokens, logprob in generate(loaded.model, prompts, loaded.device, max_new_tokens=400):
        assert tokens[-1] == END and decode_grid(tokens) is not None and logprob <= 0


def test_predict_maps_answers_back_through_each_view(monkeypatch):
    task = load_source("data/sample").tasks[0]
    loaded = tiny_loaded(seed=1)
    views = sample_transforms(task_rng(0, task.id), 4, len(task.train))
    answer = ((1, 2, 3), (4, 5, 6))
    prompts_seen = []

    def same_answer_for_every_view(model, prompts, device, max_new_tokens):
        prompts_seen.extend(prompts)
        return [(grid_ids(answer) + [END], -1.0) for _ in prompts]

    monkeypatch.setattr(infer, "generate", same_answer_for_every_view)
    candidates = infer.predict(loaded.model, task, 0, views, InferConfig(batch_size=3), loaded.device)
    assert sorted((c.view, c.grid) for c in candidates) == sorted((v.key, v.invert(answer)) for v in views)
    # Each view saw the task through its own transform.
    expected = {encode(v.apply_task(task).train, v.apply_task(task).test[0], with_answer=False).ids for v in views}
    assert {p.ids for p in prompts_seen} == expected


def test_unfinished_answers_give_no_candidate(monkeypatch):
    task = load_source("data/sample").tasks[0]
    monkeypatch.setattr(infer, "generate", lambda model, prompts, device, max_new_tokens: [([1, 2], 0.0)] * len(prompts))
    loaded = tiny_loaded()
    assert infer.predict(loaded.model, task, 0, sample_transforms(task_rng(0, "t"), 2, 2), InferConfig(),
                         loaded.device) == []
