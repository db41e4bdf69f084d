"""Rays and copies drawn from seeds: diagonal rays from a container's free corners in its content's
colour; an object swept diagonally toward its corner markers; a shape copied along the diagonal
toward a marker; a ray from an object's odd cell out of its tip; a diagonal carried on and
mirrored off walls; rays from edge cells stepping aside round obstacles. Designed on ARC-AGI-1
training tasks only.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import (Primitive, changes, most_frequent, objects, only_background_changes, reproduces,
                                 same_shapes)
from arcttt.programs.rays import DIRECTION_SETS


DIAGONALS = DIRECTION_SETS["diagonals"]


# --- rays from a container's corners, in its content's colour -------------------------------------


def content_corner_rays(grid: np.ndarray, paint: str) -> np.ndarray | None:
    """Two objects (one colour each, 8-connected); the one whose box holds the other's box shoots
    a diagonal ray over the background from each corner cell whose three outer neighbours on that
    diagonal side are background, to the first other cell or the edge; in the colour of the held
    object (`paint`="content") or its own ("own"). None where that is not so, or nothing is drawn."""
    bg = most_frequent(grid)
    found = objects(grid, True, True, bg)
    if len(found) != 2:
        return None
    h, w = grid.shape

    def holds(a, b):
        return a.box[0] <= b.box[0] and a.box[1] <= b.box[1] and a.box[2] >= b.box[2] and a.box[3] >= b.box[3]

    pairs = [(a, b) for a, b in (found, found[::-1]) if holds(a, b)]
    if len(pairs) != 1:
        return None
    outer, inner = pairs[0]
    colour = inner.colour if paint == "content" else outer.colour

    def free(r, c):
        return 0 <= r < h and 0 <= c < w and grid[r, c] == bg

    out, drawn = grid.copy(), False
    for r0, c0 in np.argwhere(outer.mask).tolist():
        for dr, dc in DIAGONALS:
            if not (free(r0 + dr, c0) and free(r0, c0 + dc) and free(r0 + dr, c0 + dc)):
                continue
            r, c = r0 + dr, c0 + dc
            while free(r, c):
                out[r, c], drawn = colour, True
                r, c = r + dr, c + dc
    return out if drawn else None


def fit_content_corner_rays(made, wanted):
    """Of two objects, the one whose box holds the other shoots diagonal rays from its free corners, in the
    held one's colour or its own."""
    if not same_shapes(made, wanted) or not only_background_changes(made, wanted):
        return None
    for paint in ("content", "own"):
        step = Primitive(f"content_corner_rays({paint})", partial(content_corner_rays, paint=paint))
        if reproduces(step, made, wanted):
            return step
    return None


# --- an object swept towards its marked corners ---------------------------------------------------


def marker_sweep(grid: np.ndarray, marker: int) -> np.ndarray | None:
    """Each object (8-connected, any colours) holding cells of `marker` and one other colour: for
    each marker cell at a corner of the object's box, the object swept diagonally out through
    that corner to the edge; painted, with the markers, in the other colour. None where an object
    has no body colour, is one cell thin (its ends are two corners each), a marker is not at a box
    corner, or there is no marker."""
    bg = most_frequent(grid)
    if marker == bg:
        return None
    h, w = grid.shape
    out, done = grid.copy(), False
    for o in objects(grid, False, True, bg):
        cells = grid[o.mask]
        body = set(np.unique(cells).tolist()) - {marker}
        if not (cells == marker).any():
            continue
        if len(body) != 1:
            return None
        body = body.pop()
        t, l, b, r = o.box
        if b - t < 2 or r - l < 2:
            return None
        pts = np.argwhere(o.mask)
        for y, x in np.argwhere(o.mask & (grid == marker)).tolist():
            if y not in (t, b - 1) or x not in (l, r - 1):
                return None
            dy, dx = (-1 if y == t else 1), (-1 if x == l else 1)
            for k in range(1, max(h, w) + 1):
                rr, cc = pts[:, 0] + k * dy, pts[:, 1] + k * dx
                ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
                if not ok.any():
                    break
                sel = ok.copy()
                sel[ok] = grid[rr[ok], cc[ok]] == bg
                out[rr[sel], cc[sel]] = body
        out[o.mask] = body
        done = True
    return out if done else None


def fit_marker_sweep(made, wanted):
    """Objects with marker cells at their box corners swept diagonally out through each marked corner to the
    edge, in their body colour (the marker colour fitted)."""
    if not same_shapes(made, wanted):
        return None
    pairs = changes(made, wanted)
    if not pairs:
        return None
    for marker in sorted({x for x, _ in pairs} - {most_frequent(made[0])}):
        step = Primitive(f"marker_sweep({marker})", partial(marker_sweep, marker=marker))
        if reproduces(step, made, wanted):
            return step
    return None


