"""Rays by colour: each colour draws lines in its own directions, to the grid's edge.

A rule fitted on the demonstrations (`fit_rays`): for every colour of the inputs, the simplest
set of directions whose rays cover that colour's new cells and land only on cells the outputs
colour; where rays of several colours cross, either an order of precedence among the colours or
one crossing colour decides. The core's rays draw every colour the same way; here a colour may
draw across while another draws down. And `fit_elbow`: two marked cells joined by a path along
a row, then a column; `fit_bounce`: one cell's diagonal ray bouncing between two walls;
`fit_diagonal_rays`: rays out of each object's tail or notch. Designed on ARC-AGI-1 training
tasks only.
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np

from arcttt.programs.dsl import Primitive, most_frequent, objects, shared_background, shared_colours

# Direction sets, simplest first: none, one axis, both axes, the diagonals, all eight.
_AXES = {"lr": ((0, -1), (0, 1)), "ud": ((-1, 0), (1, 0))}
DIRECTION_SETS = {
    "none": (), "lr": _AXES["lr"], "ud": _AXES["ud"], "4way": _AXES["lr"] + _AXES["ud"],
    "diagonals": ((-1, -1), (-1, 1), (1, -1), (1, 1)),
    "8way": _AXES["lr"] + _AXES["ud"] + ((-1, -1), (-1, 1), (1, -1), (1, 1)),
}


def ray_mask(grid: np.ndarray, colour: int, directions) -> np.ndarray:
    """The cells the colour's rays pass (its own cells excluded), from each of its cells to the edge."""
    h, w = grid.shape
    mask = np.zeros((h, w), dtype=bool)
    for r0, c0 in zip(*np.nonzero(grid == colour)):
        for dr, dc in directions:
            r, c = r0 + dr, c0 + dc
            while 0 <= r < h and 0 <= c < w:
                mask[r, c] = True
                r, c = r + dr, c + dc
    return mask & (grid != colour)


def draw(grid: np.ndarray, bg: int, plan: tuple[tuple[int, str], ...], order: tuple[int, ...] | None,
         crossing: int | None) -> np.ndarray | None:
    """Each colour's rays on the background; a cell two colours' rays pass takes the colour first
    in `order`, or `crossing`. None where the grid shows a colour the plan does not know."""
    directions = dict(plan)
    present = [c for c in np.unique(grid).tolist() if c != bg]
    if any(c not in directions for c in present):
        return None
    if order is not None and any(c not in order for c in present):
        return None
    masks = {c: ray_mask(grid, c, DIRECTION_SETS[directions[c]]) & (grid == bg) for c in present}
    out = grid.copy()
    covered = np.zeros(grid.shape, dtype=np.int8)
    for c in present:
        covered += masks[c]
    for c in (reversed(order) if order is not None else present):
        if c in masks:
            out[masks[c]] = c
    if crossing is not None:
        out[covered > 1] = crossing
    elif order is None and (covered > 1).any():
        return None  # rays cross, and nothing says which colour wins
    return out


def _directions(made, wanted, bg: int, colour: int) -> str | None:
    """The simplest direction set whose rays, on every demonstration, cover every cell the colour
    newly takes and land only on cells the output colours."""
    for name, directions in DIRECTION_SETS.items():
        if all(_obeys(a, b, bg, colour, directions) for a, b in zip(made, wanted) if (a == colour).any()):
            return name
    return None


def _obeys(a: np.ndarray, b: np.ndarray, bg: int, colour: int, directions) -> bool:
    reach = ray_mask(a, colour, directions) & (a == bg)
    new = (b == colour) & (a != colour)
    return bool((~new | reach).all() and (b[reach] != bg).all())


