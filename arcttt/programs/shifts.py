"""Objects moved: every cell of the moving colours shifted by one vector (fixed, or a counted
number of steps, along a track); objects stepped toward another colour's; objects aligned to a
reference's box; a shape mirrored to the side its marker touches; a bridge between two objects
that face each other. Designed on ARC-AGI-1 training tasks only; where several settings fit, the
rule answers only where they agree.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from arcttt.programs.dsl import (Primitive, agreeing, bbox, most_frequent, objects, one_answer, painted_colour,
                                 reproduces, same_shapes, shared_background)


def _changed_colours(made, wanted) -> tuple[set[int], set[int]]:
    """(colours whose cells move in some demonstration, colours present and fixed in every one)."""
    moved, fixed = set(), set(range(10))
    for a, b in zip(made, wanted):
        for c in range(10):
            ma, mb = a == c, b == c
            if not ma.any():
                fixed.discard(c)
                if mb.any():
                    moved.add(c)
                continue
            if not np.array_equal(ma, mb):
                moved.add(c)
                fixed.discard(c)
    return moved, fixed


def _movers(made: list[np.ndarray], wanted: list[np.ndarray]) -> tuple[set[int], set[int], int] | None:
    """(the colours that move, the colours fixed, the shared background; the background counted in
    neither as moving) where shapes are kept and the inputs share a background; else None."""
    if not same_shapes(made, wanted):
        return None
    bg = shared_background(made)
    if bg is None:
        return None
    moved, fixed = _changed_colours(made, wanted)
    moved.discard(bg)
    return moved, fixed, bg


def _paint_moved(grid: np.ndarray, bg: int, moves: list[tuple[np.ndarray, int, int]]) -> np.ndarray | None:
    """Erase each mask, then draw its cells shifted by (dr, dc); None where one leaves the grid."""
    h, w = grid.shape
    out = grid.copy()
    for mask, _, _ in moves:
        out[mask] = bg
    for mask, dr, dc in moves:
        rs, cs = np.nonzero(mask)
        r2, c2 = rs + dr, cs + dc
        if r2.min() < 0 or c2.min() < 0 or r2.max() >= h or c2.max() >= w:
            return None
        out[r2, c2] = grid[rs, cs]
    return out


# --- every cell of the moving colours shifted by one vector --------------------------------------


def _counter(grid: np.ndarray, colour: int | None) -> int:
    """Cells of the counter colour: how many steps the vector is taken (1: no counter, a fixed vector)."""
    return 1 if colour is None else int((grid == colour).sum())


def _track(grid: np.ndarray, static: frozenset) -> str | None:
    """The long axis of the static colours' box: "h" (wider), "v" (taller), None (square, none)."""
    box = bbox(np.isin(grid, list(static)))
    if box is None or box[2] - box[0] == box[3] - box[1]:
        return None
    return "h" if box[3] - box[1] > box[2] - box[0] else "v"


def shift(grid: np.ndarray, static: frozenset, vector: tuple[int, int], counter: int | None,
          fill: str, frame: str = "grid") -> np.ndarray | None:
    """The movers' cells (every colour but the background, the static colours and the counter)
    shifted by vector * (cells of the counter colour, or 1); the counter's cells erased. frame
    "track": the vector is (along, across) the static colours' long axis, as if it ran across.
    fill "bg": what leaves the grid is lost (None where a mover's cell would); "edge": the movers'
    layer is shifted with its edge rows/columns repeated in."""
    bg = most_frequent(grid)
    k = _counter(grid, counter)
    if counter is not None and k == 0:
        return None
    dr, dc = vector[0] * k, vector[1] * k
    if frame == "track":
        axis = _track(grid, static)
        if axis is None:
            return None
        dr, dc = (dr, dc) if axis == "h" else (dc, dr)
    if (dr, dc) == (0, 0):
        return None
    mask = ~np.isin(grid, list(static | {bg, counter}))
    if not mask.any():
        return None
    base = grid.copy()
    if counter is not None:
        base[grid == counter] = bg
    if fill == "bg":
        return _paint_moved(base, bg, [(mask, dr, dc)])
    h, w = grid.shape
    if abs(dr) >= h or abs(dc) >= w:
        return None
    layer = np.where(mask, grid, -1)
    rows = np.clip(np.arange(h) - dr, 0, h - 1)
    cols = np.clip(np.arange(w) - dc, 0, w - 1)
    moved = layer[rows][:, cols]
    out = base.copy()
    out[mask] = bg
    out[moved >= 0] = moved[moved >= 0]
    return out


