"""Puzzles put together: a shape placed in a frame of four coloured sides and recoloured by the
nearest; a template scaled onto its partial copy between four corner marks; nested Ls carried
on to a larger grid; loose pieces moved into holes of their shape; pieces turned and moved onto
the lone cells their marks match; the small shape whose enlargement is the large one. Designed
on ARC-AGI-1 training tasks only.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import (CHANGES, EIGHT_MAPS, SAME, Primitive, background, background_colours,
                                 background_policies, bbox, objects, on_a_background, reproduces, same_shapes)
from arcttt.programs.features import around


def _on_a_policy(name: str, rule, made: list[np.ndarray], wanted: list[np.ndarray],
                 shape: str = CHANGES) -> Primitive | None:
    """`rule(grid, bg)` under the first background policy (`background_policies`) that reproduces
    every demonstration; None where none does."""
    for bgp in background_policies(made):
        step = Primitive(f"{name}(on {bgp})", partial(_with_background, rule=rule, bgp=bgp), shape)
        if reproduces(step, made, wanted):
            return step
    return None


def _with_background(g: np.ndarray, rule, bgp) -> np.ndarray | None:
    """The rule on the grid with the background its policy names."""
    return rule(g, background(g, bgp))


# --- a shape put inside a frame of four coloured sides, each cell taking its nearest side's colour ---


def _side_frame(g: np.ndarray, bg: int):
    """(top, left, bottom, right) exclusive box and the four side colours (top, bottom, left, right)
    of the one frame made of four straight one-colour lines whose corners are left empty: two rows
    spanning the same columns, two columns spanning the rows between them."""
    lines = []
    for o in objects(g, True, False, bg):
        t, l, b, r = o.box
        if o.size == (b - t) * (r - l) and (b - t == 1 or r - l == 1) and o.size >= 2:
            lines.append(o)
    rows = [o for o in lines if o.box[2] - o.box[0] == 1]
    cols = [o for o in lines if o.box[3] - o.box[1] == 1]
    found = []
    for top in rows:
        for bot in rows:
            if bot.box[0] <= top.box[0] + 1 or (bot.box[1], bot.box[3]) != (top.box[1], top.box[3]):
                continue
            t, l, r = top.box[0], top.box[1] - 1, top.box[3]
            b = bot.box[0]
            left = [o for o in cols if o.box == (t + 1, l, b, l + 1)]
            right = [o for o in cols if o.box == (t + 1, r, b, r + 1)]
            if len(left) == 1 and len(right) == 1:
                found.append(((t, l, b + 1, r + 1), (top.colour, bot.colour, left[0].colour, right[0].colour),
                              (top, bot, left[0], right[0])))
    return found[0] if len(found) == 1 else None


def frame_nearest_side(g: np.ndarray, bg: int) -> np.ndarray | None:
    """The frame cut out with the grid's other cells (a shape of the interior's size) put inside it,
    each of the shape's cells painted the colour of the one side nearest it (kept on a tie)."""
    found = _side_frame(g, bg)
    if found is None:
        return None
    (t, l, b, r), (ct, cb, cl, cr), parts = found
    rest = g != bg
    for o in parts:
        rest &= ~o.mask
    box = bbox(rest)
    if box is None:
        return None
    h, w = b - t - 2, r - l - 2
    if (box[2] - box[0], box[3] - box[1]) != (h, w):
        return None
    shape = g[box[0]:box[2], box[1]:box[3]]
    out = g[t:b, l:r].copy()
    inner = out[1:-1, 1:-1]
    if (inner != bg).any():
        return None
    for i in range(h):
        for j in range(w):
            if shape[i, j] == bg:
                continue
            d = (i, h - 1 - i, j, w - 1 - j)
            m = min(d)
            inner[i, j] = (ct, cb, cl, cr)[d.index(m)] if d.count(m) == 1 else shape[i, j]
    return out


def fit_frame_nearest_side(made, wanted):
    """A shape put into the frame of four coloured sides, recoloured by the nearest side."""
    if same_shapes(made, wanted):
        return None
    return _on_a_policy("frame_nearest_side", frame_nearest_side, made, wanted)


