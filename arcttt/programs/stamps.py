"""Stamps: each object, by its look, paints a fixed pattern around itself.

A rule fitted on the demonstrations (`fit_stamp`): objects (8-connected, of one colour or of
several, on 0) are keyed by their cells, with their own colours or with colours named by order of
appearance; for each key, every offset around the object (its box grown by a margin) that always
shows one colour in the outputs is part of its stamp. A grid is stamped object by object; an
object never seen fails the rule. Where a 3x3 local rule fails because stamps landing near each
other make neighbourhoods never seen, this rule reads each object on its own. Beside it: a
template copied onto markers (`fit_copy_template`), partial copies of a template completed
(`fit_complete_copies`), a key's colours read through a mask (`fit_key_colours`). Designed on
ARC-AGI-1 training tasks only.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import Obj, Primitive, crop_mask, most_frequent, objects

MARGINS = (1, 2, 3)  # how far around its box an object's stamp may reach, smallest tried first


def _colours(grid: np.ndarray, o: Obj) -> list[int]:
    """The object's colours in order of first appearance (row by row)."""
    seen: list[int] = []
    for v in grid[o.mask].tolist():
        if v not in seen:
            seen.append(v)
    return seen


def _key(grid: np.ndarray, o: Obj, roles: bool) -> bytes:
    """The object's cells in its box: its colours as they are, or by order of appearance."""
    t, l, b, r = o.box
    cells = np.where(o.mask[t:b, l:r], grid[t:b, l:r] + 1, 0).astype(np.int8)
    if roles:
        order = _colours(grid, o)
        lookup = np.zeros(11, dtype=np.int8)
        for i, c in enumerate(order):
            lookup[c + 1] = i + 1
        cells = lookup[cells]
    return bytes(cells.shape) + cells.tobytes()


def _encode(v: int, palette: list[int], roles: bool) -> int:
    """An output colour as the object's i-th colour (10 + i) where `roles`, else as itself."""
    return 10 + palette.index(v) if roles and v in palette else v


def _offsets(o: Obj, margin: int, shape: tuple[int, int]):
    """(offset from the box's corner, cell) for each cell of the box grown by `margin`, inside the grid."""
    t, l, b, r = o.box
    for i in range(max(0, t - margin), min(shape[0], b + margin)):
        for j in range(max(0, l - margin), min(shape[1], r + margin)):
            yield (i - t, j - l), (i, j)


def _fit_table(made, wanted, by_colour: bool, roles: bool, margin: int) -> dict | None:
    """Key -> {offset: encoded colour} for the offsets that always show one colour."""
    seen: dict[bytes, dict[tuple[int, int], set[int]]] = {}
    instances: dict[bytes, int] = {}
    for a, b in zip(made, wanted):
        for o in objects(a, by_colour, True):
            palette = _colours(a, o)
            key = _key(a, o, roles)
            instances[key] = instances.get(key, 0) + 1
            cells = seen.setdefault(key, {})
            for offset, (i, j) in _offsets(o, margin, a.shape):
                cells.setdefault(offset, set()).add(_encode(int(b[i, j]), palette, roles))
    if not seen:
        return None
    # An object seen once proves no stamp (its surroundings would be copied whole): it stamps nothing.
    return {k: {off: next(iter(vs)) for off, vs in cells.items() if len(vs) == 1} if instances[k] > 1 else {}
            for k, cells in seen.items()}


def stamp(grid: np.ndarray, table: dict, by_colour: bool, roles: bool, margin: int) -> np.ndarray | None:
    """Each object's stamp painted around it (its empty cells left alone outside the object);
    None where an object was never seen."""
    out = grid.copy()
    for o in objects(grid, by_colour, True):
        cells = table.get(_key(grid, o, roles))
        if cells is None:
            return None
        palette = _colours(grid, o)
        for offset, (i, j) in _offsets(o, margin, grid.shape):
            code = cells.get(offset)
            if code is None:
                continue
            v = palette[code - 10] if code >= 10 else code
            if v != 0 or o.mask[i, j]:
                out[i, j] = v
    return out


