"""Outputs that summarise the input: its colours (or objects) listed in an order and laid out,
the box of one colour cut out, the one colour that stands out filling a fixed canvas, or the
whole output looked up by a key of the input.

Rules fitted on the demonstrations, each the first setting (in a fixed order) that reproduces
every demonstration: `fit_colour_list`, `fit_colour_box`, `fit_pick_colour`, `fit_lookup`.
Designed on ARC-AGI-1 training tasks only.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from arcttt.programs.dsl import Primitive, key as key_of, most_frequent, objects, shared_colours

# --- colours listed -----------------------------------------------------------------------------

UNITS = ("colour", "object")
FILTERS = ("all", "most", "drop_most", "drop_fixed")
ORDERS = ("cells", "left", "top", "stripes")
LAYOUTS = ("column", "row", "bars", "square_rows", "square_cols", "snake", "raster", "diagonal")


def items(grid: np.ndarray, unit: str) -> list[dict]:
    """Each colour but 0 (or each one-colour 8-connected object on 0): colour, cells, top, left,
    height, width."""
    if unit == "object":
        found = [(o.colour, o.mask) for o in objects(grid, True, True)]
    else:
        found = [(c, grid == c) for c in np.unique(grid).tolist() if c != 0]
    out = []
    for colour, mask in found:
        rows, cols = np.nonzero(mask)
        out.append({"colour": int(colour), "cells": len(rows), "top": int(rows.min()), "left": int(cols.min()),
                    "height": int(rows.max() - rows.min() + 1), "width": int(cols.max() - cols.min() + 1)})
    return out


def _kept(found: list[dict], how: str, fixed: frozenset) -> list[dict] | None:
    """The items listed: all, the largest, all but the one largest, or all but the fixed colours'."""
    most = max(it["cells"] for it in found)
    if how == "most":
        return [it for it in found if it["cells"] == most]
    if how == "drop_most":
        top = [it for it in found if it["cells"] == most]
        return [it for it in found if it["cells"] != most] if len(top) == 1 else None
    if how == "drop_fixed":
        return [it for it in found if it["colour"] not in fixed]
    return found


def _ordered(found: list[dict], order: str) -> tuple[list[dict], str] | None:
    """The items sorted (most cells first, leftmost, topmost; "stripes": wide ones by top, tall
    ones by left), with the direction stripes lie in; None where two colours tie."""
    lie = ""
    if order == "stripes":
        if all(it["width"] > it["height"] for it in found):
            order, lie = "top", "rows"
        elif all(it["height"] > it["width"] for it in found):
            order, lie = "left", "cols"
        else:
            return None
    key = [-it["cells"] if order == "cells" else it[order] for it in found]
    if len(set(key)) != len(key) and len({it["colour"] for it in found}) > 1:
        return None
    return [found[i] for i in np.argsort(key, kind="stable")], lie


def lay_out(colours: list[int], cells: list[int], layout: str, lie: str, canvas: tuple[int, int] | None):
    """The listed colours drawn in the layout named (a column, a row, bars of their cells, ...)."""
    n = len(colours)
    if layout == "column":
        return np.array(colours).reshape(n, 1)
    if layout == "row":
        return np.array(colours).reshape(1, n)
    if layout == "bars":  # column j: cells[j] cells of colour j from the top
        out = np.zeros((max(cells), n), dtype=np.int64)
        for j, (c, k) in enumerate(zip(colours, cells)):
            out[:k, j] = c
        return out if out.shape[0] <= 30 else None
    if layout in ("square_rows", "square_cols"):
        rows = (layout == "square_rows") if not lie else lie == "rows"
        line = np.array(colours)
        return np.repeat(line[:, None], n, axis=1) if rows else np.repeat(line[None, :], n, axis=0)
    if layout == "diagonal":
        return np.diag(colours)
    if canvas is None or n > canvas[0] * canvas[1]:
        return None
    out = np.zeros(canvas, dtype=np.int64)
    for k, c in enumerate(colours):
        r, j = divmod(k, canvas[1])
        out[r, canvas[1] - 1 - j if layout == "snake" and r % 2 else j] = c
    return out


def colour_list(grid: np.ndarray, unit: str, keep: str, order: str, layout: str, fixed: frozenset,
                canvas: tuple[int, int] | None) -> np.ndarray | None:
    """The items kept, in order, laid out; None where none is kept or the order is ambiguous."""
    found = items(grid, unit)
    kept = _kept(found, keep, fixed) if found else None
    ordered = _ordered(kept, order) if kept else None
    if ordered is None:
        return None
    chosen, lie = ordered
    out = lay_out([it["colour"] for it in chosen], [it["cells"] for it in chosen], layout, lie, canvas)
    return None if out is None else out.astype(grid.dtype)


