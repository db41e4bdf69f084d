"""Patterns carried on: a band of rows repeated across the grid, short lines completed as
recolourings of the full one, rays from single cells coloured by a periodic pattern, a header's
colours painted on the empty lines in turn, two seeds repeated as stripes, two cells on a line
joined half and half, 3-thick bars dotted, a bar after each object as long as its colours.
Designed on ARC-AGI-1 training tasks only.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import (SAME, Primitive, changed_from, changes, most_frequent, objects, reproduces,
                                 same_shapes, shared_background)


# --- a band of rows (columns) repeated across the grid -------------------------------------------


def tile_band(g: np.ndarray, bg: int, axis: int, gap: int) -> np.ndarray | None:
    """The band of lines holding every non-background cell, with `gap` background lines after it, repeated
    across the grid."""
    src = g if axis == 0 else g.T
    rows = np.flatnonzero((src != bg).any(axis=1))
    if rows.size == 0:
        return None
    t, b = int(rows[0]), int(rows[-1]) + 1
    period = b - t + gap
    band = np.full((period, src.shape[1]), bg, dtype=g.dtype)
    band[:b - t] = src[t:b]
    idx = (np.arange(src.shape[0]) - t) % period
    out = band[idx]
    return out if axis == 0 else np.ascontiguousarray(out.T)


def fit_tile_band(made, wanted):
    """The rows (columns) holding every non-background cell, with a gap of background after them,
    repeated up and down (left and right) across the whole grid."""
    if not same_shapes(made, wanted):
        return None
    bgs = {most_frequent(a) for a in made}
    if len(bgs) != 1 or all(np.array_equal(a, b) for a, b in zip(made, wanted)):
        return None
    bg = bgs.pop()
    for axis in (0, 1):
        for gap in range(0, 4):
            step = partial(tile_band, bg=bg, axis=axis, gap=gap)
            if reproduces(step, made, wanted):
                return Primitive(f"tile_band(axis {axis}, gap {gap})", step, SAME)
    return None


# --- incomplete lines completed as recolourings of the complete one ------------------------------


def complete_lines(g: np.ndarray, bg: int, axis: int) -> np.ndarray | None:
    """Each line that starts and stops short completed as the full line with its colours swapped as its start
    shows; None where that is not one answer."""
    src = g if axis == 0 else g.T
    full = [i for i in range(src.shape[0]) if (src[i] != bg).all()]
    if not full:
        return None
    templates = {tuple(src[i].tolist()) for i in full}
    out = src.copy()
    for i in range(src.shape[0]):
        line = src[i]
        if (line == bg).all() or (line != bg).all():
            continue
        n = int(np.argmax(line == bg))
        if (line[n:] != bg).any():
            return None
        answers = set()
        for tpl in templates:
            m: dict = {}
            if all(m.setdefault(tpl[j], int(line[j])) == int(line[j]) for j in range(n)) and \
                    len(set(m.values())) == len(m) and all(c in m for c in tpl):
                answers.add(tuple(m[c] for c in tpl))
        if len(answers) != 1:
            return None
        out[i] = answers.pop()
    return out if axis == 0 else np.ascontiguousarray(out.T)


def fit_complete_lines(made, wanted):
    """Lines that start but stop short completed as the complete line (the template) with its
    colours swapped one for one, as read off the line's start."""
    if not same_shapes(made, wanted):
        return None
    bg = shared_background(made)
    if bg is None:
        return None
    for axis in (0, 1):
        step = partial(complete_lines, bg=bg, axis=axis)
        if reproduces(step, made, wanted):
            return Primitive(f"complete_lines(axis {axis})", step, SAME)
    return None


# --- rays from single cells, coloured by a periodic pattern --------------------------------------


DIRS = ((0, 1), (0, -1), (1, 0), (-1, 0), (1, 1), (1, -1), (-1, 1), (-1, -1))


SEED = -1  # pattern entry: the seed's own colour


def _ray(g, r, c, dr, dc, bg):
    """The background cells from (r, c) in the direction, to the first other cell or the edge."""
    h, w = g.shape
    cells = []
    r, c = r + dr, c + dc
    while 0 <= r < h and 0 <= c < w and g[r, c] == bg:
        cells.append((r, c))
        r, c = r + dr, c + dc
    return cells


