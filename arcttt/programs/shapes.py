"""Shapes told apart and redrawn: clusters of one colour boxed; the half of each bar toward a
fitted end repainted; the largest empty rectangles painted in turn; dashed lines of a box
completed above a fitted share; thin objects recoloured by their kind (a line, an L, a U, a
branch); a block's connector retracted, the block moved along it. Designed on ARC-AGI-1 training
tasks only; where several settings fit, the rule answers only where they agree.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import (Primitive, background_colours, changes, objects, on_a_background, one_answer,
                                 reproduces, same_shapes)
from arcttt.programs.paint import largest_rectangles


# --- clusters of one colour boxed --------------------------------------------------------------


def _clusters(mask: np.ndarray, gap: int) -> list[np.ndarray]:
    """Groups of true cells, two joined where they are at most `gap` apart (Chebyshev)."""
    cells = [tuple(p) for p in np.argwhere(mask).tolist()]
    seen, groups = set(), []
    for start in cells:
        if start in seen:
            continue
        seen.add(start)
        stack, members = [start], []
        while stack:
            r, c = stack.pop()
            members.append((r, c))
            for dr in range(-gap, gap + 1):
                for dc in range(-gap, gap + 1):
                    p = (r + dr, c + dc)
                    if p not in seen and 0 <= p[0] < mask.shape[0] and 0 <= p[1] < mask.shape[1] and mask[p]:
                        seen.add(p)
                        stack.append(p)
        groups.append(np.array(members))
    return groups


def cluster_boxes(grid: np.ndarray, colour: int, paint: int, gap: int) -> np.ndarray | None:
    """Each cluster of `colour` cells (gaps up to `gap`) of two or more cells: the other cells of
    its bounding box painted `paint`."""
    out = grid.copy()
    mask = grid == colour
    if not mask.any():
        return None
    for members in _clusters(mask, gap):
        if len(members) < 2:
            continue
        t, l = members.min(axis=0)
        b, r = members.max(axis=0) + 1
        box = out[t:b, l:r]
        box[~mask[t:b, l:r]] = paint
    return out


def fit_cluster_boxes(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """One new colour painted over the boxes of clusters of one colour (cells at most 1 to 3
    apart join); the gaps that reproduce the demonstrations answer where they agree (36fdfd69)."""
    pairs = changes(made, wanted)
    if pairs is None or len({y for _, y in pairs}) != 1:
        return None
    paint = next(iter(pairs))[1]
    if any((a == paint).any() for a in made):
        return None
    candidates = set.intersection(*(set(np.unique(a).tolist()) for a in made)) - {x for x, _ in pairs}
    steps = []
    for colour in sorted(candidates):
        for gap in (1, 2, 3):
            step = Primitive(f"cluster_boxes({colour} gap {gap} -> {paint})",
                             partial(cluster_boxes, colour=colour, paint=paint, gap=gap))
            if reproduces(step, made, wanted):
                steps.append(step)
    return one_answer("cluster_boxes", steps)


# --- the far part of each bar recoloured -------------------------------------------------------


_DIRS = {"down": (1, 0), "up": (-1, 0), "right": (0, 1), "left": (0, -1)}


def bar_halves(grid: np.ndarray, colour: int, paint: int, toward: str, rounding: str, bg: int) -> np.ndarray | None:
    """Each straight bar of `colour` (one cell wide, along the direction `toward`): its half at
    that end painted `paint` (`rounding` down or up for odd lengths); None where an object of the
    colour is no such bar."""
    out = grid.copy()
    vertical = toward in ("down", "up")
    found = [o for o in objects(grid, True, False, bg) if o.colour == colour]
    if not found:
        return None
    for o in found:
        t, l, b, r = o.box
        length, width = (b - t, r - l) if vertical else (r - l, b - t)
        if width != 1 or o.size != length:
            return None
        k = length // 2 if rounding == "floor" else (length + 1) // 2
        if k == 0:
            continue
        if toward == "down":
            out[b - k:b, l] = paint
        elif toward == "up":
            out[t:t + k, l] = paint
        elif toward == "right":
            out[t, r - k:r] = paint
        else:
            out[t, l:l + k] = paint
    return out


def fit_bar_halves(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """One colour's bars, the half of each toward one side recoloured (ce9e57f2)."""
    pairs = changes(made, wanted)
    if pairs is None or len(pairs) != 1:
        return None
    colour, paint = next(iter(pairs))
    steps = []
    for bg in background_colours(made):
        if bg == colour:
            continue
        for toward in _DIRS:
            for rounding in ("floor", "ceil"):
                step = Primitive(f"bar_halves({colour}->{paint} toward {toward}, {rounding})",
                                 partial(bar_halves, colour=colour, paint=paint, toward=toward, rounding=rounding,
                                         bg=bg))
                if reproduces(step, made, wanted):
                    steps.append(step)
    return one_answer("bar_halves", steps)


