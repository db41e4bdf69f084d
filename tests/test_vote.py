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


def test_the_mit_vote_counts_the_top_three_of_each_symmetry_and_of_all_answers():
    from arcttt.core.ranking import Found, attempts, ranked
    from arcttt.core.vote import mit_vote

    a, b, c, d = ((1,),), ((2,),), ((3,),), ((4,),)
    # Views of one symmetry (the identity, with other colours or orders) form one category.
    candidates = [Candidate(a, "id"), Candidate(a, "c:1023456789"), Candidate(b, "o:1,0"),
                  Candidate(c, "mirror"), Candidate(c, "mirror c:1023456789"), Candidate(d, "rot180")]
    # all: A C B; id: A B (A: the row majority fills in); mirror: C C C; rot180: D D D.
    # Second count: C 4, A 3, D 3, B 2; A and D tie, and A is seen more under the identity.
    assert mit_vote(candidates) == [c, a, d, b]
    assert attempts(ranked(Found(tuple(candidates)), "mit"), a) == (c, a)
    # The plain vote counts views instead: A (2 views) first.
    assert attempts(ranked(Found(tuple(candidates)), "vote"), a)[0] == a


def test_the_mit_vote_fills_in_the_row_majority_grid():
    from arcttt.core.vote import mit_vote

    top = ((1, 1), (0, 0))
    bottom = ((0, 0), (2, 2))
    # Two distinct answers: the third is built row by row from the most common rows.
    candidates = [Candidate(top, "id"), Candidate(top, "rot90"), Candidate(bottom, "rot180")]
    assert mit_vote(candidates)[:2] == [top, bottom]
    assert ((1, 1), (0, 0)) in mit_vote(candidates)
