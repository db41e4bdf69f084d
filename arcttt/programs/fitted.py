"""Final steps whose parameters are fitted on the demonstrations rather than enumerated.

A fitter sees what a program makes of each demonstration input and the output it should make;
it returns a primitive with the fitted parameters bound (its name shows them), or None when no
consistent parameters exist. The search still checks the result on every demonstration.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import Primitive, objects


def apply_colour_map(g: np.ndarray, table: tuple[int, ...]) -> np.ndarray:
    """Recolour every cell through a 10-entry table (colour -> colour)."""
    return np.asarray(table, dtype=g.dtype)[g]


def fit_colour_map(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """A per-colour map, the same on every demonstration, taking `made` to `wanted` cell by cell.

    Colours never seen map to themselves. None when a colour would need two images, or when the
    map changes nothing (then the program without it already says the same).
    """
    table = list(range(10))
    fixed = [False] * 10
    for a, b in zip(made, wanted):
        if a.shape != b.shape:
            return None
        pairs = np.unique(a.astype(np.int16) * 10 + b, return_counts=False)
        for p in pairs.tolist():
            src, dst = divmod(p, 10)
            if fixed[src] and table[src] != dst:
                return None
            table[src], fixed[src] = dst, True
    if table == list(range(10)):
        return None
    changed = ", ".join(f"{i}:{table[i]}" for i in range(10) if table[i] != i)
    return Primitive(f"colour_map({{{changed}}})", partial(apply_colour_map, table=tuple(table)))


def recolour_by_size(g: np.ndarray, table: tuple[tuple[int, int], ...], mode: tuple[bool, bool]) -> np.ndarray | None:
    """Recolour each object by its size through a fitted (size -> colour) table; None on an unseen size."""
    sizes = dict(table)
    out = g.copy()
    for o in objects(g, *mode):
        if o.size not in sizes:
            return None
        out[o.mask] = sizes[o.size]
    return out


def fit_recolour_by_size(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Objects (any colour, 8-connected) recoloured by size, the colour read off the demonstrations."""
    mode = (False, True)
    sizes: dict[int, int] = {}
    for a, b in zip(made, wanted):
        if a.shape != b.shape or not ((a == 0) == (b == 0)).all():
            return None
        for o in objects(a, *mode):
            got = np.unique(b[o.mask])
            if got.size != 1 or sizes.get(o.size, int(got[0])) != int(got[0]):
                return None
            sizes[o.size] = int(got[0])
    if len(set(sizes.values())) < 2:
        return None  # one colour for all: a colour map says it more simply
    table = tuple(sorted(sizes.items()))
    text = ", ".join(f"{s}:{c}" for s, c in table)
    return Primitive(f"recolour_by_size({{{text}}})", partial(recolour_by_size, table=table, mode=mode))


# Neighbourhoods a local rule may read: the cell and its 4 neighbours, or all 8.
CROSS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
SQUARE = CROSS + ((-1, -1), (-1, 1), (1, -1), (1, 1))


def neighbourhoods(g: np.ndarray, offsets: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Each cell's neighbourhood as one int (outside the grid reads as colour 10)."""
    h, w = g.shape
    padded = np.full((h + 2, w + 2), 10, dtype=np.int64)
    padded[1:-1, 1:-1] = g
    code = np.zeros((h, w), dtype=np.int64)
    for dr, dc in offsets:
        code = code * 11 + padded[1 + dr:1 + dr + h, 1 + dc:1 + dc + w]
    return code


def _rule(made: list[np.ndarray], wanted: list[np.ndarray], offsets) -> dict[int, int] | None:
    table: dict[int, int] = {}
    for a, b in zip(made, wanted):
        codes, targets = neighbourhoods(a, offsets).ravel(), b.ravel().astype(np.int64)
        pairs = np.unique(codes * 10 + targets)
        keys = pairs // 10
        if np.unique(keys).size != keys.size:
            return None
        for k, v in zip(keys.tolist(), (pairs % 10).tolist()):
            if table.setdefault(k, v) != v:
                return None
    return table


def apply_rule(g: np.ndarray, table: dict[int, int], offsets) -> np.ndarray | None:
    """Each cell's colour looked up from its neighbourhood; None on a neighbourhood never seen."""
    codes = neighbourhoods(g, offsets)
    out = np.empty(g.shape, dtype=g.dtype)
    for k in np.unique(codes).tolist():
        if k not in table:
            return None
        out[codes == k] = table[k]
    return out


def fit_local_rule(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """A cell-by-cell rule from each cell's neighbourhood to its new colour, fitted on all
    demonstrations, kept only if fitted on all but one it predicts the one left out (each in turn)."""
    if len(made) < 2 or any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    for name, offsets in (("cross", CROSS), ("square", SQUARE)):
        table = _rule(made, wanted, offsets)
        if table is None or all(k // 11 ** (len(offsets) - 1) == v for k, v in table.items()):
            continue
        held_out_ok = True
        for i in range(len(made)):
            rest = _rule(made[:i] + made[i + 1:], wanted[:i] + wanted[i + 1:], offsets)
            got = None if rest is None else apply_rule(made[i], rest, offsets)
            if got is None or not np.array_equal(got, wanted[i]):
                held_out_ok = False
                break
        if held_out_ok:
            return Primitive(f"local_rule({name}, {len(table)} patterns)",
                             partial(apply_rule, table=table, offsets=offsets))
    return None


FITTERS = (fit_colour_map, fit_recolour_by_size, fit_local_rule)
# How long a program may be for a fitter to be tried on it (the costly local rule only on short ones).
FIT_UP_TO = (3, 3, 1)
