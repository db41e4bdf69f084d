"""Regions painted: objects outlined (their holes filled), enclosed background regions filled by a
feature, the one cell of a unique colour kept and ringed, open lines across a frame filled, the
crossings of full lines ringed, a box with one gap filled and spilling out, a checkered flood
from seeds, the cells where edge markers' rows and columns meet. Designed on ARC-AGI-1 training
tasks only.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import (SAME, Primitive, agreeing, changed_from, changes, most_frequent, objects, reproduces,
                                 same_shapes, shared_background)
from arcttt.programs.features import OBJECT_FEATURES, around, hole_regions, object_features


def _ring8(mask: np.ndarray) -> np.ndarray:
    """The cells next to the mask in all 8 directions, outside it."""
    p = np.pad(mask, 1)
    h, w = mask.shape
    out = np.zeros_like(mask)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            out |= p[1 + dr:1 + dr + h, 1 + dc:1 + dc + w]
    return out & ~mask


def _hole_cells(grid: np.ndarray, o_mask: np.ndarray, bg: int) -> np.ndarray:
    """The object's holes (`features.hole_regions`), their background cells."""
    return np.any([*hole_regions(o_mask), np.zeros(grid.shape, dtype=bool)], axis=0) & (grid == bg)


# --- objects outlined, their holes filled --------------------------------------------------------


def halo(g: np.ndarray, bg: int, by_colour: bool, diagonal: bool, feature: str | None, table: dict | None,
         ring8: bool, ring_colour: int, hole_colour: int | None, only: int | None) -> np.ndarray | None:
    """The chosen objects ringed on the background in `ring_colour` (and their holes filled in
    `hole_colour`)."""
    found = objects(g, by_colour, diagonal, bg)
    if only is not None:
        found = [o for o in found if o.colour == only]
    if not found:
        return None
    if feature is not None:
        rows = object_features(g, found)
        if any(r[feature] not in table for r in rows):
            return None
        chosen = [o for o, r in zip(found, rows) if table[r[feature]]]
    else:
        chosen = found
    out = g.copy()
    draw = _ring8 if ring8 else around
    for o in chosen:
        rm = draw(o.mask) & (g == bg)
        out[rm] = ring_colour
    if hole_colour is not None:
        for o in chosen:
            out[_hole_cells(g, o.mask, bg)] = hole_colour
    return out


def _ringed(made, wanted, bg: int, cut: tuple[bool, bool], ring8: bool, ring_colour: int,
            hole_colour: int | None) -> list[tuple[list[dict], list, list]] | None:
    """Per demonstration: its objects' features, the objects, and whether each is ringed (True),
    not (False) or cannot tell (None: its ring meets another's)."""
    draw = _ring8 if ring8 else around
    observed = []
    for a, b in zip(made, wanted):
        found = objects(a, *cut, bg)
        if not found:
            return None
        chosen = []
        for o in found:
            cells = draw(o.mask) & (a == bg)
            if hole_colour is not None:
                cells &= ~_hole_cells(a, o.mask, bg)
            values = b[cells]
            if cells.any() and (values == ring_colour).all():
                chosen.append(True)
            elif (values == bg).all() or (values != ring_colour).all():
                chosen.append(False)
            else:
                chosen.append(None)
        observed.append((object_features(a, found), found, chosen))
    return observed


def _which(observed) -> list[tuple[str | None, dict | None, int | None]]:
    """The ways to say which objects are ringed that fit: all of them, all of one colour, or by
    one feature's table (feature, table, colour)."""
    out = []
    if all(s is not False for _, _, chosen in observed for s in chosen):
        out.append((None, None, None))
    colours = {o.colour for _, found, chosen in observed for o, s in zip(found, chosen) if s}
    if len(colours) == 1:
        c = colours.pop()
        if all(s is not False for _, found, chosen in observed for o, s in zip(found, chosen) if o.colour == c):
            out.append((None, None, c))
    for feature in OBJECT_FEATURES:
        table: dict = {}
        if all(s is None or table.setdefault(row[feature], s) == s
               for features, _, chosen in observed for row, s in zip(features, chosen)):
            if len(set(table.values())) == 2:
                out.append((feature, table, None))
    return out


