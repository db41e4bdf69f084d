"""Repair a grid whose cells of one colour hide a pattern: the symmetries and repeats the other
cells obey (mirrors about any axis, diagonal mirrors, point reflections, translations) fill the
hidden cells; optionally only the hidden rectangle is the answer.

A rule fitted on the demonstrations (`fit_repair`): the output is the input repaired (the cells
that change all had one colour), or the repaired rectangle that one colour covered. And
`fit_symmetry`: a pattern completed to the symmetry of a group of maps (mirrors, rotations, all
eight) about a centre read off the grid, painting only background cells. Designed on ARC-AGI-1
training tasks only.
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from arcttt.programs.dsl import Primitive, bbox, most_frequent, objects, shared_colours

# A map is kept where the known cells it pairs agree everywhere and make up at least this share
# of the known cells (a mirror about an axis near the edge pairs few and proves little).
MIN_PAIRED = 0.5
MIN_PAIRED_SHIFT = 0.3  # a repeat pairs fewer cells than a mirror of the same grid


@lru_cache(maxsize=64)
def maps(h: int, w: int) -> tuple[tuple[np.ndarray, np.ndarray, bool], ...]:
    """Every candidate map of an h x w grid onto itself, as (flat index of each cell's image, or
    -1 outside or where the cell stays in place, whether it has one, is a translation); read-only."""
    r, c = np.indices((h, w))
    found = []

    def add(r2: np.ndarray, c2: np.ndarray, shift: bool) -> None:
        # A cell the map keeps in place proves nothing: it counts as outside.
        inside = (r2 >= 0) & (r2 < h) & (c2 >= 0) & (c2 < w) & ((r2 != r) | (c2 != c))
        index = np.where(inside, r2 * w + c2, -1).ravel()
        index.setflags(write=False)
        inside = inside.ravel()
        inside.setflags(write=False)
        found.append((index, inside, shift))

    for s in range(w // 2, 2 * w - 1 - w // 2):
        add(r, s - c, False)  # mirror about a vertical axis
    for s in range(h // 2, 2 * h - 1 - h // 2):
        add(s - r, c, False)  # about a horizontal axis
    for d in range(-(h // 2), h // 2 + 1):
        add(c + d, r - d, False)  # about a diagonal
    for s in range(min(h, w) // 2, h + w - 1 - min(h, w) // 2):
        add(s - c, s - r, False)  # about an anti-diagonal
    for a in range(h // 2, 2 * h - 1 - h // 2):
        for b in range(w // 2, 2 * w - 1 - w // 2):
            add(a - r, b - c, False)  # a point reflection
    for dr in range(0, h // 2 + 1):
        for dc in range(-(w // 2), w // 2 + 1):
            if (dr, dc) > (0, 0):
                add(r + dr, c + dc, True)
                add(r - dr, c - dc, True)
    return tuple(found)


def repair(grid: np.ndarray, hidden: int) -> tuple[np.ndarray, int] | None:
    """The grid with its cells of colour `hidden` filled through every map the other cells obey,
    and how many maps that is; None where no map holds or a hidden cell stays unknown."""
    h, w = grid.shape
    flat = grid.ravel()
    known = flat != hidden
    n_known = int(known.sum())
    if n_known == known.size or n_known == 0:
        return None
    kept = []
    for index, inside, shift in maps(h, w):
        paired = known & inside
        paired[paired] = known[index[paired]]
        n = int(paired.sum())
        if n < (MIN_PAIRED_SHIFT if shift else MIN_PAIRED) * n_known:
            continue
        if (flat[paired] == flat[index[paired]]).all():
            kept.append((index, inside))
    if not kept:
        return None
    out, known = flat.copy(), known.copy()
    changed = True
    while changed and not known.all():
        changed = False
        for index, inside in kept:
            fill = ~known & inside
            fill[fill] = known[index[fill]]
            if fill.any():
                out[fill] = out[index[fill]]
                known |= fill
                changed = True
    return (out.reshape(h, w), len(kept)) if known.all() else None


def hidden_box(grid: np.ndarray, colour: int) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right) of the cells of `colour` where they fill a rectangle exactly."""
    mask = grid == colour
    box = bbox(mask)
    if box is None:
        return None
    t, l, b, r = box
    return box if mask[t:b, l:r].all() else None