def pattern_rays(g: np.ndarray, bg: int, dirs: tuple, pattern: tuple) -> np.ndarray | None:
    """Rays from every single cell, the k-th cell along painted pattern[k mod p] (SEED: the seed's colour);
    None where rays disagree."""
    seeds = [o for o in objects(g, True, False, bg) if o.size == 1]
    if not seeds or len(seeds) != len(objects(g, True, False, bg)):
        return None
    out = g.copy()
    painted = np.zeros(g.shape, dtype=bool)
    for o in seeds:
        r, c = o.box[0], o.box[1]
        for dr, dc in dirs:
            for k, (rr, cc) in enumerate(_ray(g, r, c, dr, dc, bg), start=1):
                v = pattern[k % len(pattern)]
                v = o.colour if v == SEED else v
                if painted[rr, cc] and out[rr, cc] != v:
                    return None
                out[rr, cc] = v
                painted[rr, cc] = True
    return out


def fit_pattern_rays(made, wanted):
    """Every non-background cell (all single) sends rays one way (or two opposite ways) to the edge,
    the k-th cell along coloured pattern[k mod p]: the seed's colour or a fixed one, with the
    shortest period p that every ray of every demonstration agrees on."""
    if not same_shapes(made, wanted):
        return None
    bg = shared_background(made)
    if bg is None:
        return None
    if any((a[a != b] != bg).any() for a, b in zip(made, wanted)):
        return None
    options = [(d,) for d in DIRS] + [(d, (-d[0], -d[1])) for d in DIRS[::2]]
    for dirs in options:
        for p in range(1, 5):
            pattern: list = [None] * p
            ok, longest = True, 0
            for a, b in zip(made, wanted):
                found = objects(a, True, False, bg)
                if not found or any(o.size != 1 for o in found):
                    return None
                for o in found:
                    r, c = o.box[0], o.box[1]
                    for dr, dc in dirs:
                        ray = _ray(a, r, c, dr, dc, bg)
                        longest = max(longest, len(ray))
                        for k, (rr, cc) in enumerate(ray, start=1):
                            v = int(b[rr, cc])
                            want = SEED if v == o.colour else v
                            if v == o.colour and pattern[k % p] not in (None, SEED):
                                want = v
                            if pattern[k % p] is None:
                                pattern[k % p] = want
                            elif pattern[k % p] != want and not (pattern[k % p] == SEED and v == o.colour):
                                ok = False
                                break
                        if not ok:
                            break
                    if not ok:
                        break
                if not ok:
                    break
            if not ok or None in pattern or longest < 2 * p:
                continue
            if all(v == bg for v in pattern):
                continue
            step = partial(pattern_rays, bg=bg, dirs=dirs, pattern=tuple(pattern))
            if reproduces(step, made, wanted):
                return Primitive(f"pattern_rays({dirs}, {pattern})", step, SAME)
    return None


# --- the empty lines after a header line painted with its colours in turn ------------------------


def header_cycle(g: np.ndarray, bg: int, axis: int) -> np.ndarray | None:
    """The empty lines after the last one in use painted one a line with the first line's colours, in turn."""
    src = g if axis == 0 else g.T
    header = src[0]
    if (header == bg).any():
        return None
    filled = np.flatnonzero((src != bg).any(axis=1))
    last = int(filled[-1])
    if last + 1 >= src.shape[0] or (src[last + 1:] != bg).any():
        return None
    out = src.copy()
    for k, i in enumerate(range(last + 1, src.shape[0])):
        out[i] = header[k % header.size]
    return out if axis == 0 else np.ascontiguousarray(out.T)


def fit_header_cycle(made, wanted):
    """A first line without background; every empty line after the last line in use painted with
    the first line's colours, one a line, in turn."""
    if not same_shapes(made, wanted) or all(np.array_equal(a, b) for a, b in zip(made, wanted)):
        return None
    bgs = {most_frequent(a) for a in made} | {0}
    for bg in sorted(bgs):
        for axis in (0, 1):
            step = partial(header_cycle, bg=bg, axis=axis)
            if reproduces(step, made, wanted):
                return Primitive(f"header_cycle(axis {axis})", step, SAME)
    return None


# --- two seeds: lines across, repeated onwards ---------------------------------------------------


def seed_stripes(g: np.ndarray, bg: int) -> np.ndarray | None:
    """Two seed cells: a line across the short side through each, the pair repeated at twice their distance
    onwards."""
    rr, cc = np.nonzero(g != bg)
    if rr.size != 2:
        return None
    h, w = g.shape
    if h == w:
        return None
    src = g if w > h else g.T
    rr, cc = np.nonzero(src != bg)
    order = np.argsort(cc)
    (p1, p2), cols = cc[order].tolist(), [int(src[rr[i], cc[i]]) for i in order]
    d = p2 - p1
    if d == 0:
        return None
    out = np.full_like(src, bg)
    p = p1
    while p < src.shape[1]:
        out[:, p] = cols[0]
        if p + d < src.shape[1]:
            out[:, p + d] = cols[1]
        p += 2 * d
    return out if w > h else np.ascontiguousarray(out.T)


