"""What objects are told apart by: each object's features, some relative to the grid's other
objects (the fitted rules that recolour, keep or ring objects by one of them)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from arcttt.programs.dsl import Obj, objects

# What an object's new colour may depend on, simplest first: yes/no properties, then ranks among
# the grid's objects, then raw measures. The first that fits every demonstration and knows every
# object of the grid it is applied to decides.
OBJECT_FEATURES = ("largest", "smallest", "extreme", "has_hole", "touches_border", "rectangle", "unique_shape",
                   "unique_colour", "symmetric", "size_rank", "holes", "size", "height", "width", "shape",
                   "square", "odd_size", "odd_height", "odd_width",
                   *(f"touches_{c}" for c in range(10)), *(f"size_is_{k}" for k in range(1, 31)))


def hole_regions(mask: np.ndarray) -> list[np.ndarray]:
    """The regions (4-connected, as masks over the grid) off the mask inside its box that do not
    reach the box's edge: its holes."""
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    t, b, l, r = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    outside = (~mask[t:b, l:r]).astype(np.int8)
    h, w = outside.shape
    out = []
    for c in objects(outside, True, False):
        if c.box[0] > 0 and c.box[1] > 0 and c.box[2] < h and c.box[3] < w:
            region = np.zeros(mask.shape, dtype=bool)
            region[t:b, l:r] = c.mask
            out.append(region)
    return out


def holes_of(o: Obj) -> int:
    """How many holes the object has (`hole_regions`)."""
    return len(hole_regions(o.mask))


def around(mask: np.ndarray) -> np.ndarray:
    """The cells next to the mask (4 directions), outside it."""
    padded = np.pad(mask, 1)
    return (padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]) & ~mask


def object_features(grid: np.ndarray, found: list[Obj]) -> list[dict]:
    """Each object's OBJECT_FEATURES, some relative to the grid's other objects."""
    h, w = grid.shape
    sizes = sorted({o.size for o in found}, reverse=True)
    shapes = Counter(o.shape_key() for o in found)
    palette = Counter(o.colour for o in found)
    rows = []
    for o in found:
        t, l, b, r = o.box
        box = o.mask[t:b, l:r]
        holes = holes_of(o)
        near = set(np.unique(grid[around(o.mask)]).tolist())
        rows.append({
            "largest": o.size == sizes[0], "smallest": o.size == sizes[-1],
            "extreme": int(o.size == sizes[0]) - int(o.size == sizes[-1]), "has_hole": holes > 0,
            "touches_border": t == 0 or l == 0 or b == h or r == w, "rectangle": o.size == box.size,
            "unique_shape": shapes[o.shape_key()] == 1, "unique_colour": palette[o.colour] == 1,
            "symmetric": bool((box == box[:, ::-1]).all()), "size_rank": sizes.index(o.size), "holes": holes,
            "size": o.size, "height": b - t, "width": r - l, "shape": o.shape_key(),
            "square": o.size == box.size and b - t == r - l, "odd_size": o.size % 2, "odd_height": (b - t) % 2,
            "odd_width": (r - l) % 2, **{f"touches_{c}": c in near for c in range(10)},
            **{f"size_is_{k}": o.size == k for k in range(1, 31)},
        })
    return rows
