"""The cell view: a grid divided by separator lines into cells of one colour each read as a grid
of pixels, one a cell; the search then solves the smaller task and draws its answers back.

A task has this view where every grid (demonstrations and test inputs) is divided by full rows
and columns of one non-zero colour into at least two cells, every cell is of one colour, and
each demonstration output keeps its input's lines. Designed on ARC-AGI-1 training tasks only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from arcttt.core.grids import from_array, to_array
from arcttt.core.tasks import Example, Task


@dataclass(frozen=True)
class Cells:
    """Where a grid's cells are: the stretches of rows and of columns between its lines."""

    rows: tuple[tuple[int, int], ...]
    cols: tuple[tuple[int, int], ...]


def _spans(lines: list[int], n: int) -> tuple[tuple[int, int], ...]:
    out, start = [], 0
    for line in lines + [n]:
        if line > start:
            out.append((start, line))
        start = line + 1
    return tuple(out)


def divide(grid: np.ndarray) -> tuple[Cells, np.ndarray] | None:
    """The grid's cells and their colours as a small grid; None where it has no separator lines
    of one non-zero colour, fewer than two cells, or a cell of several colours."""
    h, w = grid.shape
    rows = [i for i in range(h) if grid[i, 0] and (grid[i] == grid[i, 0]).all()]
    cols = [j for j in range(w) if grid[0, j] and (grid[:, j] == grid[0, j]).all()]
    if len({int(grid[i, 0]) for i in rows} | {int(grid[0, j]) for j in cols}) != 1:
        return None
    cells = Cells(_spans(rows, h), _spans(cols, w))
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
