"""A region cut out and redrawn: a block of one colour with its noise drawn as lines, a shape drawn
k times larger shrunk back, a shape scaled into a frame, a framed pattern painted by the corner
marks, cells shot at the line of their colour inside a box of four lines, the marks on a lattice's
crossings read as cells. Designed on ARC-AGI-1 training tasks only."""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import (CHANGES, Primitive, background, background_policies, bbox, most_frequent, objects,
                                 on_a_background, reproduces, same_shapes)
from arcttt.programs.paint import largest_rectangles


# --- a large rectangle with noise in it ----------------------------------------------------------


def noisy_rectangle(g: np.ndarray) -> tuple[int, int, int, int, int] | None:
    """(top, bottom, left, right, colour) of the largest rectangle of one colour, grown a line at
    a time while the new line is at least 3/4 that colour: a block of one colour that noise cells
    spot. None where two colours' rectangles tie."""
    h, w = g.shape
    found = largest_rectangles(g, [c for c in range(10) if (g == c).any()], 2)
    grown = set()
    for t, b, l, r, c in found:
        m = g == c
        changed = True
        while changed:
            changed = False
            for side in range(4):
                if side == 0 and t > 0 and m[t - 1, l:r].mean() >= 0.75:
                    t -= 1; changed = True
                elif side == 1 and b < h and m[b, l:r].mean() >= 0.75:
                    b += 1; changed = True
                elif side == 2 and l > 0 and m[t:b, l - 1].mean() >= 0.75:
                    l -= 1; changed = True
                elif side == 3 and r < w and m[t:b, r].mean() >= 0.75:
                    r += 1; changed = True
        grown.add((t, b, l, r, c))
    if not grown:
        return None
    best = max((b - t) * (r - l) for t, b, l, r, c in grown)
    top = [x for x in grown if (x[1] - x[0]) * (x[3] - x[2]) == best]
    return top[0] if len(top) == 1 else None


def rectangle_lines(g: np.ndarray, lines: str) -> np.ndarray | None:
    """The noisy rectangle cut out, each noise cell in it drawn as a line through it ("both": its
    row and column; "rows"; "cols"; "keep": left as is; "clean": painted over)."""
    found = noisy_rectangle(g)
    if found is None:
        return None
    t, b, l, r, c = found
    if (b - t, r - l) == g.shape:
        return None
    crop = g[t:b, l:r]
    out = np.full(crop.shape, c, dtype=g.dtype) if lines != "keep" else crop.copy()
    noise = np.argwhere(crop != c)
    if lines in ("both", "rows"):
        for i, j in noise:
            out[i, :] = crop[i, j]
    if lines in ("both", "cols"):
        for i, j in noise:
            out[:, j] = crop[i, j]
    return out


def fit_rectangle_lines(made, wanted):
    """The largest block of one colour (noise cells spotting it) cut out, its noise kept, cleaned,
    or drawn as lines through the block."""
    if any(b.size * 2 > a.size for a, b in zip(made, wanted)):
        return None
    for lines in ("keep", "clean", "both", "rows", "cols"):
        step = partial(rectangle_lines, lines=lines)
        if reproduces(step, made, wanted):
            return Primitive(f"noisy_rectangle(lines {lines})", step, CHANGES)
    return None


# --- a scaled-up shape shrunk back ---------------------------------------------------------------


def _scale_of(m: np.ndarray) -> int:
    """The largest k > 1 with the mask k x k blocks of one value each (1: none)."""
    h, w = m.shape
    for k in range(min(h, w), 1, -1):
        if h % k or w % k:
            continue
        small = m[::k, ::k]
        if np.array_equal(np.kron(small, np.ones((k, k), dtype=m.dtype)), m):
            return k
    return 1


def shrink_scaled(g: np.ndarray, bgp, paint: str) -> np.ndarray | None:
    """The one colour whose cells (in their box) are a shape scaled up k times (k > 1), shrunk back,
    painted its own colour ("own") or the one other colour the grid shows ("other")."""
    bg = background(g, bgp)
    found = []
    others = [c for c in range(10) if c != bg and (g == c).any()]
    for c in others:
        m = g == c
        t, l, b, r = bbox(m)
        k = _scale_of(m[t:b, l:r])
        if k > 1:
            found.append((c, m[t:b:k, l:r:k]))
    if len(found) != 1:
        return None
    c, small = found[0]
    if paint == "other":
        rest = [x for x in others if x != c]
        if len(rest) != 1:
            return None
        c = rest[0]
    return np.where(small, c, bg).astype(g.dtype)


def fit_shrink_scaled(made, wanted):
    """The shape drawn k times larger (k read off each input) shrunk to its own size, in its colour
    or in the grid's other colour (background 0 or the shared majority)."""
    if any(b.size * 4 > a.size for a, b in zip(made, wanted)):
        return None
    for bgp in background_policies(made):
        for paint in ("own", "other"):
            step = partial(shrink_scaled, bgp=bgp, paint=paint)
            if reproduces(step, made, wanted):
                return Primitive(f"shrink_scaled(bg {bgp}, paint {paint})", step, CHANGES)
    return None