# --- a template scaled onto its partial copy between four corner marks ---------------------------


def _corner_box(g: np.ndarray, bg: int):
    """(colour, box) of the one colour with exactly four cells at the corners of a rectangle."""
    found = []
    for c in range(10):
        if c == bg:
            continue
        rs, cs = np.nonzero(g == c)
        if len(rs) != 4:
            continue
        t, b, l, r = rs.min(), rs.max(), cs.min(), cs.max()
        if b - t >= 2 and r - l >= 2 and {(int(i), int(j)) for i, j in zip(rs, cs)} == {(t, l), (t, r), (b, l), (b, r)}:
            found.append((c, (int(t), int(l), int(b) + 1, int(r) + 1)))
    return found[0] if len(found) == 1 else None


def _whole_blocks(view: np.ndarray, template: np.ndarray, k: int, bg: int) -> bool:
    """Whether each of the template's cells, scaled to a k x k block, is shown whole or not at all."""
    for a in range(template.shape[0]):
        for b in range(template.shape[1]):
            block = view[a * k:(a + 1) * k, b * k:(b + 1) * k]
            if (block != bg).any() and not (block != bg).all():
                return False
    return True


def scale_template_into_marks(g: np.ndarray, bg: int) -> np.ndarray | None:
    """The box between four corner marks cut out, and the one shape outside it (of several colours)
    scaled by the one factor and put at the one place where every non-empty cell inside agrees with
    it, painted over the inside."""
    found = _corner_box(g, bg)
    if found is None:
        return None
    mark, (t, l, b, r) = found
    outside = g != bg
    outside[t:b, l:r] = False
    tb = bbox(outside)
    if tb is None:
        return None
    template = g[tb[0]:tb[2], tb[1]:tb[3]]
    # the outside must be just the template: one 8-connected object
    if sum(1 for o in objects(g, False, True, bg) if (o.mask & outside).any()) != 1:
        return None
    if len(set(template[template != bg].tolist())) < 2:
        return None
    inside = g[t:b, l:r].copy()
    inner = inside.copy()
    inner[0, 0] = inner[0, -1] = inner[-1, 0] = inner[-1, -1] = bg
    cells = np.argwhere(inner != bg)
    if len(cells) == 0:
        return None
    places = []
    th, tw = template.shape
    for k in range(1, 11):
        big = np.kron(template, np.ones((k, k), dtype=template.dtype))
        bh, bw = big.shape
        if bh > b - t or bw > r - l:
            break
        for i in range(0, b - t - bh + 1):
            for j in range(0, r - l - bw + 1):
                ok = True
                for ci, cj in cells:
                    ii, jj = ci - i, cj - j
                    if not (0 <= ii < bh and 0 <= jj < bw) or big[ii, jj] != inner[ci, cj]:
                        ok = False
                        break
                if ok and _whole_blocks(inner[i:i + bh, j:j + bw], template, k, bg):
                    places.append((k, i, j, big))
    if len(places) != 1:
        return None
    k, i, j, big = places[0]
    if k == 1:
        return None
    view = inside[i:i + big.shape[0], j:j + big.shape[1]]
    view[big != bg] = big[big != bg]
    return inside


def fit_scale_template_into_marks(made, wanted):
    """A small template scaled onto its partial larger copy, cut to four corner marks."""
    if same_shapes(made, wanted):
        return None
    return on_a_background("scale_template_into_marks", scale_template_into_marks, made, wanted, CHANGES)


# --- nested L shapes around a corner carried on with their colours repeating --------------------


def nested_ls(g: np.ndarray, factor: int, bg: int) -> np.ndarray | None:
    """The input's square of nested L shapes around its top-left corner (colour k on the cells
    whose larger coordinate is k, the rest empty) carried on over a grid `factor` times as large,
    the Ls' colours repeating from the first."""
    h, w = g.shape
    seq = []
    for i in range(min(h, w)):
        if g[i, i] == bg:
            break
        seq.append(int(g[i, i]))
    n = len(seq)
    if n < 2 or len(set(seq)) < 2:
        return None
    idx = np.maximum.outer(np.arange(h), np.arange(w))
    want = np.full((h, w), bg, dtype=g.dtype)
    want[:n, :n] = np.asarray(seq, dtype=g.dtype)[idx[:n, :n]]
    if not np.array_equal(want, g):
        return None
    big = np.maximum.outer(np.arange(h * factor), np.arange(w * factor)) % n
    return np.asarray(seq, dtype=g.dtype)[big]


