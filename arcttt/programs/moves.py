"""Objects drawn to anchors: each small object slides in a straight line until it touches the
nearest anchor, or leaves a trail up to it.

A rule fitted on the demonstrations (`fit_attract`). Objects are 4-connected one-colour
components on the most frequent colour. Anchors are the colours no demonstration changes, or
the objects of more than one cell; the other objects move. Fitted too: 4 or 8 directions,
whether a mover heads only for anchors of its own colour, whether a mover with no anchor in
reach stays or goes, and moving or drawing a trail. Beside it: markers slid onto full lines
(`fit_slide_to_lines`), projected onto the one large object (`fit_project`), mirrored across
the nearest bracket (`fit_mirror_across`). Designed on ARC-AGI-1 training tasks only.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from arcttt.programs.dsl import Primitive, agreeing, most_frequent, objects, shared_background

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


# --- markers slid onto full lines ----------------------------------------------------------------


def _slide_to_rows(g: np.ndarray, bg: int, lines: list[int], any_line: bool, line_colour: bool) -> np.ndarray | None:
    h, w = g.shape
    out = np.full_like(g, bg)
    out[lines] = g[lines]
    markers = [(r, c) for r in range(h) for c in range(w) if r not in lines and g[r, c] != bg]
    if not markers:
        return None
    moves = []
    for r, c in markers:
        targets = [line for line in lines if any_line or g[line, 0] == g[r, c]]
        if not targets:
            continue  # no line of its colour: the marker goes
        far = [abs(line - r) for line in targets]
        if far.count(min(far)) > 1:
            return None
        moves.append((min(far), r, c, targets[int(np.argmin(far))]))
    for _, r, c, line in sorted(moves):  # nearest first: the later ones stack on them
        step = 1 if r > line else -1
        y = line + step
        while 0 <= y < h and out[y, c] != bg and y not in lines:
            y += step
        if not 0 <= y < h or y in lines:
            return None
        out[y, c] = g[line, 0] if line_colour else g[r, c]
    return out


def slide_to_lines(grid: np.ndarray, any_line: bool, line_colour: bool) -> np.ndarray | None:
    """Lines: full rows (else full columns) of one colour but the background's. Every other cell
    slides across to the nearest line (of its own colour, unless `any_line`; none: it goes) and
    stops beside it, on markers placed before; it keeps its colour or takes the line's."""
    bg = most_frequent(grid)
    for g, back in ((grid, False), (grid.T, True)):
        lines = [r for r in range(g.shape[0]) if g[r, 0] != bg and (g[r] == g[r, 0]).all()]
        if lines:
            out = _slide_to_rows(g, bg, lines, any_line, line_colour)
            return None if out is None else (out.T if back else out)
    return None


