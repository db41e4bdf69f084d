"""Constrained decoding: whatever a model prefers, every finished answer is a rectangular grid."""

import pytest
import torch

from arcttt.core.augment import sample_transforms
from arcttt.core.config import InferConfig
from arcttt.core.encode import END, NL, PAD, decode_grid, encode, grid_ids
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import load_source
from arcttt.engine import infer
from arcttt.engine.infer import GridConstraint, prompts_for
from arcttt.engine.lm import LeanLM
from arcttt.testing import tiny_loaded
from conftest import SAMPLE, greedy


def allowed(constraint, row=0):
    return torch.nonzero(constraint.allowed()[row]).flatten().tolist()


def feed(constraint, *tokens):
    for token in tokens:
        constraint.update(torch.tensor([token]))


def test_constraint_forces_rectangular_rows_and_the_end():
    constraint = GridConstraint(batch=1)
    assert allowed(constraint) == list(range(10))
    feed(constraint, 3, 4, NL)
    assert allowed(constraint) == list(range(10)) + [END]
    feed(constraint, 5, 6)
    assert allowed(constraint) == [NL]  # the row is as wide as the first one
    feed(constraint, NL, END)
    assert allowed(constraint) == [PAD]


def test_constraint_caps_rows_and_columns_at_thirty():
    constraint = GridConstraint(batch=2)
    for _ in range(30):
        constraint.update(torch.tensor([1, 1]))
    assert allowed(constraint, 0) == [NL]  # a first row of 30 cells must end
    for _ in range(29):
        constraint.update(torch.tensor([NL, NL]))
        for _ in range(30):
            constraint.update(torch.tensor([1, 1]))
    constraint.update(torch.tensor([NL, NL]))
    assert allowed(constraint, 1) == [END]  # 30 rows: the answer must end


def test_random_model_answers_always_decode(tmp_path):
    task = load_source(SAMPLE).tasks[0]
    loaded = tiny_loaded(seed=3)
    prompts = [encode(task.train, task.test[0], with_answer=False)] * 2
    lm = LeanLM(loaded.model, None)
    for tokens, logprob in greedy(lm, prompts, loaded.device, max_new_tokens=400):
        assert tokens[-1] == END and decode_grid(tokens) is not None and logprob <= 0
    sampled = infer.find_answers(lm, prompts, loaded.device, max_new_tokens=400, keep=True)
    for index, ((tokens, logprob), *_) in enumerate(sampled.answers):
        # The reported probability is the answer's own: scored again, teacher-forced, it agrees.
        assert sampled.score([(index, tokens)])[0] == pytest.approx(logprob, abs=1e-3)


def test_predict_maps_answers_back_through_each_view(monkeypatch):
    task = load_source(SAMPLE).tasks[0]
    loaded = tiny_loaded(seed=1)
    views = sample_transforms(task_rng(0, task.id), 4, len(task.train))
    answer = ((1, 2, 3), (4, 5, 6))
    prompts_seen = []

    def same_answer_for_every_view(model, prompts, device, batch_prompts, **options):
        prompts_seen.extend(prompts)
        return infer.Answers([[(grid_ids(answer) + [END], -1.0)] for _ in prompts], [])

    monkeypatch.setattr(infer, "find_answers", same_answer_for_every_view)
    config = InferConfig(batch_prompts=3)
    found, cut = infer.predict(loaded.model, task, prompts_for(task, views, config), config, loaded.device)
    candidates = found[0].candidates
    assert sorted((c.view, c.grid) for c in candidates) == sorted((v.key, v.invert(answer)) for v in views)
    assert not cut
    # Each view saw the task through its own transform.
    expected = {encode(v.apply_task(task).train, v.apply_task(task).test[0], with_answer=False).ids for v in views}
    assert {p.ids for p in prompts_seen} == expected


def test_unfinished_answers_give_no_candidate(monkeypatch):
    task = load_source(SAMPLE).tasks[0]
    monkeypatch.setattr(infer, "find_answers", lambda model, prompts, device, batch_prompts, **options:
                        infer.Answers([[([1, 2], 0.0)]] * len(prompts), []))
    loaded = tiny_loaded()
    prompts = prompts_for(task, sample_transforms(task_rng(0, "t"), 2, len(task.train)), InferConfig())
    found, _ = infer.predict(loaded.model, task, prompts, InferConfig(), loaded.device)
    assert [f.candidates for f in found] == [() for _ in task.test]
