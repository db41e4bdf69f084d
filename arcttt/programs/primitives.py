"""The primitives: small pure functions on grids, written for ARC's priors.

Each takes a read-only int8 array (and its parameters) and returns a new array or None where it
does not apply. Background is colour 0 unless a primitive says otherwise. `build(context)` binds
the parameters a task calls for (colours present, factors read off the demonstrations) and
returns the primitives in the fixed order that ranks programs of equal length.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import numpy as np

from arcttt.programs.dsl import CHANGES, SAME, TRANSPOSES, Obj, Primitive, bbox, counts, crop_mask, key, objects

# --- geometry ---------------------------------------------------------------------------------


def rot90(g: np.ndarray) -> np.ndarray:
    """Rotate a quarter turn clockwise."""
    return np.rot90(g, -1)


def rot180(g: np.ndarray) -> np.ndarray:
    """Rotate a half turn."""
    return g[::-1, ::-1]


def rot270(g: np.ndarray) -> np.ndarray:
    """Rotate a quarter turn anticlockwise."""
    return np.rot90(g, 1)


def flip_h(g: np.ndarray) -> np.ndarray:
    """Mirror left-right."""
    return g[:, ::-1]


def flip_v(g: np.ndarray) -> np.ndarray:
    """Mirror top-bottom."""
    return g[::-1]


def transpose(g: np.ndarray) -> np.ndarray:
    """Mirror in the main diagonal."""
    return g.T


def anti_transpose(g: np.ndarray) -> np.ndarray:
    """Mirror in the anti-diagonal."""
    return g[::-1, ::-1].T


def shift(g: np.ndarray, dr: int, dc: int) -> np.ndarray:
    """Move every cell by (dr, dc); cells moved in are background."""
    h, w = g.shape
    out = np.zeros_like(g)
    out[max(dr, 0):h + min(dr, 0), max(dc, 0):w + min(dc, 0)] = g[max(-dr, 0):h - max(dr, 0),
                                                                  max(-dc, 0):w - max(dc, 0)]
    return out


def gravity(g: np.ndarray, direction: str) -> np.ndarray:
    """Let non-background cells fall toward a side ('down', 'up', 'left', 'right'), keeping order."""
    a = {"down": g, "up": g[::-1], "right": g.T, "left": g.T[::-1]}[direction]
    order = np.argsort(a != 0, axis=0, kind="stable")
    fallen = np.take_along_axis(a, order, axis=0)
    return {"down": fallen, "up": fallen[::-1], "right": fallen.T, "left": fallen[::-1].T}[direction]


# --- cropping ---------------------------------------------------------------------------------


def crop_content(g: np.ndarray) -> np.ndarray | None:
    """Cut to the bounding box of the non-background (non-0) cells."""
    return crop_mask(g, g != 0)


def crop_content_major(g: np.ndarray) -> np.ndarray | None:
    """Cut to the bounding box of the cells not of the most frequent colour."""
    return crop_mask(g, g != np.argmax(counts(g)))


def crop_colour(g: np.ndarray, c: int) -> np.ndarray | None:
    """Cut to the bounding box of colour c."""
    return crop_mask(g, g == c)


def crop_inside_colour(g: np.ndarray, c: int) -> np.ndarray | None:
    """Cut to the inside of colour c's bounding box (a frame's contents)."""
    box = bbox(g == c)
    if box is None or box[2] - box[0] < 3 or box[3] - box[1] < 3:
        return None
    t, l, b, r = box
    return g[t + 1:b - 1, l + 1:r - 1]


# --- objects ----------------------------------------------------------------------------------


def _unique(objs: list[Obj], score) -> Obj | None:
    values = [score(o) for o in objs]
    best = max(values)
    return objs[values.index(best)] if values.count(best) == 1 else None


def _unique_key(objs: list[Obj], feature) -> Obj | None:
    keys = [feature(o) for o in objs]
    once = [o for o, k in zip(objs, keys) if keys.count(k) == 1]
    return once[0] if len(once) == 1 and len(objs) > 2 else None


SELECTORS = {
    "largest": lambda objs: _unique(objs, lambda o: o.size),
    "smallest": lambda objs: _unique(objs, lambda o: -o.size),
    "unique_colour": lambda objs: _unique_key(objs, lambda o: o.colour),
    "unique_shape": lambda objs: _unique_key(objs, Obj.shape_key),
    "most_colours": lambda objs: _unique(objs, lambda o: o.n_colours),
    "top_left": lambda objs: objs[0],
    "bottom_right": lambda objs: max(objs, key=lambda o: (o.box[2], o.box[3])),
}

# Connectivity modes: (by colour, diagonal).
MODES = {"multi8": (False, True), "colour4": (True, False), "colour8": (True, True)}


def select(g: np.ndarray, how: str, mode: str) -> Obj | None:
    """The object picked by `how` among the grid's components in `mode` (None when not unique)."""
    objs = objects(g, *MODES[mode])
    if len(objs) < 2:
        return objs[0] if objs and how in ("largest", "top_left") else None
    return SELECTORS[how](objs)


