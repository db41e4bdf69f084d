"""Patterns drawn by a fitted table or shape: a pattern stamped at the midpoint of each pair of
same-colour cells; square rings around the middle of three evenly spaced cells; each hole of a
band drawn across it; a pattern around a single seed read off the demonstrations; colours by
position modulo a period; a spiral on an empty grid; a staircase grown from a bar. Designed on
ARC-AGI-1 training tasks only.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from arcttt.programs.dsl import (Primitive, changes, most_frequent, objects, only_background_changes, reproduces,
                                 same_shapes)


# --- a pattern stamped at the midpoint of two cells -----------------------------------------------


def midpoint_stamp(grid: np.ndarray, pattern: tuple) -> np.ndarray | None:
    """For each colour with exactly two cells (and nothing else off the background), the pattern
    ((dy, dx, colour), ...) stamped on the background around their midpoint. None where no
    colour has two cells, or a midpoint falls between cells."""
    bg = most_frequent(grid)
    h, w = grid.shape
    out, done = grid.copy(), False
    for c in set(np.unique(grid).tolist()) - {bg}:
        pts = np.argwhere(grid == c)
        if len(pts) != 2:
            return None
        s = pts.sum(axis=0)
        if (s % 2).any():
            return None
        y, x = s // 2
        for dy, dx, v in pattern:
            if 0 <= y + dy < h and 0 <= x + dx < w and grid[y + dy, x + dx] == bg:
                out[y + dy, x + dx] = v
        done = True
    return out if done else None


def fit_midpoint_stamp(made, wanted):
    """A fitted pattern stamped at the midpoint of each pair of same-colour cells."""
    if not same_shapes(made, wanted) or not only_background_changes(made, wanted):
        return None
    pattern = None
    for a, b in zip(made, wanted):
        bg = most_frequent(a)
        cs = set(np.unique(a).tolist()) - {bg}
        if len(cs) != 1:
            return None
        pts = np.argwhere(a == cs.pop())
        if len(pts) != 2 or (pts.sum(axis=0) % 2).any():
            return None
        y, x = pts.sum(axis=0) // 2
        got = {(int(p[0] - y), int(p[1] - x), int(b[p[0], p[1]])) for p in np.argwhere(a != b)}
        # the pattern must lie wholly inside the grid to be read off
        if pattern is None:
            pattern = got
        elif got != pattern:
            return None
    if not pattern:
        return None
    step = Primitive(f"midpoint_stamp({len(pattern)} cells)", partial(midpoint_stamp, pattern=tuple(sorted(pattern))))
    return step if reproduces(step, made, wanted) else None


# --- concentric squares ---------------------------------------------------------------------------


def concentric_squares(grid: np.ndarray) -> np.ndarray | None:
    """Three cells of one colour evenly spaced on a diagonal: square rings around the middle one at
    every multiple of their spacing, to the edge, in their colour. None where not so."""
    bg = most_frequent(grid)
    pts = np.argwhere(grid != bg)
    if len(pts) != 3 or len(set(grid[grid != bg].tolist())) != 1:
        return None
    pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
    d1, d2 = pts[1] - pts[0], pts[2] - pts[1]
    if (d1 != d2).any() or abs(d1[0]) != abs(d1[1]) or d1[0] == 0:
        return None
    step = abs(int(d1[0]))
    y, x = pts[1]
    h, w = grid.shape
    rows, cols = np.mgrid[0:h, 0:w]
    cheb = np.maximum(abs(rows - y), abs(cols - x))
    out = grid.copy()
    out[(cheb % step == 0)] = grid[y, x]
    return out


def fit_concentric_squares(made, wanted):
    """Square rings around the middle one of three evenly spaced cells on a diagonal, at every multiple of
    their spacing."""
    if not same_shapes(made, wanted):
        return None
    step = Primitive("concentric_squares", concentric_squares)
    return step if reproduces(step, made, wanted) else None


# --- holes in bands become lines across them ------------------------------------------------------


def band_holes(grid: np.ndarray, hole: int) -> np.ndarray | None:
    """Each cell of `hole` inside a region (the 4-connected component of one colour around it,
    filling its box) becomes a line of `hole` across the region's shorter side. None where a
    region is not a filled rectangle, is square, or there is no hole."""
    h, w = grid.shape
    out, done = grid.copy(), False
    filled = grid.copy()
    holes = np.argwhere(grid == hole)
    if len(holes) == 0:
        return None
    # a hole belongs to the region of the colour around it
    for y, x in holes.tolist():
        around = {int(grid[y + dy, x + dx]) for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1))
                  if 0 <= y + dy < h and 0 <= x + dx < w and grid[y + dy, x + dx] != hole}
        if len(around) != 1:
            return None
        filled[y, x] = around.pop()
    regions = objects(filled, True, False, bg=-1)
    for o in regions:
        t, l, b, r = o.box
        if o.size != (b - t) * (r - l):
            return None
    for y, x in holes.tolist():
        o = next(o for o in regions if o.mask[y, x])
        t, l, b, r = o.box
        if b - t == r - l:
            return None
        if b - t < r - l:
            out[t:b, x] = hole
        else:
            out[y, l:r] = hole
        done = True
    return out if done else None


def fit_band_holes(made, wanted):
    """Each hole of a rectangular band drawn as a line of the hole's colour across the band's short side."""
    if not same_shapes(made, wanted):
        return None
    pairs = changes(made, wanted)
    if not pairs or len({y for _, y in pairs}) != 1:
        return None
    hole = next(iter(pairs))[1]
    step = Primitive(f"band_holes({hole})", partial(band_holes, hole=hole))
    return step if reproduces(step, made, wanted) else None


# --- a pattern drawn around one seed cell, read off the demonstrations cell by cell ------------------


SEED = 10  # a pattern cell that takes the seed's colour


def seed_pattern(grid: np.ndarray, table: dict) -> np.ndarray | None:
    """The grid's one cell off the background: every cell of the grid painted as the table says
    for its offset from that cell (SEED: the seed's colour); None where there is not one such
    cell, or an offset the table does not know."""
    bg = most_frequent(grid)
    pts = np.argwhere(grid != bg)
    if len(pts) != 1:
        return None
    y, x = pts[0]
    seed = int(grid[y, x])
    h, w = grid.shape
    out = grid.copy()
    for i in range(h):
        for j in range(w):
            v = table.get((i - y, j - x))
            if v is None:
                return None
            out[i, j] = seed if v == SEED else (bg if v == -1 else v)
    return out


def fit_seed_pattern(made, wanted):
    """Each demonstration one cell on its background; per offset from it, one colour (the seed's,
    the background, or a fixed one) on every demonstration that reaches that offset."""
    if not same_shapes(made, wanted) or len(made) < 2:
        return None
    table: dict = {}
    for a, b in zip(made, wanted):
        bg = most_frequent(a)
        pts = np.argwhere(a != bg)
        if len(pts) != 1 or (a == b).all():
            return None
        y, x = pts[0]
        seed = int(a[y, x])
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                v = int(b[i, j])
                code = SEED if v == seed else (-1 if v == bg else v)
                if table.setdefault((i - y, j - x), code) != code:
                    return None
    step = Primitive(f"seed_pattern({len(table)} offsets)", partial(seed_pattern, table=table))
    return step if reproduces(step, made, wanted) else None


# --- cells recoloured by their colour and their place modulo a period ---------------------------------


def _mod_table(made, wanted, p: int, q: int) -> dict | None:
    """The colour each (row mod p, column mod q, colour) takes in every demonstration; None where one takes
    two."""
    table: dict = {}
    for a, b in zip(made, wanted):
        rows, cols = np.mgrid[0:a.shape[0], 0:a.shape[1]]
        keys = ((rows % p) * 64 + (cols % q)) * 16 + a
        for k, v in zip(keys.ravel().tolist(), b.ravel().tolist()):
            if table.setdefault(k, v) != v:
                return None
    return table


def position_mod(grid: np.ndarray, table: dict, p: int, q: int) -> np.ndarray | None:
    """Each cell's new colour looked up by (row mod p, column mod q, its colour); None on a key
    never seen."""
    rows, cols = np.mgrid[0:grid.shape[0], 0:grid.shape[1]]
    keys = ((rows % p) * 64 + (cols % q)) * 16 + grid
    out = np.empty_like(grid)
    for k in np.unique(keys).tolist():
        if k not in table:
            return None
        out[keys == k] = table[k]
    return out


def fit_position_mod(made, wanted):
    """The smallest periods (p rows, q columns; not both 1) whose table fits every demonstration
    and, fitted on all but one, predicts the one left out (each in turn); periods at most the
    demonstrations' largest sides."""
    if not same_shapes(made, wanted) or len(made) < 2 or all((a == b).all() for a, b in zip(made, wanted)):
        return None
    hmax = max(a.shape[0] for a in made)
    wmax = max(a.shape[1] for a in made)
    for p, q in sorted(itertools.product(range(1, 13), range(1, 13)), key=lambda t: (t[0] * t[1], t)):
        if p * q == 1 or p > hmax or q > wmax:
            continue
        table = _mod_table(made, wanted, p, q)
        if table is None:
            continue
        ok = True
        for i in range(len(made)):
            rest = _mod_table(made[:i] + made[i + 1:], wanted[:i] + wanted[i + 1:], p, q)
            if rest is None or not np.array_equal(position_mod(made[i], rest, p, q), wanted[i]):
                ok = False
                break
        if ok:
            return Primitive(f"position_mod({p}x{q})", partial(position_mod, table=table, p=p, q=q))
    return None


# --- a square spiral on an empty grid ----------------------------------------------------------------


def spiral(grid: np.ndarray, colour: int) -> np.ndarray | None:
    """From the top-left corner rightwards, a line of `colour` turning clockwise one cell short of
    the edge or of its own earlier turns, leaving a one-cell gap, until it cannot go on. None where
    the grid is not one colour."""
    if (grid != grid[0, 0]).any():
        return None
    h, w = grid.shape
    out = grid.copy()
    painted = np.zeros((h, w), dtype=bool)
    y, x, d = 0, 0, 0
    steps = ((0, 1), (1, 0), (0, -1), (-1, 0))
    painted[0, 0] = True

    def can(y, x, d):
        dy, dx = steps[d]
        ny, nx = y + dy, x + dx
        if not (0 <= ny < h and 0 <= nx < w) or painted[ny, nx]:
            return False
        fy, fx = ny + dy, nx + dx
        return not (0 <= fy < h and 0 <= fx < w and painted[fy, fx])

    turned = False
    for _ in range(h * w):
        if can(y, x, d):
            y, x = y + steps[d][0], x + steps[d][1]
            painted[y, x] = True
            turned = False
        elif not turned:
            d, turned = (d + 1) % 4, True
        else:
            break
    out[painted] = colour
    return out


def fit_spiral(made, wanted):
    """A clockwise square spiral with one-cell gaps drawn from the top-left corner of an empty grid."""
    if not same_shapes(made, wanted):
        return None
    new = {int(v) for a, b in zip(made, wanted) for v in np.unique(b[a != b]).tolist()}
    if len(new) != 1:
        return None
    step = Primitive(f"spiral({min(new)})", partial(spiral, colour=new.pop()))
    return step if reproduces(step, made, wanted) else None


# --- a staircase grown from a bar ------------------------------------------------------------------


def _bar(grid: np.ndarray):
    """(row, length, colour) of the grid's one non-background run, lying along a row from the left
    edge; None where not so."""
    bg = most_frequent(grid)
    pts = np.argwhere(grid != bg)
    if len(pts) == 0 or len(set(pts[:, 0].tolist())) != 1:
        return None
    y = int(pts[0, 0])
    n = len(pts)
    if sorted(pts[:, 1].tolist()) != list(range(n)) or len(set(grid[grid != bg].tolist())) != 1:
        return None
    return y, n, int(grid[y, 0]), bg


def bar_staircase(grid: np.ndarray, up: tuple[int, int], down: tuple[int, int], turn: int) -> np.ndarray | None:
    """The grid turned `turn` quarter turns so that its one bar runs along a row from the left
    edge; then k rows above the bar a run from the left edge of the bar's length plus k times
    up[0], in colour up[1] (below: down), while the length is positive; turned back."""
    g = np.rot90(grid, turn)
    found = _bar(g)
    if found is None:
        return None
    y, n, _, bg = found
    out = g.copy()
    h, w = g.shape
    for (slope, colour), sign in ((up, -1), (down, 1)):
        k = 1
        while 0 <= y + sign * k < h:
            length = min(w, n + k * slope)
            if length <= 0:
                break
            out[y + sign * k, :length] = colour
            k += 1
    return np.ascontiguousarray(np.rot90(out, -turn))


def fit_bar_staircase(made, wanted):
    """Runs grown from one bar: growing by a fitted step on one side, changing by another on the other side
    (the quarter turn fitted)."""
    if not same_shapes(made, wanted) or not only_background_changes(made, wanted):
        return None
    for turn in range(4):
        found = _bar(np.rot90(made[0], turn))
        if found is None:
            continue
        y, n, _, _ = found
        b = np.rot90(wanted[0], turn)
        params = []
        for sign in (-1, 1):
            yy = y + sign
            if not 0 <= yy < b.shape[0]:
                return None
            row = b[yy]
            colour = int(row[0])
            length = int(np.argmin(row == colour)) if (row != colour).any() else len(row)
            params.append((length - n, colour))
        if any(s == 0 for s, _ in params):
            return None
        step = Primitive(f"bar_staircase(up {params[0]}, down {params[1]}, turn {turn})",
                         partial(bar_staircase, up=params[0], down=params[1], turn=turn))
        if reproduces(step, made, wanted):
            return step
    return None