def fit_seed_stripes(made, wanted):
    """Two seed cells: a line across the grid's short side through each, the pair repeated at twice
    their distance on towards the far edge."""
    if not same_shapes(made, wanted):
        return None
    step = partial(seed_stripes, bg=0)
    if reproduces(step, made, wanted):
        return Primitive("seed_stripes", step, SAME)
    return None


# --- two cells on a line joined, each half its end's colour, a middle cell marked ----------------


def join_halves(g: np.ndarray, bg: int, middle: int, axis: int) -> np.ndarray | None:
    """Each line holding exactly two cells joined: each half of the gap in its end's colour, the middle cell
    `middle`."""
    out = g.copy()
    done = False
    view, src = (out, g) if axis == 0 else (out.T, g.T)  # columns through the transposed views
    for i in range(src.shape[0]):
        nz = np.flatnonzero(src[i] != bg)
        if nz.size != 2:
            continue
        a, b = int(nz[0]), int(nz[1])
        if (b - a) % 2 or b - a < 2:
            return None
        m = (a + b) // 2
        view[i, a:m] = src[i, a]
        view[i, m + 1:b + 1] = src[i, b]
        view[i, m] = middle
        done = True
    return out if done else None


def fit_join_halves(made, wanted):
    """Pairs of cells alone on a row (or column) joined: the near half of the gap in each end's
    colour, the middle cell one fixed colour."""
    bg = changed_from(made, wanted)
    if bg is None:
        return None
    for axis in (0, 1):
        for middle in range(10):
            step = partial(join_halves, bg=bg, middle=middle, axis=axis)
            if reproduces(step, made, wanted):
                return Primitive(f"join_halves(axis {axis}, middle {middle})", step, SAME)
    return None


# --- the middle line of each 3-thick solid bar dotted --------------------------------------------


def dot_bars(g: np.ndarray, bg: int, phase: int) -> np.ndarray | None:
    """Every other cell of each 3-thick solid bar's middle line made background, from `phase`; None where an
    object is no such bar."""
    found = objects(g, True, False, bg)
    if not found:
        return None
    out = g.copy()
    for o in found:
        t, l, b, r = o.box
        if o.size != (b - t) * (r - l):
            return None
        if b - t == 3 and r - l > 3:
            out[t + 1, l + phase:r:2] = bg
        elif r - l == 3 and b - t > 3:
            out[t + phase:b:2, l + 1] = bg
        else:
            return None
    return out


def fit_dot_bars(made, wanted):
    """Every object a solid bar 3 thick; every other cell of its middle line (from the first or the
    second) made background."""
    pairs = changes(made, wanted)
    if pairs is None or len({d for _, d in pairs}) != 1:
        return None
    bg = next(iter(pairs))[1]
    for phase in (0, 1):
        step = partial(dot_bars, bg=bg, phase=phase)
        if reproduces(step, made, wanted):
            return Primitive(f"dot_bars(phase {phase})", step, SAME)
    return None


# --- a bar after each object, as long as its count of colours ------------------------------------


def count_bars(g: np.ndarray, bg: int, diagonal: bool, direction: tuple, count: str, paint: int) -> np.ndarray | None:
    """After each object, in `direction`, a bar as wide as the object and as long as its count of colours;
    None where one leaves the grid."""
    found = objects(g, False, diagonal, bg)
    if not found:
        return None
    out = g.copy()
    h, w = g.shape
    for o in found:
        t, l, b, r = o.box
        n = o.n_colours if count == "colours" else o.size
        dr, dc = direction
        if dr:
            rows = range(b, b + n) if dr > 0 else range(t - n, t)
            if min(rows) < 0 or max(rows) >= h:
                return None
            out[list(rows), l:r] = paint
        else:
            cols = range(r, r + n) if dc > 0 else range(l - n, l)
            if min(cols) < 0 or max(cols) >= w:
                return None
            out[t:b, list(cols)] = paint
    return out


def fit_count_bars(made, wanted):
    """After every object (below, above, right or left), a bar of one colour as wide as the object
    and as long as its count of colours."""
    pairs = changes(made, wanted)
    if pairs is None or len({d for _, d in pairs}) != 1:
        return None
    paint = next(iter(pairs))[1]
    bg = shared_background(made)
    if bg is None:
        return None
    if not any(o.n_colours > 1 for a in made for o in objects(a, False, True, bg)):
        return None
    for diagonal in (False, True):
        for direction in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            step = partial(count_bars, bg=bg, diagonal=diagonal, direction=direction, count="colours", paint=paint)
            if reproduces(step, made, wanted):
                return Primitive(f"count_bars({direction}, colours, {paint})", step, SAME)
    return None

