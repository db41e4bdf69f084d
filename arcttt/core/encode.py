"""Tasks to token ids and back, through a small explicit vocabulary.

Cells are their own ids (colour c is token c), so a model adapter only has to map these
`len(SYMBOLS)` symbols to its own token ids. A sequence reads

    BOS  IN rows OUT rows END  IN rows OUT rows END ...  IN rows OUT [rows END]

where each row is its cells followed by NL. Loss falls on the output rows and END of every
demonstration after the first (as in the MIT paper) and of the query.
"""

from __future__ import annotations

from dataclasses import dataclass

from arcttt.core.grids import MAX_SIDE, Grid
from arcttt.core.tasks import Example

NL, IN, OUT, END, BOS, PAD = 10, 11, 12, 13, 14, 15
# What each id stands for; a model adapter looks each symbol up on its own in its tokenizer.
SYMBOLS: tuple[str, ...] = (*"0123456789", "\n", "I", "O", "E", "<bos>", "<pad>")
# The longest answer: 30 rows of 30 cells and NL, then END.
MAX_ANSWER_TOKENS = MAX_SIDE * (MAX_SIDE + 1) + 1


@dataclass(frozen=True)
class Encoded:
    """Token ids, the loss mask (True where a position is a target), and what was left out."""

    ids: tuple[int, ...]
    mask: tuple[bool, ...]
    dropped: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.ids)


def grid_ids(grid: Grid) -> list[int]:
    """Row by row, each row's cells then NL."""
    out: list[int] = []
    for row in grid:
        out.extend(row)
        out.append(NL)
    return out


def grid_length(grid: Grid) -> int:
    return len(grid) * (len(grid[0]) + 1)


def pair_length(example: Example) -> int:
    """Tokens of one demonstration: IN rows OUT rows END."""
    return 3 + grid_length(example.input) + grid_length(example.output)


def _fit(context: tuple[Example, ...], fixed: int, max_tokens: int) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """Indices of the context kept (in order) and dropped (largest first) to fit `max_tokens`."""
    lengths = [pair_length(e) for e in context]
    kept = list(range(len(context)))
    dropped = []
    total = fixed + sum(lengths)
    # Drop whole demonstrations, largest first: a truncated grid would teach the wrong rule.
    for i in sorted(kept, key=lambda i: (-lengths[i], i)):
        if total <= max_tokens:
            break
        kept.remove(i)
        dropped.append(i)
        total -= lengths[i]
    return (tuple(kept), tuple(dropped)) if total <= max_tokens else None


def encode(context: tuple[Example, ...], query: Example, max_tokens: int = 8192,
           with_answer: bool = True, demo_loss: bool = True, reserve: int = 0) -> Encoded | None:
    """Encode a sample (context + query) for training, or a prompt for inference.

    With `with_answer` the query output and END follow its OUT marker and are targets; without,
    the sequence ends at OUT and `reserve` tokens are kept free for the answer. Context
    demonstrations are dropped, largest first, until the sequence fits `max_tokens`; None if even
    the query alone does not fit.
    """
    query_len = 2 + grid_length(query.input) + 1
    if with_answer:
        query_len += grid_length(query.output) + 1
    fitted = _fit(context, query_len + reserve, max_tokens)
    if fitted is None:
        return None
    kept, dropped = fitted
    ids: list[int] = [BOS]
    mask: list[bool] = [False]

    def put(tokens: list[int], target: bool) -> None:
        ids.extend(tokens)
        mask.extend([target] * len(tokens))

    for n, i in enumerate(kept):
        example = context[i]
        put([IN, *grid_ids(example.input), OUT], False)
        put([*grid_ids(example.output), END], demo_loss and n > 0)
    put([IN, *grid_ids(query.input), OUT], False)
    if with_answer:
        put([*grid_ids(query.output), END], True)
    return Encoded(tuple(ids), tuple(mask), dropped)


def decode_grid(ids: list[int] | tuple[int, ...]) -> Grid | None:
    """Generated ids (after OUT) back to a grid; None unless they are rectangular rows ending in END."""
    if END not in ids:
        return None
    body = list(ids[: list(ids).index(END)])
    if not body or body[-1] != NL:
        return None
    rows: list[tuple[int, ...]] = []
    row: list[int] = []
    for token in body:
        if token == NL:
            if not row:
                return None
            rows.append(tuple(row))
            row = []
        elif 0 <= token <= 9:
            row.append(token)
        else:
            return None
    if len(rows) > MAX_SIDE or len(rows[0]) > MAX_SIDE or any(len(r) != len(rows[0]) for r in rows):
        return None
    return tuple(rows)
