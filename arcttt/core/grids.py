"""Grids: immutable, hashable, totally ordered values, validated on the way in.

A grid is a tuple of equal-length tuples of ints in 0..9, 1 to 30 cells a side. Tuples compare
and hash exactly, so voting, dedupe and sorting need no canonicalisation step.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from arcttt.core.errors import ArcError

Grid = tuple[tuple[int, ...], ...]


def grid_digest(grid: Grid) -> str:
    """A short, stable content hash of a grid: its name in logs and in stage-1 manifests."""
    return hashlib.sha256(repr(grid).encode()).hexdigest()[:16]


MAX_SIDE = 30
N_COLOURS = 10


def parse_grid(obj: Any, *, source: str | None = None, task: str | None = None,
               field: str | None = None) -> Grid:
    """Validate a JSON value as an ARC grid; the error names source, task and field."""

    def fail(reason: str) -> ArcError:
        return ArcError(reason, source=source, task=task, field=field)

    if not isinstance(obj, list) or not obj:
        raise fail("a grid must be a non-empty list of rows")
    if len(obj) > MAX_SIDE:
        raise fail(f"grid has {len(obj)} rows; a side must be 1 to {MAX_SIDE}")
    rows = []
    for r, row in enumerate(obj):
        if not isinstance(row, list) or not row:
            raise fail(f"row {r} must be a non-empty list of cells")
        if len(row) != len(obj[0]):
            raise fail(f"ragged rows: row {r} has {len(row)} cells, row 0 has {len(obj[0])}")
        for c, cell in enumerate(row):
            # bool is an int subclass in Python; true/false in a grid is a mistake, not a colour.
            if not isinstance(cell, int) or isinstance(cell, bool):
                raise fail(f"cell [{r}][{c}] is {cell!r}, not an integer")
            if not 0 <= cell < N_COLOURS:
                raise fail(f"cell [{r}][{c}] is {cell}; colours are 0 to 9")
        rows.append(tuple(row))
    if len(rows[0]) > MAX_SIDE:
        raise fail(f"grid has {len(rows[0])} columns; a side must be 1 to {MAX_SIDE}")
    return tuple(rows)


def to_array(grid: Grid) -> np.ndarray:
    """The grid as a small int array, for transforms."""
    return np.array(grid, dtype=np.int8)


def from_array(array: np.ndarray) -> Grid:
    """An int array back to an immutable grid."""
    return tuple(tuple(int(v) for v in row) for row in array)


def shape(grid: Grid) -> tuple[int, int]:
    """(rows, columns)."""
    return len(grid), len(grid[0])


def to_json(grid: Grid) -> list[list[int]]:
    """The grid as JSON lists."""
    return [list(row) for row in grid]