# --- a shape copied along a diagonal towards a marker ---------------------------------------------


def diagonal_copies(grid: np.ndarray, shape_colour: int) -> np.ndarray | None:
    """The cells of `shape_colour` (one 8-connected shape) and one marker cell of another colour
    off the background: copies of the shape in the marker's colour along the diagonal from the
    shape's box centre towards the marker, each the smallest diagonal stride from the last that
    does not overlap it, painted on background cells, to the edge. None where the marker is not
    one cell on a diagonal side of the centre, or it is not in the first copy."""
    bg = most_frequent(grid)
    if shape_colour == bg:
        return None
    mask = grid == shape_colour
    if not mask.any() or len([o for o in objects(grid, True, True, bg) if o.colour == shape_colour]) != 1:
        return None
    others = (grid != bg) & ~mask
    if others.sum() != 1:
        return None
    (my, mx), = np.argwhere(others).tolist()
    pts = np.argwhere(mask)
    t, l = pts.min(axis=0)
    b, r = pts.max(axis=0)
    sy, sx = 2 * my - (t + b), 2 * mx - (l + r)
    if sy == 0 or sx == 0:
        return None
    d = np.array([np.sign(sy), np.sign(sx)])
    cells = {tuple(p) for p in pts.tolist()}
    stride = next(k for k in range(1, 31) if not any((y + k * d[0], x + k * d[1]) in cells for y, x in cells))
    first = {(y + stride * d[0], x + stride * d[1]) for y, x in cells}
    if (my, mx) not in first:
        return None
    h, w = grid.shape
    out = grid.copy()
    colour = grid[my, mx]
    for j in range(1, 31):
        rr, cc = pts[:, 0] + j * stride * d[0], pts[:, 1] + j * stride * d[1]
        ok = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        if not ok.any():
            break
        sel = ok.copy()
        sel[ok] = grid[rr[ok], cc[ok]] == bg
        out[rr[sel], cc[sel]] = colour
    return out


def fit_diagonal_copies(made, wanted):
    """A shape of one colour copied in a lone marker's colour along the diagonal toward the marker, at the
    smallest stride that does not overlap it."""
    if not same_shapes(made, wanted) or not only_background_changes(made, wanted):
        return None
    common = set.intersection(*(set(np.unique(a).tolist()) - {most_frequent(a)} for a in made))
    for colour in sorted(common):
        step = Primitive(f"diagonal_copies(of {colour})", partial(diagonal_copies, shape_colour=colour))
        if reproduces(step, made, wanted):
            return step
    return None


# --- a ray out of an object's tip ------------------------------------------------------------------


def tip_ray(grid: np.ndarray) -> np.ndarray | None:
    """Each object (any colours, 8-connected) with exactly one cell of a colour of its own: a ray
    in that colour from the cell, along the row or column towards the object's far side (where
    the object's cells lie, all on one side, in line), over the background to the edge. None
    where no such object or direction."""
    bg = most_frequent(grid)
    h, w = grid.shape
    out, done = grid.copy(), False
    for o in objects(grid, False, True, bg):
        vals, cnt = np.unique(grid[o.mask], return_counts=True)
        if len(vals) != 2 or sorted(cnt.tolist())[0] != 1:
            continue
        odd = int(vals[np.argmin(cnt)])
        (y, x), = np.argwhere(o.mask & (grid == odd)).tolist()
        t, l, b, r = o.box
        ways = []
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            # the object's extent beyond the cell in this direction, measured through its box
            reach = {(-1, 0): y - t, (1, 0): b - 1 - y, (0, -1): x - l, (0, 1): r - 1 - x}[(dy, dx)]
            back = {(-1, 0): b - 1 - y, (1, 0): y - t, (0, -1): r - 1 - x, (0, 1): x - l}[(dy, dx)]
            if reach > 0 and back == 0:
                ways.append((dy, dx))
        if len(ways) != 1:
            return None
        dy, dx = ways[0]
        yy, xx = y + dy, x + dx
        while 0 <= yy < h and 0 <= xx < w:
            if grid[yy, xx] == bg:
                out[yy, xx], done = odd, True
            elif not o.mask[yy, xx]:
                break
            yy, xx = yy + dy, xx + dx
    return out if done else None


def fit_tip_ray(made, wanted):
    """A ray from an object's one odd-coloured cell, through the object, out of its tip to the edge."""
    if not same_shapes(made, wanted) or not only_background_changes(made, wanted):
        return None
    step = Primitive("tip_ray", tip_ray)
    return step if reproduces(step, made, wanted) else None