def fit_stamp(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The smallest margin, then the first of: one colour an object with its own colours, several
    colours, one colour by roles, several by roles, whose stamps reproduce every demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    for margin in MARGINS:
        for roles in (False, True):
            for by_colour in (True, False):
                table = _fit_table(made, wanted, by_colour, roles, margin)
                if table is None:
                    return None
                if all(np.array_equal(stamp(a, table, by_colour, roles, margin), b) for a, b in zip(made, wanted)):
                    name = f"stamp({'roles' if roles else 'colours'}, {'one colour' if by_colour else 'objects'}, margin {margin})"
                    return Primitive(name, partial(stamp, table=table, by_colour=by_colour, roles=roles, margin=margin))
    return None


# --- a template copied onto its markers ----------------------------------------------------------


def _without_lines(grid: np.ndarray) -> np.ndarray:
    """The grid with its full rows and columns of one non-zero colour (separators) emptied."""
    out = grid.copy()
    rows = [i for i in range(grid.shape[0]) if grid[i, 0] and (grid[i] == grid[i, 0]).all()]
    cols = [j for j in range(grid.shape[1]) if grid[0, j] and (grid[:, j] == grid[0, j]).all()]
    out[rows, :] = 0
    out[:, cols] = 0
    return out


def copy_template(grid: np.ndarray, erase_template: bool) -> np.ndarray | None:
    """The template (the 4-connected object of most colours, then most cells) pasted onto each
    marker: a single cell of a colour the template lacks (the template centred on it, the cell
    erased) or a one-colour object of the template's shape (covered); None without a template."""
    body = _without_lines(grid)
    several = [o for o in objects(body, False, False) if o.n_colours > 1]
    if not several:
        return None
    template = max(several, key=lambda o: (o.n_colours, o.size))
    t, l, b, r = template.box
    shape = template.mask[t:b, l:r]
    cells = grid[t:b, l:r]
    palette = set(grid[template.mask].tolist())
    out = grid.copy()
    if erase_template:
        out[template.mask] = 0
    h, w = grid.shape
    for o in objects(body, True, False):
        if (o.mask & template.mask).any():
            continue
        ot, ol, ob, orr = o.box
        if o.size == 1 and o.colour not in palette and shape.shape[0] % 2 and shape.shape[1] % 2:
            out[o.mask] = 0
            top, left = ot - shape.shape[0] // 2, ol - shape.shape[1] // 2
        elif o.mask[ot:ob, ol:orr].shape == shape.shape and (o.mask[ot:ob, ol:orr] == shape).all():
            top, left = ot, ol
        else:
            continue
        for i, j in np.argwhere(shape):
            if 0 <= top + i < h and 0 <= left + j < w:
                out[top + i, left + j] = cells[i, j]
    return out


def fit_copy_template(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The template kept, else erased, where copying it reproduces every demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)) or all(np.array_equal(a, b) for a, b in zip(made, wanted)):
        return None
    for erase in (False, True):
        if all(np.array_equal(copy_template(a, erase), b) for a, b in zip(made, wanted)):
            return Primitive(f"copy_template({'erased' if erase else 'kept'})", partial(copy_template, erase_template=erase))
    return None


# --- a key's colours read through a mask ---------------------------------------------------------


