"""Constrained decoding: whatever a model prefers, every finished answer is a rectangular grid."""

import pytest
import torch

from arcttt.core.augment import Transform, sample_transforms
from arcttt.core.config import InferConfig
from arcttt.core.encode import END, NL, PAD, decode_grid, encode, grid_ids
from arcttt.core.formats import Grammar
from arcttt.core.seeding import task_rng
from arcttt.core.tasks import Example, Task, load_source
from arcttt.engine import infer
from arcttt.engine.infer import GridConstraint, prompts_for
from arcttt.engine.lm import LeanLM
from arcttt.testing import tiny_loaded
from conftest import SAMPLE, greedy


# Outputs are the inputs transposed: every size rule that holds agrees on (4, 1) for the test.
TRANSPOSING = Task("t", (Example(((1, 2, 3),), ((1,), (2,), (3,))), Example(((1, 2),), ((1,), (2,)))),
                   (Example(((1, 2, 3, 4),)),))


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


def test_constraint_holds_a_row_to_its_given_shape():
    constraint = GridConstraint(batch=2, shapes=torch.tensor([[2, 3], [0, 0]]))
    feed2 = lambda *tokens: [constraint.update(torch.tensor([t, t])) for t in tokens]
    feed2(1, 2)
    assert allowed(constraint) == list(range(10))  # no row end before the third cell
    assert allowed(constraint, 1) == list(range(10)) + [NL]  # the free row may end
    feed2(3)
    assert allowed(constraint) == [NL]
    feed2(NL)
    assert allowed(constraint) == list(range(10))  # two rows: no end after the first
    feed2(4, 5, 6, NL)
    assert allowed(constraint) == [END]  # nor a third row
    assert allowed(constraint, 1) == list(range(10)) + [END]


def test_constraint_with_a_shape_in_the_joined_layout():
    grammar = Grammar(vocab=max(NL, END, PAD) + 1, nl=NL, end=END, pad=PAD, rows_ended=False)
    constraint = GridConstraint(batch=1, grammar=grammar, shapes=torch.tensor([[2, 1]]))
    assert allowed(constraint) == list(range(10))
    feed(constraint, 7)
    assert allowed(constraint) == [NL]  # one column, and a second row to come
    feed(constraint, NL, 8)
    assert allowed(constraint) == [END]


def test_shaped_answers_of_a_random_model_have_the_shape_and_score_as_decoded():
    task = load_source(SAMPLE).tasks[0]
    loaded = tiny_loaded(seed=3)
    prompts = [encode(task.train, task.test[0], with_answer=False)] * 2
    lm = LeanLM(loaded.model, None)
    sampled = infer.find_answers(lm, prompts, loaded.device, max_new_tokens=400, keep=True, min_prob=0.05,
                                 shapes=[(2, 4), None])
    shaped = [decode_grid(tokens) for tokens, _ in sampled.answers[0]]
    assert shaped and all(len(grid) == 2 and len(grid[0]) == 4 for grid in shaped)
    tokens, logprob = sampled.answers[0][0]
    assert sampled.score([(0, tokens)])[0] == pytest.approx(logprob, abs=1e-3)
    free = decode_grid(sampled.answers[1][0][0])
    assert (len(free), len(free[0])) != (2, 4)  # the unconstrained prompt is not held to it


def test_view_shapes_follow_each_view_and_stay_free_where_the_rules_disagree():
    views = [(0, Transform(dihedral=d), None) for d in (0, 1)]
    assert infer.view_shapes(TRANSPOSING, views) == [(4, 1), (1, 4)]  # the transposed input, turned with the view
    one = Task("u", (Example(((1, 2),), ((1, 2),)),), (Example(((1, 2, 3),)),))
    # one demonstration: the input's size and a constant both hold, and they disagree on the test
    assert infer.view_shapes(one, views[:1]) == [None]


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


def test_predict_holds_each_view_to_the_implied_size_only_when_asked(monkeypatch):
    asked = []

    def capture(model, prompts, device, batch_prompts, **options):
        asked.append(options["shapes"])
        return infer.Answers([[] for _ in prompts], [])

    monkeypatch.setattr(infer, "find_answers", capture)
    views = [Transform(dihedral=d) for d in (0, 1, 4)]
    for size_rule in (False, True):
        config = InferConfig(size_rule=size_rule)
        infer.predict(None, TRANSPOSING, prompts_for(TRANSPOSING, views, config), config, torch.device("cpu"))
    assert asked == [None, [(4, 1), (1, 4), (4, 1)]]


def test_unfinished_answers_give_no_candidate(monkeypatch):
    task = load_source(SAMPLE).tasks[0]
    monkeypatch.setattr(infer, "find_answers", lambda model, prompts, device, batch_prompts, **options:
                        infer.Answers([[([1, 2], 0.0)]] * len(prompts), []))
    loaded = tiny_loaded()
    prompts = prompts_for(task, sample_transforms(task_rng(0, "t"), 2, len(task.train)), InferConfig())
    found, _ = infer.predict(loaded.model, task, prompts, InferConfig(), loaded.device)
    assert [f.candidates for f in found] == [() for _ in task.test]