# --- a diagonal carried on, mirrored off a wall ---------------------------------------------------


def mirror_ray(grid: np.ndarray, paint: int) -> np.ndarray | None:
    """One diagonal segment (one colour, two cells or more) with one end on the grid's edge and
    a wall (a full-side band of another colour): from the other end the diagonal is carried on in
    `paint` over the background; where it meets the wall it turns back (the component across the
    wall flips), until it leaves the grid or meets another cell. None where not so."""
    bg = most_frequent(grid)
    h, w = grid.shape
    segs = [o for o in objects(grid, True, True, bg) if o.size >= 2]
    lines = []
    for o in segs:
        pts = np.argwhere(o.mask)
        pts = pts[np.argsort(pts[:, 0])]
        d = pts[1:] - pts[:-1]
        if len(d) and (np.abs(d) == 1).all() and (d == d[0]).all():
            lines.append((o, pts))
    if len(lines) != 1:
        return None
    o, pts = lines[0]
    ends = []
    for start, nxt in ((pts[0], pts[1]), (pts[-1], pts[-2])):
        dy, dx = start - nxt
        y, x = start + (dy, dx)
        if 0 <= y < h and 0 <= x < w:
            ends.append(((int(y), int(x)), (int(dy), int(dx))))
    if len(ends) != 1:
        return None
    (y, x), (dy, dx) = ends[0]
    out = grid.copy()
    drawn = False
    for _ in range(4 * (h + w)):
        if not (0 <= y < h and 0 <= x < w):
            break
        if grid[y, x] != bg:
            # a wall: turn back across the component that points into it
            py, px = y - dy, x - dx
            if 0 <= py + dy < h and grid[py + dy, px] != bg and (0 <= px + dx < w and grid[py, px + dx] == bg):
                dy = -dy
            elif 0 <= px + dx < w and grid[py, px + dx] != bg and (0 <= py + dy < h and grid[py + dy, px] == bg):
                dx = -dx
            else:
                break
            y, x = py + dy, px + dx
            continue
        out[y, x], drawn = paint, True
        y, x = y + dy, x + dx
    return out if drawn else None


def fit_mirror_ray(made, wanted):
    """A diagonal segment from the edge carried on from its free end in the added colour, mirrored off the
    walls."""
    if not same_shapes(made, wanted) or not only_background_changes(made, wanted):
        return None
    pairs = changes(made, wanted)
    if not pairs or len({y for _, y in pairs}) != 1:
        return None
    paint = next(iter(pairs))[1]
    step = Primitive(f"mirror_ray({paint})", partial(mirror_ray, paint=paint))
    return step if reproduces(step, made, wanted) else None


# --- rays that step aside round obstacles ---------------------------------------------------------


def sidestep_rays(grid: np.ndarray, source: int, d: tuple[int, int], side: int) -> np.ndarray | None:
    """From each cell of `source` on the edge the ray leaves, a ray along `d` over the background;
    where the next cell is not background the ray steps `side` (+1/-1, turned from `d`) one cell
    and carries on. None where there is no source on that edge."""
    h, w = grid.shape
    bg = most_frequent(grid)
    dy, dx = d
    sy, sx = (0, side) if dx == 0 else (side, 0)
    out, done = grid.copy(), False
    for y, x in np.argwhere(grid == source).tolist():
        if 0 <= y - dy < h and 0 <= x - dx < w:
            continue  # not on the edge it leaves
        for _ in range(2 * (h + w)):
            ny, nx = y + dy, x + dx
            if not (0 <= ny < h and 0 <= nx < w):
                break
            if grid[ny, nx] != bg:
                y, x = y + sy, x + sx
                if not (0 <= y < h and 0 <= x < w) or grid[y, x] != bg:
                    break
                out[y, x] = source
                continue
            out[ny, nx], done = source, True
            y, x = ny, nx
    return out if done else None


def fit_sidestep_rays(made, wanted):
    """Rays of the added colour from source cells on an edge that step one cell aside round each obstacle."""
    if not same_shapes(made, wanted) or not only_background_changes(made, wanted):
        return None
    pairs = changes(made, wanted)
    if not pairs or len({y for _, y in pairs}) != 1:
        return None
    source = next(iter(pairs))[1]
    for d in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        for side in (1, -1):
            step = Primitive(f"sidestep_rays({source}, {d}, side {side})",
                             partial(sidestep_rays, source=source, d=d, side=side))
            if reproduces(step, made, wanted):
                return step
    return None
