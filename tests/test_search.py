"""DFS sampling and product-of-experts scoring on a tiny model, checked against brute force:
every answer above the threshold and no other, and scores equal to teacher-forced log-probs
computed from a fresh forward pass."""

import math

import pytest
import torch

from arcttt.core.encode import END, Encoded
from arcttt.engine.infer import GridConstraint, find_answers
from arcttt.engine.lm import LeanLM
from arcttt.testing import tiny_gemma
from conftest import greedy

CPU = torch.device("cpu")


def flat_lm(seed: int = 1, cap: float = 2.5) -> LeanLM:
    """A tiny Gemma 3 (sliding window 8, so the searches cross it) with softened logits: many
    answers of similar probability, a bushy tree to search."""
    lm = LeanLM(tiny_gemma(seed=seed, window=8), None)
    lm.softcap = cap
    return lm


def prompts(lengths=(12, 15, 12), seed=0) -> list[Encoded]:
    g = torch.Generator().manual_seed(seed)
    return [Encoded(tuple(torch.randint(0, 13, (n,), generator=g).tolist()), ()) for n in lengths]


def fresh_logprob(lm: LeanLM, prompt: Encoded, answer: list[int]) -> float:
    """The answer's log-probability under the grid constraint, from one full forward pass."""
    with torch.no_grad():
        logits = lm(torch.tensor([list(prompt.ids) + answer[:-1]]))[0, len(prompt.ids) - 1:]
    constraint, total = GridConstraint(1), 0.0
    for t, token in enumerate(answer):
        scores = logits[t].masked_fill(~constraint.allowed()[0], float("-inf")).log_softmax(-1)
        total += float(scores[token])
        constraint.update(torch.tensor([token]))
    return total


def brute_force(lm: LeanLM, prompt: Encoded, max_new: int, floor: float) -> dict[tuple, float]:
    """Every answer (through END, at most `max_new` tokens) with log-probability >= floor: the
    token tree walked with a fresh forward pass per prefix (a prefix below the floor has no
    answer above it)."""
    found = {}

    def walk(prefix: list[int], logprob: float) -> None:
        with torch.no_grad():
            logits = lm(torch.tensor([list(prompt.ids) + prefix]))[0, -1]
        constraint = GridConstraint(1)
        for token in prefix:
            constraint.update(torch.tensor([token]))
        scores = logits.masked_fill(~constraint.allowed()[0], float("-inf")).log_softmax(-1)
        for token in torch.nonzero(constraint.allowed()[0]).flatten().tolist():
            total = logprob + float(scores[token])
            if total < floor:
                continue
            if token == END:
                found[tuple(prefix + [END])] = total
            elif len(prefix) + 1 < max_new:
                walk(prefix + [token], total)

    walk([], 0.0)
    return found


@pytest.mark.parametrize("speculate", [1, 4])
def test_dfs_returns_exactly_the_answers_above_the_threshold(speculate):
    lm, asked = flat_lm(), prompts()
    min_prob, max_new = 0.001, 7
    drafts = [[3, 1, 10, 2, 2, 10], [0, 10, 5, 10], [7, 7, 7, 10]] if speculate > 1 else None
    sampled = find_answers(lm, asked, CPU, batch_prompts=2, max_new_tokens=max_new, min_prob=min_prob, drafts=drafts, max_branches=10**6,
                     speculate=speculate)
    assert not sampled.truncated
    total = 0
    for prompt, answers, plain in zip(asked, sampled.answers, greedy(lm, asked, CPU, max_new_tokens=max_new)):
        want = brute_force(lm, prompt, max_new, math.log(min_prob))
        total += len(want)
        got = {tuple(a): lp for a, lp in answers}
        assert len(got) == len(answers), "each answer is found once"
        assert answers[0][0] == plain[0]  # the greedy answer first, whatever its probability
        assert set(got) - set(want) <= {tuple(plain[0])}
        assert set(want) <= set(got)
        for answer, logprob in want.items():
            assert got[answer] == pytest.approx(logprob, abs=1e-4)
    assert total >= 20, "the test needs a bushy tree"


def test_a_branch_cap_cuts_the_search_and_says_so():
    lm, asked = flat_lm(), prompts()
    full = find_answers(lm, asked, CPU, max_new_tokens=7, min_prob=0.001, max_branches=10**6)
    cut = find_answers(lm, asked, CPU, max_new_tokens=7, min_prob=0.001, max_branches=2)
    assert cut.truncated and not full.truncated
    assert sum(map(len, cut.answers)) < sum(map(len, full.answers))
    for part, whole in zip(cut.answers, full.answers):  # the most probable branches came first
        assert {tuple(a) for a, _ in part} <= {tuple(a) for a, _ in whole}


def test_scores_from_the_cached_prompt_equal_fresh_teacher_forcing():
    lm, asked = flat_lm(), prompts((14, 20, 14))
    sampled = find_answers(lm, asked, CPU, batch_prompts=2, max_new_tokens=7, min_prob=0.002, keep=True)
    answers = sorted({tuple(a) for found in sampled.answers for a, _ in found if a[-1] == END}
                     | {(5, 10, 13), (1, 2, 10, 3, 4, 10, 13), (0, 0, 0, 10, 13)})
    assert len(answers) >= 6
    requests = [(p, list(a)) for p in range(len(asked)) for a in answers]
    scores = sampled.score(requests, tokens_per_batch=9)  # several batches of mixed lengths
    for (p, answer), score in zip(requests, scores):
        assert score == pytest.approx(fresh_logprob(lm, asked[p], answer), abs=1e-4)
    # An answer's score under its own prompt is the log-probability the search found it with.
    for p, found in enumerate(sampled.answers):
        for answer, logprob in found:
            if answer[-1] == END:
                assert sampled.score([(p, answer)])[0] == pytest.approx(logprob, abs=1e-4)


def test_scoring_needs_kept_prompts_and_the_search_needs_the_lean_engine():
    from arcttt.core.errors import ArcError
    from arcttt.engine.hf import HfLM

    with pytest.raises(ArcError, match="lean backend"):
        find_answers(HfLM(tiny_gemma(), None), prompts(), CPU, max_new_tokens=5, min_prob=0.1)