def fit_halo(made, wanted):
    """Objects (chosen by a feature, or all; or all of one colour) ringed (8 or 4 neighbours) on the
    background with one added colour, and their holes filled with another, where that fits."""
    pairs = changes(made, wanted)
    bgs = {most_frequent(a) for a in made}
    if pairs is None or len(bgs) != 1:
        return None
    bg = bgs.pop()
    news = sorted({d for _, d in pairs})
    if any(s != bg for s, _ in pairs) or len(news) > 2:
        return None
    for cut in ((True, False), (True, True), (False, True), (False, False)):
        for ring8 in (True, False):
            for ring_colour in news:
                holes = [c for c in news if c != ring_colour] if len(news) == 2 else [None]
                for hole_colour in holes:
                    observed = _ringed(made, wanted, bg, cut, ring8, ring_colour, hole_colour)
                    for feature, table, only in _which(observed) if observed else ():
                        step = partial(halo, bg=bg, by_colour=cut[0], diagonal=cut[1], feature=feature, table=table,
                                       ring8=ring8, ring_colour=ring_colour, hole_colour=hole_colour, only=only)
                        if reproduces(step, made, wanted):
                            what = "all" if feature is None and only is None else (feature or f"colour {only}")
                            name = f"halo({what}, ring{8 if ring8 else 4} {ring_colour}, holes {hole_colour})"
                            return Primitive(name, step, SAME)
    return None


# --- enclosed background regions filled by a feature ---------------------------------------------


def enclosed_fill(g: np.ndarray, bg: int, fits: tuple) -> np.ndarray | None:
    """Each background region that does not touch the edge filled by the first fitted (feature, table) that
    knows every region."""
    h, w = g.shape
    found = [o for o in objects(g, True, False, bg=-1) if o.colour == bg]
    enclosed = [o for o in found if o.box[0] > 0 and o.box[1] > 0 and o.box[2] < h and o.box[3] < w]
    if not enclosed:
        return None
    rows = object_features(g, enclosed)
    for feature, table in fits:
        if all(r[feature] in table for r in rows):
            out = g.copy()
            for o, r in zip(enclosed, rows):
                out[o.mask] = table[r[feature]]
            return out
    return None


def fit_enclosed_fill(made, wanted):
    """The background's 4-connected regions that do not touch the edge, each filled with a colour
    looked up from one of its features (size parity, size, ...), the first feature that fits with
    at least two colours."""
    bg = changed_from(made, wanted)
    if bg is None:
        return None
    obs = []
    for a, b in zip(made, wanted):
        h, w = a.shape
        found = [o for o in objects(a, True, False, bg=-1) if o.colour == bg]
        enclosed = [o for o in found if o.box[0] > 0 and o.box[1] > 0 and o.box[2] < h and o.box[3] < w]
        if not enclosed:
            return None
        targets = []
        for o in enclosed:
            v = np.unique(b[o.mask])
            if v.size != 1:
                return None
            targets.append(int(v[0]))
        obs.append((object_features(a, enclosed), targets))
    fits = []
    for feature in OBJECT_FEATURES:
        table: dict = {}
        if all(table.setdefault(r[feature], t) == t for rows, ts in obs for r, t in zip(rows, ts)):
            if len(set(table.values())) >= 2:
                fits.append((feature, table))
    if not fits:
        return None
    step = partial(enclosed_fill, bg=bg, fits=tuple(fits))
    if reproduces(step, made, wanted):
        return Primitive(f"enclosed_fill(by {fits[0][0]}, ...)", step, SAME)
    return None


# --- only the cell of the one colour seen once kept, ringed --------------------------------------


def keep_unique(g: np.ndarray, bg: int, ring_colour: int | None) -> np.ndarray | None:
    """Everything erased but the one cell whose colour occurs once, ringed in `ring_colour` (None: not)."""
    cnt = np.bincount(g.ravel(), minlength=10)
    once = [c for c in range(10) if cnt[c] == 1 and c != bg]
    if len(once) != 1:
        return None
    mask = g == once[0]
    out = np.full_like(g, bg)
    out[mask] = once[0]
    if ring_colour is not None:
        out[_ring8(mask)] = ring_colour
    return out