# --- a shape scaled into a frame -----------------------------------------------------------------


def _frames(g: np.ndarray, bg: int):
    """Objects of one colour that are the border of their box (at least 3 x 3)."""
    out = []
    for o in objects(g, True, False, bg):
        t, l, b, r = o.box
        if b - t < 3 or r - l < 3:
            continue
        ring = np.ones((b - t, r - l), dtype=bool)
        ring[1:-1, 1:-1] = False
        if np.array_equal(o.mask[t:b, l:r], ring):
            out.append(o)
    return out


def scale_into_frame(g: np.ndarray, bgp) -> np.ndarray | None:
    """The one hollow frame cut out with the grid's other object (its box) scaled up to fill the
    inside; None where the inside is not a whole multiple of the object."""
    bg = background(g, bgp)
    frames = _frames(g, bg)
    if len(frames) != 1:
        return None
    f = frames[0]
    rest = (g != bg) & ~f.mask
    box = bbox(rest)
    if box is None:
        return None
    t, l, b, r = box
    shape = g[t:b, l:r]
    ft, fl, fb, fr = f.box
    ih, iw = fb - ft - 2, fr - fl - 2
    if ih % (b - t) or iw % (r - l) or ih // (b - t) != iw // (r - l):
        return None
    k = ih // (b - t)
    out = g[ft:fb, fl:fr].copy()
    out[1:-1, 1:-1] = np.kron(shape, np.ones((k, k), dtype=g.dtype))
    return out


def fit_scale_into_frame(made, wanted):
    """The frame cut out, the shape outside it scaled up into it."""
    if same_shapes(made, wanted):
        return None
    for bgp in background_policies(made):
        step = partial(scale_into_frame, bgp=bgp)
        if reproduces(step, made, wanted):
            return Primitive(f"scale_into_frame(bg {bgp})", step, CHANGES)
    return None


# --- a pattern painted by the marks at the corners -----------------------------------------------


def _inside_lines(g: np.ndarray) -> tuple[int, int, int, int] | None:
    """The box strictly between the outermost full lines (rows and columns of one colour, not 0),
    two of each."""
    h, w = g.shape
    rows = [i for i in range(h) if g[i, 0] != 0 and (g[i] == g[i, 0]).all()]
    cols = [j for j in range(w) if g[0, j] != 0 and (g[:, j] == g[0, j]).all()]
    if len(rows) != 2 or len(cols) != 2 or rows[1] - rows[0] < 2 or cols[1] - cols[0] < 2:
        return None
    return rows[0] + 1, cols[0] + 1, rows[1], cols[1]


