"""Cells recoloured by their role: in a rectangle (corner, edge, interior, with the rectangle's size
rank), by the nearest cell of another colour, in the box of their colour's cells, or in an empty
square. Designed on ARC-AGI-1 training tasks only."""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import Primitive, background_colours, most_frequent, objects, shared_colours

# What a rectangle's cells are keyed by, simplest first: the role alone, then with the size rank
# among the grid's rectangles, then each with the rectangle's colour.
KEYS = (("role",), ("role", "rank"), ("colour", "role"), ("colour", "role", "rank"))
KEEP = -1  # the cell keeps the rectangle's colour


def _rank(sizes: list[int], size: int) -> str | None:
    """"largest", "smallest" or "middle" among the sizes; None where a tie makes it unclear."""
    if sizes.count(size) > 1:
        return None
    return "largest" if size == max(sizes) else "smallest" if size == min(sizes) else "middle"


def rectangle_roles(grid: np.ndarray, keys: tuple[str, ...], bg: int) -> list[tuple[np.ndarray, int, tuple]] | None:
    """(mask, colour, key) of each cell group that shares a key: the role of the cell in its
    rectangle (corner, edge, interior) and, as `keys` says, the rectangle's size rank and colour.
    None unless every object (one colour, 4-connected, on `bg`) is a solid rectangle."""
    found = objects(grid, True, False, bg)
    if not found or any(o.size != (o.box[2] - o.box[0]) * (o.box[3] - o.box[1]) for o in found):
        return None
    sizes = [o.size for o in found]
    out = []
    for o in found:
        rank = _rank(sizes, o.size) if "rank" in keys else None
        if "rank" in keys and rank is None:
            return None
        t, l, b, r = o.box
        rows = np.zeros((b - t, r - l), dtype=bool)
        rows[[0, -1], :] = True
        cols = np.zeros_like(rows)
        cols[:, [0, -1]] = True
        for role, inside in (("corner", rows & cols), ("edge", rows ^ cols), ("interior", ~(rows | cols))):
            mask = np.zeros(grid.shape, dtype=bool)
            mask[t:b, l:r] = inside
            if mask.any():
                facts = {"role": role, "rank": rank, "colour": o.colour}
                out.append((mask, o.colour, tuple(facts[k] for k in keys)))
    return out


def recolour_roles(grid: np.ndarray, keys: tuple[str, ...], bg: int, table: dict) -> np.ndarray | None:
    """Each rectangle's cells painted by the table's colour for their key (KEEP: the rectangle's);
    None where a key was never seen."""
    roles = rectangle_roles(grid, keys, bg)
    if roles is None:
        return None
    out = grid.copy()
    for mask, colour, key in roles:
        if key not in table:
            return None
        out[mask] = colour if table[key] == KEEP else table[key]
    return out


def _role_table(made: list[np.ndarray], wanted: list[np.ndarray], keys: tuple[str, ...], bg: int) -> dict | None:
    """The one value (a colour, or KEEP) each key's cells take in every demonstration, the rest of
    the grid kept; None where no one value fits a key, or another cell changes."""
    options: dict = {}
    for a, b in zip(made, wanted):
        roles = rectangle_roles(a, keys, bg)
        if roles is None:
            return None
        outside = ~np.any([mask for mask, _, _ in roles], axis=0)
        if not np.array_equal(a[outside], b[outside]):
            return None
        for mask, colour, key in roles:
            painted = np.unique(b[mask])
            if len(painted) != 1:
                return None
            fits = {int(painted[0])} | ({KEEP} if painted[0] == colour else set())
            options[key] = options.get(key, fits) & fits
            if not options[key]:
                return None
    return {key: KEEP if KEEP in fits else fits.pop() for key, fits in options.items()}