def fit_keep_unique(made, wanted):
    """Everything erased but the one cell whose colour occurs once, that cell ringed (8 neighbours)
    with one colour, or not."""
    if not same_shapes(made, wanted):
        return None
    bg = shared_background(made)
    if bg is None:
        return None
    for ring_colour in [None] + list(range(10)):
        step = partial(keep_unique, bg=bg, ring_colour=ring_colour)
        if reproduces(step, made, wanted):
            return Primitive(f"keep_unique(ring {ring_colour})", step, SAME)
    return None


# --- open lines across a frame filled ------------------------------------------------------------


def open_lines(g: np.ndarray, bg: int, paint: int, axes: str) -> np.ndarray:
    """The lines (rows "r", columns "c") whose middle is one background run between non-background ends, the
    longest such runs painted."""
    out = g.copy()
    for axis in axes:
        view = out if axis == "r" else out.T
        src = g if axis == "r" else g.T
        runs = {}
        for i in range(src.shape[0]):
            line = src[i]
            nz = np.flatnonzero(line != bg)
            if nz.size == 0:
                continue
            # the bg run between the leading and trailing non-bg stretches
            lead = 0
            while lead < line.size and line[lead] != bg:
                lead += 1
            trail = line.size
            while trail > 0 and line[trail - 1] != bg:
                trail -= 1
            if lead == 0 or trail == line.size or lead >= trail:
                continue
            if (line[lead:trail] == bg).all():
                runs[i] = (lead, trail)
        if runs:
            longest = max(t - l for l, t in runs.values())
            for i, (l, t) in runs.items():
                if t - l == longest:
                    view[i, l:t] = paint
    return out


def fit_open_lines(made, wanted):
    """Rows and/or columns whose middle is all background between non-background ends (a frame)
    painted across with the one added colour."""
    pairs = changes(made, wanted)
    if pairs is None or len({d for _, d in pairs}) != 1 or len({s for s, _ in pairs}) != 1:
        return None
    (bg, paint), = pairs
    for axes in ("rc", "r", "c"):
        step = partial(open_lines, bg=bg, paint=paint, axes=axes)
        if reproduces(step, made, wanted):
            return Primitive(f"open_lines({axes}, {paint})", step, SAME)
    return None


# --- where two full lines cross, the crossing ringed ---------------------------------------------


def ring_crossings(g: np.ndarray, bg: int, paint: int) -> np.ndarray | None:
    """The 8 cells around each crossing of a full row and a full column painted; None where there is none."""
    rows = np.flatnonzero((g != bg).all(axis=1))
    cols = np.flatnonzero((g != bg).all(axis=0))
    if rows.size == 0 or cols.size == 0:
        return None
    mask = np.zeros(g.shape, dtype=bool)
    for r in rows:
        for c in cols:
            mask[r, c] = True
    out = g.copy()
    out[_ring8(mask)] = paint
    return out


def fit_ring_crossings(made, wanted):
    """Every cell where a full row line meets a full column line ringed (8 neighbours) with one colour."""
    pairs = changes(made, wanted)
    if pairs is None or len({d for _, d in pairs}) != 1:
        return None
    paint = next(iter(pairs))[1]
    bgs = {most_frequent(a) for a in made}
    if len(bgs) != 1:
        return None
    step = partial(ring_crossings, bg=bgs.pop(), paint=paint)
    if reproduces(step, made, wanted):
        return Primitive(f"ring_crossings({paint})", step, SAME)
    return None


# --- a box with one gap: filled, and spilling out of the gap to the edge -------------------------


def leaky_box(g: np.ndarray, bg: int, paint: int) -> np.ndarray | None:
    """Each box outline with one gap in a side filled, the paint running out of the gap to the edge; None
    where an object is not such a box."""
    found = objects(g, True, True, bg)
    if not found:
        return None
    out = g.copy()
    h, w = g.shape
    for o in found:
        t, l, b, r = o.box
        if b - t < 3 or r - l < 3:
            return None
        inner = np.zeros(g.shape, dtype=bool)
        inner[t + 1:b - 1, l + 1:r - 1] = True
        edge = np.zeros(g.shape, dtype=bool)
        edge[t:b, l:r] = True
        edge &= ~inner
        if (o.mask & inner).any():
            return None
        gaps = np.argwhere(edge & ~o.mask)
        if len(gaps) != 1:
            return None
        gr, gc = gaps[0].tolist()
        if (gr in (t, b - 1)) and (gc in (l, r - 1)):
            return None  # a corner
        out[inner & (g == bg)] = paint
        out[gr, gc] = paint
        dr = -1 if gr == t else 1 if gr == b - 1 else 0
        dc = -1 if gc == l else 1 if gc == r - 1 else 0
        rr, cc = gr + dr, gc + dc
        while 0 <= rr < h and 0 <= cc < w and g[rr, cc] == bg:
            out[rr, cc] = paint
            rr, cc = rr + dr, cc + dc
    return out


