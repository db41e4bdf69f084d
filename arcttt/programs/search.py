"""Bottom-up search for programs that reproduce every demonstration of a task.

Depth by depth (1, 2, 3), every primitive is applied to every program kept from the depth
before. A program's outputs on the demonstration inputs are its identity: a later program that
makes the same outputs is dropped (the shorter, earlier one stands for both). At the last depth
a shape-keeping primitive is skipped where the shapes are already wrong. Where a program's
outputs have the demonstration outputs' shapes, fitted final steps (a colour map, ...) get one
try. A program counts only if it makes every demonstration output exactly and a valid grid on
every test input. The clock (time.monotonic) is read before every application.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from arcttt.core.grids import Grid, from_array, to_array
from arcttt.core.tasks import Task
from arcttt.programs.dsl import SAME, TRANSPOSES, Primitive, valid
from arcttt.programs.fitted import FIT_UP_TO, FITTERS
from arcttt.programs.primitives import build, context


@dataclass(frozen=True)
class SearchResult:
    """What the search found for one task."""

    found: bool  # at least one verified program
    programs: tuple[str, ...]  # verified programs as text, best first
    attempts: tuple[tuple[Grid, ...], ...]  # per test input: up to 2 distinct predictions, best first
    seconds: float
    evaluated: int  # primitive applications tried
    depth_reached: int  # the deepest depth searched to the end
    cut: bool  # the time limit stopped the search


def _demo_key(grids: tuple[np.ndarray, ...], n_demo: int) -> bytes:
    return b"".join(bytes(g.shape) + g.tobytes() for g in grids[:n_demo])


def _apply(prim: Primitive, grids: tuple[np.ndarray, ...],
           shapes: list[tuple[int, int]] | None = None) -> tuple[np.ndarray, ...] | None:
    """The primitive on every grid; None as soon as one fails (or, given `shapes`, has another shape)."""
    out = []
    for i, g in enumerate(grids):
        r = prim(g)
        if not valid(r) or (shapes is not None and i < len(shapes) and r.shape != shapes[i]):
            return None
        out.append(r)
    return tuple(out)


class _Search:
    def __init__(self, task: Task, deadline: float):
        self.inputs = tuple(to_array(e.input) for e in task.train) + tuple(to_array(e.input) for e in task.test)
        self.targets = [to_array(e.output) for e in task.train]
        self.n_demo = len(task.train)
        self.shapes = [t.shape for t in self.targets]
        self.prims = build(context(list(zip(self.inputs, self.targets))))
        self.deadline = deadline
        self.evaluated = 0
        self.cut = False
        # (program as a tuple of steps, its outputs on the test inputs)
        self.solutions: list[tuple[tuple[Primitive, ...], tuple[int, ...], tuple[np.ndarray, ...]]] = []

    def shapes_match(self, grids) -> bool:
        return all(g.shape == s for g, s in zip(grids, self.shapes))

    def check(self, program: tuple[int, ...], grids: tuple[np.ndarray, ...]) -> None:
        """Record the program if it solves the demonstrations, or if a fitted last step makes it."""
        if not self.shapes_match(grids):
            return
        made = grids[:self.n_demo]
        steps = tuple(self.prims[i] for i in program)
        if all(np.array_equal(a, b) for a, b in zip(made, self.targets)):
            self.solutions.append((steps, program, grids[self.n_demo:]))
            return
        for f, fitter in enumerate(FITTERS):
            if len(program) > FIT_UP_TO[f]:
                continue
            step = fitter(list(made), self.targets)
            if step is None:
                continue
            out = _apply(step, grids)
            if out is not None and all(np.array_equal(a, b) for a, b in zip(out, self.targets)):
                self.solutions.append((steps + (step,), program + (len(self.prims) + f,), out[self.n_demo:]))

    def closeness(self, grids) -> float:
        score = 0.0
        for g, t in zip(grids, self.targets):
            if g.shape == t.shape:
                score += 1 + float((g == t).mean())
        return score

    def run(self, max_depth: int) -> int:
        seen = {_demo_key(self.inputs, self.n_demo)}
        self.check((), self.inputs)
        frontier = [((), self.inputs)]
        reached = 0
        for depth in range(1, max_depth + 1):
            last = depth == max_depth
            if last and depth > 1:
                frontier.sort(key=lambda state: -self.closeness(state[1]))
            following = []
            for program, grids in frontier:
                right = self.shapes_match(grids)
                flipped = all(g.shape == s[::-1] for g, s in zip(grids, self.shapes))
                for i, prim in enumerate(self.prims):
                    if time.monotonic() > self.deadline:
                        self.cut = True
                        return reached
                    if last and not right and (prim.shape == SAME or (prim.shape == TRANSPOSES and not flipped)):
                        continue
                    self.evaluated += 1
                    out = _apply(prim, grids, self.shapes if last else None)
                    if out is None:
                        continue
                    k = _demo_key(out, self.n_demo)
                    if k in seen:
                        continue
                    seen.add(k)
                    self.check(program + (i,), out)
                    if not last:
                        following.append((program + (i,), out))
            reached = depth
            if self.solutions:
                return reached
            frontier = following
        return reached


def search_task(task: Task, time_limit: float = 2.0, max_depth: int = 3) -> SearchResult:
    """Search programs for `task` for at most `time_limit` seconds and compositions of `max_depth` steps."""
    start = time.monotonic()
    search = _Search(task, start + time_limit)
    reached = search.run(max_depth)
    ranked = sorted(search.solutions, key=lambda s: (len(s[1]), s[1]))
    attempts: list[list[Grid]] = [[] for _ in task.test]
    for _, _, outputs in ranked:
        for i, out in enumerate(outputs):
            grid = from_array(out)
            if len(attempts[i]) < 2 and grid not in attempts[i]:
                attempts[i].append(grid)
    programs = tuple(" | ".join(step.name for step in steps) or "identity" for steps, _, _ in ranked)
    return SearchResult(
        found=bool(ranked), programs=programs, attempts=tuple(tuple(a) for a in attempts),
        seconds=time.monotonic() - start, evaluated=search.evaluated, depth_reached=reached, cut=search.cut,
    )
