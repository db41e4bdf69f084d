"""Tasks to token ids and back in arcttt's own format (`arcttt.core.formats.ARCTTT`).

Cells are their own ids (colour c is token c), so a model adapter only has to map these
`len(SYMBOLS)` symbols to its own token ids. A sequence reads

    BOS  IN rows OUT rows END  IN rows OUT rows END ...  IN rows OUT [rows END]

where each row is its cells followed by NL. Loss falls on the output rows and END of every
demonstration after the first (as in the MIT paper) and of the query. The anchors' formats are
in `arcttt.core.formats`; these names are the default format's.
"""

from __future__ import annotations

from arcttt.core.formats import ARCTTT, Encoded  # noqa: F401  (Encoded is imported from here)
from arcttt.core.grids import Grid
from arcttt.core.tasks import Example, Task

NL, IN, OUT, END, BOS, PAD = 10, 11, 12, 13, 14, 15
# What each id stands for; a model adapter looks each symbol up on its own in its tokenizer.
SYMBOLS: tuple[str, ...] = ARCTTT.symbols
# The longest answer: 30 rows of 30 cells and NL, then END.
MAX_ANSWER_TOKENS = ARCTTT.max_answer_tokens


def grid_ids(grid: Grid) -> list[int]:
    """Row by row, each row's cells then NL."""
    return ARCTTT.grid_ids(grid)


def grid_length(grid: Grid) -> int:
    return ARCTTT.grid_length(grid)


def pair_length(example: Example) -> int:
    """Tokens of one demonstration: IN rows OUT rows END."""
    return ARCTTT.pair_length(example)


def encode(context: tuple[Example, ...], query: Example, max_tokens: int = 8192,
           with_answer: bool = True, demo_loss: bool = True, reserve: int = 0) -> Encoded | None:
    """Encode a sample in arcttt's format: see `SymbolFormat.encode`."""
    return ARCTTT.encode(context, query, max_tokens, with_answer, demo_loss, reserve)


def task_tokens(task: Task) -> int:
    """Tokens of the task's longest test prompt with its answer: what TTT and decoding must hold
    (how the suites and the policy fit order tasks by size)."""
    return max(len(encode(task.train, example, max_tokens=1 << 20)) for example in task.test)


def decode_grid(ids: list[int] | tuple[int, ...]) -> Grid | None:
    """Generated ids (after OUT) back to a grid; None unless they are rectangular rows ending in END."""
    return ARCTTT.parse(ids)