def fit_leaky_box(made, wanted):
    """Each object the outline of a box with one gap in a side: the inside filled with one colour,
    which runs out through the gap straight to the edge."""
    pairs = changes(made, wanted)
    if pairs is None or len(pairs) != 1:
        return None
    (bg, paint), = pairs
    step = partial(leaky_box, bg=bg, paint=paint)
    if reproduces(step, made, wanted):
        return Primitive(f"leaky_box({paint})", step, SAME)
    return None


# --- background reachable from a checkered seed checkered on -------------------------------------


def checker_flood(g: np.ndarray, bg: int, walls: int) -> np.ndarray | None:
    """The background reachable from the two-colour checkered seeds painted with their checkering; None
    unless the seeds checker."""
    seeds = (g != bg) & (g != walls)
    if not seeds.any():
        return None
    rr, cc = np.nonzero(seeds)
    by_parity: dict = {}
    for r, c in zip(rr.tolist(), cc.tolist()):
        if by_parity.setdefault((r + c) % 2, int(g[r, c])) != g[r, c]:
            return None
    if len(by_parity) != 2:
        return None
    region = (g == bg) | seeds
    out = g.copy()
    for o in objects(region.astype(np.int8), True, False, bg=0):
        if not (o.mask & seeds).any():
            continue
        r, c = np.nonzero(o.mask & (g == bg))
        out[r, c] = [by_parity[(x + y) % 2] for x, y in zip(r.tolist(), c.tolist())]
    return out


def fit_checker_flood(made, wanted):
    """Seeds of two colours checkered (by the parity of row + column); the background reachable from
    them (4 ways, between walls of one colour) painted on with the same checkering."""
    pairs = changes(made, wanted)
    if pairs is None or len({s for s, _ in pairs}) != 1:
        return None
    bg = next(iter(pairs))[0]
    cols = set.intersection(*(set(np.unique(a).tolist()) for a in made)) - {bg}
    for walls in sorted(cols):
        step = partial(checker_flood, bg=bg, walls=walls)
        if reproduces(step, made, wanted):
            return Primitive(f"checker_flood(walls {walls})", step, SAME)
    return None


# --- cells where a row's edge marker meets a column's edge marker --------------------------------


def marker_cross(g: np.ndarray, bg: int, marker: int, row_edge: int, col_edge: int, paint: int) -> np.ndarray | None:
    """row_edge: the column (0 or -1) whose markers name rows; col_edge: the row naming columns."""
    rows = np.flatnonzero(g[:, row_edge] == marker)
    cols = np.flatnonzero(g[col_edge, :] == marker)
    h, w = g.shape
    rows = [r for r in rows if r != (col_edge % h)]
    cols = [c for c in cols if c != (row_edge % w)]
    if not rows or not cols:
        return None
    out = g.copy()
    sub = np.ix_(rows, cols)
    block = out[sub]
    block[block == bg] = paint
    out[sub] = block
    return out


def fit_marker_cross(made, wanted):
    """Markers of one colour on one side edge name rows and on the top or bottom edge name
    columns; every background cell where a named row meets a named column painted one colour.
    All edge choices that fit must agree."""
    pairs = changes(made, wanted)
    if pairs is None or len(pairs) != 1:
        return None
    (bg, paint), = pairs
    markers = set.intersection(*(set(np.unique(a).tolist()) for a in made)) - {bg, paint}
    steps = []
    for marker in sorted(markers):
        for re in (0, -1):
            for ce in (0, -1):
                step = partial(marker_cross, bg=bg, marker=marker, row_edge=re, col_edge=ce, paint=paint)
                if reproduces(step, made, wanted):
                    steps.append(step)
    if not steps:
        return None
    return Primitive(f"marker_cross({paint})", partial(agreeing, steps=tuple(steps)), SAME)