def key_and_mask(grid: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The key (the one object of several colours, separators aside) and the mask (the cells of
    the one other colour, cut to their box); None where either is missing or ambiguous."""
    body = _without_lines(grid)
    several = [o for o in objects(body, False, True) if o.n_colours > 1]
    if len(several) != 1:
        return None
    t, l, b, r = several[0].box
    rest = body.copy()
    rest[t:b, l:r] = 0
    marked = np.unique(rest[rest != 0])
    if marked.size != 1:
        return None
    mask = crop_mask(rest != 0, rest != 0)
    key = grid[t:b, l:r]
    if mask.shape[0] < key.shape[0] or mask.shape[1] < key.shape[1]:
        return None
    return key, mask


def key_through_mask(grid: np.ndarray, out: str) -> np.ndarray | None:
    """The mask's cells painted with the key's colour of their block ("mask": the mask's size), or
    the key shown where the mask, shrunk to the key's size, has cells ("key": the key's size)."""
    found = key_and_mask(grid)
    if found is None:
        return None
    key, mask = found
    (kh, kw), (mh, mw) = key.shape, mask.shape
    if out == "mask":
        rows, cols = np.arange(mh) * kh // mh, np.arange(mw) * kw // mw
        return np.where(mask, key[np.ix_(rows, cols)], 0).astype(grid.dtype)
    rows, cols = (2 * np.arange(kh) + 1) * mh // (2 * kh), (2 * np.arange(kw) + 1) * mw // (2 * kw)
    return np.where(mask[np.ix_(rows, cols)], key, 0).astype(grid.dtype)


def fit_key_colours(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The key's colours through the mask, at the mask's size or the key's, where that
    reproduces every demonstration."""
    for out in ("mask", "key"):
        if all(np.array_equal(key_through_mask(a, out), b) for a, b in zip(made, wanted)):
            return Primitive(f"key_colours(at the {out}'s size)", partial(key_through_mask, out=out))
    return None


# --- partial copies of a template completed ------------------------------------------------------


def _orientations(patch: np.ndarray, turn: bool) -> list[np.ndarray]:
    """The patch as it is, or under each of the 8 rigid maps (distinct ones, in a fixed order)."""
    if not turn:
        return [patch]
    found: list[np.ndarray] = []
    for k in range(4):
        for p in (np.rot90(patch, k), np.rot90(patch, k)[:, ::-1]):
            if not any(p.shape == q.shape and np.array_equal(p, q) for q in found):
                found.append(p)
    return found


def _placements(grid: np.ndarray, patch: np.ndarray, loose: np.ndarray, bg: int, scale: int):
    """(cells present, cells to paint) of every placement of the patch (-1: not its cell; each
    template cell a `scale` x `scale` block) that meets a loose cell, where every grid cell it
    covers is the background or a loose cell of the patch's colour, and every block is whole or
    missing. A copy of the template as it is (scale 1) may hang off the grid's edge."""
    h, w = grid.shape
    ph, pw = patch.shape
    outside = -2
    padded = np.full((h + 2 * ph, w + 2 * pw), outside, dtype=np.int16)
    padded[ph:ph + h, pw:pw + w] = grid
    free_all = np.zeros(padded.shape, dtype=bool)
    free_all[ph:ph + h, pw:pw + w] = loose
    mine = patch >= 0
    starts = {(int(r) - i, int(c) - j) for r, c in np.argwhere(loose) for i, j in np.argwhere(patch == grid[r, c])}
    for top, left in sorted(starts):
        under = padded[top + ph:top + 2 * ph, left + pw:left + 2 * pw]
        free = free_all[top + ph:top + 2 * ph, left + pw:left + 2 * pw]
        inside = under != outside
        if scale > 1 and (mine & ~inside).any():
            continue
        present = mine & (under == patch) & free
        if (mine & ~present & inside & (under != bg)).any():
            continue
        blocks = present.reshape(ph // scale, scale, pw // scale, scale).sum(axis=(1, 3))
        if ((blocks > 0) & (blocks < scale * scale)).any():
            continue
        rows, cols = np.nonzero(present)
        paint_r, paint_c = np.nonzero(mine & ~present & inside)
        yield (frozenset(zip((rows + top).tolist(), (cols + left).tolist())),
               tuple(zip((paint_r + top).tolist(), (paint_c + left).tolist(), patch[paint_r, paint_c].tolist())))


SCALES = (1, 2, 3)  # a copy may be the template with each cell a 2x2 or 3x3 block
# Copies are a few objects: the training tasks this rule solves have at most 26 coloured cells;
# a grid of hundreds (patterns, noise) took seconds to try.
MAX_MARKED = 100


def complete_copies(grid: np.ndarray, turn: bool, every: bool) -> np.ndarray | None:
    """Each partial copy of a template completed: a placement of the template (turned or
    mirrored where `turn`) over loose cells that agree with it. Templates: every object of
    several colours (`every`), or the one of most colours, then most cells (the others then are
    copies). Only the largest placements count; none where two of them disagree or overlap, or
    a loose cell is left unexplained."""
    bg = most_frequent(grid)
    if (grid != bg).sum() > MAX_MARKED:
        return None
    templates = [o for o in objects(grid, False, True, bg) if o.n_colours > 1]
    if not templates:
        return None
    if not every:
        templates = [max(templates, key=lambda o: (o.n_colours, o.size))]
    loose = grid != bg
    for o in templates:
        loose &= ~o.mask
    if not loose.any():
        return None
    found: dict[frozenset, set] = {}
    for o in templates:
        t, l, b, r = o.box
        patch = np.where(o.mask[t:b, l:r], grid[t:b, l:r], -1)
        for oriented in _orientations(patch, turn):
            for scale in SCALES:
                scaled = np.kron(oriented, np.ones((scale, scale), dtype=oriented.dtype))
                for present, paint in _placements(grid, scaled, loose, bg, scale):
                    found.setdefault(present, set()).add(paint)
    largest = [p for p in found if not any(p < q for q in found)]
    explained: set = set()
    for p in largest:
        if explained & p or len(found[p]) > 1:
            return None  # copies overlap, or the same cells complete two ways
        explained |= p
    if explained != set(zip(*map(np.ndarray.tolist, np.nonzero(loose)))):
        return None
    out = grid.copy()
    for p in largest:
        for r, c, v in next(iter(found[p])):
            out[r, c] = v
    return out


def fit_complete_copies(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Copies of every template, then of the one; as the template stands, then turned or
    mirrored too; the first that reproduces every demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)) or all(np.array_equal(a, b) for a, b in zip(made, wanted)):
        return None
    for every in (True, False):
        for turn in (False, True):
            step = partial(complete_copies, turn=turn, every=every)
            if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
                how = ("every template" if every else "one template") + (", turned or mirrored" if turn else ", as it stands")
                return Primitive(f"complete_copies({how})", step)
    return None


# --- stamps keyed by shape and colour roles ------------------------------------------------------

DISAGREE = ("disagree", None)


def _shape_keyed(grid: np.ndarray, bg: int, diagonal: bool):
    """Per object (of any colours, on the background): its key (cells, each colour named by its
    rank in the object: most cells first, then lowest), its cells, box and colours by rank."""
    for o in objects(grid, False, diagonal, bg):
        t, l, b, r = o.box
        values = grid[o.mask].tolist()
        order = sorted(set(values), key=lambda v: (-values.count(v), v))
        rank = {v: i for i, v in enumerate(order)}
        key = tuple(sorted((int(y) - t, int(x) - l, rank[int(grid[y, x])]) for y, x in np.argwhere(o.mask)))
        yield key, o, order


def _shape_table(made, wanted, margin: int, diagonal: bool) -> dict:
    """Key -> {offset in the grown box: ("rank", i) or ("colour", c), or DISAGREE where two
    instances differ}; offsets outside the grid stay unknown."""
    table: dict = {}
    for a, b in zip(made, wanted):
        h, w = a.shape
        for key, o, order in _shape_keyed(a, most_frequent(a), diagonal):
            t, l, bot, r = o.box
            rank = {v: i for i, v in enumerate(order)}
            cells = table.setdefault(key, {})
            for i in range(t - margin, bot + margin):
                for j in range(l - margin, r + margin):
                    if 0 <= i < h and 0 <= j < w:
                        v = int(b[i, j])
                        code = ("rank", rank[v]) if v in rank else ("colour", v)
                        if cells.setdefault((i - t, j - l), code) != code:
                            cells[(i - t, j - l)] = DISAGREE
    return table


def shape_stamp(grid: np.ndarray, table: dict, margin: int, diagonal: bool) -> np.ndarray | None:
    """Each object's stamp painted around it (not its background cells, but its own cells
    always); None for an object never seen, or a cell its stamp does not know."""
    bg = most_frequent(grid)
    h, w = grid.shape
    out = grid.copy()
    for key, o, order in _shape_keyed(grid, bg, diagonal):
        cells = table.get(key)
        if cells is None:
            return None
        t, l, bot, r = o.box
        for i in range(max(0, t - margin), min(h, bot + margin)):
            for j in range(max(0, l - margin), min(w, r + margin)):
                code = cells.get((i - t, j - l))
                if code is None:
                    return None
                if code == DISAGREE:
                    continue
                v = order[code[1]] if code[0] == "rank" else code[1]
                if code[0] == "rank" and code[1] >= len(order):
                    return None
                if v != bg or o.mask[i, j]:
                    out[i, j] = v
    return out


def fit_shape_stamp(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """4-connected objects, then 8; margin 0, 1, 2: the first whose stamps reproduce every
    demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)) or all(np.array_equal(a, b) for a, b in zip(made, wanted)):
        return None
    for diagonal in (False, True):
        for margin in (0, 1, 2):
            table = _shape_table(made, wanted, margin, diagonal)
            step = partial(shape_stamp, table=table, margin=margin, diagonal=diagonal)
            if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
                return Primitive(f"shape_stamp({8 if diagonal else 4}-connected, margin {margin})", step)
    return None