def fit_nested_ls(made, wanted):
    """Nested L shapes carried on to a grid k times as large, their colours repeating."""
    factors = {(b.shape[0] / a.shape[0], b.shape[1] / a.shape[1]) for a, b in zip(made, wanted)}
    if len(factors) != 1:
        return None
    f, f2 = factors.pop()
    if f != f2 or f != int(f) or f < 2:
        return None
    for bg in background_colours(made):
        step = partial(nested_ls, factor=int(f), bg=bg)
        if reproduces(step, made, wanted):
            return Primitive(f"nested_ls(x{int(f)}, bg {bg})", step, CHANGES)
    return None


# --- pieces moved into the holes of their shape ----------------------------------------------------


def _holes(g: np.ndarray, bg: int):
    """Empty 4-connected regions off the border whose neighbours all have one colour: (mask, wall colour)."""
    h, w = g.shape
    out = []
    empty = np.where(g == bg, 1, 0).astype(np.int8)
    for o in objects(empty, True, False, 0):
        t, l, b, r = o.box
        if t == 0 or l == 0 or b == h or r == w:
            continue
        walls = set(g[around(o.mask)].tolist())
        if len(walls) == 1:
            out.append((o, walls.pop()))
    return out


def pieces_into_holes(g: np.ndarray, bg: int) -> np.ndarray | None:
    """Each hole (an empty region enclosed by one colour) filled by the one loose piece (8-connected,
    the only object of its colour, not the wall's colour) of its exact shape, the piece taken away; holes with no such
    piece are left; None where no piece moves or a hole has two candidates."""
    holes = _holes(g, bg)
    if not holes:
        return None
    found = objects(g, True, True, bg)
    per_colour = np.bincount([o.colour for o in found], minlength=10)
    pieces = [o for o in found if per_colour[o.colour] == 1]
    out = g.copy()
    used = set()
    moved = 0
    for hole, wall in holes:
        key = hole.shape_key()
        fits = [k for k, p in enumerate(pieces) if p.colour != wall and p.shape_key() == key]
        if len(fits) > 1:
            return None
        if not fits:
            continue
        k = fits[0]
        if k in used:
            return None
        used.add(k)
        out[pieces[k].mask] = bg
        moved += 1
    for hole, wall in holes:
        key = hole.shape_key()
        fits = [k for k, p in enumerate(pieces) if p.colour != wall and p.shape_key() == key]
        if fits:
            out[hole.mask] = pieces[fits[0]].colour
    return out if moved else None


def fit_pieces_into_holes(made, wanted):
    """Loose pieces moved into the enclosed holes of their exact shape."""
    if not same_shapes(made, wanted):
        return None
    return _on_a_policy("pieces_into_holes", pieces_into_holes, made, wanted, SAME)


# --- pieces turned and moved onto the lone cells that match their marked cells -------------------