# --- empty rectangles, largest first -----------------------------------------------------------


def greedy_rectangles(grid: np.ndarray, least: int, bg: int, paint: int) -> np.ndarray | None:
    """The largest empty rectangle (sides at least `least`) painted, then the largest of the
    cells left, and so on; None where there is none."""
    free = grid == bg
    out = grid.copy()
    hit = False
    while True:
        found = largest_rectangles(free.astype(np.int8), [1], least)
        if not found:
            return out if hit else None
        t, b, l, r, _ = min(found, key=lambda box: (box[0], box[2]))  # the first in reading order
        out[t:b, l:r] = paint
        free[t:b, l:r] = False
        hit = True


def fit_greedy_rectangles(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The one colour added over empty rectangles taken largest first, without overlaps, each
    side at least 2 or 3 (a8d7556c)."""
    pairs = changes(made, wanted)
    if pairs is None or len(pairs) != 1:
        return None
    bg, paint = next(iter(pairs))
    for least in (2, 3):
        step = Primitive(f"greedy_rectangles(sides >= {least} of {bg} -> {paint})",
                         partial(greedy_rectangles, least=least, bg=bg, paint=paint))
        if reproduces(step, made, wanted):
            return step
    return None


# --- dashed lines of a box completed -----------------------------------------------------------


def _line_fractions(grid: np.ndarray, colour: int):
    """(kind, index, fraction of `colour`) for each row and column of the colour's bounding box,
    with the box."""
    rows, cols = np.nonzero(grid == colour)
    if not len(rows):
        return None, None
    t, l, b, r = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
    box = grid[t:b, l:r] == colour
    lines = [("row", i, box[i].mean()) for i in range(b - t)] + [("col", j, box[:, j].mean()) for j in range(r - l)]
    return lines, (t, l, b, r)


def dashed_lines(grid: np.ndarray, colour: int, bg: int, paint: int, low: float, high: float) -> np.ndarray | None:
    """Within the box of the `colour` cells, each row and column at least `high` of that colour
    has its `bg` cells painted; None where a line's share falls between `low` and `high` (the
    demonstrations do not say)."""
    lines, box = _line_fractions(grid, colour)
    if lines is None or box[2] - box[0] < 3 or box[3] - box[1] < 3:
        return None
    t, l, b, r = box
    out = grid.copy()
    view = out[t:b, l:r]
    inside = grid[t:b, l:r]
    for kind, i, share in lines:
        if low < share < high:
            return None
        if share >= high:
            if kind == "row":
                view[i][inside[i] == bg] = paint
            else:
                view[:, i][inside[:, i] == bg] = paint
    return out


def fit_dashed_lines(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The rows and columns of one colour's box that are mostly that colour, their gaps painted
    one new colour; the share is read off the demonstrations (4612dd53)."""
    pairs = changes(made, wanted)
    if pairs is None or len(pairs) != 1:
        return None
    bg, paint = next(iter(pairs))
    colours = set.intersection(*(set(np.unique(a).tolist()) for a in made)) - {bg, paint}
    steps = []
    for colour in sorted(colours):
        on, off = [], []
        for a, b in zip(made, wanted):
            lines, box = _line_fractions(a, colour)
            t, l, bb, r = box
            changed = (a != b)[t:bb, l:r]
            if changed.sum() != (a != b).sum():
                break
            empty = a[t:bb, l:r] == bg
            left = b[t:bb, l:r] == bg
            for kind, i, share in lines:
                em, lf = (empty[i], left[i]) if kind == "row" else (empty[:, i], left[:, i])
                if em.any() and not lf.any():
                    on.append(share)
                elif em.any():
                    off.append(share)
        else:
            if on and off and 0 < max(off) < min(on):
                low, high = max(off), min(on)
                step = Primitive(f"dashed_lines({colour}, share >= {high:.2f} -> {paint})",
                                 partial(dashed_lines, colour=colour, bg=bg, paint=paint, low=low, high=high))
                if reproduces(step, made, wanted):
                    steps.append(step)
    return one_answer("dashed_lines", steps)


# --- thin shapes recoloured by their kind (line, L, U, branching) -------------------------------