def repaired(grid: np.ndarray, colour: int | None, crop: bool) -> np.ndarray | None:
    """`grid` repaired (`crop`: only the rectangle the hidden colour covered). `colour` None: the
    colour whose repair holds most maps (ties: the fewer cells) among those that repair fully."""
    options = [colour] if colour is not None else [int(c) for c in np.unique(grid)]
    best = None
    for c in options:
        box = hidden_box(grid, c) if crop else None
        if crop and box is None:
            continue
        fixed = repair(grid, c)
        if fixed is None:
            continue
        out, n_maps = fixed
        if box is not None:
            t, l, b, r = box
            out = out[t:b, l:r]
        key = (-n_maps, int((grid == c).sum()))
        if best is None or key < best[0]:
            best = (key, out)
    return None if best is None else best[1]


def _hidden_colour(a: np.ndarray, b: np.ndarray, crop: bool) -> int | None:
    """The colour a demonstration hides: the one colour of the changed cells (same size), or the
    one whose rectangle is the output's size (crop)."""
    if not crop:
        if a.shape != b.shape:
            return None
        changed = np.unique(a[a != b])
        return int(changed[0]) if changed.size == 1 else None
    fits = [int(c) for c in np.unique(a) if (box := hidden_box(a, int(c))) and (box[2] - box[0], box[3] - box[1]) == b.shape]
    return fits[0] if len(fits) == 1 else None


