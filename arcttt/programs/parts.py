"""Parts combined cell by cell: a grid cut into equal parts (halves, with or without a separator
line between them, or quadrants) whose cells, read together, decide each output cell.

A rule fitted on the demonstrations (`fit_combine`): either a table from the parts' colours at a
cell to its output colour (and, or, xor, nor in any colours), or an order of precedence among
colours (the output shows the first colour of the order present in any part). Also one pixel
per cell of a separator grid (`fit_summarise`), a count of objects drawn on a fixed canvas, one
cell a unit (`fit_count`), and the objects laid over one another on a common point
(`fit_overlay`). Designed on ARC-AGI-1 training tasks only.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.dsl import Primitive, most_frequent, objects, shared_colours, spans

CUTS = ("halves", "quadrants")


def parts(grid: np.ndarray, cut: str, shape: tuple[int, int]) -> list[np.ndarray] | None:
    """The grid cut into equal parts of `shape`: two halves side by side or one above the other
    (a one-cell separator line between them allowed), or four quadrants; None where it does not cut so."""
    h, w = grid.shape
    ph, pw = shape
    if cut == "quadrants":
        if (h, w) in ((2 * ph, 2 * pw), (2 * ph + 1, 2 * pw + 1)):
            dh, dw = h - ph, w - pw
            return [grid[:ph, :pw], grid[:ph, dw:], grid[dh:, :pw], grid[dh:, dw:]]
        return None
    if w == pw and h in (2 * ph, 2 * ph + 1):
        return [grid[:ph], grid[h - ph:]]
    if h == ph and w in (2 * pw, 2 * pw + 1):
        return [grid[:, :pw], grid[:, w - pw:]]
    return None


def _stack(grid: np.ndarray, cut: str, shape: tuple[int, int]) -> np.ndarray | None:
    found = parts(grid, cut, shape)
    return None if found is None else np.stack(found)


def _cell_keys(stacked: np.ndarray) -> list[tuple[int, ...]]:
    """Each cell's colours in every part, row by row."""
    return [tuple(k) for k in stacked.reshape(stacked.shape[0], -1).T.tolist()]


