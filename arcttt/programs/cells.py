"""The cell view: a grid divided by separator lines into cells of one colour each read as a grid
of pixels, one a cell; the search then solves the smaller task and draws its answers back.

A task has this view where every grid (demonstrations and test inputs) is divided by full rows
and columns of one non-zero colour into at least two cells, every cell is of one colour, and
each demonstration output keeps its input's lines. Beside it, a fitted rule over cells that
hold patterns (`fit_cell_rule`: the fullest cell filled, the one cell copied, a template, ...).
Designed on ARC-AGI-1 training tasks only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from arcttt.core.grids import from_array, to_array
from arcttt.core.tasks import Example, Task
from arcttt.programs.dsl import Primitive, agreeing, spans


@dataclass(frozen=True)
class Cells:
    """Where a grid's cells are: the stretches of rows and of columns between its lines."""

    rows: tuple[tuple[int, int], ...]
    cols: tuple[tuple[int, int], ...]


def divide(grid: np.ndarray) -> tuple[Cells, np.ndarray] | None:
    """The grid's cells and their colours as a small grid; None where it has no separator lines
    of one non-zero colour, fewer than two cells, or a cell of several colours."""
    h, w = grid.shape
    rows = [i for i in range(h) if grid[i, 0] and (grid[i] == grid[i, 0]).all()]
    cols = [j for j in range(w) if grid[0, j] and (grid[:, j] == grid[0, j]).all()]
    if len({int(grid[i, 0]) for i in rows} | {int(grid[0, j]) for j in cols}) != 1:
        return None
    cells = Cells(tuple(spans(rows, h)), tuple(spans(cols, w)))
    if len(cells.rows) * len(cells.cols) < 2 or len(cells.rows) == h or len(cells.cols) == w:
        return None  # no cell wider or taller than one pixel: the view would be the grid itself
    small = np.zeros((len(cells.rows), len(cells.cols)), dtype=grid.dtype)
    for i, (a, b) in enumerate(cells.rows):
        for j, (c, d) in enumerate(cells.cols):
            block = grid[a:b, c:d]
            if (block != block[0, 0]).any():
                return None
            small[i, j] = block[0, 0]
    return cells, small


def draw(grid: np.ndarray, cells: Cells, small: np.ndarray) -> np.ndarray | None:
    """The grid with each cell painted its pixel of `small`; None where the sizes differ."""
    if small.shape != (len(cells.rows), len(cells.cols)):
        return None
    out = grid.copy()
    for i, (a, b) in enumerate(cells.rows):
        for j, (c, d) in enumerate(cells.cols):
            out[a:b, c:d] = small[i, j]
    return out


def cell_view(task: Task) -> tuple[Task, list[tuple[np.ndarray, Cells]]] | None:
    """The task with every grid read as its cells, and each test input with its cells (to draw
    the answers back); None where the task has no cell view."""
    examples = []
    for e in task.train:
        a, b = to_array(e.input), to_array(e.output)
        seen, made = divide(a), divide(b) if a.shape == b.shape else None
        if seen is None or made is None or seen[0] != made[0]:
            return None
        examples.append(Example(from_array(seen[1]), from_array(made[1])))
    tests, where = [], []
    for e in task.test:
        a = to_array(e.input)
        seen = divide(a)
        if seen is None:
            return None
        tests.append(Example(from_array(seen[1]), None))
        where.append((a, seen[0]))
    return Task(f"{task.id}:cells", tuple(examples), tuple(tests)), where


# --- cells of patterns: a rule over the cells ---------------------------------------------------

CELL_RULES = ("fill_most", "fill_fewest", "copy_the_one", "template", "connect", "blow_up_fewest") + tuple(
    f"move_marker({k})" for k in range(1, 10))


def separators(grid: np.ndarray) -> tuple[int, list[tuple[int, int]], list[tuple[int, int]]] | None:
    """The separator colour (1-9 tried first, then 0: the first of which some full row or column
    is made) and the row and column stretches between its lines."""
    h, w = grid.shape
    for line in list(range(1, 10)) + [0]:
        rows = [i for i in range(h) if (grid[i] == line).all()]
        cols = [j for j in range(w) if (grid[:, j] == line).all()]
        if (rows or cols) and len(rows) < h and len(cols) < w:
            return line, spans(rows, h), spans(cols, w)
    return None


def _connect_cells(small: np.ndarray) -> np.ndarray:
    """Two equal cells in a row or column with only the grid's most common value between them
    joined."""
    values, n = np.unique(small, return_counts=True)
    default = values[np.argmax(n)]
    out = small.copy()
    for grid_, into in ((small, out), (small.T, out.T)):
        for i, row in enumerate(grid_):
            for j, v in enumerate(row):
                if v == default:
                    continue
                for k in range(j + 1, len(row)):
                    if row[k] == v:
                        into[i, j:k + 1] = v
                        break
                    if row[k] != default:
                        break
    return out


