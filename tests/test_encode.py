from hypothesis import given
from hypothesis import strategies as st

from arcttt.core.encode import BOS, END, IN, NL, OUT, SYMBOLS, decode_grid, encode, grid_ids, pair_length
from arcttt.core.tasks import Example

A = Example(((1, 2), (3, 4)), ((4, 3), (2, 1)))
B = Example(((5,),), ((6,),))
C = Example(((7, 7, 7),), ((8,), (8,), (8,)))


def test_layout_is_exact():
    encoded = encode((B,), C)
    assert encoded.ids == (BOS, IN, 5, NL, OUT, 6, NL, END,
                           IN, 7, 7, 7, NL, OUT, 8, NL, 8, NL, 8, NL, END)
    # Only the query output (and its END) carries loss: the first demonstration never does.
    targets = [i for i, m in zip(encoded.ids, encoded.mask) if m]
    assert targets == [8, NL, 8, NL, 8, NL, END]


def test_outputs_after_the_first_demonstration_are_targets():
    encoded = encode((A, B), C)
    targets = [i for i, m in zip(encoded.ids, encoded.mask) if m]
    assert targets == [6, NL, END, 8, NL, 8, NL, 8, NL, END]
    assert encode((A, B), C, demo_loss=False).mask.count(True) == 7


def test_prompt_ends_at_the_output_marker():
    prompt = encode((A,), C, with_answer=False)
    assert prompt.ids[-1] == OUT and not any(prompt.mask)


def test_over_budget_drops_the_largest_demonstrations_whole():
    full = encode((A, B, C), B)
    assert full.dropped == ()
    budget = len(full) - 1
    fitted = encode((A, B, C), B, max_tokens=budget)
    # A and C are both 15 tokens; the earlier of equals goes first, and whole grids are never cut.
    assert fitted.dropped == (0,)
    assert len(fitted) == len(full) - pair_length(A)
    assert encode((A, B, C), B, max_tokens=10).dropped == (0, 2, 1)
    assert encode((A,), C, max_tokens=5) is None


def test_reserve_keeps_room_for_the_answer():
    prompt = encode((A, B), C, with_answer=False)
    assert encode((A, B), C, with_answer=False, max_tokens=len(prompt), reserve=8).dropped != ()


@given(st.integers(1, 30), st.integers(1, 30), st.integers(0, 9))
def test_decode_inverts_grid_ids(rows, cols, colour):
    grid = tuple(tuple((colour + r + c) % 10 for c in range(cols)) for r in range(rows))
    assert decode_grid(grid_ids(grid) + [END]) == grid
    assert decode_grid(grid_ids(grid) + [END, 5, 5]) == grid  # anything after END is ignored


def test_decode_rejects_junk():
    assert decode_grid([1, 2, NL]) is None  # no END
    assert decode_grid([END]) is None  # empty
    assert decode_grid([1, 2, NL, 3, NL, END]) is None  # ragged
    assert decode_grid([1, 2, END]) is None  # last row without NL
    assert decode_grid([1, NL, NL, END]) is None  # empty row
    assert decode_grid([1, IN, NL, END]) is None  # a marker inside the grid
    assert decode_grid([1] * 31 + [NL, END]) is None  # too wide
    assert decode_grid([1, NL] * 31 + [END]) is None  # too tall


def test_vocabulary_is_small_and_cells_are_their_own_ids():
    assert len(SYMBOLS) == 16 and SYMBOLS[:10] == tuple("0123456789")
