"""Outputs built of blocks the size of the input: each block a rigid map of the input, or the
input (or nothing) where the input's own cell says so.

Rules fitted on the demonstrations: `fit_tile_maps`, a k x m layout whose every block is one of
the 8 rigid maps of the input (or empty), the same map at the same place in every demonstration;
`fit_fractal`, an h x w layout of blocks (h x w the input's size) where block (i, j) is the input
or empty by what cell (i, j) of the input is: its colour (a table), or whether it is the input's
most frequent colour. The core tiles and mirrors with a few fixed layouts and a fractal by
non-zero cells; these read the layout off the demonstrations. And `fit_staircase`: a one-row
input repeated down the rows, shifted a cell further each row. Designed on ARC-AGI-1 training
tasks only.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import RIGID_MAPS, Primitive, most_frequent

# The rigid maps, in the order tried: identity first, then the turns, then the mirrors.
MAPS = (("identity", lambda g: g),) + tuple((name, f) for name, f, _ in RIGID_MAPS)
EMPTY = "empty"


def _layout(made: list[np.ndarray], wanted: list[np.ndarray]) -> tuple[int, int] | None:
    """Blocks down and across, the same in every demonstration, with the input's size a block."""
    found = set()
    for a, b in zip(made, wanted):
        (h, w), (H, W) = a.shape, b.shape
        if H % h or W % w:
            return None
        found.add((H // h, W // w))
    return found.pop() if len(found) == 1 and found != {(1, 1)} else None


def tile_maps(grid: np.ndarray, layout: tuple[tuple[str, ...], ...]) -> np.ndarray | None:
    """Each block of the layout the input under its map (EMPTY: the background); None where a
    map changes the block's shape (a turn of a grid that is not square)."""
    h, w = grid.shape
    maps = dict(MAPS)
    bg = most_frequent(grid)
    rows = []
    for names in layout:
        blocks = [np.full((h, w), bg, dtype=grid.dtype) if n == EMPTY else maps[n](grid) for n in names]
        if any(b.shape != (h, w) for b in blocks):
            return None
        rows.append(np.concatenate(blocks, axis=1))
    return np.concatenate(rows, axis=0)


def fit_tile_maps(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Per block of a fixed layout, the first map (or empty) that every demonstration shows there."""
    shape = _layout(made, wanted)
    if shape is None:
        return None
    layout = []
    for i in range(shape[0]):
        row = []
        for j in range(shape[1]):
            for name, f in MAPS + ((EMPTY, None),):
                if all(_block(a, b, i, j, f) for a, b in zip(made, wanted)):
                    row.append(name)
                    break
            else:
                return None
        layout.append(tuple(row))
    if all(n == "identity" for row in layout for n in row):
        return None  # a plain tiling: the core's
    layout_t = tuple(layout)
    name = " / ".join(", ".join(row) for row in layout_t)
    return Primitive(f"tile_maps({name})", partial(tile_maps, layout=layout_t))


def _block(a: np.ndarray, b: np.ndarray, i: int, j: int, f) -> bool:
    h, w = a.shape
    block = b[i * h:(i + 1) * h, j * w:(j + 1) * w]
    if f is None:
        return bool((block == most_frequent(a)).all())
    mapped = f(a)
    return mapped.shape == block.shape and bool((mapped == block).all())


def fractal(grid: np.ndarray, by: str, table: dict | None) -> np.ndarray | None:
    """Block (i, j) the input where cell (i, j) says so, else the background: by its colour
    (`table`: colour -> copy or not), or by being the most frequent colour ("majority")."""
    h, w = grid.shape
    if h * h > 30 or w * w > 30:
        return None
    bg = 0
    out = np.full((h * h, w * w), bg, dtype=grid.dtype)
    majority = most_frequent(grid)
    for i in range(h):
        for j in range(w):
            v = int(grid[i, j])
            if by == "majority":
                copy = v == majority
            elif v in table:
                copy = table[v]
            else:
                return None
            if copy:
                out[i * h:(i + 1) * h, j * w:(j + 1) * w] = grid
    return out


def fit_fractal(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Blocks by the majority colour, else by a table of colours, that reproduce every
    demonstration (blocks are the input or empty, nothing else)."""
    if any(b.shape != (a.shape[0] ** 2, a.shape[1] ** 2) for a, b in zip(made, wanted)):
        return None
    step = partial(fractal, by="majority", table=None)
    if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
        return Primitive("fractal(by the majority colour)", step)
    table: dict[int, bool] = {}
    for a, b in zip(made, wanted):
        h, w = a.shape
        for i in range(h):
            for j in range(w):
                block = b[i * h:(i + 1) * h, j * w:(j + 1) * w]
                copy = bool(np.array_equal(block, a))
                if not copy and block.any():
                    return None
                if table.setdefault(int(a[i, j]), copy) != copy:
                    return None
    if len(set(table.values())) < 2:
        return None
    step = partial(fractal, by="colour", table=table)
    if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
        shown = sorted(c for c, copy in table.items() if copy)
        return Primitive(f"fractal(where the cell is {shown})", step)
    return None


# --- a row shifted down a staircase -------------------------------------------------------------

HEIGHTS = {"width": lambda w, n: w, "half width": lambda w, n: w // 2, "width x cells": lambda w, n: w * n,
           "half width x cells": lambda w, n: w * n // 2}


def staircase(grid: np.ndarray, height: str, square: bool, step: int, up: bool, keep: bool) -> np.ndarray | None:
    """A one-row input repeated on every row, shifted one more cell a row (`step` +1: right, -1:
    left), from the top (or the bottom, `up`); `keep`: each row over the one before. The height
    from the width and the count of coloured cells; the width the input's, or the height."""
    if grid.shape[0] != 1:
        return None
    w0 = grid.shape[1]
    h = HEIGHTS[height](w0, int((grid != 0).sum()))
    w = h if square else w0
    if not 1 <= h <= 30 or not w0 <= w <= 30:
        return None
    row = np.zeros(w, dtype=grid.dtype)
    row[:w0] = grid[0]
    out = np.zeros((h, w), dtype=grid.dtype)
    before = np.zeros(w, dtype=grid.dtype)
    for k in range(h):
        shifted = np.zeros(w, dtype=grid.dtype)
        if k < w:
            if step > 0:
                shifted[k:] = row[:w - k]
            else:
                shifted[:w - k] = row[k:]
        if keep:
            shifted = np.where(shifted != 0, shifted, before)
        before = shifted
        out[h - 1 - k if up else k] = shifted
    return out


def fit_staircase(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The first height, width, direction, start and keeping that grows every one-row input into
    its output."""
    if any(a.shape[0] != 1 for a in made) or all(a.shape == b.shape for a, b in zip(made, wanted)):
        return None
    for height in HEIGHTS:
        for square in (False, True):
            for step in (1, -1):
                for up in (False, True):
                    for keep in (False, True):
                        rule = partial(staircase, height=height, square=square, step=step, up=up, keep=keep)
                        if all(np.array_equal(rule(a), b) for a, b in zip(made, wanted)):
                            how = f"{'right' if step > 0 else 'left'}, {'upwards' if up else 'downwards'}"
                            return Primitive(f"staircase({height} high, {how}{', kept' if keep else ''})", rule)
    return None