def pieces_to_anchors(g: np.ndarray, bg: int) -> np.ndarray | None:
    """Each piece (a 4-connected object of several colours, whose colours but the main one mark
    single cells) turned or flipped and moved to the one place where its marked cells fall on lone
    cells of the same colours; the piece's old place emptied. None where a piece has no such place or
    two, or two pieces claim one lone cell."""
    found = objects(g, False, False, bg)
    lone = {(o.box[0], o.box[1]): int(g[o.box[0], o.box[1]]) for o in found if o.size == 1}
    pieces = [o for o in found if o.size >= 3 and o.n_colours >= 2]
    if not pieces or len(lone) < 2:
        return None
    out = g.copy()
    for p in pieces:
        out[p.mask] = bg
    claimed = set()
    paints = []
    for p in pieces:
        t, l, b, r = p.box
        cut = np.where(p.mask[t:b, l:r], g[t:b, l:r], bg)
        n = np.bincount(cut[cut != bg], minlength=10)
        marks = [c for c in range(10) if n[c] == 1]
        if len(marks) < 2 or len(marks) != (n > 0).sum() - 1:
            return None
        places = {}
        for f in EIGHT_MAPS:
            m = np.ascontiguousarray(f(cut))
            anchors = [(int(i), int(j), int(m[i, j])) for i, j in np.argwhere(np.isin(m, marks))]
            i0, j0, c0 = anchors[0]
            for (y, x), c in lone.items():
                if c != c0:
                    continue
                di, dj = y - i0, x - j0
                if all(lone.get((i + di, j + dj)) == c for i, j, c in anchors):
                    if di < 0 or dj < 0 or di + m.shape[0] > g.shape[0] or dj + m.shape[1] > g.shape[1]:
                        continue
                    cells = tuple((int(i + di), int(j + dj), int(m[i, j])) for i, j in np.argwhere(m != bg))
                    places[cells] = [(i + di, j + dj) for i, j, _ in anchors]
        if len(places) != 1:
            return None
        cells, used = next(iter(places.items()))
        if claimed & set(used):
            return None
        claimed |= set(used)
        paints.append(cells)
    for cells in paints:
        for i, j, c in cells:
            out[i, j] = c
    return out


def fit_pieces_to_anchors(made, wanted):
    """Pieces turned and moved onto the lone cells matching their marked cells."""
    if not same_shapes(made, wanted):
        return None
    return _on_a_policy("pieces_to_anchors", pieces_to_anchors, made, wanted, SAME)


# --- the small shape whose enlargement is the large (perhaps cut off) shape -----------------------


def _scaled_match(small: np.ndarray, big: np.ndarray, box, k: int) -> bool:
    """Whether the small mask, k times larger, placed somewhere (perhaps partly off the grid), shows
    exactly the big mask on the grid."""
    s = np.kron(small, np.ones((k, k), dtype=bool))
    sh, sw = s.shape
    h, w = big.shape
    t, l, b, r = box
    if b - t > sh or r - l > sw:
        return False
    for oi in range(b - sh, t + 1):
        for oj in range(r - sw, l + 1):
            placed = np.zeros((h, w), dtype=bool)
            i0, j0 = max(oi, 0), max(oj, 0)
            i1, j1 = min(oi + sh, h), min(oj + sw, w)
            placed[i0:i1, j0:j1] = s[i0 - oi:i1 - oi, j0 - oj:j1 - oj]
            if np.array_equal(placed, big):
                return True
    return False


def scaled_twin(g: np.ndarray, bg: int) -> np.ndarray | None:
    """Of the one-colour shapes, the one that, 2 or 3 times larger, is the shape of the most
    frequent other colour (all its cells, which the grid's edge may cut off), cut out; None unless
    exactly one is, or where the grid shows fewer than three colours besides `bg` (a big shape, a
    twin and the others it is told from)."""
    n = np.bincount(g.ravel(), minlength=10)
    n[bg] = 0
    order = np.argsort(-n, kind="stable")
    if n[order[0]] == n[order[1]] or n[order[2]] == 0:
        return None
    colour = int(order[0])
    big = g == colour
    box = bbox(big)
    hits = []
    for o in objects(g, True, True, bg):
        if o.colour == colour or o.size < 2:
            continue
        t, l, b, r = o.box
        if any(_scaled_match(o.mask[t:b, l:r], big, box, k) for k in (2, 3)):
            hits.append(o)
    if len(hits) != 1:
        return None
    o = hits[0]
    t, l, b, r = o.box
    return np.where(o.mask[t:b, l:r], g[t:b, l:r], bg).astype(g.dtype)


def fit_scaled_twin(made, wanted):
    """The small shape whose enlargement is the large shape, cut out."""
    if same_shapes(made, wanted):
        return None
    return _on_a_policy("scaled_twin", scaled_twin, made, wanted)
