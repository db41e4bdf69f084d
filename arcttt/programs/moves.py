"""Objects drawn to anchors: each small object slides in a straight line until it touches the
nearest anchor, or leaves a trail up to it.

A rule fitted on the demonstrations (`fit_attract`). Objects are 4-connected one-colour
components on the most frequent colour. Anchors are the colours no demonstration changes, or
the objects of more than one cell; the other objects move. Fitted too: 4 or 8 directions,
whether a mover heads only for anchors of its own colour, whether a mover with no anchor in
reach stays or goes, and moving or drawing a trail. Designed on ARC-AGI-1 training tasks only.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from arcttt.programs.dsl import Primitive, most_frequent, objects

DIRECTIONS = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))  # ties: this order
# Every setting, simplest first: (anchors, directions, own colour only, keep the unmatched, mode).
SETTINGS = tuple(itertools.product(("colours", "large"), (4, 8), (False, True), (True, False), ("move", "trail")))
# A grid of more objects is a pattern or noise, not a few objects drawn to anchors (the training
# tasks this rule solves have at most 11); trying every setting on one took up to 6 s.
MAX_OBJECTS = 40


def fixed_colours(made: list[np.ndarray], wanted: list[np.ndarray]) -> frozenset[int]:
    """The colours every demonstration input shows, in the same cells of its output, other than
    the input's most frequent."""
    keep = set(range(10))
    for a, b in zip(made, wanted):
        keep &= {c for c in range(10) if (a == c).any() and ((a == c) == (b == c)).all() and c != most_frequent(a)}
    return frozenset(keep)


def _reach(cells: np.ndarray, direction: tuple[int, int], anchor: np.ndarray) -> int | None:
    """The fewest steps along `direction` after which the cells overlap an anchor cell."""
    h, w = anchor.shape
    for k in range(1, max(h, w)):
        r, c = cells[:, 0] + k * direction[0], cells[:, 1] + k * direction[1]
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        if not inside.any():
            return None
        if anchor[r[inside], c[inside]].any():
            return k
    return None


def attract(grid: np.ndarray, anchors: str, n_directions: int, own_colour: bool, keep: bool, mode: str,
            colours: frozenset[int]) -> np.ndarray | None:
    """The grid with its movers moved to (or trailed up to) their nearest anchors; None where it
    has no anchor or no mover."""
    bg = most_frequent(grid)
    found = objects(grid, True, False, bg)
    is_anchor = [(o.colour in colours) if anchors == "colours" else o.size > 1 for o in found]
    if not any(is_anchor) or all(is_anchor):
        return None
    out = grid.copy()
    blocked = np.zeros(grid.shape, dtype=bool)
    anchor_colour = np.full(grid.shape, -1, dtype=np.int16)
    for o, a in zip(found, is_anchor):
        if a:
            anchor_colour[o.mask] = o.colour
        else:
            out[o.mask] = bg
    plans = []
    for o in (o for o, a in zip(found, is_anchor) if not a):
        target = (anchor_colour == o.colour) if own_colour else (anchor_colour >= 0)
        cells = np.argwhere(o.mask)
        reach = [(k, d) for d in DIRECTIONS[:n_directions] if (k := _reach(cells, d, target)) is not None]
        plans.append((min(reach, key=lambda kd: kd[0]) if reach else None, o, cells, target))
    plans.sort(key=lambda p: p[0][0] if p[0] else 1 << 30)
    for plan, o, cells, target in plans:
        if plan is None:
            if keep:
                out[o.mask] = o.colour
            continue
        k, (dr, dc) = plan
        if mode == "move":  # slide until the next step meets an anchor, a placed mover or the edge
            k = 0
            while True:
                r, c = cells[:, 0] + (k + 1) * dr, cells[:, 1] + (k + 1) * dc
                if (r < 0).any() or (c < 0).any() or (r >= grid.shape[0]).any() or (c >= grid.shape[1]).any():
                    break
                if target[r, c].any() or blocked[r, c].any():
                    break
                k += 1
            steps = [k]
        else:
            steps = range(k)
        for s in steps:  # a trail of a mover that only partly meets its anchor may leave the grid
            r, c = cells[:, 0] + s * dr, cells[:, 1] + s * dc
            inside = (r >= 0) & (r < grid.shape[0]) & (c >= 0) & (c < grid.shape[1])
            out[r[inside], c[inside]] = o.colour
            blocked[r[inside], c[inside]] = mode == "move"
    return out


def fit_attract(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The first setting (SETTINGS' order) that reproduces every demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)) or all(np.array_equal(a, b) for a, b in zip(made, wanted)):
        return None
    if any(len(objects(a, True, False, most_frequent(a))) > MAX_OBJECTS for a in made):
        return None
    colours = fixed_colours(made, wanted)
    for anchors, n, own, keep, mode in SETTINGS:
        if anchors == "colours" and not colours:
            continue
        step = partial(attract, anchors=anchors, n_directions=n, own_colour=own, keep=keep, mode=mode, colours=colours)
        if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
            what = f"colours {sorted(colours)}" if anchors == "colours" else "objects of 2+ cells"
            name = (f"attract({mode}, to {what}, {n} directions{', own colour' if own else ''}"
                    f"{'' if keep else ', the unmatched erased'})")
            return Primitive(name, step)
    return None