def fit_rays(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Per colour, its directions; then an order of precedence where rays cross, else one colour
    that every crossing takes; kept only if it redraws every demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    bg = most_frequent(made[0])
    if any(most_frequent(a) != bg or ((a != bg) & (a != b)).any() for a, b in zip(made, wanted)):
        return None  # only background cells change
    colours = sorted({c for a in made for c in np.unique(a).tolist()} - {bg})
    plan = []
    for c in colours:
        name = _directions(made, wanted, bg, c)
        if name is None:
            return None
        plan.append((c, name))
    if all(name == "none" for _, name in plan):
        return None
    plan_t = tuple(plan)
    label = ", ".join(f"{c}:{name}" for c, name in plan if name != "none")
    # Rays that never cross first (then no order is read), an order of precedence, one crossing colour.
    settings = [(None, None)] + [(o, None) for o in itertools.permutations(colours) if len(colours) <= 5]
    for order, crossing in settings + [(None, c) for c in range(10)]:
        step = partial(draw, bg=bg, plan=plan_t, order=order, crossing=crossing)
        if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
            how = f"; order {''.join(map(str, order))}" if order else ""
            how += f"; crossings {crossing}" if crossing is not None else ""
            return Primitive(f"rays_by_colour({label}{how})", step)
    return None


def elbow(grid: np.ndarray, start: int, end: int, colour: int) -> np.ndarray | None:
    """The one cell of `start` joined to the one cell of `end` by a path of `colour` on empty
    cells: along the start's row to the end's column, then along that column. None where either
    colour is not one cell."""
    first, last = np.argwhere(grid == start), np.argwhere(grid == end)
    if len(first) != 1 or len(last) != 1:
        return None
    (r0, c0), (r1, c1) = first[0], last[0]
    path = np.zeros(grid.shape, dtype=bool)
    path[r0, min(c0, c1):max(c0, c1) + 1] = True
    path[min(r0, r1):max(r0, r1) + 1, c1] = True
    out = grid.copy()
    out[path & (grid == 0)] = colour
    return out


def fit_elbow(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The one colour the demonstrations add, on empty cells only, and the first ordered pair of
    colours every input shows whose elbow reproduces them all."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    changed = [a != b for a, b in zip(made, wanted)]
    added = {int(v) for b, d in zip(wanted, changed) for v in np.unique(b[d]).tolist()}
    if len(added) != 1 or any((a[d] != 0).any() for a, d in zip(made, changed)):
        return None
    colour = added.pop()
    shown = sorted(shared_colours(made) - {0})
    for start, end in itertools.permutations(shown, 2):
        step = partial(elbow, start=start, end=end, colour=colour)
        if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
            return Primitive(f"elbow({start} to {end} in {colour})", step)
    return None


# --- a ray bouncing between two walls -------------------------------------------------------------


def bounce_path(h: int, w: int, r: int, c: int, dr: int, dc: int, sides: bool) -> list[tuple[int, int]]:
    """The cells of a diagonal ray from (r, c) that turns back at the side walls (`sides`) or at
    the top and bottom, and ends where it leaves through the other two."""
    cells = [(r, c)]
    for _ in range(4 * (h + w) * max(h, w)):
        if sides:
            if w > 1 and not 0 <= c + dc < w:
                dc = -dc
            r, c = r + dr, c + dc if w > 1 else c
            if not 0 <= r < h:
                break
        else:
            if h > 1 and not 0 <= r + dr < h:
                dr = -dr
            r, c = r + dr if h > 1 else r, c + dc
            if not 0 <= c < w:
                break
        cells.append((r, c))
    return cells


def bounce(grid: np.ndarray, dr: int, dc: int, sides: bool, fill: int | None) -> np.ndarray | None:
    """The one coloured cell's zig-zag ray, in its colour, over the grid (or over a grid of
    `fill`); None where the grid has not exactly one coloured cell."""
    bg = most_frequent(grid)
    seeds = np.argwhere(grid != bg)
    if len(seeds) != 1:
        return None
    r, c = map(int, seeds[0])
    out = grid.copy() if fill is None else np.full_like(grid, fill)
    for y, x in bounce_path(*grid.shape, r, c, dr, dc, sides):
        out[y, x] = grid[r, c]
    return out


def fit_bounce(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The first direction, walls and fill (kept, then each colour) that draws every demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    for dr, dc, sides, fill in itertools.product((-1, 1), (-1, 1), (True, False), [None] + list(range(10))):
        step = partial(bounce, dr=dr, dc=dc, sides=sides, fill=fill)
        if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
            walls = "the sides" if sides else "top and bottom"
            return Primitive(f"bounce({dr:+d},{dc:+d} off {walls}{'' if fill is None else f', on {fill}'})", step)
    return None


# --- diagonal rays from an object's tail or notch ------------------------------------------------


def _ray_starts(o, kind: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(first cell, step) of each ray: from a cell whose one neighbour in the object is diagonal,
    onwards away from it ("tail"); or, for 3 cells of a 2x2 box, out of the empty corner
    ("notch")."""
    cells = {tuple(p) for p in np.argwhere(o.mask).tolist()}
    starts = []
    if kind == "tail":
        for y, x in cells:
            near = [(y + a, x + b) for a in (-1, 0, 1) for b in (-1, 0, 1) if (a or b) and (y + a, x + b) in cells]
            if len(near) == 1 and near[0][0] != y and near[0][1] != x:
                d = (y - near[0][0], x - near[0][1])
                starts.append(((y + d[0], x + d[1]), d))
        return starts
    t, l, b, r = o.box
    if len(cells) != 3 or (b - t, r - l) != (2, 2):
        return []
    empty = next(p for p in ((t, l), (t, l + 1), (t + 1, l), (t + 1, l + 1)) if p not in cells)
    d = (2 * empty[0] - (2 * t + 1), 2 * empty[1] - (2 * l + 1))  # from the box's centre, doubled
    return [((empty[0] + d[0], empty[1] + d[1]), d)]


def diagonal_rays(grid: np.ndarray, kind: str) -> np.ndarray | None:
    """Each object's rays in its colour, over the background to the first other cell or the edge;
    None where no ray is drawn."""
    bg = most_frequent(grid)
    h, w = grid.shape
    out, drawn = grid.copy(), False
    for o in objects(grid, True, True, bg):
        for (y, x), (dy, dx) in _ray_starts(o, kind):
            while 0 <= y < h and 0 <= x < w and grid[y, x] == bg:
                out[y, x], drawn = o.colour, True
                y, x = y + dy, x + dx
    return out if drawn else None


def fit_diagonal_rays(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Rays from tails, else from notches, where they draw every demonstration."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    for kind in ("tail", "notch"):
        if all(np.array_equal(diagonal_rays(a, kind), b) for a, b in zip(made, wanted)):
            return Primitive(f"diagonal_rays(from each {kind})", partial(diagonal_rays, kind=kind))
    return None


# --- lines between the edges ----------------------------------------------------------------------


def edge_lines(grid: np.ndarray, bg: int, erase: bool) -> np.ndarray | None:
    """A full line along each row (column) whose two edge cells share a colour other than `bg`
    that lies only on the grid's edge, drawn in that colour; the rest erased to `bg` (`erase`) or
    kept. None where there is none."""
    inner = np.zeros(grid.shape, dtype=bool)
    inner[1:-1, 1:-1] = True
    edge_only = set(range(10)) - set(np.unique(grid[inner]).tolist()) - {bg}
    out = np.full_like(grid, bg) if erase else grid.copy()
    drawn = False
    for lines, put in ((grid, out), (grid.T, out.T)):  # rows, then columns through the transposed views
        for i, line in enumerate(lines):
            if line[0] == line[-1] and line[0] in edge_only:
                put[i, :] = line[0]
                drawn = True
    return out if drawn else None


def fit_edge_lines(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Rows and columns whose ends match drawn across; everything else erased, or kept."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    bg = shared_background(made)
    if bg is None:
        return None
    for erase in (True, False):
        if all(np.array_equal(edge_lines(a, bg, erase), b) for a, b in zip(made, wanted)):
            return Primitive(f"edge_lines(on {bg}, {'erase others' if erase else 'keep others'})",
                             partial(edge_lines, bg=bg, erase=erase))
    return None


# --- lines through centres ------------------------------------------------------------------------


def centre_lines(grid: np.ndarray, bg: int, axes: str, paint: int) -> np.ndarray | None:
    """Through the centre of each object's box (objects of any colours on `bg`), a full row
    ("rows"), column ("columns") or both, painted `paint` on the background cells only; None where
    an object's box has no centre cell (an even side)."""
    out = grid.copy()
    found = objects(grid, False, False, bg)
    if not found:
        return None
    for o in found:
        t, l, b, r = o.box
        if (b - t) % 2 == 0 or (r - l) % 2 == 0:
            return None
        row, col = (t + b) // 2, (l + r) // 2
        if axes in ("rows", "both"):
            out[row][grid[row] == bg] = paint
        if axes in ("columns", "both"):
            out[:, col][grid[:, col] == bg] = paint
    return out


def fit_centre_lines(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The one colour the demonstrations add, drawn on the background along the rows, columns or
    both through every object's centre."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    added = {int(c) for a, b in zip(made, wanted) for c in np.unique(b[a != b])}
    bg = {most_frequent(a) for a in made}
    if len(added) != 1 or len(bg) != 1:
        return None
    paint, bg = added.pop(), bg.pop()
    for axes in ("rows", "columns", "both"):
        if all(np.array_equal(centre_lines(a, bg, axes, paint), b) for a, b in zip(made, wanted)):
            return Primitive(f"centre_lines({axes}, {paint} on {bg})",
                             partial(centre_lines, bg=bg, axes=axes, paint=paint))
    return None