def fit_rectangle_roles(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Solid rectangles repainted by cell role (corner, edge, interior), one colour per role (and
    size rank, and rectangle colour, where the role alone does not decide) read off the
    demonstrations; the background (0, else the inputs' shared majority colour) kept."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)) or all(np.array_equal(a, b) for a, b in zip(made, wanted)):
        return None
    for bg in background_colours(made):
        for keys in KEYS:
            table = _role_table(made, wanted, keys, bg)
            if table is not None:
                shown = ", ".join(f"{'/'.join(map(str, k))}->{'keep' if v == KEEP else v}"
                                  for k, v in sorted(table.items()))
                return Primitive(f"rectangle_roles(by {'+'.join(keys)} on {bg}: {shown})",
                                 partial(recolour_roles, keys=keys, bg=bg, table=table))
    return None


# --- the nearest colour -------------------------------------------------------------------------


def nearest_colour(grid: np.ndarray, colour: int) -> np.ndarray | None:
    """Each cell of `colour` painted the colour of the nearest cell (4-step distance) of another
    colour than it and the background; None where two colours are equally near, or none is."""
    bg = most_frequent(grid)
    sources = (grid != colour) & (grid != bg)
    if not sources.any() or not (grid == colour).any():
        return None
    sr, sc = np.nonzero(sources)
    source_colours = grid[sr, sc]
    out = grid.copy()
    for r, c in zip(*np.nonzero(grid == colour)):
        distance = np.abs(sr - r) + np.abs(sc - c)
        nearest = set(source_colours[distance == distance.min()].tolist())
        if len(nearest) != 1:
            return None
        out[r, c] = nearest.pop()
    return out


def fit_nearest_colour(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The one colour every demonstration input shows whose cells all change, each cell taking the
    colour of the nearest cell of another colour."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    for colour in sorted(shared_colours(made)):
        if any(np.any(b[a == colour] == colour) for a, b in zip(made, wanted)):
            continue
        step = partial(nearest_colour, colour=colour)
        if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
            return Primitive(f"nearest_colour({colour})", step)
    return None


# --- each colour's box ----------------------------------------------------------------------------


def own_boxes(grid: np.ndarray, bg: int) -> np.ndarray | None:
    """The background cells of each colour's box painted that colour; None where two boxes meet."""
    out = grid.copy()
    taken = np.zeros(grid.shape, dtype=bool)
    for colour in range(10):
        rows, cols = np.nonzero(grid == colour)
        if colour == bg or not len(rows):
            continue
        box = np.zeros(grid.shape, dtype=bool)
        box[rows.min():rows.max() + 1, cols.min():cols.max() + 1] = True
        if (box & taken).any():
            return None
        taken |= box
        out[box & (grid == bg)] = colour
    return out


def fit_own_boxes(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Each colour's cells spanned by a box of that colour (on 0, else the inputs' shared majority)."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)) or all(np.array_equal(a, b) for a, b in zip(made, wanted)):
        return None
    for bg in background_colours(made):
        if all(np.array_equal(own_boxes(a, bg), b) for a, b in zip(made, wanted)):
            return Primitive(f"own_boxes(on {bg})", partial(own_boxes, bg=bg))
    return None


def empty_squares(grid: np.ndarray, side: int, bg: int, paint: int) -> np.ndarray | None:
    """The `side` x `side` squares of background cells painted `paint`, taken in reading order,
    each only where it shares no cell with one taken before; None where there is none."""
    empty = (grid == bg).astype(np.int32)
    h, w = grid.shape
    if h < side or w < side:
        return None
    sums = np.lib.stride_tricks.sliding_window_view(empty, (side, side)).sum(axis=(2, 3))
    out = grid.copy()
    hits = np.argwhere(sums == side * side)
    if not len(hits):
        return None
    for r, c in hits:
        if not (out[r:r + side, c:c + side] == paint).any():
            out[r:r + side, c:c + side] = paint
    return out


def fit_empty_squares(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The one colour the demonstrations add, filling every empty square of the smallest side
    (2 to 5) that reproduces them."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    added = {int(c) for a, b in zip(made, wanted) for c in np.unique(b[a != b])}
    if len(added) != 1:
        return None
    paint = added.pop()
    for bg in background_colours(made):
        for side in range(2, 6):
            if all(np.array_equal(empty_squares(a, side, bg, paint), b) for a, b in zip(made, wanted)):
                return Primitive(f"empty_squares({side}x{side} of {bg} -> {paint})",
                                 partial(empty_squares, side=side, bg=bg, paint=paint))
    return None
