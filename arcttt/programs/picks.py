"""Parts chosen or put together: the block the input repeats, the one part that stands out (by
how many share its content, shape or colour, by symmetry, holes, cells or colours), the input's
corners laid over one another, pieces fitted into a rectangle, four corner pieces assembled.
Designed on ARC-AGI-1 training tasks only."""

from __future__ import annotations

from collections import Counter
from functools import partial

import numpy as np

from arcttt.programs.dsl import (CHANGES, Primitive, background, background_colours, background_policies, objects,
                                 on_a_background, reproduces, same_shapes)
from arcttt.programs.features import hole_regions


# --- the repeating unit --------------------------------------------------------------------------


def _period(g: np.ndarray, axis: int) -> int:
    """The smallest p dividing the side along `axis` with the grid a tiling of its first p lines."""
    n = g.shape[axis]
    for p in range(1, n + 1):
        if n % p:
            continue
        first = g[:p] if axis == 0 else g[:, :p]
        if np.array_equal(np.tile(first, (n // p, 1) if axis == 0 else (1, n // p)), g):
            return p
    return n


def repeating_unit(g: np.ndarray) -> np.ndarray | None:
    """The block the grid tiles (the smallest period on each side); None where it repeats on neither."""
    p, q = _period(g, 0), _period(g, 1)
    if (p, q) == g.shape:
        return None
    return g[:p, :q].copy()


def fit_repeating_unit(made, wanted):
    """The input is a tiling of a smaller block (rows, columns or both): the output is that block
    (the smallest period that divides each side)."""
    if same_shapes(made, wanted):
        return None
    for a, b in zip(made, wanted):
        out = repeating_unit(a)
        if out is None or not np.array_equal(out, b):
            return None
    return Primitive("repeating_unit", repeating_unit, CHANGES)


# --- the one part that stands out ----------------------------------------------------------------


def _split_parts(g: np.ndarray, shape: tuple[int, int]) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The grid cut into equal blocks of `shape` along one axis (one-line separators of one colour
    allowed, and preferred where they fit)."""
    h, w = g.shape
    if w == shape[1] and h > shape[0]:
        lines, n, size = g, h, shape[0]
    elif h == shape[0] and w > shape[1]:
        lines, n, size = g.T, w, shape[1]  # columns as lines
    else:
        return None
    out = []
    for sep in (1, 0):  # separators first: blocks without them would cut through the separator lines
        k = (n + sep) // (size + sep)
        seps = [lines[i * (size + sep) - 1] for i in range(1, k)] if sep else []
        if (n + sep) % (size + sep) == 0 and k >= 2 and all((line == line[0]).all() for line in seps):
            out = [lines[i * (size + sep): i * (size + sep) + size] for i in range(k)]
            out = out if lines is g else [np.ascontiguousarray(p.T) for p in out]
            break
    if not out:
        return None
    return [(p, np.ones(p.shape, dtype=bool)) for p in out]


def _object_parts(g: np.ndarray, by_colour: bool, diagonal: bool, bgp) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each object of the cut as (its cells on the background, cut to its box; its mask)."""
    bg = background(g, bgp)
    out = []
    for o in objects(g, by_colour, diagonal, bg):
        t, l, b, r = o.box
        m = o.mask[t:b, l:r]
        out.append((np.where(m, g[t:b, l:r], bg).astype(g.dtype), m))
    return out


PART_CUTS = ("split", (True, False), (True, True), (False, False), (False, True))


def candidate_parts(g: np.ndarray, cut, shape, bgp) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """The parts of a cut: equal blocks of the output's shape ("split"), or objects."""
    if cut == "split":
        return None if shape is None else _split_parts(g, shape)
    return _object_parts(g, *cut, bgp)


def _sym(p: np.ndarray) -> tuple[int, int, int]:
    """Whether the part equals its transpose, its up-down mirror and its left-right mirror (0 or 1 each)."""
    t = int(p.shape[0] == p.shape[1] and np.array_equal(p, p.T))
    return t, int(np.array_equal(p, p[::-1])), int(np.array_equal(p, p[:, ::-1]))


def part_features(g: np.ndarray, found: list[tuple[np.ndarray, np.ndarray]], bg: int) -> list[dict]:
    """Each part's FEATURES, the counts relative to the grid's other parts."""
    shapes = Counter(bytes(m.shape) + m.tobytes() for _, m in found)
    contents = Counter(bytes(p.shape) + p.tobytes() for p, _ in found)
    main = [int(np.bincount(p[m].ravel(), minlength=10).argmax()) for p, m in found]
    palette = Counter(main)
    rows = []
    for (p, m), c in zip(found, main):
        fg = m & (p != bg)
        st, su, sl = _sym(p)
        n = np.bincount(p[m].ravel(), minlength=10)
        holes = sum(int(h.sum()) for h in hole_regions(fg)) if fg.any() else 0  # cells
        row = {"cells": int(fg.sum()), "area": p.size, "holes": holes,
               "colours": int((n > 0).sum()), "shape_count": shapes[bytes(m.shape) + m.tobytes()],
               "content_count": contents[bytes(p.shape) + p.tobytes()], "colour_count": palette[c],
               "sym_t": st, "sym_ud": su, "sym_lr": sl, "sym_any": max(st, su, sl), "sym_all": min(su, sl)}
        for k in range(10):
            row[f"n{k}"] = int(n[k])
        rows.append(row)
    return rows


FEATURES = ("content_count", "shape_count", "colour_count", "sym_t", "sym_any", "sym_ud", "sym_lr", "sym_all",
            "holes", "cells", "area", "colours", *(f"n{k}" for k in range(10)))


def _select(g, found, rows, bg, feature, most, out, canvas):
    """The part (or its colour on the canvas) whose feature is the unique extreme; None where all tie, or
    equal extremes differ."""
    values = [r[feature] for r in rows]
    best = max(values) if most else min(values)
    if all(v == best for v in values):
        return None
    chosen = [p for (p, m), v in zip(found, values) if v == best]
    if out == "colour":
        cols = set()
        for p in chosen:
            fg = p[p != bg]
            if fg.size == 0:
                return None
            cols.add(int(np.bincount(fg.ravel(), minlength=10).argmax()))
        if len(cols) != 1:
            return None
        return np.full(canvas, cols.pop(), dtype=g.dtype)
    first = chosen[0]
    if any(not np.array_equal(p, first) for p in chosen[1:]):
        return None
    return first.copy()


def pick_part(g: np.ndarray, cut, bgp, fits, out: str, canvas, strict: bool = False) -> np.ndarray | None:
    """What the fitted (feature, most) settings that pick a part (or equal parts) pick; None where two
    pick differently (`strict`), else the first's pick."""
    found = candidate_parts(g, cut, canvas, bgp)
    if not found or len(found) < 2:
        return None
    bg = background(g, bgp)
    rows = part_features(g, found, bg)
    first = None
    for feature, most in fits:
        got = _select(g, found, rows, bg, feature, most, out, canvas)
        if got is None:
            continue
        if first is None:
            first = got
        elif not np.array_equal(got, first):
            return None if strict else first
    return first


def fit_pick_part(made, wanted):
    """The one part (an equal block of the input, or an object of one of four cuts) whose feature
    (how many parts share its content / shape / colour, symmetry, holes, cells, cells of a colour)
    is the unique extreme; the output is that part cut out, or its colour filling a fixed canvas.
    Every (feature, direction) that fits is kept, in order; a test grid takes the first that picks."""
    if same_shapes(made, wanted):
        return None
    shapes = {b.shape for b in wanted}
    canvas = shapes.pop() if len(shapes) == 1 else None
    out = "colour" if canvas is not None and all(np.unique(b).size == 1 for b in wanted) else "crop"
    bgps = background_policies(made)
    for cut in PART_CUTS:
        if cut == "split" and (out == "colour" or canvas is None):
            continue
        for bgp in (bgps if cut != "split" else bgps[:1]):
            per = []
            for a, b in zip(made, wanted):
                found = candidate_parts(a, cut, canvas, bgp)
                if not found or len(found) < 2:
                    break
                bg = background(a, bgp)
                per.append((a, b, found, part_features(a, found, bg), bg))
            else:
                fits = [(feature, most) for feature in FEATURES for most in (True, False)
                        if all(np.array_equal(_select(a, found, rows, bg, feature, most, out, canvas), b)
                               for a, b, found, rows, bg in per)]
                if fits:
                    name = f"pick_part({cut}, bg {bgp}, {'most' if fits[0][1] else 'fewest'} {fits[0][0]}, {out})"
                    return Primitive(name, partial(pick_part, cut=cut, bgp=bgp, fits=tuple(fits), out=out,
                                                   canvas=canvas), CHANGES)
    return None


# --- corners laid over one another ---------------------------------------------------------------


def corner_overlay(g: np.ndarray, shape: tuple[int, int], bg: int) -> np.ndarray | None:
    """The windows of `shape` at the grid's corners (two where a side already fits), laid over one
    another: each cell the one non-background colour the windows show there; None on a clash."""
    h, w = g.shape
    ph, pw = shape
    if ph > h or pw > w or (ph, pw) == (h, w):
        return None
    tops = sorted({0, h - ph})
    lefts = sorted({0, w - pw})
    out = np.full(shape, bg, dtype=g.dtype)
    for t in tops:
        for l in lefts:
            win = g[t:t + ph, l:l + pw]
            paint = win != bg
            if ((out != bg) & paint & (out != win)).any():
                return None
            out[paint] = win[paint]
    return out


def fit_corner_overlay(made, wanted):
    """A fixed output shape; the input's corner windows of that shape overlaid (background: 0, or
    the inputs' shared most frequent colour)."""
    shapes = {b.shape for b in wanted}
    if len(shapes) != 1:
        return None
    shape = shapes.pop()
    if any(a.shape == shape or a.shape[0] < shape[0] or a.shape[1] < shape[1] for a in made):
        return None
    for bg in background_colours(made):
        step = partial(corner_overlay, shape=shape, bg=bg)
        if reproduces(step, made, wanted):
            return Primitive(f"corner_overlay({shape[0]}x{shape[1]}, bg {bg})", step, CHANGES)
    return None


# --- pieces put together -------------------------------------------------------------------------


def _pieces(g: np.ndarray, bg: int) -> list[np.ndarray]:
    """Each colour's cells (one 8-connected part each), cut to their box (background: -1)."""
    out = []
    for c in range(10):
        if c == bg or not (g == c).any():
            continue
        parts = [o for o in objects(g, True, True, bg) if o.colour == c]
        if len(parts) != 1:
            return []
        t, l, b, r = parts[0].box
        out.append(np.where(parts[0].mask[t:b, l:r], c, -1))
    return out


def jigsaw(g: np.ndarray, bg: int) -> np.ndarray | None:
    """The pieces (one per colour, 2 to 4) moved, not turned, to fill a rectangle exactly; None
    where no placement, or two different ones, fill one."""
    pieces = _pieces(g, bg)
    if not 2 <= len(pieces) <= 4:
        return None
    total = sum(int((p >= 0).sum()) for p in pieces)
    results = []
    for h in range(1, total + 1):
        if total % h:
            continue
        w = total // h
        if any(p.shape[0] > h or p.shape[1] > w for p in pieces):
            continue
        board = np.full((h, w), -1)
        _fill(board, pieces, [False] * len(pieces), results)
        if len(results) > 1:
            return None
    if len(results) != 1:
        return None
    return results[0].astype(g.dtype)


def _fill(board, pieces, used, results):
    """Depth-first exact cover: each unused piece placed with its first cell on the board's first empty cell;
    stops at two results."""
    if len(results) > 1:
        return
    empty = np.argwhere(board < 0)
    if empty.size == 0:
        if not any(np.array_equal(board, x) for x in results):
            results.append(board.copy())
        return
    r, c = empty[0]
    h, w = board.shape
    for i, p in enumerate(pieces):
        if used[i]:
            continue
        cells = np.argwhere(p >= 0)
        fr, fc = cells[0]  # its first cell in reading order goes on the first empty cell
        top, left = r - fr, c - fc
        if top < 0 or left < 0 or top + p.shape[0] > h or left + p.shape[1] > w:
            continue
        view = board[top:top + p.shape[0], left:left + p.shape[1]]
        if ((p >= 0) & (view >= 0)).any():
            continue
        view[p >= 0] = p[p >= 0]
        used[i] = True
        _fill(board, pieces, used, results)
        used[i] = False
        view[p >= 0] = -1


def fit_jigsaw(made, wanted):
    """The input's pieces (one per colour) fitted together into a filled rectangle."""
    if same_shapes(made, wanted):
        return None
    return on_a_background("jigsaw", jigsaw, made, wanted, CHANGES)


def corner_pieces(g: np.ndarray, bg: int) -> np.ndarray | None:
    """Four pieces of one box size, each put in the corner of a 2 x 2 layout that its box's
    filled corner (with the opposite corner empty) points to."""
    found = objects(g, True, True, bg)
    if len(found) != 4:
        return None
    shapes = {(o.box[2] - o.box[0], o.box[3] - o.box[1]) for o in found}
    if len(shapes) != 1:
        return None
    ph, pw = shapes.pop()
    out = np.full((2 * ph, 2 * pw), bg, dtype=g.dtype)
    taken = set()
    for o in found:
        t, l, b, r = o.box
        m = o.mask[t:b, l:r]
        corners = [(i, j) for i in (0, 1) for j in (0, 1)
                   if m[-i, -j] and not m[-(1 - i), -(1 - j)]]
        if len(corners) != 1 or corners[0] in taken:
            return None
        i, j = corners[0]
        taken.add((i, j))
        view = out[i * ph:(i + 1) * ph, j * pw:(j + 1) * pw]
        view[m] = g[t:b, l:r][m]
    return out


def fit_corner_pieces(made, wanted):
    """Four pieces assembled, each in the corner it points to."""
    if same_shapes(made, wanted):
        return None
    return on_a_background("corner_pieces", corner_pieces, made, wanted, CHANGES)