def fit_shift(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The cells of the colours that move shifted by one fixed vector, or a unit vector times the
    count of a marker colour's cells (the markers erased)."""
    found = _movers(made, wanted)
    if found is None:
        return None
    moved, fixed, bg = found
    if not moved:
        return None
    counters = [None] + [c for c in moved if all((a == c).any() and not (b == c).any() for a, b in zip(made, wanted))]
    steps = []
    for counter in counters:
        static = frozenset(fixed - {bg})
        if not moved - {counter}:
            continue
        # read the vector off the first demonstration's movers' bounding boxes
        a, b = made[0], wanted[0]
        ba, bb = bbox(~np.isin(a, list(static | {bg, counter}))), bbox(~np.isin(b, list(static | {bg, counter})))
        if ba is None or bb is None:
            continue
        k = _counter(a, counter)
        for fill in ("bg", "edge"):
            cands = {(bb[0] - ba[0], bb[1] - ba[1]), (bb[2] - ba[2], bb[3] - ba[3]),
                     (bb[0] - ba[0], bb[3] - ba[3]), (bb[2] - ba[2], bb[1] - ba[1])}
            if counter is not None:
                cands = {(dr * k, dc * k) for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
            for (dr, dc), frame in itertools.product(cands, ("grid", "track")):
                if dr % k or dc % k or (dr, dc) == (0, 0):
                    continue
                if counter is not None and abs(dr) // k > 1 or counter is not None and abs(dc) // k > 1:
                    continue
                if frame == "track":
                    axis = _track(a, static)
                    if axis is None or len({_track(x, static) for x in made}) == 1:
                        continue  # the track's axis must vary for the frame to be read off the demonstrations
                    dr, dc = (dr, dc) if axis == "h" else (dc, dr)
                step = Primitive(f"shift(all but {sorted(static)} by ({dr // k},{dc // k})"
                                 f"{'' if counter is None else f' x count({counter})'}, {fill}, {frame})",
                                 partial(shift, static=static, vector=(dr // k, dc // k), counter=counter, fill=fill,
                                         frame=frame))
                if reproduces(step, made, wanted):
                    steps.append(step)
    # a counted shift where the counts never vary is a fixed shift: not determined
    for counter in counters[1:]:
        if len({_counter(a, counter) for a in made}) == 1:
            steps = [s for s in steps if f"count({counter})" not in s.name]
    return one_answer("shift", steps)


# --- objects stepped toward (or onto the side of) another colour's -------------------------------


def step_toward(grid: np.ndarray, mover: int, target: int, how: str, behind: int | None = None) -> np.ndarray | None:
    """Each object of the mover colour moved toward the target colour's cells: "one" step (a king's
    step along the sign of the offset of the box centres) or "touch", straight (one axis) until it
    is next to the target; None where there is no target or no mover. `behind`: a full line of
    that colour drawn across the grid just behind each moved object ("touch" only)."""
    bg = most_frequent(grid)
    tmask = grid == target
    tb = bbox(tmask)
    if tb is None or mover == bg or target == bg:
        return None
    movers = [o for o in objects(grid, True, True, bg) if o.colour == mover]
    if not movers:
        return None
    moves = []
    for o in movers:
        t, l, b, r = o.box
        dr = np.sign((tb[0] + tb[2]) - (t + b))
        dc = np.sign((tb[1] + tb[3]) - (l + r))
        if how == "one":
            if (dr, dc) == (0, 0):
                return None
            moves.append((o.mask, int(dr), int(dc)))
            continue
        apart_r = b <= tb[0] or tb[2] <= t
        apart_c = r <= tb[1] or tb[3] <= l
        if apart_r == apart_c:
            return None  # straight moves only: apart along exactly one axis
        dr, dc = (dr, 0) if apart_r else (0, dc)
        rs, cs = np.nonzero(o.mask)
        h, w = grid.shape
        for k in range(0, max(h, w)):
            r2, c2 = rs + (k + 1) * dr, cs + (k + 1) * dc
            if r2.min() < 0 or c2.min() < 0 or r2.max() >= h or c2.max() >= w:
                return None
            if tmask[r2, c2].any():
                break
        else:
            return None
        moves.append((o.mask, int(k * dr), int(k * dc)))
    out = _paint_moved(grid, bg, moves)
    if out is None or behind is None:
        return out
    for mask, dr, dc in moves:
        t, l, b, r = bbox(mask)
        t, l, b, r = t + dr, l + dc, b + dr, r + dc
        if dr:
            row = t - 1 if dr > 0 else b
            if not 0 <= row < grid.shape[0]:
                return None
            out[row, :] = behind
        else:
            col = l - 1 if dc > 0 else r
            if not 0 <= col < grid.shape[1]:
                return None
            out[:, col] = behind
    return out


def fit_step_toward(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Objects of the one colour that moves stepped toward the colour that stays (one step, or
    straight until touching); mover and target read off which colours change."""
    found = _movers(made, wanted)
    if found is None:
        return None
    moved, fixed, bg = found
    fixed.discard(bg)
    # a colour in no input and in every output: drawn behind the moved objects
    behinds = [c for c in moved if all(not (a == c).any() and (b == c).any() for a, b in zip(made, wanted))]
    moved -= set(behinds)
    if len(moved) != 1 or not fixed or len(behinds) > 1:
        return None
    mover = moved.pop()
    steps = []
    for target in sorted(fixed):
        for how, behind in (("one", None), ("touch", None)) if not behinds else (("touch", behinds[0]),):
            line = "" if behind is None else f", line {behind} behind"
            step = Primitive(f"step_toward({mover} -> {target}, {how}{line})",
                             partial(step_toward, mover=mover, target=target, how=how, behind=behind))
            if reproduces(step, made, wanted):
                steps.append(step)
    return one_answer("step_toward", steps)


# --- objects aligned to a reference colour's box -------------------------------------------------


def align(grid: np.ndarray, reference: int, axes: str, anchor: str, diagonal: bool) -> np.ndarray | None:
    """Every object (not of the reference colour) moved along `axes` ("rows": up/down, "cols":
    left/right, "both") so that its box's start, centre or end lines up with the reference
    colour's box; None where a centre falls between cells."""
    bg = most_frequent(grid)
    rb = bbox(grid == reference)
    if rb is None or reference == bg:
        return None
    found = _align_objects(grid, reference, diagonal)
    if not found:
        return None

    def offset(lo, hi, rlo, rhi) -> int | None:
        if anchor == "start":
            return rlo - lo
        if anchor == "end":
            return rhi - hi
        d = (rlo + rhi) - (lo + hi)
        return None if d % 2 else d // 2  # None: the centres fall between cells

    moves = []
    for o in found:
        t, l, b, r = o.box
        dr = offset(t, b, rb[0], rb[2]) if axes in ("rows", "both") else 0
        dc = offset(l, r, rb[1], rb[3]) if axes in ("cols", "both") else 0
        if dr is None or dc is None:
            return None
        moves.append((o.mask, dr, dc))
    if all(dr == 0 and dc == 0 for _, dr, dc in moves):
        return None
    return _paint_moved(grid, bg, moves)


def fit_align(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Objects moved to line up with the box of the colour that stays put (its top, centre or
    bottom rows; its left, centre or right columns; or both)."""
    if not same_shapes(made, wanted):
        return None
    moved, fixed = _changed_colours(made, wanted)
    bg = shared_background(made)
    if bg is None:
        return None
    fixed.discard(bg)
    if not moved - {bg} or not fixed:
        return None
    groups = []
    for diagonal in (True, False):
        steps, sizes = [], set()
        for reference in sorted(fixed):
            for axes, anchor in itertools.product(("rows", "cols", "both"), ("start", "centre", "end")):
                step = Primitive(f"align(to {reference}, {axes}, {anchor}{', 8' if diagonal else ''})",
                                 partial(align, reference=reference, axes=axes, anchor=anchor, diagonal=diagonal))
                if reproduces(step, made, wanted):
                    steps.append(step)
                    for a in made:
                        sizes |= {o.size for o in _align_objects(a, reference, diagonal)}
        if steps:
            groups.append((min(sizes), max(sizes), tuple(steps)))
    if not groups:
        return None
    first = groups[0][2][0]
    return Primitive(f"align: {first.name} (+{sum(len(g[2]) for g in groups) - 1})",
                     partial(by_plausible_cut, groups=tuple(groups)))


def _align_objects(grid: np.ndarray, reference: int, diagonal: bool):
    """The objects to align: every object but the reference colour's."""
    bg = most_frequent(grid)
    return objects(np.where(grid == reference, bg, grid), False, diagonal, bg)


def by_plausible_cut(grid: np.ndarray, groups: tuple) -> np.ndarray | None:
    """The agreeing answer of the settings whose cut (8- or 4-connected) gives the grid only objects
    of sizes the demonstrations' objects had; of all settings where no cut does."""
    kept = []
    for lo, hi, steps in groups:
        ref = steps[0].fn.keywords
        if all(lo <= o.size <= hi for o in _align_objects(grid, ref["reference"], ref["diagonal"])):
            kept += steps
    return agreeing(grid, tuple(kept or [s for g in groups for s in g[2]]))


# --- a shape mirrored to the side its marker touches ---------------------------------------------


def mirror_to_marker(grid: np.ndarray, marker: int, new_bg: int | None, diagonal: bool) -> np.ndarray | None:
    """Each object holding marker cells on exactly one side of the rest of it: the rest mirrored
    across its box's edge on that side (the marker erased); the background then repainted
    `new_bg` where given."""
    bg = most_frequent(grid)
    if marker == bg:
        return None
    h, w = grid.shape
    out = grid.copy()
    done = False
    for o in objects(grid, False, diagonal, bg):
        mk = o.mask & (grid == marker)
        main = o.mask & (grid != marker)
        if not mk.any():
            continue
        if not main.any():
            return None
        mb, kb = bbox(main), bbox(mk)
        sides = [kb[0] >= mb[2], kb[2] <= mb[0], kb[1] >= mb[3], kb[3] <= mb[1]]
        if sum(sides) != 1:
            return None
        rs, cs = np.nonzero(main)
        if sides[0]:
            r2, c2 = 2 * mb[2] - 1 - rs, cs
        elif sides[1]:
            r2, c2 = 2 * mb[0] - 1 - rs, cs
        elif sides[2]:
            r2, c2 = rs, 2 * mb[3] - 1 - cs
        else:
            r2, c2 = rs, 2 * mb[1] - 1 - cs
        if r2.min() < 0 or c2.min() < 0 or r2.max() >= h or c2.max() >= w:
            return None
        out[mk] = bg
        out[r2, c2] = grid[rs, cs]
        done = True
    if not done:
        return None
    if new_bg is not None:
        out[out == bg] = new_bg
    return out


def fit_mirror_to_marker(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Shapes mirrored across the edge their marker colour (in every input, in no output) touches;
    the background repainted where every output shows one new background colour."""
    if not same_shapes(made, wanted):
        return None
    markers = [c for c in range(10) if all((a == c).any() and not (b == c).any() for a, b in zip(made, wanted))]
    news = {most_frequent(b) for b in wanted}
    olds = {most_frequent(a) for a in made}
    new_bg = None if news == olds else (news.pop() if len(news) == 1 else -1)
    if new_bg == -1:
        return None
    steps = []
    for marker in markers:
        for diagonal in (True, False):
            step = Primitive(f"mirror_to_marker({marker}{', 8' if diagonal else ''}, bg {new_bg})",
                             partial(mirror_to_marker, marker=marker, new_bg=new_bg, diagonal=diagonal))
            if reproduces(step, made, wanted):
                steps.append(step)
    return one_answer("mirror_to_marker", steps)


# --- a bridge between two objects that face each other -------------------------------------------


def bridge(grid: np.ndarray, paint: int, inset: int) -> np.ndarray | None:
    """Between every two objects (one colour, 4-connected, on the most frequent colour) whose rows
    (or columns) overlap with only background between them: the overlap, less `inset` cells on
    each side, painted across the gap. None where there is no such pair."""
    bg = most_frequent(grid)
    found = objects(grid, True, False, bg)
    if len(found) > 12:
        return None
    out = grid.copy()
    done = False
    for p, q in itertools.combinations(found, 2):
        for ax in (0, 1):  # 0: side by side (rows overlap), 1: one above the other
            lo, hi = max(p.box[ax], q.box[ax]), min(p.box[ax + 2], q.box[ax + 2])
            lo, hi = lo + inset, hi - inset
            o = 1 - ax
            first, second = (p, q) if p.box[o] < q.box[o] else (q, p)
            a, b = first.box[o + 2], second.box[o]
            if hi <= lo or b <= a:
                continue
            region = (slice(lo, hi), slice(a, b)) if ax == 0 else (slice(a, b), slice(lo, hi))
            if (grid[region] != bg).any():
                continue
            out[region] = paint
            done = True
    return out if done else None


def fit_bridge(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Facing objects joined by a band of one new colour across the gap, as wide as their overlap
    less an inset (0 or 1) read off the demonstrations."""
    paint = painted_colour(made, wanted)
    if paint is None:
        return None
    steps = []
    for inset in (0, 1):
        step = Primitive(f"bridge({paint}, inset {inset})", partial(bridge, paint=paint, inset=inset))
        if reproduces(step, made, wanted):
            steps.append(step)
    return one_answer("bridge", steps)

