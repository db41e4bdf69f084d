"""Templates copied: a shape mirrored across the edges its marker cells touch; a template scaled
onto markers that share its anchor colour; a template copied onto matching anchors (turned,
scaled, off the edge); a frame drawn round every hole its inside fits; templates placed on lone
cells of their anchor colour, turned as each colour's fitted map says. Designed on ARC-AGI-1
training tasks only; where several settings fit, the rule answers only where they agree.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import (EIGHT_MAPS, Primitive, background_colours, most_frequent, objects, on_a_background,
                                 one_answer, reproduces, same_shapes)


# --- a shape mirrored toward each marker beside it ---------------------------------------------


def mirror_to_markers(grid: np.ndarray, bg: int) -> np.ndarray | None:
    """Each object (8-connected, of several colours): its main colour's shape mirrored across
    the edge of its box each other colour lies beyond (a corner: both edges), painted that
    colour; None where a marker lies inside the box or a grid has no marker."""
    out = grid.copy()
    hit = False
    for o in objects(grid, False, True, bg):
        if o.n_colours < 2:
            continue
        main = o.mask & (grid == o.colour)
        rows, cols = np.nonzero(main)
        t, l, b, r = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
        sides: dict[int, tuple[int, int]] = {}
        for i, j in np.argwhere(o.mask & ~main).tolist():
            v = (-1 if i < t else 1 if i >= b else 0, -1 if j < l else 1 if j >= r else 0)
            if v == (0, 0) or sides.setdefault(int(grid[i, j]), v) != v:
                return None
        for colour, (dv, dh) in sides.items():
            rr = rows if dv == 0 else (2 * t - 1 - rows if dv < 0 else 2 * b - 1 - rows)
            cc = cols if dh == 0 else (2 * l - 1 - cols if dh < 0 else 2 * r - 1 - cols)
            inside = (rr >= 0) & (rr < grid.shape[0]) & (cc >= 0) & (cc < grid.shape[1])
            out[rr[inside], cc[inside]] = colour
            hit = True
    return out if hit else None


def fit_mirror_to_markers(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Shapes mirrored toward the marker cells beside them, in the markers' colours (b775ac94)."""
    if not same_shapes(made, wanted):
        return None
    return on_a_background("mirror_to_markers", mirror_to_markers, made, wanted)


# --- a template copied onto markers at the markers' scale --------------------------------------


def _block_scale(cells: np.ndarray) -> int:
    """The largest k such that the (cropped) cells are a k-times scaled-up grid."""
    runs = []
    for line in list(cells) + list(cells.T):
        start = 0
        for j in range(1, len(line) + 1):
            if j == len(line) or line[j] != line[start]:
                runs.append(j - start)
                start = j
    return int(np.gcd.reduce(runs))


def scaled_template(grid: np.ndarray, bg: int) -> np.ndarray | None:
    """The template (the object of two colours with the most cells at scale 1) stamped onto each
    other object of two colours that shares one colour with it (the anchor): scaled to the
    anchor's size there, aligned on it, the template's other colour turned into the marker's
    other colour. None where the template or a marker does not fit."""
    found = [o for o in objects(grid, False, True, bg) if o.n_colours == 2]
    if len(found) < 2:
        return None
    crops = {}
    for n, o in enumerate(found):
        t, l, b, r = o.box
        crops[n] = np.where(o.mask[t:b, l:r], grid[t:b, l:r], -1)
    ones = [n for n in crops if _block_scale(crops[n]) == 1]
    if not ones:
        return None
    sizes = sorted((found[n].size for n in ones), reverse=True)
    if len(sizes) > 1 and sizes[0] == sizes[1]:
        return None
    tn = next(n for n in ones if found[n].size == sizes[0])
    template = crops[tn]
    palette = set(np.unique(template[template >= 0]).tolist())
    out = grid.copy()
    hit = False
    for n, o in enumerate(found):
        if n == tn:
            continue
        cells = crops[n]
        mine = set(np.unique(cells[cells >= 0]).tolist())
        shared = mine & palette
        if len(shared) != 1:
            return None
        anchor = shared.pop()
        other = (mine - {anchor}).pop()
        t_rows, t_cols = np.nonzero(template == anchor)
        m_rows, m_cols = np.nonzero(cells == anchor)
        ta = (template == anchor)[t_rows.min():t_rows.max() + 1, t_cols.min():t_cols.max() + 1]
        ma = (cells == anchor)[m_rows.min():m_rows.max() + 1, m_cols.min():m_cols.max() + 1]
        k = ma.shape[0] // ta.shape[0]
        if k < 1 or not np.array_equal(np.kron(ta, np.ones((k, k), dtype=bool)), ma):
            return None
        stamp = np.kron(template, np.ones((k, k), dtype=template.dtype))
        stamp = np.where(stamp == anchor, anchor, np.where(stamp >= 0, other, -1))
        top = o.box[0] + m_rows.min() - k * t_rows.min()
        left = o.box[1] + m_cols.min() - k * t_cols.min()
        placed = np.full(grid.shape, -1, dtype=np.int16)
        h, w = stamp.shape
        r0, c0 = max(top, 0), max(left, 0)
        r1, c1 = min(top + h, grid.shape[0]), min(left + w, grid.shape[1])
        if r0 >= r1 or c0 >= c1:
            return None
        placed[r0:r1, c0:c1] = stamp[r0 - top:r1 - top, c0 - left:c1 - left]
        if (placed[o.mask] != grid[o.mask]).any():
            return None
        out[placed >= 0] = placed[placed >= 0]
        hit = True
    return out if hit else None