def path_kind(mask: np.ndarray) -> tuple | None:
    """A thin 4-connected shape's kind: ("branch",) where a cell has three or more neighbours,
    else ("path", turns), the turns counted along it; None where it holds a 2x2 block."""
    if (mask[:-1, :-1] & mask[1:, :-1] & mask[:-1, 1:] & mask[1:, 1:]).any():
        return None
    p = np.pad(mask, 1)
    up, down, left, right = p[:-2, 1:-1], p[2:, 1:-1], p[1:-1, :-2], p[1:-1, 2:]
    degree = (up.astype(int) + down + left + right) * mask
    if (degree >= 3).any():
        return ("branch",)
    turns = int((mask & (degree == 2) & ~((up & down) | (left & right))).sum())
    return ("path", turns)


def recolour_by_kind(grid: np.ndarray, table: dict, bg: int) -> np.ndarray | None:
    """Each one-colour object painted the colour its kind (`path_kind`) maps to; None where an
    object's kind was never seen."""
    out = grid.copy()
    for o in objects(grid, True, False, bg):
        colour = table.get(path_kind(o.mask))
        if colour is None:
            return None
        out[o.mask] = colour
    return out


def fit_recolour_by_kind(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Thin objects recoloured by their kind: a straight line, an L (one turn), a U or S (two
    turns), ..., or a branching shape, each kind to one colour (e509e548). At least two kinds with
    different colours, every kind's colour seen at least twice or on two demonstrations."""
    if not same_shapes(made, wanted):
        return None
    for bg in background_colours(made):
        table: dict = {}
        seen: dict = {}
        ok = True
        for a, b in zip(made, wanted):
            for o in objects(a, True, False, bg):
                kind = path_kind(o.mask)
                got = np.unique(b[o.mask])
                if kind is None or got.size != 1 or table.setdefault(kind, int(got[0])) != int(got[0]):
                    ok = False
                    break
                seen[kind] = seen.get(kind, 0) + 1
            if not ok:
                break
        if not ok or len(set(table.values())) < 2 or min(seen.values()) < 2:
            continue
        step = Primitive(f"recolour_by_kind(on {bg}, {len(table)} kinds)",
                         partial(recolour_by_kind, table=table, bg=bg))
        if reproduces(step, made, wanted):
            return step
    return None


# --- a block pulled along its connector --------------------------------------------------------


def retract_connectors(grid: np.ndarray, bg: int) -> np.ndarray | None:
    """Each one-colour object made of a thick part (cells of its 2x2 blocks) and a straight line
    one cell thick leaving one side of it: the line removed and the thick part moved along it by
    the line's length; None where no object has such a connector or a line is not straight."""
    out = grid.copy()
    hit = False
    for o in objects(grid, True, False, bg):
        m = o.mask
        blocks = m[:-1, :-1] & m[1:, :-1] & m[:-1, 1:] & m[1:, 1:]
        thick = np.zeros_like(m)
        thick[:-1, :-1] |= blocks
        thick[1:, :-1] |= blocks
        thick[:-1, 1:] |= blocks
        thick[1:, 1:] |= blocks
        thin = m & ~thick
        if not thick.any() or not thin.any():
            continue
        rows, cols = np.nonzero(thick)
        t, l, b, r = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
        lr, lc = np.nonzero(thin)
        if len(set(lr.tolist())) == 1 and (lc.max() - lc.min() + 1) == len(lc) and t <= lr[0] < b:
            if lc.min() == r:
                dr, dc = 0, len(lc)
            elif lc.max() == l - 1:
                dr, dc = 0, -len(lc)
            else:
                return None
        elif len(set(lc.tolist())) == 1 and (lr.max() - lr.min() + 1) == len(lr) and l <= lc[0] < r:
            if lr.min() == b:
                dr, dc = len(lr), 0
            elif lr.max() == t - 1:
                dr, dc = -len(lr), 0
            else:
                return None
        else:
            return None
        if rows.min() + dr < 0 or cols.min() + dc < 0 or rows.max() + dr >= grid.shape[0] \
                or cols.max() + dc >= grid.shape[1]:
            return None
        out[m] = bg
        out[rows + dr, cols + dc] = o.colour
        hit = True
    return out if hit else None


def fit_retract_connectors(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Blocks pulled along their one-cell-thick connectors, which vanish (98cf29f8)."""
    if not same_shapes(made, wanted):
        return None
    return on_a_background("retract_connectors", retract_connectors, made, wanted)