@dataclass(frozen=True)
class _Layout:
    """A grid's cells between separator lines: the lines' colour, the row and column stretches,
    each cell's box (top, bottom, left, right) and contents, row by row."""

    line: int
    rows: list
    cols: list
    boxes: list
    content: list


def _fill_counted(grid: np.ndarray, at: _Layout, most: bool) -> np.ndarray | None:
    counts = [int((x != 0).sum()) for x in at.content]
    marked = [n for n in counts if n]
    if not marked:
        return None
    chosen = max(marked) if most else min(marked)
    out = grid.copy()
    for (a, b, c, d), x, n in zip(at.boxes, at.content, counts):
        colours = np.unique(x[x != 0])
        if n == chosen and colours.size != 1:
            return None
        out[a:b, c:d] = colours[0] if n == chosen else 0
    return out


def _copy_the_one(grid: np.ndarray, at: _Layout) -> np.ndarray | None:
    full = [x for x in at.content if x.any()]
    if len(full) != 1:
        return None
    out = grid.copy()
    for a, b, c, d in at.boxes:
        out[a:b, c:d] = full[0]
    return out


def _template(grid: np.ndarray, at: _Layout) -> np.ndarray | None:
    first = at.content[0]
    if not first.any():
        return None
    out = grid.copy()
    for a, b, c, d in at.boxes[1:]:
        block = out[a:b, c:d]
        block[(first != 0) & (block == 0)] = at.line
    return out


def _connect(grid: np.ndarray, at: _Layout) -> np.ndarray:
    out = grid.copy()
    h, w = at.content[0].shape
    for p in range(h):
        for q in range(w):
            joined = _connect_cells(np.array([[grid[a + p, c + q] for c, _ in at.cols] for a, _ in at.rows]))
            for i, (a, _) in enumerate(at.rows):
                for j, (c, _) in enumerate(at.cols):
                    out[a + p, c + q] = joined[i, j]
    return out


def _blow_up_fewest(grid: np.ndarray, at: _Layout) -> np.ndarray | None:
    counts = [int((x != 0).sum()) for x in at.content]
    marked = [n for n in counts if n]
    if not marked or marked.count(min(marked)) != 1:
        return None
    return draw(grid, Cells(tuple(at.rows), tuple(at.cols)), at.content[counts.index(min(marked))])


def _move_marker(grid: np.ndarray, at: _Layout, k: int) -> np.ndarray | None:
    holding = [x for x in at.content if (x == k).any()]
    if k == at.line or len(holding) != 1 or holding[0].shape != (len(at.rows), len(at.cols)):
        return None
    if (holding[0] == k).sum() != 1:
        return None
    i, j = np.argwhere(holding[0] == k)[0]
    out = grid.copy()
    for a, b, c, d in at.boxes:
        out[a:b, c:d] = 0
    out[at.rows[i][0]:at.rows[i][1], at.cols[j][0]:at.cols[j][1]] = holding[0]
    return out


def cell_rule(grid: np.ndarray, rule: str) -> np.ndarray | None:
    """One rule over the cells between separator lines (0: empty):
    fill_most / fill_fewest: the cells of most (fewest) coloured cells filled with their one
    colour, the others emptied; copy_the_one: the one cell with content copied into every cell;
    template: in every cell, where the first cell has content and the cell is empty, the lines'
    colour; connect: per position inside the cells, equal values joined across cells (see
    `_connect_cells`); blow_up_fewest: the cell of fewest coloured cells (its shape the cells'
    layout) drawn one pixel a cell; move_marker(k): the one cell holding colour k moved to the
    cell that k's position in it names, all else emptied. None where the rule does not apply."""
    found = separators(grid)
    if found is None:
        return None
    line, rows, cols = found
    boxes = [(a, b, c, d) for a, b in rows for c, d in cols]
    if len(boxes) < 2:
        return None
    at = _Layout(line, rows, cols, boxes, [grid[a:b, c:d] for a, b, c, d in boxes])
    same_size = len({x.shape for x in at.content}) == 1
    if rule in ("fill_most", "fill_fewest"):
        return _fill_counted(grid, at, rule == "fill_most")
    if rule == "blow_up_fewest":
        return _blow_up_fewest(grid, at)
    if not same_size:
        return None
    if rule.startswith("move_marker"):
        return _move_marker(grid, at, int(rule[len("move_marker("):-1]))
    return {"copy_the_one": _copy_the_one, "template": _template, "connect": _connect}[rule](grid, at)


def fit_cell_rule(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Every rule of CELL_RULES that reproduces every demonstration; where several do, they must
    agree on a test input."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    fits = [r for r in CELL_RULES
            if all(np.array_equal(cell_rule(a, r), b) for a, b in zip(made, wanted))]
    if not fits:
        return None
    steps = tuple(partial(cell_rule, rule=r) for r in fits)
    return Primitive(f"cell_rule({', '.join(fits)})", partial(agreeing, steps=steps))
