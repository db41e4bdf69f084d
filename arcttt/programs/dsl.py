"""The DSL's building blocks: a primitive as a value, and the grid facts primitives share.

Grids inside the search are small read-only int8 numpy arrays; a primitive maps one to another
(or to None where it does not apply). Connected components are the costly fact, so they are
computed once per grid and kept in a small cache keyed by the grid's bytes.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from typing import Callable, NamedTuple

import numpy as np

MAX_SIDE = 30

# What a primitive does to a grid's shape, used to prune: at the last step of a program only a
# primitive that can change the shape may repair a wrong one.
SAME, TRANSPOSES, CHANGES = "same", "transposes", "changes"


@dataclass(frozen=True)
class Primitive:
    """One step of a program: a readable name (with its parameters), a pure function, its shape kind."""

    name: str
    fn: Callable[[np.ndarray], np.ndarray | None]
    shape: str = SAME

    def __call__(self, grid: np.ndarray) -> np.ndarray | None:
        return self.fn(grid)


def valid(grid: np.ndarray | None) -> bool:
    """A grid ARC allows: 1 to 30 cells a side."""
    return grid is not None and grid.ndim == 2 and 0 < grid.shape[0] <= MAX_SIDE and 0 < grid.shape[1] <= MAX_SIDE


def colours(grid: np.ndarray) -> list[int]:
    """The colours present, ascending."""
    return [int(c) for c in np.flatnonzero(np.bincount(grid.ravel(), minlength=10))]


def counts(grid: np.ndarray) -> np.ndarray:
    """Cells of each colour 0..9."""
    return np.bincount(grid.ravel(), minlength=10)


def most_frequent(grid: np.ndarray) -> int:
    """The most frequent colour (ties: the lowest)."""
    return int(np.argmax(counts(grid)))


def least_frequent(grid: np.ndarray, exclude: int | None = 0) -> int | None:
    """The least frequent colour present, other than `exclude` (ties: the lowest)."""
    c = counts(grid).astype(np.int64)
    if exclude is not None:
        c[exclude] = 0
    c[c == 0] = 1 << 30
    best = int(np.argmin(c))
    return None if c[best] == 1 << 30 else best


def bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, left, bottom, right), exclusive ends, of the true cells; None when there are none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def crop_mask(grid: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """The grid cut to the bounding box of the mask."""
    box = bbox(mask)
    if box is None:
        return None
    t, l, b, r = box
    return grid[t:b, l:r]


class Obj(NamedTuple):
    """A connected component: its cells as a mask over the grid, size, colour(s) and bounding box."""

    mask: np.ndarray
    size: int
    colour: int  # the most frequent colour of its cells
    n_colours: int
    box: tuple[int, int, int, int]

    def shape_key(self) -> bytes:
        """The object's shape (its mask cut to its box), as bytes: equal shapes, equal keys."""
        t, l, b, r = self.box
        return bytes([b - t, r - l]) + np.packbits(self.mask[t:b, l:r]).tobytes()


_CACHE: OrderedDict[tuple, list[Obj]] = OrderedDict()
_CACHE_SIZE = 4096

_N4 = ((1, 0), (-1, 0), (0, 1), (0, -1))
_N8 = _N4 + ((1, 1), (1, -1), (-1, 1), (-1, -1))


def objects(grid: np.ndarray, by_colour: bool, diagonal: bool, bg: int = 0) -> list[Obj]:
    """Connected components of non-background cells, ordered by (top, left) of their first cell.

    `by_colour`: a component holds one colour; otherwise any non-background cells join.
    `diagonal`: 8-connected; otherwise 4-connected.
    """
    key = (grid.shape, grid.tobytes(), by_colour, diagonal, bg)
    found = _CACHE.get(key)
    if found is not None:
        _CACHE.move_to_end(key)
        return found
    h, w = grid.shape
    cells = grid.tolist()
    seen = [[False] * w for _ in range(h)]
    steps = _N8 if diagonal else _N4
    out = []
    for r0 in range(h):
        for c0 in range(w):
            if seen[r0][c0] or cells[r0][c0] == bg:
                continue
            colour = cells[r0][c0]
            seen[r0][c0] = True
            stack, members = [(r0, c0)], []
            while stack:
                r, c = stack.pop()
                members.append((r, c))
                for dr, dc in steps:
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < h and 0 <= cc < w and not seen[rr][cc]:
                        v = cells[rr][cc]
                        if v != bg and (not by_colour or v == colour):
                            seen[rr][cc] = True
                            stack.append((rr, cc))
            mask = np.zeros((h, w), dtype=bool)
            rs, cs = zip(*members)
            mask[list(rs), list(cs)] = True
            values = counts(grid[mask])
            out.append(Obj(mask, len(members), int(np.argmax(values)), int((values > 0).sum()),
                           (min(rs), min(cs), max(rs) + 1, max(cs) + 1)))
    _CACHE[key] = out
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return out


def key(grid: np.ndarray) -> bytes:
    """Shape and cells as bytes: equal grids, equal keys."""
    return bytes(grid.shape) + grid.tobytes()


def agreeing(grid: np.ndarray, steps: tuple) -> np.ndarray | None:
    """The one answer every step gives (each fitted on the same demonstrations); None where one
    has none or two differ: settings the demonstrations cannot tell apart must not decide."""
    first = None
    for step in steps:
        out = step(grid)
        if out is None or (first is not None and not np.array_equal(out, first)):
            return None
        first = out if first is None else first
    return first


