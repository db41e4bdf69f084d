"""Choosing attempts: the product-of-experts rule, its ties, and the oracle rank (no torch)."""

import random

import pytest

from arcttt.core.ranking import Found, Ranked, answer_rank, attempts, poe_score, ranked, to_score
from arcttt.core.vote import Candidate

A, B, C, D = ((1,),), ((2,),), ((3,),), ((1, 1),)
FALLBACK = ((0,),)


def test_poe_score_is_the_mean_view_log_probability_plus_the_hit_bonus():
    assert poe_score((-1.0, -3.0), found=2, hit_weight=1.0) == pytest.approx(-2.0 + 2)
    assert poe_score((-1.0, -3.0), found=2, hit_weight=0.0) == pytest.approx(-2.0)
    assert poe_score((-0.5,), found=3, hit_weight=0.5) == pytest.approx(1.0)


def test_poe_ranks_by_the_product_over_views_and_breaks_ties_by_count_then_grid():
    candidates = (Candidate(A, "id"), Candidate(A, "r1"), Candidate(B, "r1"), Candidate(C, "t"))
    scores = {A: (-5.0, -5.0), B: (-1.0, -1.0), C: (-1.0, -1.0)}
    best = ranked(Found(candidates, scores), "poe", hit_weight=0.0)
    assert [r.grid for r in best] == [B, C, A]  # B and C tie on score and count: grid order
    best = ranked(Found(candidates, scores), "poe", hit_weight=5.0)  # A: -5 + 10 beats -1 + 5
    assert [r.grid for r in best] == [A, B, C]
    assert best[0] == Ranked(A, 2, pytest.approx(5.0))


def test_one_view_that_rules_an_answer_out_vetoes_it():
    candidates = (Candidate(A, "id"), Candidate(B, "r1"))
    scores = {A: (-0.1, -0.1, -20.0), B: (-2.0, -2.0, -2.0)}  # A is likelier under two of three views
    assert [r.grid for r in ranked(Found(candidates, scores), "poe", hit_weight=0.0)] == [B, A]


def test_ranking_does_not_depend_on_the_order_answers_were_found():
    rng = random.Random(0)
    candidates = [Candidate(g, v, -float(i)) for i, (g, v) in enumerate([(A, "id"), (B, "a"), (B, "b"), (C, "c"), (D, "d")])]
    scores = {A: (-1.0,), B: (-2.0,), C: (-1.0,), D: (-1.0,)}
    want = ranked(Found(tuple(candidates), scores), "poe")
    for _ in range(10):
        rng.shuffle(candidates)
        assert ranked(Found(tuple(candidates), dict(reversed(list(scores.items())))), "poe") == want
        assert ranked(Found(tuple(candidates)), "vote") == ranked(Found(tuple(sorted(candidates, key=str))), "vote")


def test_unscored_answers_follow_the_scored_ones_in_vote_order():
    candidates = (Candidate(C, "a"), Candidate(C, "b"), Candidate(A, "c"), Candidate(B, "d"))
    best = ranked(Found(candidates, {A: (-9.0,)}), "poe", hit_weight=0.0)
    assert [r.grid for r in best] == [A, C, B]


def test_to_score_keeps_the_most_often_found_then_the_most_probable():
    candidates = (Candidate(A, "a", -3.0), Candidate(B, "b", -1.0), Candidate(C, "c", -2.0), Candidate(C, "d", -9.0))
    assert to_score(Found(candidates), 2) == [C, B]


def test_attempts_fill_gaps_with_the_fallback_and_the_oracle_rank():
    assert attempts([], FALLBACK) == (FALLBACK, FALLBACK)
    best = [Ranked(A, 1, 0.0), Ranked(B, 1, -1.0), Ranked(C, 1, -2.0)]
    assert attempts(best[:1], FALLBACK) == (A, FALLBACK)
    assert attempts(best, FALLBACK) == (A, B)
    assert [answer_rank(best, g) for g in (A, C, D)] == [1, 3, None]


def test_an_unknown_scoring_is_refused():
    with pytest.raises(ValueError, match="unknown scoring"):
        ranked(Found(()), "median")


def test_greedy_hits_count_only_each_views_first_answer():
    candidates = (Candidate(A, "v1"), Candidate(B, "v1", greedy=False), Candidate(A, "v2"),
                  Candidate(B, "v2", greedy=False), Candidate(B, "v3"), Candidate(A, "v3", greedy=False))
    scores = {A: (-2.0, -2.0, -2.0), B: (-1.5, -1.5, -1.5)}
    by_search = ranked(Found(candidates, scores), "poe", counted="search")  # 3 hits each: B's mean wins
    by_greedy = ranked(Found(candidates, scores), "poe", counted="greedy")  # A 2 votes, B 1
    assert [r.grid for r in by_search] == [B, A] and [r.grid for r in by_greedy] == [A, B]
    assert [r.found for r in by_greedy] == [2, 1]
    with pytest.raises(ValueError, match="unknown hit count"):
        ranked(Found(candidates, scores), "poe", counted="some")