def part_shape(grid: np.ndarray, cut: str) -> tuple[int, int]:
    """A part's shape under `cut`, from the grid's (the separator line, where the side is odd, dropped)."""
    h, w = grid.shape
    if cut == "quadrants":
        return h // 2, w // 2
    return (h // 2, w) if h >= w else (h, w // 2)


def combine_by_table(grid: np.ndarray, cut: str, table: dict[tuple[int, ...], int]) -> np.ndarray | None:
    """Each output cell looked up from the parts' colours there; None on a combination never seen."""
    stacked = _stack(grid, cut, part_shape(grid, cut))
    if stacked is None:
        return None
    keys = _cell_keys(stacked)
    if any(k not in table for k in keys):
        return None
    return np.array([table[k] for k in keys], dtype=grid.dtype).reshape(stacked.shape[1:])


def combine_by_order(grid: np.ndarray, cut: str, order: tuple[int, ...]) -> np.ndarray | None:
    """Each output cell the first colour of `order` present in a part there (0 where none is)."""
    stacked = _stack(grid, cut, part_shape(grid, cut))
    if stacked is None:
        return None
    out = np.zeros(stacked.shape[1:], dtype=grid.dtype)
    for c in reversed(order):
        out[(stacked == c).any(axis=0)] = c
    present = set(np.unique(stacked).tolist()) - {0}
    return out if present <= set(order) else None


def combine(grid: np.ndarray, cut: str, table: dict | None, order: tuple[int, ...] | None) -> np.ndarray | None:
    """By the table where it knows every cell's colours, else by the order of precedence."""
    out = combine_by_table(grid, cut, table) if table is not None else None
    if out is None and order is not None:
        out = combine_by_order(grid, cut, order)
    return out


def _order(observed: list[tuple[np.ndarray, np.ndarray]]) -> tuple[int, ...] | None:
    """An order of precedence among the non-zero colours that every demonstration cell obeys: the
    output colour is present and beats every other colour there (0: none present)."""
    beats: dict[int, set[int]] = {}
    colours: set[int] = set()
    for stacked, out in observed:
        for k, want in zip(_cell_keys(stacked), out.ravel().tolist()):
            present = set(k) - {0}
            colours |= present
            if (want == 0) != (not present) or (want and want not in present):
                return None
            if want:
                beats.setdefault(want, set()).update(present - {want})
    order: list[int] = []
    left = set(colours)
    while left:  # the colours beaten by no colour left, lowest first
        free = sorted(c for c in left if not any(c in beats.get(d, ()) for d in left if d != c))
        if not free:
            return None  # a cycle: no order fits
        order.append(free[0])
        left.remove(free[0])
    return tuple(order)


def fit_combine(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Halves, then quadrants: a table of the parts' colours to the output's, else an order of
    precedence among the colours, that reproduces every demonstration."""
    for cut in CUTS:
        observed = []
        for a, b in zip(made, wanted):
            stacked = _stack(a, cut, b.shape) if part_shape(a, cut) == b.shape else None
            if stacked is None:
                break
            observed.append((stacked, b))
        else:
            table: dict[tuple[int, ...], int] = {}
            consistent = all(table.setdefault(k, v) == v for stacked, out in observed
                             for k, v in zip(_cell_keys(stacked), out.ravel().tolist()))
            if not consistent or len(set(table.values())) < 2:
                table = None
            order = _order(observed)
            if table is not None or order is not None:
                by = [what for what, fit in (("a table", table), ("an order", order)) if fit is not None]
                name = f"combine_{cut}({', else '.join(by)})"
                return Primitive(name, partial(combine, cut=cut, table=table, order=order))
    return None


# --- one pixel per cell of a separator grid ------------------------------------------------------


def grid_cells(grid: np.ndarray, zero_lines: bool) -> tuple[list[list[np.ndarray]], int] | None:
    """The cells between full rows and columns of one colour (non-zero, or 0 where `zero_lines`),
    all lines of one colour, at least two cells; with the lines' colour."""
    h, w = grid.shape
    rows = [i for i in range(h) if (grid[i] == grid[i, 0]).all() and (grid[i, 0] == 0) == zero_lines]
    cols = [j for j in range(w) if (grid[:, j] == grid[0, j]).all() and (grid[0, j] == 0) == zero_lines]
    colours = {int(grid[i, 0]) for i in rows} | {int(grid[0, j]) for j in cols}
    if len(colours) != 1:
        return None
    spans_r, spans_c = spans(rows, h), spans(cols, w)
    if len(spans_r) * len(spans_c) < 2:
        return None
    return [[grid[a:b, c:d] for c, d in spans_c] for a, b in spans_r], colours.pop()


def _cell_value(cell: np.ndarray, line: int, how: str):
    """What a cell says: its most frequent colour but 0 and the lines' ("majority"), its count of
    such cells ("count"), or their pattern ("pattern")."""
    marked = (cell != 0) & (cell != line)
    if how == "majority":
        return int(np.bincount(cell[marked]).argmax()) if marked.any() else 0
    if how == "count":
        return int(marked.sum())
    return bytes(cell.shape) + np.packbits(marked).tobytes()


def summarise(grid: np.ndarray, zero_lines: bool, how: str, table: dict | None) -> np.ndarray | None:
    """One pixel per cell: its value ("majority"), or its value looked up in `table`; None where
    the grid has no cells or a value was never seen."""
    found = grid_cells(grid, zero_lines)
    if found is None:
        return None
    cells, line = found
    values = [[_cell_value(c, line, how) for c in row] for row in cells]
    if table is not None:
        if any(v not in table for row in values for v in row):
            return None
        values = [[table[v] for v in row] for row in values]
    return np.array(values, dtype=grid.dtype)


def fit_summarise(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Non-zero lines, then lines of 0: each cell's most frequent colour, else a table from its
    count of coloured cells, else from their pattern, to the output's pixel."""
    for zero_lines in (False, True):
        found = [grid_cells(a, zero_lines) for a in made]
        if any(f is None or (len(f[0]), len(f[0][0])) != b.shape for f, b in zip(found, wanted)):
            continue
        step = partial(summarise, zero_lines=zero_lines, how="majority", table=None)
        if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
            return Primitive(f"summarise(cells{', lines of 0' if zero_lines else ''})", step)
        for how in ("count", "pattern"):
            table: dict = {}
            if all(table.setdefault(_cell_value(c, line, how), int(v)) == int(v)
                   for (cells, line), b in zip(found, wanted)
                   for row, out_row in zip(cells, b) for c, v in zip(row, out_row)):
                name = f"summarise(cells by {how}{', lines of 0' if zero_lines else ''})"
                return Primitive(name, partial(summarise, zero_lines=zero_lines, how=how, table=table))
    return None


# --- a count drawn on a fixed canvas -------------------------------------------------------------

COUNT_SIZES = ("any", "large")  # every object, or only those of more than one cell


def count_objects(grid: np.ndarray, colour: int | None, sizes: str) -> int:
    """Objects (one colour, 4-connected) of `colour` (None: any), of any size or of 2+ cells."""
    found = objects(grid, True, False, most_frequent(grid))
    return sum(1 for o in found if (colour is None or o.colour == colour) and (sizes == "any" or o.size > 1))


def draw_count(grid: np.ndarray, colour: int | None, sizes: str, canvas: tuple[int, int], order: tuple,
               paint: int) -> np.ndarray | None:
    """A canvas with its first k cells of `order` painted, k the count; None past the order."""
    k = count_objects(grid, colour, sizes)
    if k > len(order):
        return None
    out = np.zeros(canvas, dtype=grid.dtype)
    for r, c in order[:k]:
        out[r, c] = paint
    return out


def fit_count(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """One canvas and one colour for every output, whose painted cells grow with a count of the
    input's objects (of one colour or any, of any size or 2+ cells) one cell a unit: the order
    of the cells is the order they first appear in as the count grows (reading order within one
    step). Two demonstrations of one count must agree, and at least two counts must be seen."""
    if len({b.shape for b in wanted}) != 1 or len(made) < 3:
        return None
    painted = {int(v) for b in wanted for v in np.unique(b).tolist()} - {0}
    if len(painted) != 1:
        return None
    paint = painted.pop()
    colours = sorted({c for a in made for c in np.unique(a).tolist()})
    for colour in [None] + colours:
        for sizes in COUNT_SIZES:
            counts_seen = [count_objects(a, colour, sizes) for a in made]
            cells = {}
            for k, b in zip(counts_seen, wanted):
                mask = tuple(map(tuple, np.argwhere(b == paint).tolist()))
                if len(mask) != k or cells.setdefault(k, mask) != mask:
                    break
            else:
                if len(cells) < 2:
                    continue
                order: list = []
                for k in sorted(cells):
                    if not set(order) <= set(cells[k]):
                        break
                    order += sorted(set(cells[k]) - set(order))
                else:
                    step = partial(draw_count, colour=colour, sizes=sizes, canvas=wanted[0].shape, order=tuple(order),
                                   paint=paint)
                    what = "objects" if colour is None else f"objects of {colour}"
                    what += " of 2+ cells" if sizes == "large" else ""
                    return Primitive(f"count({what}, on a {wanted[0].shape[0]}x{wanted[0].shape[1]} canvas)", step)
    return None


# --- objects overlaid on a common point ----------------------------------------------------------


def _offsets(cells: list[tuple[int, int, int]], align: int | str) -> list[tuple[int, int, int]] | None:
    """(row, column, colour) of an object's cells from its centre ("centre": its box's, which must
    fall on a cell) or from its one cell of colour `align`."""
    if align == "centre":
        rows, cols = [r for r, _, _ in cells], [c for _, c, _ in cells]
        cr, cc = min(rows) + max(rows), min(cols) + max(cols)
        if cr % 2 or cc % 2:
            return None
        return [(r - cr // 2, c - cc // 2, v) for r, c, v in cells]
    anchor = [(r, c) for r, c, v in cells if v == align]
    if len(anchor) != 1:
        return None
    return [(r - anchor[0][0], c - anchor[0][1], v) for r, c, v in cells]


def overlay(grid: np.ndarray, unit: str, align: int | str) -> np.ndarray | None:
    """The objects (each colour's cells, or the 8-connected objects of any colours) laid one over
    another on a common point, on the smallest canvas of the background that holds them (centred
    on the point where they align on centres); None where two colours meet on a cell."""
    bg = most_frequent(grid)
    if unit == "colour":
        masks = [grid == c for c in np.unique(grid).tolist() if c != bg]
    else:
        masks = [o.mask for o in objects(grid, False, True, bg)]
    if len(masks) < 2:
        return None
    placed: dict[tuple[int, int], int] = {}
    for mask in masks:
        rows, cols = np.nonzero(mask)
        cells = _offsets(list(zip(rows.tolist(), cols.tolist(), grid[rows, cols].tolist())), align)
        if cells is None:
            return None
        for r, c, v in cells:
            if placed.setdefault((r, c), v) != v:
                return None
    rows, cols = [r for r, _ in placed], [c for _, c in placed]
    if align == "centre":
        hr, hc = max(map(abs, rows)), max(map(abs, cols))
        top, left, h, w = -hr, -hc, 2 * hr + 1, 2 * hc + 1
    else:
        top, left, h, w = min(rows), min(cols), max(rows) - min(rows) + 1, max(cols) - min(cols) + 1
    if h > 30 or w > 30:
        return None
    out = np.full((h, w), bg, dtype=grid.dtype)
    for (r, c), v in placed.items():
        out[r - top, c - left] = v
    return out


def fit_overlay(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Each colour on centres, then objects on centres, then objects on their one cell of a colour
    every input shows; the first that reproduces every demonstration."""
    if all(a.shape == b.shape for a, b in zip(made, wanted)):
        return None
    shown = sorted(shared_colours(made))
    for unit, align in [("colour", "centre"), ("object", "centre")] + [("object", c) for c in shown]:
        step = partial(overlay, unit=unit, align=align)
        if all(np.array_equal(step(a), b) for a, b in zip(made, wanted)):
            on = "centres" if align == "centre" else f"their cell of {align}"
            return Primitive(f"overlay({unit}s on {on})", step)
    return None
