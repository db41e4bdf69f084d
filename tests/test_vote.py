from arcttt.core.vote import Candidate, rank, two


def vote(candidates, fallback, per_view=3):
    """The two attempts the vote gives."""
    return two([r.grid for r in rank(candidates, per_view)], fallback)

G1, G2, G3, G4 = ((1,),), ((2,),), ((3,),), ((4,),)
FALLBACK = ((0,),)


def test_majority_across_views_wins():
    candidates = [Candidate(G1, "a"), Candidate(G2, "b"), Candidate(G2, "c"), Candidate(G1, "id"),
                  Candidate(G2, "d")]
    assert vote(candidates, FALLBACK) == (G2, G1)


def test_only_each_views_top_three_count():
    # View "a" produced G4 many times but also four other grids; only its top three reach the global count.
    spam = [Candidate(G, "a") for G in (((5,),), ((6,),), ((7,),))] * 2 + [Candidate(G4, "a")]
    others = [Candidate(G3, v) for v in ("b", "c")]
    ranked = rank(spam + others)
    assert G4 not in [r.grid for r in ranked]
    assert ranked[0].votes == 2


def test_ties_prefer_the_identity_view_then_logprob_then_grid_order():
    assert vote([Candidate(G2, "b"), Candidate(G1, "id")], FALLBACK) == (G1, G2)
    assert vote([Candidate(G1, "b", -3.0), Candidate(G2, "c", -1.0)], FALLBACK) == (G2, G1)
    assert vote([Candidate(G2, "b"), Candidate(G1, "c")], FALLBACK) == (G1, G2)


def test_result_does_not_depend_on_candidate_order():
    candidates = [Candidate(g, v, lp) for g, v, lp in
                  [(G1, "a", -1), (G2, "b", -2), (G3, "b", -0.5), (G1, "c", -4), (G2, "id", -3)]]
    assert vote(candidates, FALLBACK) == vote(list(reversed(candidates)), FALLBACK)


def test_fallbacks():
    assert vote([], FALLBACK) == (FALLBACK, FALLBACK)
    assert vote([Candidate(G1, "a"), Candidate(G1, "b")], FALLBACK) == (G1, FALLBACK)