def corner_marks(g: np.ndarray, bg: int) -> np.ndarray | None:
    """The pattern inside the frame of lines, each of its cells but the background painted the
    colour of the grid's corner cell on its quadrant's side."""
    box = _inside_lines(g)
    if box is None:
        return None
    t, l, b, r = box
    crop = g[t:b, l:r]
    h, w = crop.shape
    if h % 2 or w % 2:
        return None
    marks = np.empty((h, w), dtype=g.dtype)
    H, W = g.shape
    marks[:h // 2, :w // 2], marks[:h // 2, w // 2:] = g[0, 0], g[0, W - 1]
    marks[h // 2:, :w // 2], marks[h // 2:, w // 2:] = g[H - 1, 0], g[H - 1, W - 1]
    if (marks == bg).any():
        return None
    return np.where(crop != bg, marks, bg).astype(g.dtype)


def fit_corner_marks(made, wanted):
    """A pattern framed by lines, its quadrants painted by the grid's corner cells."""
    if same_shapes(made, wanted):
        return None
    step = partial(corner_marks, bg=0)
    if reproduces(step, made, wanted):
        return Primitive("corner_marks", step, CHANGES)
    return None


# --- a box of four lines, cells shot at the line of their colour ---------------------------------


def _four_lines(g: np.ndarray, bg: int):
    """Two rows and two columns, each all one colour (not the background) but where the others
    cross it; None unless exactly two of each."""
    h, w = g.shape

    def line_colour(v):
        vals, n = np.unique(v, return_counts=True)
        c = int(vals[np.argmax(n)])
        return c if c != bg and n.max() >= len(v) - 2 else None

    rows = [(i, line_colour(g[i])) for i in range(h)]
    rows = [(i, c) for i, c in rows if c is not None]
    cols = [(j, line_colour(g[:, j])) for j in range(w)]
    cols = [(j, c) for j, c in cols if c is not None]
    if len(rows) != 2 or len(cols) != 2:
        return None
    for i, c in rows:
        if any(g[i, j] != c and j not in (cols[0][0], cols[1][0]) for j in range(w)):
            return None
    for j, c in cols:
        if any(g[i, j] != c and i not in (rows[0][0], rows[1][0]) for i in range(h)):
            return None
    return rows, cols


def shoot_at_lines(g: np.ndarray, bg: int) -> np.ndarray | None:
    """The box of the four lines cut out (lines included); every cell inside of a line's colour
    drawn as a ray to that line; other cells inside cleared."""
    found = _four_lines(g, bg)
    if found is None:
        return None
    (r0, ct), (r1, cb) = found[0]
    (c0, cl), (c1, cr) = found[1]
    if len({ct, cb, cl, cr}) != 4 or r1 - r0 < 2 or c1 - c0 < 2:
        return None
    out = g[r0:r1 + 1, c0:c1 + 1].copy()
    inner = out[1:-1, 1:-1]
    src = inner.copy()
    inner[:] = bg
    for (i, j) in np.argwhere(src != bg):
        v = src[i, j]
        if v == ct:
            inner[:i + 1, j] = v
        elif v == cb:
            inner[i:, j] = v
        elif v == cl:
            inner[i, :j + 1] = v
        elif v == cr:
            inner[i, j:] = v
        else:
            return None
    return out


def fit_shoot_at_lines(made, wanted):
    """A box of four lines of four colours cut out, the cells inside shot at the line of their colour."""
    if same_shapes(made, wanted):
        return None
    return on_a_background("shoot_at_lines", shoot_at_lines, made, wanted, CHANGES)


# --- marks on a lattice's crossings --------------------------------------------------------------


def lattice_cells(g: np.ndarray, bg: int) -> np.ndarray | None:
    """On a lattice of full lines, the crossings of another colour than the lines' (marks), in the
    box of the marked crossings: each cell between four crossings the colour all four show, else
    the background."""
    rows = [i for i in range(g.shape[0]) if (g[i] != bg).all()]
    cols = [j for j in range(g.shape[1]) if (g[:, j] != bg).all()]
    if len(rows) < 2 or len(cols) < 2 or len(rows) == g.shape[0] or len(cols) == g.shape[1]:
        return None
    cross = g[np.ix_(rows, cols)]
    line = most_frequent(g[rows[0]][None, :])
    marked = cross != line
    box = bbox(marked)
    if box is None:
        return None
    t, l, b, r = box
    p = cross[t:b, l:r]
    if p.shape[0] < 2 or p.shape[1] < 2:
        return None
    corners = np.stack([p[:-1, :-1], p[:-1, 1:], p[1:, :-1], p[1:, 1:]])
    same = (corners == corners[0]).all(axis=0) & (corners[0] != line)
    return np.where(same, corners[0], bg).astype(g.dtype)


def fit_lattice_cells(made, wanted):
    """Marks on the crossings of a lattice of lines, read as the cells they surround."""
    if same_shapes(made, wanted):
        return None
    step = partial(lattice_cells, bg=0)
    if reproduces(step, made, wanted):
        return Primitive("lattice_cells", step, CHANGES)
    return None


# --- a summary drawn as stripes ------------------------------------------------------------------


def _stripes(g, inner, lie, width):
    """The summary's line of colours drawn as stripes along `lie`, `width` wide ("square": as long as the
    line)."""
    v = inner(g)
    if v is None or v.ndim != 2 or 1 not in v.shape:
        return None
    line = v.ravel()
    n = line.size if width == "square" else width
    if lie == "rows":
        return np.repeat(line[:, None], n, axis=1).astype(g.dtype)
    return np.repeat(line[None, :], n, axis=0).astype(g.dtype)


def fit_summary_stripes(made, wanted):
    """Outputs whose rows (or columns) are each one colour: the line of those colours is a summary
    of the input (one pixel per cell of a separator grid, `fit_summarise`, read as a row or a
    column), drawn as stripes as wide as the line is long, or of a fixed width."""
    from arcttt.programs.parts import fit_summarise
    for lie in ("rows", "cols"):
        bs = wanted if lie == "rows" else [b.T for b in wanted]
        if not all(b.shape[0] > 1 and (b == b[:, :1]).all() for b in bs):
            continue
        widths = {b.shape[1] for b in bs}
        if all(b.shape[0] == b.shape[1] for b in bs):
            width = "square"
        elif len(widths) == 1:
            width = widths.pop()
        else:
            continue
        for as_row in (False, True):
            target = [np.ascontiguousarray(b[:, 0][None, :] if as_row else b[:, :1]) for b in bs]
            inner = fit_summarise(made, target)
            if inner is None:
                continue
            step = partial(_stripes, inner=inner, lie=lie, width=width)
            if reproduces(step, made, wanted):
                return Primitive(f"stripes({lie}, {inner.name})", step, CHANGES)
    return None

