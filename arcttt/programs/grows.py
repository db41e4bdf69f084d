"""Outputs grown from the input: a Kronecker product of its two halves; copies of it on a canvas,
their number and the canvas read off counts; every coloured cell painting the background around
it (after a tiling or scaling); diagonal rays out of objects' corners; the input scaled by a count.
Designed on ARC-AGI-1 training tasks only; where several settings fit, the rule answers only
where they agree.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from arcttt.programs.dsl import CHANGES, SAME, Primitive, most_frequent, objects, one_answer, painted_colour, reproduces
from arcttt.programs.shifts import fit_bridge


# --- a Kronecker product of the input's two halves -----------------------------------------------


def _halves(grid: np.ndarray, axis: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The grid's two halves across `axis` ("long": its longer side); None where it does not split evenly."""
    h, w = grid.shape
    if axis == "long":
        if h == w:
            return None
        axis = "rows" if h > w else "cols"
    if axis == "rows":
        return (grid[:h // 2], grid[h // 2:]) if h % 2 == 0 else None
    return (grid[:, :w // 2], grid[:, w // 2:]) if w % 2 == 0 else None


def _n_colours(g: np.ndarray, bg: int) -> int:
    """Colours other than the background."""
    return len(set(np.unique(g).tolist()) - {bg})


def kron_halves(grid: np.ndarray, axis: str, role: str, how: str) -> np.ndarray | None:
    """The input cut into two halves (top/bottom or left/right), one a pattern, the other a mask
    (role "first"/"second": its place; "single": the half of one colour). how "colour": each
    pattern cell becomes the mask drawn in that cell's colour; "place": each mask cell becomes
    the pattern."""
    parts = _halves(grid, axis)  # the two halves across the longer side
    if parts is None:
        return None
    bg = 0
    if role == "single":
        single = [_n_colours(p, bg) == 1 for p in parts]
        if sum(single) != 1 or _n_colours(parts[single.index(False)], bg) < 1:
            return None
        mask, pattern = (parts[0], parts[1]) if single[0] else (parts[1], parts[0])
    else:
        mask, pattern = (parts[0], parts[1]) if role == "first" else (parts[1], parts[0])
    m = (mask != bg).astype(grid.dtype)
    if how == "colour":
        out = np.kron(pattern, m)
    else:
        out = np.kron(m, pattern)
    return out if out.shape[0] <= 30 and out.shape[1] <= 30 else None


def fit_kron_halves(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Outputs that are a Kronecker product of the input's two halves: the mask half drawn once per
    pattern cell in its colour, or the pattern drawn once per mask cell."""
    if any(b.shape[0] * b.shape[1] <= a.shape[0] * a.shape[1] for a, b in zip(made, wanted)):
        return None
    steps = []
    for axis, role, how in itertools.product(("long",), ("single", "first", "second"), ("colour", "place")):
        step = Primitive(f"kron_halves({axis}, mask {role}, {how})",
                         partial(kron_halves, axis=axis, role=role, how=how), CHANGES)
        if reproduces(step, made, wanted):
            steps.append(step)
    return one_answer("kron_halves", steps, CHANGES)


# --- copies of the input, their number and the canvas read off counts ----------------------------


COUNTS = ("cells", "bg_cells", "colours", "objects", "one", "two", "three")


def _count(grid: np.ndarray, what: str) -> int:
    """The count named: non-zero cells, zero cells, colours, objects, or a constant."""
    if what == "cells":
        return int((grid != 0).sum())
    if what == "bg_cells":
        return int((grid == 0).sum())
    if what == "colours":
        return _n_colours(grid, 0)
    if what == "objects":
        return len(objects(grid, False, True, 0))
    return {"one": 1, "two": 2, "three": 3}[what]


def counted_copies(grid: np.ndarray, side: str, copies: str) -> np.ndarray | None:
    """A canvas of k x k blocks the input's size (k: the `side` count), the first n blocks (n: the
    `copies` count, "all": every block) in reading order holding the input, the rest background."""
    k = _count(grid, side)
    h, w = grid.shape
    if k < 1 or k * h > 30 or k * w > 30:
        return None
    n = k * k if copies == "all" else _count(grid, copies)
    if n > k * k or n < 1:
        return None
    out = np.zeros((k * h, k * w), dtype=grid.dtype)
    for i in range(n):
        r, c = divmod(i, k)
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = grid
    return out


def fit_counted_copies(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Copies of the input laid in reading order on a square canvas of blocks, the canvas's side
    and the number of copies each a count of the input (cells, background cells, colours, objects),
    read off demonstrations where the count varies."""
    ks = []
    for a, b in zip(made, wanted):
        (h, w), (H, W) = a.shape, b.shape
        if H % h or W % w or H // h != W // w or H == h:
            return None
        ks.append(H // h)
    steps = []
    for side in COUNTS:
        if [_count(a, side) for a in made] != ks:
            continue
        for copies in ("all",) + COUNTS[:4]:
            if copies != "all" and len({_count(a, copies) for a in made}) == 1:
                continue
            step = Primitive(f"counted_copies(side={side}, copies={copies})",
                             partial(counted_copies, side=side, copies=copies), CHANGES)
            if reproduces(step, made, wanted):
                steps.append(step)
    if len(set(ks)) == 1:  # a fixed side: not read off a count
        return None
    return one_answer("counted_copies", steps, CHANGES)


# --- every coloured cell paints the background around it, after an optional tiling ---------------


_ORTH = ((-1, 0), (1, 0), (0, -1), (0, 1))


_DIAG = ((-1, -1), (-1, 1), (1, -1), (1, 1))


REACH = {"orth": (_ORTH, False), "diag": (_DIAG, False), "ring": (_ORTH + _DIAG, False),
         "rays_ud": (_ORTH[:2], True), "rays_lr": (_ORTH[2:], True), "rays_4": (_ORTH, True),
         "rays_diag": (_DIAG, True), "rays_8": (_ORTH + _DIAG, True)}


def paint_around(grid: np.ndarray, reach: str, paint: int) -> np.ndarray | None:
    """Every cell not of the background (its most frequent colour), whatever its colour, paints the
    background cells next to it (`reach` orth/diag/ring) or along its rays to the edge with `paint`."""
    bg = most_frequent(grid)
    src = grid != bg
    if not src.any() or paint == bg:
        return None
    h, w = grid.shape
    offsets, rays = REACH[reach]
    hit = np.zeros((h, w), dtype=bool)
    for dr, dc in offsets:
        for k in range(1, max(h, w) if rays else 2):
            r0, r1 = max(0, -dr * k), min(h, h - dr * k)
            c0, c1 = max(0, -dc * k), min(w, w - dc * k)
            if r0 >= r1 or c0 >= c1:
                break
            hit[r0 + dr * k:r1 + dr * k, c0 + dc * k:c1 + dc * k] |= src[r0:r1, c0:c1]
    out = grid.copy()
    out[hit & ~src] = paint
    return out


def resized(g: np.ndarray, how: str, k: int, m: int) -> np.ndarray:
    """The grid tiled or scaled up k x m times ("none": as it is)."""
    if how == "none":
        return g
    return np.tile(g, (k, m)) if how == "tile" else np.kron(g, np.ones((k, m), dtype=g.dtype))


def resized_paint(grid: np.ndarray, how: str, k: int, m: int, reach: str, paint: int) -> np.ndarray | None:
    """The grid resized, then `paint_around`; None beyond 30 cells a side."""
    big = resized(grid, how, k, m)
    if big.shape[0] > 30 or big.shape[1] > 30:
        return None
    return paint_around(big, reach, paint)


def fit_paint_around(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The input tiled or scaled up by the one factor every demonstration shows (or kept), then every
    coloured cell, whatever its colour, paints one fixed colour on the background around it or
    along its rays; only background cells change."""
    factors = set()
    for a, b in zip(made, wanted):
        (h, w), (H, W) = a.shape, b.shape
        if H % h or W % w:
            return None
        factors.add((H // h, W // w))
    if len(factors) != 1:
        return None
    k, m = factors.pop()
    hows = ("none",) if (k, m) == (1, 1) else ("tile", "scale")
    steps = []
    for how in hows:
        big = [resized(a, how, k, m) for a in made]
        new = set()
        for a, b in zip(big, wanted):
            bg = most_frequent(a)
            if ((a != bg) & (a != b)).any():
                break
            new |= set(np.unique(b[a != b]).tolist())
        else:
            if len(new) != 1:
                continue
            paint = new.pop()
            for reach in REACH:
                step = Primitive(f"{how}({k}x{m}) | paint_around({reach}, {paint})",
                                 partial(resized_paint, how=how, k=k, m=m, reach=reach, paint=paint),
                                 SAME if how == "none" else CHANGES)
                if reproduces(step, made, wanted):
                    steps.append(step)
    return one_answer("paint_around", steps, SAME if hows == ("none",) else CHANGES)


# --- diagonal rays out of the corners of objects; a scale factor read off a count ----------------


def corner_rays(grid: np.ndarray, paint: int) -> np.ndarray | None:
    """From each free corner of every object (one colour, 4-connected): a corner of its box that
    is its own cell, with background on both outer sides, a diagonal ray outward over the
    background in `paint`, up to the first other cell or the edge. None where no ray is drawn."""
    bg = most_frequent(grid)
    h, w = grid.shape

    def free(r, c):
        return 0 <= r < h and 0 <= c < w and grid[r, c] == bg

    out = grid.copy()
    drawn = False
    for o in objects(grid, True, False, bg):
        t, l, b, r = o.box
        for (r0, c0), (dr, dc) in (((t, l), (-1, -1)), ((t, r - 1), (-1, 1)),
                                   ((b - 1, l), (1, -1)), ((b - 1, r - 1), (1, 1))):
            if not (o.mask[r0, c0] and free(r0 + dr, c0) and free(r0, c0 + dc)):
                continue
            rr, cc = r0 + dr, c0 + dc
            while free(rr, cc):
                out[rr, cc] = paint
                drawn = True
                rr, cc = rr + dr, cc + dc
    return out if drawn else None


def fit_corner_rays(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Diagonal rays of one new colour out of the corners of the objects that are not edge frames."""
    paint = painted_colour(made, wanted)
    if paint is None:
        return None
    step = Primitive(f"corner_rays({paint})", partial(corner_rays, paint=paint))
    return step if reproduces(step, made, wanted) else None


SCALE_COUNTS = ("colours", "objects", "cells")


def scaled_then(grid: np.ndarray, count: str, rule: Primitive | None) -> np.ndarray | None:
    """The grid scaled up by its count, then the rule (if any); None beyond 30 cells a side."""
    k = _count(grid, count)
    if k < 1 or k * grid.shape[0] > 30 or k * grid.shape[1] > 30:
        return None
    big = np.kron(grid, np.ones((k, k), dtype=grid.dtype))
    return big if rule is None else rule(big)


def fit_scale_by_count(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The input scaled up k times, k a count of the input (its colours, objects or non-zero
    cells) that varies over the demonstrations, then nothing more, or one of this module's
    same-size rules fitted on the scaled grids."""
    ks = []
    for a, b in zip(made, wanted):
        (h, w), (H, W) = a.shape, b.shape
        if H % h or W % w or H // h != W // w or H == h:
            return None
        ks.append(H // h)
    if len(set(ks)) == 1:
        return None
    steps = []
    for count in SCALE_COUNTS:
        if [_count(a, count) for a in made] != ks:
            continue
        big = [np.kron(a, np.ones((k, k), dtype=a.dtype)) for a, k in zip(made, ks)]
        rules = [None] + [r for f in (fit_corner_rays, fit_paint_around, fit_bridge) if (r := f(big, wanted))]
        for rule in rules:
            step = Primitive(f"scale(by {count}){'' if rule is None else ' | ' + rule.name}",
                             partial(scaled_then, count=count, rule=rule), CHANGES)
            if reproduces(step, made, wanted):
                steps.append(step)
                break
    return one_answer("scale_by_count", steps, CHANGES)