def fit_slide_to_lines(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Every setting (own-colour lines or any; own colour or the line's) that reproduces every
    demonstration; they must agree on a test input."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    fits = [(a_, c_) for a_ in (False, True) for c_ in (False, True)
            if all(np.array_equal(slide_to_lines(a, a_, c_), b) for a, b in zip(made, wanted))]
    if not fits:
        return None
    steps = tuple(partial(slide_to_lines, any_line=a_, line_colour=c_) for a_, c_ in fits)
    a_, c_ = fits[0]
    name = f"slide_to_lines({'any line' if a_ else 'own colour'}, {'line colour' if c_ else 'own colour'})"
    return Primitive(name, partial(agreeing, steps=steps))


# --- markers projected onto a block ---------------------------------------------------------------


def project(grid: np.ndarray, keep: bool) -> np.ndarray | None:
    """Each cell outside the largest one-colour object (4-connected; it must be the one largest)
    paints its colour on the object's cell nearest to it; it stays, or goes (`keep`). None on a
    tie, or two cells painting one."""
    bg = most_frequent(grid)
    found = sorted(objects(grid, True, False, bg), key=lambda o: -o.size)
    if len(found) < 2 or found[0].size == found[1].size:
        return None
    block = np.argwhere(found[0].mask)
    out, used = grid.copy(), set()
    markers = np.argwhere((grid != bg) & ~found[0].mask)
    for r, c in markers:
        far = (block[:, 0] - r) ** 2 + (block[:, 1] - c) ** 2
        nearest = np.flatnonzero(far == far.min())
        target = tuple(block[nearest[0]])
        if len(nearest) != 1 or target in used:
            return None
        used.add(target)
        out[target] = grid[r, c]
        if not keep:
            out[r, c] = bg
    return out


def fit_project(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Markers kept, else erased, where that reproduces every demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    for keep in (True, False):
        if all(np.array_equal(project(a, keep), b) for a, b in zip(made, wanted)):
            return Primitive(f"project({'markers kept' if keep else 'markers moved'})", partial(project, keep=keep))
    return None


# --- objects mirrored across the nearest bracket -------------------------------------------------


def _spines(grid: np.ndarray, colour: int) -> list[tuple[str, int, int, int]] | None:
    """Per object of `colour` (4-connected), its spine: a full edge row ("h") or column ("v") of
    its box, the longer; (kind, line, start, end). None where one has none, or two as long."""
    out = []
    for o in objects(grid, True, False, bg=-1):
        if o.colour != colour:
            continue
        t, l, b, r = o.box
        found = [(r - l, "h", row, l, r - 1) for row in {t, b - 1} if r - l > 1 and o.mask[row, l:r].all()]
        found += [(b - t, "v", col, t, b - 1) for col in {l, r - 1} if b - t > 1 and o.mask[t:b, col].all()]
        if not found:
            return None
        found.sort(reverse=True)
        if len(found) > 1 and found[0][0] == found[1][0] and found[0][1] != found[1][1]:
            return None
        out.append(found[0][1:])
    return out


def mirror_across(grid: np.ndarray, bracket: int) -> np.ndarray | None:
    """Every object of another colour (8-connected) mirrored across the spine of the nearest
    bracket (objects of colour `bracket`) whose span it overlaps, the original cleared."""
    bg = most_frequent(grid)
    if bracket == bg or not (grid == bracket).any():
        return None
    spines = _spines(grid, bracket)
    movers = [o for o in objects(grid, True, True, bg) if o.colour != bracket]
    if not spines or not movers:
        return None
    out = grid.copy()
    for o in movers:
        out[o.mask] = bg
    h, w = grid.shape
    for o in movers:
        t, l, b, r = o.box
        near = sorted((abs((t + b - 1) / 2 - line) if kind == "h" else abs((l + r - 1) / 2 - line), kind, line)
                      for kind, line, start, end in spines
                      if (kind == "h" and l <= end and r - 1 >= start) or (kind == "v" and t <= end and b - 1 >= start))
        if not near or (len(near) > 1 and near[0][0] == near[1][0]):
            return None
        _, kind, line = near[0]
        for y, x in np.argwhere(o.mask):
            ny, nx = (2 * line - y, x) if kind == "h" else (y, 2 * line - x)
            if not (0 <= ny < h and 0 <= nx < w):
                return None
            out[ny, nx] = grid[y, x]
    return out


def fit_mirror_across(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The first bracket colour whose mirroring reproduces every demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    for bracket in range(10):
        if all(np.array_equal(mirror_across(a, bracket), b) for a, b in zip(made, wanted)):
            return Primitive(f"mirror_across(brackets of {bracket})", partial(mirror_across, bracket=bracket))
    return None


# --- lines sorted by how full they are ----------------------------------------------------------


def sorted_rows(grid: np.ndarray, bg: int, side: str, longest_last: bool) -> np.ndarray | None:
    """Each row's cells other than `bg` pushed to one `side` (in their order), the rows sorted by
    how many they are (ties keep their order), the empty rows first where the longest come last;
    None where no row changes place."""
    rows = [line[line != bg] for line in grid]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]) if longest_last else -len(rows[i]))
    out = np.full_like(grid, bg)
    for i, source in enumerate(order):
        cells = rows[source]
        if len(cells):
            if side == "left":
                out[i, :len(cells)] = cells
            else:
                out[i, grid.shape[1] - len(cells):] = cells
    return None if order == sorted(order) else out


def fit_sorted_rows(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Rows pushed to a side and sorted by their length (bars stacked into a staircase)."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    bg = shared_background(made)
    if bg is None:
        return None
    for side in ("left", "right"):
        for longest_last in (True, False):
            step = partial(sorted_rows, bg=bg, side=side, longest_last=longest_last)
            if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
                order = "longest last" if longest_last else "longest first"
                return Primitive(f"sorted_rows(to the {side}, {order}, on {bg})", step)
    return None