def crop_object(g: np.ndarray, how: str, mode: str) -> np.ndarray | None:
    """Cut to the bounding box of the selected object."""
    o = select(g, how, mode)
    if o is None:
        return None
    t, l, b, r = o.box
    return g[t:b, l:r]


def keep_object(g: np.ndarray, how: str, mode: str) -> np.ndarray | None:
    """Erase every cell but the selected object's."""
    o = select(g, how, mode)
    return None if o is None else np.where(o.mask, g, 0).astype(g.dtype)


def remove_object(g: np.ndarray, how: str, mode: str) -> np.ndarray | None:
    """Erase the selected object."""
    o = select(g, how, mode)
    return None if o is None else np.where(o.mask, 0, g).astype(g.dtype)


def remove_specks(g: np.ndarray) -> np.ndarray | None:
    """Erase every single-cell object (8-connected, any colour): noise removal."""
    specks = [o for o in objects(g, False, True) if o.size == 1]
    if not specks:
        return None
    out = g.copy()
    for o in specks:
        out[o.mask] = 0
    return out


# --- scaling and tiling -----------------------------------------------------------------------


def upscale(g: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Each cell becomes a kh x kw block."""
    return np.repeat(np.repeat(g, kh, axis=0), kw, axis=1)


def upscale_by_colours(g: np.ndarray) -> np.ndarray | None:
    """Upscale by the number of non-background colours."""
    k = int((counts(g)[1:] > 0).sum())
    return upscale(g, k, k) if k >= 1 else None


def downscale(g: np.ndarray, kh: int, kw: int) -> np.ndarray | None:
    """Each kh x kw block becomes one cell, its most frequent colour (the sides must divide)."""
    h, w = g.shape
    if h % kh or w % kw or (kh == 1 and kw == 1):
        return None
    blocks = g.reshape(h // kh, kh, w // kw, kw).transpose(0, 2, 1, 3).reshape(h // kh, w // kw, kh * kw)
    hist = (blocks[..., None] == np.arange(10)).sum(axis=2)
    return np.argmax(hist, axis=2).astype(g.dtype)


def tile(g: np.ndarray, n: int, m: int) -> np.ndarray:
    """Repeat the grid n times down and m times across."""
    return np.tile(g, (n, m))


def mirror_tile(g: np.ndarray, layout: str) -> np.ndarray:
    """Tile with mirrored copies: 'h' [g|flip], 'h_rev' [flip|g], 'v' [g/flip], 'v_rev', '2x2', '2x2_rev'."""
    fh, fv = g[:, ::-1], g[::-1]
    if layout == "h":
        return np.hstack([g, fh])
    if layout == "h_rev":
        return np.hstack([fh, g])
    if layout == "v":
        return np.vstack([g, fv])
    if layout == "v_rev":
        return np.vstack([fv, g])
    if layout == "2x2":
        return np.vstack([np.hstack([g, fh]), np.hstack([fv, g[::-1, ::-1]])])
    return np.vstack([np.hstack([g[::-1, ::-1], fv]), np.hstack([fh, g])])


def fractal(g: np.ndarray, inverse: bool = False) -> np.ndarray:
    """The grid placed in every block whose cell is non-background (or background, when inverse)."""
    where = (g == 0) if inverse else (g != 0)
    return (np.kron(where, np.ones_like(g)) * np.tile(g, g.shape)).astype(g.dtype)


# --- splitting and recombining ----------------------------------------------------------------


def separators(g: np.ndarray) -> tuple[list[int], list[int], int] | None:
    """Rows and columns that are one non-background colour end to end, and that colour.

    When lines of several colours qualify, the colour with the most lines is the separator.
    """
    rows = (g == g[:, :1]).all(axis=1) & (g[:, 0] != 0)
    cols = (g == g[:1]).all(axis=0) & (g[0] != 0)
    found = np.concatenate([g[rows, 0], g[0, cols]])
    if found.size == 0:
        return None
    c = int(np.argmax(np.bincount(found, minlength=10)))
    rows_c = np.flatnonzero(rows & (g[:, 0] == c)).tolist()
    cols_c = np.flatnonzero(cols & (g[0] == c)).tolist()
    if len(rows_c) == g.shape[0] or len(cols_c) == g.shape[1]:
        return None
    return rows_c, cols_c, c


def _spans(n: int, cuts: list[int]) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for cut in cuts + [n]:
        if cut > start:
            bounds.append((start, cut))
        start = cut + 1
    return bounds


_SPLITS: dict[tuple[bytes, str], list[np.ndarray] | None] = {}


def split(g: np.ndarray, how: str) -> list[np.ndarray] | None:
    """Parts of equal shape: 'sep' on separator lines, 'h2'/'h3' side by side, 'v2'/'v3' stacked.

    Halves of an odd side drop the middle line (a separator); thirds need a side that divides.
    Remembered per grid, since every recombination of a grid splits it the same way.
    """
    k = (key(g), how)
    if k not in _SPLITS:
        if len(_SPLITS) > 4096:
            _SPLITS.clear()
        _SPLITS[k] = _split(g, how)
    return _SPLITS[k]


def _split(g: np.ndarray, how: str) -> list[np.ndarray] | None:
    h, w = g.shape
    if how == "sep":
        found = separators(g)
        if found is None:
            return None
        rows, cols, _ = found
        parts = [g[t:b, l:r] for t, b in _spans(h, rows) for l, r in _spans(w, cols)]
    elif how in ("h2", "v2"):
        a = g if how == "h2" else g.T
        n = a.shape[1]
        if n < 2:
            return None
        half = n // 2
        parts = [a[:, :half], a[:, n - half:]]
        parts = parts if how == "h2" else [p.T for p in parts]
    else:
        a = g if how == "h3" else g.T
        n = a.shape[1]
        if n < 3 or (n % 3 and (n - 2) % 3):
            return None
        step = n // 3 if n % 3 == 0 else (n - 2) // 3
        gap = 0 if n % 3 == 0 else 1
        parts = [a[:, i * (step + gap):i * (step + gap) + step] for i in range(3)]
        parts = parts if how == "h3" else [p.T for p in parts]
    if len(parts) < 2 or any(p.shape != parts[0].shape for p in parts):
        return None
    return parts


_PRESENCE: dict[tuple[bytes, str], tuple[np.ndarray, np.ndarray, int] | None] = {}


def _presence(g: np.ndarray, how: str) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(first part's filled cells, how many parts fill each cell, number of parts), remembered."""
    k = (key(g), how)
    if k not in _PRESENCE:
        if len(_PRESENCE) > 4096:
            _PRESENCE.clear()
        parts = split(g, how)
        _PRESENCE[k] = None if parts is None else (parts[0] != 0, sum((p != 0).astype(np.int8) for p in parts),
                                                   len(parts))
    return _PRESENCE[k]


def combine(g: np.ndarray, how: str, op: str, c: int) -> np.ndarray | None:
    """Split, then colour c where the parts' non-background cells meet the boolean `op`.

    'and': in every part; 'or': in any; 'xor': in exactly one; 'nor': in none; 'diff': in the
    first part and no other.
    """
    found = _presence(g, how)
    if found is None:
        return None
    first, n, parts = found
    mask = {"and": n == parts, "or": n > 0, "xor": n == 1, "nor": n == 0, "diff": first & (n == 1)}[op]
    return np.where(mask, c, 0).astype(g.dtype)


def overlay(g: np.ndarray, how: str, top: str) -> np.ndarray | None:
    """Split, then lay the parts over each other: the 'first' part's (or 'last' part's) colours win."""
    parts = split(g, how)
    if parts is None:
        return None
    out = np.zeros_like(parts[0])
    for p in (parts if top == "last" else parts[::-1]):
        out = np.where(p != 0, p, out)
    return out.astype(g.dtype)


def pick_part(g: np.ndarray, how: str, rule: str) -> np.ndarray | None:
    """Split, then keep one part: the 'odd' one out, or the one with the 'most'/'least' content
    or the 'most_colours'/'fewest_colours'."""
    parts = split(g, how)
    if parts is None:
        return None
    if rule == "odd":
        keys = [key(p) for p in parts]
        once = [p for p, k in zip(parts, keys) if keys.count(k) == 1]
        if len(once) == 1 and len(parts) > 2:
            return once[0]
        return None
    if rule in ("most", "least"):
        scores = [int((p != 0).sum()) for p in parts]
    else:
        scores = [int((counts(p)[1:] > 0).sum()) for p in parts]
    if rule in ("least", "fewest_colours"):
        scores = [-s for s in scores]
    best = max(scores)
    return parts[scores.index(best)] if scores.count(best) == 1 else None


# --- symmetry ---------------------------------------------------------------------------------


def _mirrors(g: np.ndarray, kind: str) -> list[np.ndarray]:
    fh, fv = g[:, ::-1], g[::-1]
    if kind == "h":
        return [fh]
    if kind == "v":
        return [fv]
    if kind == "hv":
        return [fh, fv, g[::-1, ::-1]]
    if g.shape[0] != g.shape[1]:
        return []
    if kind == "diag":
        return [g.T]
    return [fh, fv, g[::-1, ::-1], g.T, g[::-1, ::-1].T, np.rot90(g), np.rot90(g, -1)]


def symmetrize(g: np.ndarray, kind: str) -> np.ndarray | None:
    """Fill background cells from the mirrored grid(s): 'h', 'v', 'hv' (both), 'diag', 'all' (D8)."""
    mirrors = _mirrors(g, kind)
    if not mirrors:
        return None
    out = g.copy()
    for m in mirrors:
        out = np.where(out == 0, m, out)
    return out


def complete_symmetry(g: np.ndarray, c: int) -> np.ndarray | None:
    """Replace colour c (a mask over a symmetric picture) with the mirrored cells' colours."""
    hole = g == c
    if not hole.any():
        return None
    out = g.copy()
    for m in _mirrors(g, "all") or _mirrors(g, "hv"):
        take = (out == c) & (m != c)
        out[take] = m[take]
    return None if (out == c).any() else out


def symmetry_patch(g: np.ndarray, c: int) -> np.ndarray | None:
    """What lies under colour c's box once the symmetry is completed."""
    done = complete_symmetry(g, c)
    return None if done is None else crop_mask(done, g == c)


# --- colours ----------------------------------------------------------------------------------


def recolour_all(g: np.ndarray, c: int) -> np.ndarray:
    """Every non-background cell becomes colour c."""
    return np.where(g != 0, c, 0).astype(g.dtype)


def keep_colour(g: np.ndarray, c: int) -> np.ndarray | None:
    """Erase every colour but c."""
    return None if not (g == c).any() else np.where(g == c, g, 0).astype(g.dtype)


def remove_colour(g: np.ndarray, c: int) -> np.ndarray | None:
    """Erase colour c."""
    return None if not (g == c).any() else np.where(g == c, 0, g).astype(g.dtype)


def colour_cell(g: np.ndarray, role: str) -> np.ndarray | None:
    """A 1x1 grid of the most or least frequent non-background colour."""
    c = counts(g).astype(np.int64)
    c[0] = 0
    if c.sum() == 0:
        return None
    if role == "least":
        c[c == 0] = 1 << 30
        return np.array([[int(np.argmin(c))]], dtype=g.dtype)
    return np.array([[int(np.argmax(c))]], dtype=g.dtype)


# --- fills ------------------------------------------------------------------------------------


def enclosed(g: np.ndarray) -> np.ndarray:
    """Background cells that no 4-connected path of background links to the border."""
    free = g == 0
    reach = np.zeros_like(free)
    reach[0], reach[-1], reach[:, 0], reach[:, -1] = free[0], free[-1], free[:, 0], free[:, -1]
    while True:
        grown = reach.copy()
        grown[1:] |= reach[:-1]
        grown[:-1] |= reach[1:]
        grown[:, 1:] |= reach[:, :-1]
        grown[:, :-1] |= reach[:, 1:]
        grown &= free
        if (grown == reach).all():
            return free & ~reach
        reach = grown


def fill_enclosed(g: np.ndarray, c: int) -> np.ndarray | None:
    """Colour c into every enclosed background region."""
    holes = enclosed(g)
    return None if not holes.any() else np.where(holes, c, g).astype(g.dtype)


def _connect_rows(g: np.ndarray) -> np.ndarray:
    out = g.copy()
    for r in range(g.shape[0]):
        row = g[r]
        cols = np.flatnonzero(row)
        for a, b in zip(cols[:-1], cols[1:]):
            if row[a] == row[b] and b > a + 1:
                out[r, a + 1:b] = np.where(out[r, a + 1:b] == 0, row[a], out[r, a + 1:b])
    return out


def connect(g: np.ndarray, axis: str) -> np.ndarray | None:
    """Draw lines over the background between neighbouring same-colour cells of a 'row', 'col' or 'both'."""
    out = g
    if axis in ("row", "both"):
        out = _connect_rows(out)
    if axis in ("col", "both"):
        out = _connect_rows(out.T).T
    return None if (out == g).all() else out


# --- counting ---------------------------------------------------------------------------------


def count_objects(g: np.ndarray, vertical: bool) -> np.ndarray | None:
    """A 1xN row (or Nx1 column) of the main colour, N the number of objects (8-connected)."""
    objs = objects(g, False, True)
    if not objs or len(objs) > 30:
        return None
    colour = int(np.argmax(counts(g)[1:]) + 1)
    out = np.full((1, len(objs)), colour, dtype=g.dtype)
    return out.T if vertical else out


def colours_by_frequency(g: np.ndarray, vertical: bool) -> np.ndarray | None:
    """The non-background colours, most frequent first, as a row (or column)."""
    c = counts(g)
    present = [i for i in np.argsort(-c, kind="stable") if i != 0 and c[i] > 0]
    if not present:
        return None
    out = np.array([present], dtype=g.dtype)
    return out.T if vertical else out


# --- the task's parameters and the ordered list -----------------------------------------------


@dataclass(frozen=True)
class Context:
    """What the demonstrations say about parameters: colours in and out, and size factors."""

    in_colours: tuple[int, ...]
    out_colours: tuple[int, ...]
    up: tuple[tuple[int, int], ...]  # (kh, kw) with output = k x input side
    down: tuple[tuple[int, int], ...]  # (kh, kw) with input = k x output side


def context(pairs: list[tuple[np.ndarray, np.ndarray]]) -> Context:
    """Parameters read off the demonstration pairs."""
    cin = sorted({c for a, _ in pairs for c in np.unique(a).tolist()} - {0})
    cout = sorted({c for _, b in pairs for c in np.unique(b).tolist()} - {0})
    up, down = {(2, 2), (3, 3)}, {(2, 2), (3, 3)}
    for a, b in pairs:
        (ih, iw), (oh, ow) = a.shape, b.shape
        if oh % ih == 0 and ow % iw == 0:
            up.add((oh // ih, ow // iw))
        if ih % oh == 0 and iw % ow == 0:
            down.add((ih // oh, iw // ow))
    up.discard((1, 1))
    down.discard((1, 1))
    small = lambda fs: tuple(sorted(f for f in fs if f[0] * f[1] <= 36))  # noqa: E731
    return Context(tuple(cin), tuple(cout), small(up), small(down))


def _p(name: str, fn, shape: str = SAME, **params) -> Primitive:
    args = ", ".join(str(v) for v in params.values())
    return Primitive(f"{name}({args})" if params else name, partial(fn, **params) if params else fn, shape)


def build(ctx: Context) -> list[Primitive]:
    """Every primitive the task's parameters allow, in the fixed ranking order.

    Long because the list is the ranking order itself: one place to read it top to bottom."""
    prims = [
        _p("rot90", rot90, TRANSPOSES), _p("rot180", rot180), _p("rot270", rot270, TRANSPOSES),
        _p("flip_h", flip_h), _p("flip_v", flip_v), _p("transpose", transpose, TRANSPOSES),
        _p("anti_transpose", anti_transpose, TRANSPOSES),
        _p("crop_content", crop_content, CHANGES), _p("crop_content_major", crop_content_major, CHANGES),
    ]
    for direction in ("down", "up", "left", "right"):
        prims.append(_p("gravity", gravity, direction=direction))
    for mode in MODES:
        for how in SELECTORS:
            prims.append(_p("crop_object", crop_object, CHANGES, how=how, mode=mode))
    for c in ctx.in_colours:
        prims.append(_p("crop_colour", crop_colour, CHANGES, c=c))
        prims.append(_p("crop_inside_colour", crop_inside_colour, CHANGES, c=c))
    for kh, kw in ctx.up:
        prims.append(_p("upscale", upscale, CHANGES, kh=kh, kw=kw))
        prims.append(_p("tile", tile, CHANGES, n=kh, m=kw))
    for n, m in sorted({(1, 2), (2, 1), (1, 3), (3, 1)} - set(ctx.up)):
        prims.append(_p("tile", tile, CHANGES, n=n, m=m))
    for layout in ("h", "h_rev", "v", "v_rev", "2x2", "2x2_rev"):
        prims.append(_p("mirror_tile", mirror_tile, CHANGES, layout=layout))
    prims += [_p("fractal", fractal, CHANGES), _p("fractal", fractal, CHANGES, inverse=True),
              _p("upscale_by_colours", upscale_by_colours, CHANGES)]
    for kh, kw in ctx.down:
        prims.append(_p("downscale", downscale, CHANGES, kh=kh, kw=kw))
    for how in ("sep", "h2", "v2", "h3", "v3"):
        for rule in ("odd", "most", "least", "most_colours", "fewest_colours"):
            prims.append(_p("pick_part", pick_part, CHANGES, how=how, rule=rule))
        prims.append(_p("overlay", overlay, CHANGES, how=how, top="first"))
        prims.append(_p("overlay", overlay, CHANGES, how=how, top="last"))
        for op in ("and", "or", "xor", "nor", "diff"):
            for c in ctx.out_colours:
                prims.append(_p("combine", combine, CHANGES, how=how, op=op, c=c))
    for kind in ("h", "v", "hv", "diag", "all"):
        prims.append(_p("symmetrize", symmetrize, kind=kind))
    for c in ctx.in_colours:
        prims.append(_p("complete_symmetry", complete_symmetry, c=c))
        prims.append(_p("symmetry_patch", symmetry_patch, CHANGES, c=c))
    for mode in MODES:
        for how in SELECTORS:
            prims.append(_p("keep_object", keep_object, how=how, mode=mode))
            prims.append(_p("remove_object", remove_object, how=how, mode=mode))
    prims.append(_p("remove_specks", remove_specks))
    for c in ctx.out_colours:
        prims.append(_p("fill_enclosed", fill_enclosed, c=c))
    for axis in ("row", "col", "both"):
        prims.append(_p("connect", connect, axis=axis))
    for c in ctx.in_colours:
        prims.append(_p("keep_colour", keep_colour, c=c))
        prims.append(_p("remove_colour", remove_colour, c=c))
    for c in ctx.out_colours:
        prims.append(_p("recolour_all", recolour_all, c=c))
    for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        prims.append(_p("shift", shift, dr=dr, dc=dc))
    prims += [_p("colour_cell", colour_cell, CHANGES, role="most"), _p("colour_cell", colour_cell, CHANGES, role="least"),
              _p("count_objects", count_objects, CHANGES, vertical=False),
              _p("count_objects", count_objects, CHANGES, vertical=True),
              _p("colours_by_frequency", colours_by_frequency, CHANGES, vertical=False),
              _p("colours_by_frequency", colours_by_frequency, CHANGES, vertical=True)]
    return prims