def fit_repair(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The input repaired (its hidden cells filled), or its hidden rectangle repaired; the hidden
    colour is the demonstrations' where they share one, else chosen per grid."""
    for crop in (False, True):
        colours = [_hidden_colour(a, b, crop) for a, b in zip(made, wanted)]
        if None in colours:
            continue
        if not all(np.array_equal(repaired(a, c, crop), b) for a, b, c in zip(made, wanted, colours)):
            continue
        shared = colours[0] if len(set(colours)) == 1 else None
        name = f"repair({'crop, ' if crop else ''}{'hidden ' + str(shared) if shared is not None else 'hidden chosen'})"
        return Primitive(name, partial(repaired, colour=shared, crop=crop))
    return None


# --- a pattern completed to a symmetry about a centre -------------------------------------------

# The maps of each group about a centre, as (row, column) -> (row, column) offsets from it.
# The largest group first: where the demonstrations cannot tell them apart, the rule that claims
# more symmetry is the one they bear out more.
GROUPS = {
    "all": ((1, 0, 0, -1), (-1, 0, 0, 1), (-1, 0, 0, -1), (0, 1, 1, 0), (0, -1, -1, 0), (0, -1, 1, 0), (0, 1, -1, 0)),
    "rotations": ((0, -1, 1, 0), (-1, 0, 0, -1), (0, 1, -1, 0)),
    "mirrors": ((1, 0, 0, -1), (-1, 0, 0, 1), (-1, 0, 0, -1)),  # left-right, up-down, half turn
    "half_turn": ((-1, 0, 0, -1),), "lr": ((1, 0, 0, -1),), "ud": ((-1, 0, 0, 1),),
}
_GENERATORS = {"mirrors": (np.fliplr, np.flipud), "rotations": (np.rot90,),
               "all": (np.fliplr, np.flipud, np.rot90, np.transpose),
               "half_turn": (lambda m: np.rot90(m, 2),), "lr": (np.fliplr,), "ud": (np.flipud,)}
MAX_MARKED = 300  # the best centre is scored for grids of at most this many coloured cells


def _best_centre(grid: np.ndarray, bg: int, group: str) -> tuple[int, int] | None:
    """Twice the centre, among the half-cells of the content's box, under which the most coloured
    cells map onto cells of their own colour; None where two centres score alike."""
    cells = np.argwhere(grid != bg)
    if not 0 < len(cells) <= MAX_MARKED:
        return None
    h, w = grid.shape
    colours = grid[cells[:, 0], cells[:, 1]]
    rows, cols = np.meshgrid(np.arange(2 * cells[:, 0].min(), 2 * cells[:, 0].max() + 1),
                             np.arange(2 * cells[:, 1].min(), 2 * cells[:, 1].max() + 1), indexing="ij")
    cr, cc = rows.ravel(), cols.ravel()
    dr, dc = 2 * cells[None, :, 0] - cr[:, None], 2 * cells[None, :, 1] - cc[:, None]
    score = np.zeros(len(cr), dtype=np.int64)
    for a, b, p, q in GROUPS[group]:
        nr, nc = cr[:, None] + a * dr + b * dc, cc[:, None] + p * dr + q * dc
        ok = (nr % 2 == 0) & (nc % 2 == 0) & (nr >= 0) & (nr < 2 * h) & (nc >= 0) & (nc < 2 * w)
        seen = grid[np.clip(nr // 2, 0, h - 1), np.clip(nc // 2, 0, w - 1)]
        score += (ok & (seen == colours[None, :])).sum(axis=1)
    best = score.max()
    if best == 0 or (score == best).sum() != 1:
        return None
    i = int(np.argmax(score))
    return int(cr[i]), int(cc[i])


def _symmetric(o, group: str) -> bool:
    """The object's cells read the same under every map of the group (its generators)."""
    t, l, b, r = o.box
    cells = o.mask[t:b, l:r]
    return all(np.array_equal(m(cells), cells) for m in _GENERATORS[group])


def _centre(grid: np.ndarray, bg: int, around: int | str | None, group: str) -> tuple[int, int] | None:
    """Twice the centre (row, column): of the box of every cell but the background (`around`
    None), of the one object of colour `around`, of the largest object that has the group's
    symmetry itself ("symmetric"; none where two are as large), or the centre that the most
    cells already obey ("best")."""
    if around == "best":
        return _best_centre(grid, bg, group)
    found = objects(grid, True, True, bg)
    if around is None:
        box = bbox(grid != bg)
    elif around == "symmetric":
        found = sorted((o for o in found if _symmetric(o, group)), key=lambda o: -o.size)
        box = found[0].box if found and (len(found) == 1 or found[1].size < found[0].size) else None
    else:
        found = [o for o in found if o.colour == around]
        box = found[0].box if len(found) == 1 else None
    if box is None:
        return None
    t, l, b, r = box
    return t + b - 1, l + r - 1


def complete_symmetry(grid: np.ndarray, group: str, around: int | str | None, paint: int | None) -> np.ndarray | None:
    """Every cell's images under the group's maps about the centre painted its colour (or
    `paint`); None where an image leaves the grid, falls between cells or meets another colour."""
    bg = most_frequent(grid)
    centre = _centre(grid, bg, around, group)
    if centre is None:
        return None
    cr, cc = centre
    h, w = grid.shape
    out = grid.copy()
    for r, c in zip(*np.nonzero(grid != bg)):
        dr, dc = 2 * r - cr, 2 * c - cc  # doubled offsets from the centre
        for a, b, p, q in GROUPS[group]:
            nr, nc = a * dr + b * dc + cr, p * dr + q * dc + cc
            if nr % 2 or nc % 2:
                return None
            nr, nc = nr // 2, nc // 2
            if not (0 <= nr < h and 0 <= nc < w):
                return None
            v = int(grid[r, c]) if paint is None else paint
            if grid[nr, nc] == bg and out[nr, nc] in (bg, v):
                out[nr, nc] = v
            elif grid[nr, nc] != grid[r, c] and paint is None:
                return None
    return out


def fit_symmetry(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The first centre (the content's box, the largest symmetric object, the one object of a
    colour every input shows, then the best centre), group (all eight maps, rotations, mirrors,
    then one map) and paint (own colour, then the one colour the demonstrations add) that
    completes every demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)) or all(np.array_equal(a, b) for a, b in zip(made, wanted)):
        return None
    if any(((a != most_frequent(a)) & (a != b)).any() for a, b in zip(made, wanted)):
        return None  # only background cells change
    added = {int(v) for a, b in zip(made, wanted) for v in np.unique(b[a != b]).tolist()}
    shown = sorted(shared_colours(made) - {most_frequent(made[0])})
    for around in [None, "symmetric"] + shown + ["best"]:
        for group in GROUPS:
            for paint in [None] + (sorted(added) if len(added) == 1 else []):
                step = partial(complete_symmetry, group=group, around=around, paint=paint)
                if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
                    centre = {None: "content", "symmetric": "a symmetric object", "best": "the best centre"}.get(
                        around, f"the object of {around}")
                    colour = "" if paint is None else f", in {paint}"
                    return Primitive(f"complete_symmetry({group} about {centre}{colour})", step)
    return None
