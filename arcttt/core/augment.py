"""Transforms as values: the 8 symmetries of the square, colour permutations, demonstration order.

A `Transform` carries its parameters and knows `apply`, `invert` and a readable `key`; they compose.
`Extra` transforms (upscaling, translation) change grid sizes and cannot be undone: they only
enlarge training data. Sampling takes the caller's `numpy.random.Generator`; nothing here holds state.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np

from arcttt.core.grids import MAX_SIDE, Grid, from_array, to_array
from arcttt.core.tasks import Example, Task

IDENTITY = "id"
"""The key of the identity transform (the un-augmented task)."""
IDENTITY_COLOURS = tuple(range(10))


def _dihedral(array: np.ndarray, element: int) -> np.ndarray:
    # Element e of D8: mirror left-right if e >= 4, then rotate e % 4 quarter turns anticlockwise.
    if element >= 4:
        array = np.fliplr(array)
    return np.rot90(array, element % 4)


def _dihedral_inverse(array: np.ndarray, element: int) -> np.ndarray:
    array = np.rot90(array, -(element % 4))
    return np.fliplr(array) if element >= 4 else array


def _inverse_permutation(perm: tuple[int, ...]) -> tuple[int, ...]:
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return tuple(inverse)


@dataclass(frozen=True)
class Transform:
    """An invertible augmentation: a D8 element, a colour map and a demonstration order.

    `dihedral` is 0..7 (mirror if >= 4, then `dihedral % 4` quarter turns); `colours[c]` is the new
    colour of colour c; `order[i]` is the index of the demonstration placed i-th (None: unchanged).
    """

    dihedral: int = 0
    colours: tuple[int, ...] = IDENTITY_COLOURS
    order: tuple[int, ...] | None = None

    def __post_init__(self):
        if self.dihedral not in range(8):
            raise ValueError(f"dihedral element must be 0..7, got {self.dihedral}")
        if sorted(self.colours) != list(IDENTITY_COLOURS):
            raise ValueError(f"colours must permute 0..9, got {self.colours}")
        if self.order is not None and sorted(self.order) != list(range(len(self.order))):
            raise ValueError(f"order must permute 0..n-1, got {self.order}")

    @property
    def key(self) -> str:
        """A readable, unique name such as `mirror+rot90 c:0213456789 o:2,0,1` (`id` for identity)."""
        parts = []
        if self.dihedral:
            turns = f"rot{90 * (self.dihedral % 4)}" if self.dihedral % 4 else ""
            parts.append("+".join(p for p in ("mirror" if self.dihedral >= 4 else "", turns) if p))
        if self.colours != IDENTITY_COLOURS:
            parts.append("c:" + "".join(map(str, self.colours)))
        if self.order is not None and self.order != tuple(range(len(self.order))):
            parts.append("o:" + ",".join(map(str, self.order)))
        return " ".join(parts) or IDENTITY

    @property
    def is_identity(self) -> bool:
        return self.key == IDENTITY

    def apply(self, grid: Grid) -> Grid:
        """The transformed grid: geometry first, then colours."""
        lut = np.array(self.colours, dtype=np.int8)
        return from_array(lut[_dihedral(to_array(grid), self.dihedral)])

    def invert(self, grid: Grid) -> Grid:
        """Undo `apply`: `invert(apply(g)) == g` for every grid."""
        lut = np.array(_inverse_permutation(self.colours), dtype=np.int8)
        return from_array(_dihedral_inverse(lut[to_array(grid)], self.dihedral))

    def apply_task(self, task: Task) -> Task:
        """Every grid of the task transformed the same way, demonstrations reordered."""
        train = tuple(_map_example(self.apply, example) for example in task.train)
        if self.order is not None:
            if len(self.order) != len(train):
                # A transform sampled for another task: arcttt's own mistake, not the user's input.
                raise ValueError(f"order {self.order} does not fit {len(train)} demonstrations of task {task.id!r}")
            train = tuple(train[i] for i in self.order)
        test = tuple(_map_example(self.apply, example) for example in task.test)
        return Task(task.id, train, test, task.source)


def _map_example(fn, example: Example) -> Example:
    return Example(fn(example.input), None if example.output is None else fn(example.output))


@dataclass(frozen=True)
class Extra:
    """A training-only augmentation that changes grid sizes and has no inverse.

    `upscale` repeats every cell k x k; `shift` pads (rows, columns) of colour 0 at the top-left,
    moving the content down and right. `apply` returns None when a grid would exceed 30 a side.
    """

    upscale: int = 1
    shift: tuple[int, int] = (0, 0)

    @property
    def key(self) -> str:
        parts = ([f"up{self.upscale}"] if self.upscale > 1 else []) + (
            [f"shift{self.shift[0]},{self.shift[1]}"] if any(self.shift) else [])
        return " ".join(parts) or IDENTITY

    def apply(self, grid: Grid) -> Grid | None:
        array = to_array(grid)
        if self.upscale > 1:
            array = np.kron(array, np.ones((self.upscale, self.upscale), dtype=np.int8))
        array = np.pad(array, ((self.shift[0], 0), (self.shift[1], 0)))
        if max(array.shape) > MAX_SIDE:
            return None
        return from_array(array)

    def apply_examples(self, examples: tuple[Example, ...]) -> tuple[Example, ...] | None:
        """Every grid of the examples changed, or None if any grid would no longer fit."""
        out = []
        for example in examples:
            grid_in = self.apply(example.input)
            grid_out = None if example.output is None else self.apply(example.output)
            if grid_in is None or (example.output is not None and grid_out is None):
                return None
            out.append(Example(grid_in, grid_out))
        return tuple(out)

    def apply_task(self, task: Task) -> Task | None:
        """The task with every grid changed, or None if any grid would no longer fit."""
        examples = self.apply_examples(task.train + task.test)
        if examples is None:
            return None
        n = len(task.train)
        return Task(task.id, examples[:n], examples[n:], task.source)


@dataclass(frozen=True)
class AugmentSpace:
    """Which augmentations sampling may use.

    colours: "keep0" permutes 1..9 and keeps 0 (usually the background) fixed; "all" permutes all
    ten; "none" never permutes. `geometric` allows the 8 symmetries, `reorder` demonstration order.
    """

    geometric: bool = True
    colours: str = "keep0"
    reorder: bool = True

    def __post_init__(self):
        if self.colours not in ("keep0", "all", "none"):
            raise ValueError(f"colours must be keep0, all or none, got {self.colours!r}")

    def size(self, n_train: int) -> int:
        """How many distinct transforms exist for a task with `n_train` demonstrations."""
        colour_maps = {"keep0": factorial(9), "all": factorial(10), "none": 1}[self.colours]
        return (8 if self.geometric else 1) * colour_maps * (factorial(n_train) if self.reorder else 1)


def sample_transforms(rng: np.random.Generator, n: int, n_train: int,
                      space: AugmentSpace = AugmentSpace(), include_identity: bool = True) -> tuple[Transform, ...]:
    """`n` distinct transforms (fewer if the space is smaller), identity first if asked.

    Geometry cycles through a shuffled D8 so that the first 8 transforms use 8 different symmetries.
    """
    n = min(n, space.size(n_train))
    chosen: dict[str, Transform] = {}
    if include_identity and n > 0:
        identity = Transform(order=tuple(range(n_train)) if space.reorder else None)
        chosen[identity.key] = identity
    symmetries = [0]
    if space.geometric:
        # The identity view already used element 0: start the cycle with the other seven.
        rest = [int(e) for e in 1 + rng.permutation(7)]
        symmetries = [0, *rest] if include_identity else [int(e) for e in rng.permutation(8)]
    attempts = 0
    while len(chosen) < n:
        attempts += 1
        if attempts > 100 * n + 1000:  # cannot happen for a correct size(); guards an endless loop
            raise RuntimeError(f"could not sample {n} distinct transforms from {space}")
        dihedral = symmetries[len(chosen) % len(symmetries)]
        if space.colours == "keep0":
            colours = (0, *(int(c) for c in rng.permutation(np.arange(1, 10))))
        elif space.colours == "all":
            colours = tuple(int(c) for c in rng.permutation(10))
        else:
            colours = IDENTITY_COLOURS
        order = tuple(int(i) for i in rng.permutation(n_train)) if space.reorder else None
        transform = Transform(dihedral, colours, order)
        chosen.setdefault(transform.key, transform)
    return tuple(chosen.values())


def sample_extra(rng: np.random.Generator) -> Extra:
    """A random non-invertible extra: x2 upscaling or a shift of 1-3 cells, equally likely."""
    if rng.random() < 0.5:
        return Extra(upscale=2)
    return Extra(shift=(int(rng.integers(0, 4)), int(rng.integers(1, 4))))