def fit_scaled_template(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """A two-colour template copied onto markers that share one of its colours, scaled to the
    marker, in the marker's other colour (57aa92db)."""
    if not same_shapes(made, wanted):
        return None
    return on_a_background("scaled_template", scaled_template, made, wanted)


# --- a template copied wherever its anchor cells appear ----------------------------------------


def _template(grid: np.ndarray, bg: int, trim: bool) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(the template's cells, -1 off it; the grid without it; its anchor colour) for the one object
    of several colours, whose one colour that also shows outside it is the anchor; `trim`: cut to
    the box of its other cells. None where there is no such template."""
    found = objects(grid, False, True, bg)
    several = [o for o in found if o.n_colours > 1]
    if len(several) != 1:
        return None
    tpl = several[0]
    t, l, b, r = tpl.box
    cells = np.where(tpl.mask[t:b, l:r], grid[t:b, l:r], -1).astype(np.int16)
    outside = grid.copy()
    outside[tpl.mask] = bg
    anchors = [c for c in np.unique(cells[cells >= 0]).tolist() if (outside == c).any()]
    if len(anchors) != 1:
        return None
    anchor = anchors[0]
    if trim:
        rows, cols = np.nonzero((cells >= 0) & (cells != anchor))
        t2, l2, b2, r2 = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
        cells = cells[t2:b2, l2:r2]
        if not (cells == anchor).any():
            return None
        outside = grid.copy()
        outside[t + t2:t + b2, l + l2:l + r2][cells >= 0] = bg
    return cells, outside, anchor


def template_on_anchors(grid: np.ndarray, bg: int, turns: int, most_scale: int, trim: bool) -> np.ndarray | None:
    """The template (the one object of several colours) copied, turned by one of the first `turns`
    rigid maps and scaled up to `most_scale` times, wherever its cells of one colour (the anchor,
    which also shows outside it) appear: the anchor's cells there exactly whole components of that
    colour, the template's other cells all background. None where there is no such template or
    no copy."""
    template = _template(grid, bg, trim)
    if template is None:
        return None
    cells, outside, anchor = template
    labels = np.zeros(grid.shape, dtype=np.int32)
    for n, o in enumerate(o for o in objects(outside, True, True, bg) if o.colour == anchor):
        labels[o.mask] = n + 1
    sizes = np.bincount(labels.ravel())
    out = grid.copy()
    hit = False
    h, w = grid.shape
    parts = objects((cells == anchor).astype(np.int8), True, True)
    least = min(p.size for p in parts)
    present = set(sizes[1:].tolist())
    for scale in range(1, most_scale + 1):
        if scale * scale * least not in present:
            continue
        for rigid in EIGHT_MAPS[:turns]:
            stamp = np.kron(rigid(cells), np.ones((scale, scale), dtype=np.int16))
            sh, sw = stamp.shape
            if sh > h + 10 or sw > w + 10:
                continue
            is_anchor = stamp == anchor
            is_other = (stamp >= 0) & ~is_anchor
            padded = np.pad(outside.astype(np.int16), ((sh - 1, sh - 1), (sw - 1, sw - 1)), constant_values=bg)
            plabels = np.pad(labels, ((sh - 1, sh - 1), (sw - 1, sw - 1)))
            room = np.pad(np.zeros(grid.shape, dtype=bool), ((sh - 1, sh - 1), (sw - 1, sw - 1)),
                          constant_values=True)
            for i in range(h + sh - 1):
                for j in range(w + sw - 1):
                    window = padded[i:i + sh, j:j + sw]
                    if not (window[is_anchor] == anchor).all() or room[i:i + sh, j:j + sw][is_anchor].any():
                        continue
                    if not (window[is_other] == bg).all():
                        continue
                    got = plabels[i:i + sh, j:j + sw][is_anchor]
                    ids, n = np.unique(got, return_counts=True)
                    if (sizes[ids] != n).any():
                        continue
                    rows, cols = np.nonzero(stamp >= 0)
                    rr, cc = rows + i - (sh - 1), cols + j - (sw - 1)
                    keep = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
                    out[rr[keep], cc[keep]] = stamp[rows[keep], cols[keep]]
                    hit = True
    return out if hit else None


def fit_template_on_anchors(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """A template copied wherever the cells of its anchor colour appear elsewhere (turned or not,
    scaled or not: the settings that reproduce the demonstrations, answering where they agree;
    447fd412, 7df24a62)."""
    if not same_shapes(made, wanted) or any((a != b).sum() == 0 for a, b in zip(made, wanted)):
        return None
    if any(((a != b) & (a != most_frequent(a))).any() for a, b in zip(made, wanted)):
        return None
    steps = []
    for bg in background_colours(made):
        for turns, tname in ((1, "as is"), (8, "turned")):
            for most_scale in (1, 10):
                for trim in (False, True):
                    step = Primitive(f"template_on_anchors(on {bg}, {tname}, scale <= {most_scale}"
                                     f"{', trimmed' if trim else ''})",
                                     partial(template_on_anchors, bg=bg, turns=turns, most_scale=most_scale, trim=trim))
                    if reproduces(step, made, wanted):
                        steps.append(step)
        if steps:
            break
    return one_answer("template_on_anchors", steps)


# --- a frame copied around the other holes of its inside's size ---------------------------------


def frame_onto_holes(grid: np.ndarray, bg: int) -> np.ndarray | None:
    """The frame (the one colour whose cells are exactly a box's border, its inside all `bg`)
    drawn around every other block of `bg` cells of its inside's size that no empty line beside it
    extends; None where there is no such frame or no such block."""
    frames = []
    for colour in np.unique(grid).tolist():
        if colour == bg:
            continue
        rows, cols = np.nonzero(grid == colour)
        t, l, b, r = rows.min(), cols.min(), rows.max() + 1, cols.max() + 1
        if b - t < 3 or r - l < 3 or len(rows) != 2 * (b - t + r - l) - 4:
            continue
        box = grid[t:b, l:r]
        if (box[0] == colour).all() and (box[-1] == colour).all() and (box[:, 0] == colour).all() \
                and (box[:, -1] == colour).all() and (box[1:-1, 1:-1] == bg).all():
            frames.append((colour, t, l, b, r))
    if len(frames) != 1:
        return None
    colour, t, l, b, r = frames[0]
    ih, iw = b - t - 2, r - l - 2
    empty = (grid == bg).astype(np.int32)
    sums = np.lib.stride_tricks.sliding_window_view(empty, (ih, iw)).sum(axis=(2, 3))
    out = grid.copy()
    hit = False
    for i, j in np.argwhere(sums == ih * iw).tolist():
        if (i, j) == (t + 1, l + 1) or i == 0 or j == 0 or i + ih == grid.shape[0] or j + iw == grid.shape[1]:
            continue
        sides = (grid[i - 1, j:j + iw], grid[i + ih, j:j + iw], grid[i:i + ih, j - 1], grid[i:i + ih, j + iw])
        if any((side == bg).all() for side in sides):
            continue  # a larger empty block: not a hole of the inside's size
        ring = out[i - 1:i + ih + 1, j - 1:j + iw + 1]
        ring[0], ring[-1], ring[:, 0], ring[:, -1] = colour, colour, colour, colour
        hit = True
    return out if hit else None


def fit_frame_onto_holes(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """A frame copied around the other empty blocks of its inside's size (890034e9)."""
    if not same_shapes(made, wanted):
        return None
    return on_a_background("frame_onto_holes", frame_onto_holes, made, wanted)


# --- templates copied onto lone cells of their anchor colour, each colour with its own map -------


def _templates_and_markers(grid: np.ndarray, bg: int):
    """{anchor colour: (template cells, anchor row, anchor col)} for the objects of several
    colours with one colour in a single cell, and [(colour, row, col)] for the lone cells of those
    colours; None where two templates share an anchor colour."""
    found = objects(grid, False, True, bg)
    templates = {}
    for o in found:
        if o.n_colours < 2:
            continue
        t, l, b, r = o.box
        cells = np.where(o.mask[t:b, l:r], grid[t:b, l:r], -1).astype(np.int16)
        counts = np.bincount(cells[cells >= 0], minlength=10)
        singles = [c for c in range(10) if counts[c] == 1]
        lone = {o2.colour for o2 in found if o2.size == 1}
        ok = [c for c in singles if c in lone]
        if len(ok) != 1:
            return None
        c = ok[0]
        if c in templates:
            return None
        (ai, aj), = np.argwhere(cells == c).tolist()
        templates[c] = (cells, ai, aj)
    markers = [(o.colour, o.box[0], o.box[1]) for o in found if o.size == 1 and o.colour in templates]
    return templates, markers


def _placed(grid_shape, cells, ai, aj, rigid, i, j):
    """(rows, cols, colours) of the template turned by `rigid`, its anchor on (i, j), clipped."""
    index = np.arange(cells.size).reshape(cells.shape)
    turned, tindex = rigid(cells), rigid(index)
    (ti, tj), = np.argwhere(tindex == ai * cells.shape[1] + aj).tolist()
    rows, cols = np.nonzero(turned >= 0)
    rr, cc = rows + i - ti, cols + j - tj
    keep = (rr >= 0) & (rr < grid_shape[0]) & (cc >= 0) & (cc < grid_shape[1])
    return rr[keep], cc[keep], turned[rows[keep], cols[keep]]


def templates_by_colour(grid: np.ndarray, bg: int, maps: dict) -> np.ndarray | None:
    """Each lone cell of a template's anchor colour gets that template, turned by the maps fitted
    for the colour (all must agree), its anchor on the cell; None where a colour has no map."""
    found = _templates_and_markers(grid, bg)
    if found is None or not found[1]:
        return None
    templates, markers = found
    out = grid.copy()
    for c, i, j in markers:
        if c not in maps:
            return None
        cells, ai, aj = templates[c]
        results = {tuple(map(tuple, _placed(grid.shape, cells, ai, aj, EIGHT_MAPS[k], i, j))) for k in maps[c]}
        if len(results) != 1:
            return None
        rr, cc, vv = _placed(grid.shape, cells, ai, aj, EIGHT_MAPS[maps[c][0]], i, j)
        out[rr, cc] = vv
    return out


def fit_templates_by_colour(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Templates copied onto lone cells of their anchor colour, turned by a rigid map read off
    the demonstrations for each anchor colour (3e980e27)."""
    if not same_shapes(made, wanted):
        return None
    for bg in background_colours(made):
        maps: dict[int, set] = {}
        ok = True
        for a, b in zip(made, wanted):
            found = _templates_and_markers(a, bg)
            if found is None or not found[1]:
                ok = False
                break
            templates, markers = found
            for c, i, j in markers:
                cells, ai, aj = templates[c]
                fits = set()
                for k, rigid in enumerate(EIGHT_MAPS):
                    rr, cc, vv = _placed(a.shape, cells, ai, aj, rigid, i, j)
                    if (b[rr, cc] == vv).all():
                        fits.add(k)
                maps[c] = maps[c] & fits if c in maps else fits
        if not ok or not maps or any(not v for v in maps.values()):
            continue
        table = {c: tuple(sorted(v)) for c, v in maps.items()}
        step = Primitive(f"templates_by_colour(on {bg}, maps {table})",
                         partial(templates_by_colour, bg=bg, maps=table))
        if reproduces(step, made, wanted):
            return step
    return None