def spans(lines: list[int], n: int) -> list[tuple[int, int]]:
    """The stretches (start, end) of 0..n between separator lines (consecutive lines merge)."""
    out, start = [], 0
    for line in lines + [n]:
        if line > start:
            out.append((start, line))
        start = line + 1
    return out


def shared_colours(grids: list[np.ndarray]) -> set[int]:
    """The colours every grid shows."""
    return set.intersection(*(set(np.unique(g).tolist()) for g in grids))


# The 7 rigid maps but the identity, each with its inverse: (name, map, inverse), turns first.
RIGID_MAPS = (
    ("rotate(ccw)", np.rot90, lambda g: np.rot90(g, -1)),
    ("rotate(180)", partial(np.rot90, k=2), partial(np.rot90, k=2)),
    ("rotate(cw)", lambda g: np.rot90(g, -1), np.rot90), ("flip(lr)", np.fliplr, np.fliplr),
    ("flip(ud)", np.flipud, np.flipud), ("transpose", np.transpose, np.transpose),
    ("transpose(anti)", lambda g: np.rot90(g, 2).T, lambda g: np.rot90(g, 2).T),
)
# The identity, then the 7 maps, in that order (a map's index names it).
EIGHT_MAPS = (lambda g: g,) + tuple(f for _, f, _ in RIGID_MAPS)


def background(grid: np.ndarray, policy: int | str) -> int:
    """The background a policy names: a colour, or "majority" (the grid's most frequent)."""
    return most_frequent(grid) if policy == "majority" else int(policy)


def background_policies(made: list[np.ndarray]) -> list[int | str]:
    """The backgrounds to try: the most frequent colour of every demonstration input where they
    share one, else each grid's own ("majority"); then 0."""
    majority = {most_frequent(a) for a in made}
    return list(dict.fromkeys([majority.pop() if len(majority) == 1 else "majority", 0]))


def background_colours(made: list[np.ndarray]) -> list[int]:
    """The fixed backgrounds to try: the inputs' shared most frequent colour, if any, then 0."""
    majority = {most_frequent(a) for a in made}
    return list(dict.fromkeys([*(majority if len(majority) == 1 else ()), 0]))


def reproduces(step, made: list[np.ndarray], wanted: list[np.ndarray]) -> bool:
    """Whether the step makes every demonstration's output from its input (None makes none)."""
    return all(np.array_equal(step(a), b) for a, b in zip(made, wanted))


def same_shapes(made: list[np.ndarray], wanted: list[np.ndarray]) -> bool:
    """Whether every demonstration's output has its input's shape."""
    return all(a.shape == b.shape for a, b in zip(made, wanted))


def changes(made: list[np.ndarray], wanted: list[np.ndarray]) -> set[tuple[int, int]] | None:
    """(old, new) colours of every changed cell; None where a shape changes or nothing does."""
    if not same_shapes(made, wanted):
        return None
    pairs = {(int(x), int(y)) for a, b in zip(made, wanted) for x, y in zip(a[a != b].tolist(), b[a != b].tolist())}
    return pairs or None


def one_answer(name: str, steps: list[Primitive], shape: str = SAME) -> Primitive | None:
    """The fitted settings as one rule that answers only where they all agree (`agreeing`); the
    name shows the first and how many more; None where there is none."""
    if not steps:
        return None
    if len(steps) == 1:
        return Primitive(f"{name}: {steps[0].name}", steps[0].fn, shape)
    return Primitive(f"{name}: {steps[0].name} (+{len(steps) - 1} agreeing)", partial(agreeing, steps=tuple(steps)),
                     shape)


def only_background_changes(made: list[np.ndarray], wanted: list[np.ndarray]) -> bool:
    """Whether every cell a demonstration changes is of its input's most frequent colour."""
    return all(not ((a != most_frequent(a)) & (a != b)).any() for a, b in zip(made, wanted))


def on_a_background(name: str, rule, made: list[np.ndarray], wanted: list[np.ndarray],
                    shape: str = SAME) -> Primitive | None:
    """`rule(grid, bg=...)` on the first background (`background_colours`) under which it
    reproduces every demonstration, named `name(on bg)`; None where none does."""
    for bg in background_colours(made):
        step = Primitive(f"{name}(on {bg})", partial(rule, bg=bg), shape)
        if reproduces(step, made, wanted):
            return step
    return None


def shared_background(made: list[np.ndarray]) -> int | None:
    """The most frequent colour of every input where they share one, else None."""
    majority = {most_frequent(a) for a in made}
    return majority.pop() if len(majority) == 1 else None


def painted_colour(made: list[np.ndarray], wanted: list[np.ndarray]) -> int | None:
    """The one colour the demonstrations paint, and only on their inputs' most frequent colour;
    None where they paint several, change another cell, or change a shape."""
    if not same_shapes(made, wanted) or not only_background_changes(made, wanted):
        return None
    new = {int(c) for a, b in zip(made, wanted) for c in np.unique(b[a != b])}
    return new.pop() if len(new) == 1 else None


def changed_from(made: list[np.ndarray], wanted: list[np.ndarray]) -> int | None:
    """The one colour every changed cell had; None where cells of several colours change, none
    does, or a shape changes."""
    pairs = changes(made, wanted)
    sources = {old for old, _ in pairs or ()}
    return sources.pop() if len(sources) == 1 else None