def fit_colour_list(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The first unit, filter, order and layout that lists every demonstration's output."""
    if all(a.shape == b.shape for a, b in zip(made, wanted)):
        return None
    shapes = {b.shape for b in wanted}
    canvas = shapes.pop() if len(shapes) == 1 else None
    shown = set().union(*(set(np.unique(b).tolist()) for b in wanted))
    fixed = frozenset(shared_colours(made) - shown - {0})
    for unit, keep, order, layout in itertools.product(UNITS, FILTERS, ORDERS, LAYOUTS):
        if (keep == "drop_fixed" and not fixed) or (order == "stripes") != layout.startswith("square"):
            continue
        step = partial(colour_list, unit=unit, keep=keep, order=order, layout=layout, fixed=fixed, canvas=canvas)
        if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
            return Primitive(f"colour_list({unit}s, {keep}, by {order}, as {layout})", step)
    return None


# --- a colour's box cut out ---------------------------------------------------------------------

MARGINS = sorted(itertools.product((0, 1, -1), repeat=4), key=lambda m: sum(map(abs, m)))


def _chosen_colour(grid: np.ndarray, which: int | str) -> int | None:
    """A colour present ("rarest"/"commonest" among those but the background and 0; ties: None)."""
    if isinstance(which, int):
        return which if (grid == which).any() else None
    values, n = np.unique(grid, return_counts=True)
    bg = most_frequent(grid)
    pool = [(int(c), int(k)) for c, k in zip(values, n) if c not in (bg, 0)] or \
           [(int(c), int(k)) for c, k in zip(values, n) if c != bg]
    if not pool:
        return None
    best = (min if which == "rarest" else max)(k for _, k in pool)
    found = [c for c, k in pool if k == best]
    return found[0] if len(found) == 1 else None


def colour_box(grid: np.ndarray, which: int | str, margins: tuple[int, int, int, int], recolour: bool):
    """The box of the chosen colour's cells, grown (or shrunk) by a margin a side; `recolour`:
    every cell of it but the background in that colour."""
    c = _chosen_colour(grid, which)
    if c is None:
        return None
    rows, cols = np.nonzero(grid == c)
    t, b = rows.min() - margins[0], rows.max() + 1 + margins[1]
    l, r = cols.min() - margins[2], cols.max() + 1 + margins[3]
    if t < 0 or l < 0 or b > grid.shape[0] or r > grid.shape[1] or b <= t or r <= l:
        return None
    out = grid[t:b, l:r].copy()
    if recolour:
        out[out != (0 if (grid == 0).any() else most_frequent(grid))] = c
    return out


def fit_colour_box(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """As cut, then recoloured; the rarest colour, the commonest, then each colour every input
    shows; the smallest margins first."""
    if all(a.shape == b.shape for a, b in zip(made, wanted)):
        return None
    fixed = sorted(shared_colours(made))
    for recolour in (False, True):
        for which in ["rarest", "commonest"] + fixed:
            for margins in MARGINS:
                step = partial(colour_box, which=which, margins=margins, recolour=recolour)
                if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
                    name = f"colour_box({which}, margins {list(margins)}{', recoloured' if recolour else ''})"
                    return Primitive(name, step)
    return None


# --- the colour that stands out -----------------------------------------------------------------

COLOUR_FEATURES = ("holes", "in_box", "cells", "parts")


def colour_features(grid: np.ndarray) -> dict[int, dict[str, int]]:
    """Per colour but 0: the enclosed cells and the other cells in the box of its largest part
    (4-connected), its cells, its parts."""
    out = {}
    for c in np.unique(grid).tolist():
        if c == 0:
            continue
        parts = [o for o in objects(grid, True, False) if o.colour == c]
        big = max(parts, key=lambda o: o.size)
        t, l, b, r = big.box
        empty = ~big.mask[t:b, l:r]
        enclosed = sum(p.size for p in objects(empty.astype(np.int8), True, False)
                       if p.box[0] > 0 and p.box[1] > 0 and p.box[2] < b - t and p.box[3] < r - l)
        out[c] = {"holes": enclosed, "in_box": int(empty.sum()), "cells": int((grid == c).sum()), "parts": len(parts)}
    return out


def pick_colour(grid: np.ndarray, feature: str, most: bool, canvas: tuple[int, int]) -> np.ndarray | None:
    """The canvas filled with the one colour of the most (or fewest) of the feature; None on a tie."""
    found = colour_features(grid)
    if len(found) < 2:
        return None
    values = {c: f[feature] * (1 if most else -1) for c, f in found.items()}
    best = [c for c, v in values.items() if v == max(values.values())]
    return np.full(canvas, best[0], dtype=grid.dtype) if len(best) == 1 else None


def fit_pick_colour(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Outputs of one shape and one colour each: the first feature, most then fewest, that picks it."""
    shapes = {b.shape for b in wanted}
    if len(shapes) != 1 or any(np.unique(b).size != 1 for b in wanted):
        return None
    canvas = shapes.pop()
    for feature in COLOUR_FEATURES:
        for most in (True, False):
            step = partial(pick_colour, feature=feature, most=most, canvas=canvas)
            if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
                return Primitive(f"pick_colour({'most' if most else 'fewest'} {feature})", step)
    return None


# --- the whole output looked up ------------------------------------------------------------------

LOOKUP_KEYS = {
    "colours": lambda g: tuple(sorted(set(np.unique(g).tolist()) - {0})),
    "cells": lambda g: int((g != 0).sum()),
    "objects": lambda g: len(objects(g, False, True)),
    "mask": lambda g: (g.shape, (g != 0).tobytes()),
    "n_colours": lambda g: len(np.unique(g)),
    "n_colours_not0": lambda g: len(set(np.unique(g).tolist()) - {0}),
}


def look_up(grid: np.ndarray, key: str, table: dict) -> np.ndarray | None:
    """The table's output for the grid's key; None where the key was never seen."""
    found = table.get(LOOKUP_KEYS[key](grid))
    return None if found is None else found.copy()


def fit_lookup(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The whole output as a table's entry for one key of the input (its colours, its count of
    coloured cells, of objects, its mask, its number of colours), the first key that every demonstration agrees on. The
    keys must repeat (at most two fewer than the demonstrations): a table of keys seen once each
    would fit anything."""
    if len({key_of(b) for b in wanted}) < 2:
        return None  # one output for all: no lookup
    for key, read in LOOKUP_KEYS.items():
        table: dict = {}
        if all(np.array_equal(table.setdefault(read(a), b), b) for a, b in zip(made, wanted)):
            if len(table) <= len(made) - 2:
                return Primitive(f"lookup(by {key}, {len(table)} entries)", partial(look_up, key=key, table=table))
    return None
