"""The program search: output sizes first, a compiled breadth-first search, task views, ranking.

1. **Sizes.** Rules for the output's size that hold on every demonstration (constant, the
   input's, linear in the input's, transposed) predict each test output's size; the search's
   size-bound functions (embed, tile, broadcast, ...) take them as their argument, and a
   candidate whose test output has another size than every rule predicts ranks last.
2. **Search** (`arcttt.programs._core`, C++): compositions of the DSL's functions up to
   `max_depth`, deduplicated on the demonstrations, each checked exactly, through a fitted colour
   map, or kept as a piece; pieces are stacked greedily where no program solves the task.
3. **Views.** The task is also searched transposed (icecuber's diagonal flips) and the answers
   transposed back; a program verified under both views ranks first. A task drawn on a grid of
   one-colour cells is searched first as the small grid of its cells (`cells.cell_view`), fitted
   rules included, its answers drawn back onto the cells.
4. **Fitted rules** on the raw inputs (`arcttt.programs.fitted.FITTERS`: objects recoloured by a
   feature, hidden cells repaired, stamps, parts combined, objects drawn to anchors, ...).
5. **Ranking**: right size, then verified over stacked pieces, then agreement of the views, then
   fewest steps; two distinct attempts per test input.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from arcttt.core.grids import Grid, from_array, to_array
from arcttt.core.tasks import Task
from arcttt.programs.cells import cell_view, draw
from arcttt.programs.fitted import FITTERS, verified

Size = tuple[int, int]  # (width, height), as the core takes it

MEMORY_LIMIT = 1 << 30  # bytes of stored states a search may hold (the core cuts cleanly beyond)
# Of the time left when a view starts, its share (the last view takes all that is left).
VIEW_SHARES = {"identity": 0.5, "cells": 0.5, "colours": 0.5, "transposed": 1.0}
MAX_SIZE_RULES = 2
DEEPEN_AFTER = 0.3  # the deeper search starts only with this share of the time limit left
TIME_MARGIN = 0.03  # of the limit, kept for what follows the last search (stacking, ranking)
# Top candidates on ARC-AGI-1 training with the fitted rules (10 s, 25676af), right at the first
# attempt: fitted rules 168 of 168, exact programs 52 of 59, stacks of 2 pieces 20 of 21, of 3
# pieces 13 of 18 (and none at the second attempt, which the model takes when it answers too), of 4
# or more 2 of 23. A stack of 3 no longer stands alone.
TRUSTED_LAYERS = 2


@dataclass(frozen=True)
class SearchResult:
    """What the search found for one task."""

    found: bool  # at least one program reproduces every demonstration
    programs: tuple[str, ...]  # the candidates' programs as text, best first
    attempts: tuple[tuple[Grid, ...], ...]  # per test input: up to 2 distinct predictions, best first
    seconds: float
    evaluated: int  # function applications (each to every image of the task)
    depth_reached: int  # the deepest depth searched to the end (identity view)
    cut: bool  # the time or memory limit stopped a search
    kinds: tuple[str, ...] = ()  # per program: "exact", "colour_map", "pieces" or "fitted"
    failures: int = 0  # applications a function raised on, counted and skipped
    stats: dict = field(default_factory=dict)
    trusted: bool = False  # the best candidate is likely right (see TRUSTED_LAYERS): it may spare training


# --- sizes --------------------------------------------------------------------------------------


def _linear(xs: list[int], ys: list[int]) -> tuple[Fraction, Fraction] | None:
    """y = a*x + b holding on every pair: a read off two pairs with different x, else the simplest of
    1, 0, 2, 3, 1/2 that holds; None where none holds."""
    slopes = [Fraction(y1 - y0, x1 - x0) for x0, y0, x1, y1 in zip(xs, ys, xs[1:], ys[1:]) if x1 != x0][:1]
    for a in slopes or (Fraction(1), Fraction(0), Fraction(2), Fraction(3), Fraction(1, 2)):
        b = ys[0] - a * xs[0]
        if all(y == a * x + b for x, y in zip(xs, ys)):
            return a, b
    return None


def size_rules(task: Task) -> list[tuple[str, list[Size]]]:
    """(name, per-image sizes: every demonstration's output, then each test output's prediction)
    for each rule that holds on every demonstration, simplest first; test sizes outside 1..30 drop
    the rule."""
    ins = [to_array(e.input).shape for e in task.train]
    outs = [to_array(e.output).shape for e in task.train]
    tests = [to_array(e.input).shape for e in task.test]
    rules: list[tuple[str, list[Size]]] = []

    def add(name: str, predict) -> None:
        predicted = [predict(h, w) for h, w in tests]
        whole = all(Fraction(h).denominator == 1 and Fraction(w).denominator == 1 for h, w in predicted)
        if whole and all(0 < h <= 30 and 0 < w <= 30 for h, w in predicted):
            sizes = [(w, h) for h, w in outs] + [(int(w), int(h)) for h, w in predicted]
            if all(sizes[len(outs):] != r[1][len(outs):] for r in rules):
                rules.append((name, sizes))

    if ins == outs:
        add("input", lambda h, w: (h, w))
    fh = _linear([h for h, _ in ins], [h for h, _ in outs])
    fw = _linear([w for _, w in ins], [w for _, w in outs])
    if fh is not None and fw is not None:
        add(f"h*{fh[0]}+{fh[1]}, w*{fw[0]}+{fw[1]}", lambda h, w: (fh[0] * h + fh[1], fw[0] * w + fw[1]))
    if all((h, w) == (iw, ih) for (h, w), (ih, iw) in zip(outs, ins)):
        add("transposed", lambda h, w: (w, h))
    gh = _linear([w for _, w in ins], [h for h, _ in outs])
    gw = _linear([h for h, _ in ins], [w for _, w in outs])
    if gh is not None and gw is not None:
        add("linear, transposed", lambda h, w: (gh[0] * w + gh[1], gw[0] * h + gw[1]))
    return rules


def predicted_sizes(task: Task) -> list[tuple[int, int] | None]:
    """Each test output's (height, width) where the size rules that hold on every demonstration
    agree on it, else None: what the model's decoding is held to (`infer.size_rule`). On ARC-AGI-1
    training such a size was right for 355 of 357 test outputs."""
    rules, n = size_rules(task), len(task.train)
    out: list[tuple[int, int] | None] = []
    for i in range(len(task.test)):
        told = {sizes[n + i] for _, sizes in rules}  # (width, height) as the core takes them
        out.append(told.pop()[::-1] if len(told) == 1 else None)
    return out


# --- views --------------------------------------------------------------------------------------


def colour_permutations(task: Task) -> list[np.ndarray] | None:
    """Per image (demonstrations, then tests), a permutation of the colours 0..9 that renames the
    colours a task varies from example to example into one canonical order; None where it changes
    nothing or cannot be made.

    Colours that keep their meaning stay: 0, those in every input, and those an output brings that
    its input lacks. The others of each input are renamed by frequency there (most cells first,
    ties by colour) to the free colours in ascending order, so a rule like "paint the hole in the
    colour of the smallest object" reads the same in every example.
    """
    inputs = [to_array(e.input) for e in task.train] + [to_array(e.input) for e in task.test]
    present = [set(np.unique(a).tolist()) for a in inputs]
    fixed = {0} | set.intersection(*present)
    for e, colours in zip(task.train, present):
        fixed |= set(np.unique(to_array(e.output)).tolist()) - colours
    free = [c for c in range(10) if c not in fixed]
    perms = []
    for a, colours in zip(inputs, present):
        counts = np.bincount(a.ravel(), minlength=10)
        varying = sorted(colours - fixed, key=lambda c: (-counts[c], c))
        if len(varying) > len(free):
            return None
        perm = np.arange(10, dtype=np.int8)
        targets = free[:len(varying)]
        # A permutation: the varying colours go to their slots, the slots' colours to the freed ones.
        mapping = dict(zip(varying, targets))
        displaced = [t for t in targets if t not in mapping]
        freed = [c for c in varying if c not in targets]
        mapping.update(zip(displaced, freed))
        for src, dst in mapping.items():
            perm[src] = dst
        perms.append(perm)
    if all((p == np.arange(10)).all() for p in perms):
        return None
    return perms


def _grids(task: Task, view: str, perms: list[np.ndarray] | None) -> tuple[list, list, list]:
    n_demo = len(task.train)

    def viewed(g: Grid, k: int) -> list[list[int]]:
        a = to_array(g)
        if view == "transposed":
            a = a.T
        elif view == "colours":
            a = perms[k][a]
        return a.tolist()

    return ([viewed(e.input, k) for k, e in enumerate(task.train)],
            [viewed(e.output, k) for k, e in enumerate(task.train)],
            [viewed(e.input, n_demo + k) for k, e in enumerate(task.test)])


def _unview(output: np.ndarray, view: str, perm: np.ndarray | None) -> np.ndarray:
    """A test output of the search under `view`, back in the task's own frame."""
    if view == "transposed":
        return output.T
    if view == "colours":
        return np.argsort(perm).astype(np.int8)[output]
    return output


def _core_search(task: Task, view: str, perms: list[np.ndarray] | None, sizes: list[list[Size]], max_depth: int,
                 time_limit: float) -> dict:
    from arcttt.programs import _core

    demo_in, demo_out, test_in = _grids(task, view, perms)
    if view == "transposed":
        sizes = [[(h, w) for w, h in rule] for rule in sizes]
    # The simplest rule's sizes: an image of another size is placed at its position on them.
    place = sizes[0] if sizes else []
    return _core.search(demo_in, demo_out, test_in, sizes, max_depth=max_depth, time_limit=max(0.0, time_limit),
                        memory_limit=MEMORY_LIMIT, place=place)


# --- ranking ------------------------------------------------------------------------------------


@dataclass
class _Candidate:
    program: str
    kind: str
    depth: int
    outputs: tuple[Grid, ...]
    views: set[str]
    order: int
    layers: int = 0  # pieces stacked (kind "pieces")

    def trusted(self) -> bool:
        """Likely right on the test too: a verified program, or at most TRUSTED_LAYERS pieces."""
        return self.kind != "pieces" or self.layers <= TRUSTED_LAYERS

    def cost(self) -> float:
        """Steps, with a fitted colour map's entries beyond the first counted half a step each."""
        entries = self.program.rsplit("colour_map(", 1)[1].count(">") if "colour_map(" in self.program else 0
        return self.depth + 0.5 * max(0, entries - 1)

    def rank(self, predicted: list[set[tuple[int, int]]]) -> tuple:
        right_size = all(not sizes or (len(g), len(g[0])) in sizes for g, sizes in zip(self.outputs, predicted))
        return (not right_size, self.kind == "pieces", -len(self.views), self.cost(), self.order)


def _fitted(task: Task) -> list[tuple[str, tuple[Grid, ...]]]:
    """The fitted rules (`FITTERS` but the colour map) on the raw inputs, each where it verifies."""
    made = [to_array(e.input) for e in task.train]
    wanted = [to_array(e.output) for e in task.train]
    tests = [to_array(e.input) for e in task.test]
    found = []
    for fitter in FITTERS[1:]:  # the colour map is the core's
        fit = verified(fitter, made, wanted, tests)
        if fit is not None:
            found.append((fit[0], tuple(from_array(o) for o in fit[1])))
    return found


class _Candidates:
    """The candidates of every run of the core, one per distinct set of test outputs, with what the
    runs cost."""

    def __init__(self, task: Task):
        self.n_demo = len(task.train)
        self.by_output: dict[tuple[Grid, ...], _Candidate] = {}
        self.evaluated = self.failures = self.depth_reached = 0
        self.cut = False
        self.stats: dict = {}

    def trusted(self) -> bool:
        return any(c.trusted() for c in self.by_output.values())

    def add(self, program: str, kind: str, depth: int, outputs: tuple[Grid, ...], view: str, layers: int = 0) -> None:
        """A candidate; the same outputs again keep the better program and count the view."""
        known = self.by_output.get(outputs)
        if known is None:
            self.by_output[outputs] = _Candidate(program, kind, depth, outputs, {view}, len(self.by_output), layers)
            return
        known.views.add(view)
        if (kind == "pieces", depth) < (known.kind == "pieces", known.depth):  # a stack never replaces a program
            known.program, known.kind, known.depth, known.layers = program, kind, depth, layers

    def add_run(self, result: dict, view: str, depth: int, unview) -> None:
        """One run of the core: its costs, and its candidates mapped back from `view` (`unview`:
        (test index, output) -> the output in the task's frame, or None where it has none)."""
        self.evaluated += result["applications"]
        self.failures += result["failures"]
        self.cut |= result["cut"] or result["memory_cut"]
        self.stats[f"{view}@{depth}"] = {
            k: result[k] for k in ("applications", "states", "pieces", "depth_reached", "cut", "memory_cut",
                                   "memory_bytes", "seconds")}
        if view == "identity":
            self.depth_reached = max(self.depth_reached, result["depth_reached"])
        for c in result["candidates"]:
            outs = [unview(t, np.asarray(g, dtype=np.int8)) for t, g in enumerate(c["test"])]
            if any(o is None for o in outs):
                continue
            program = " | ".join(c["steps"]) or "identity"
            if view != "identity":
                program = f"{view}[{program}]"
            layers = len(c["steps"]) if c["kind"] == "pieces" else 0
            self.add(program, c["kind"], c["depth"], tuple(from_array(o) for o in outs), view, layers)

    def ranked(self, predicted: list[set[tuple[int, int]]]) -> list[_Candidate]:
        return sorted(self.by_output.values(), key=lambda c: c.rank(predicted))


def search_task(task: Task, time_limit: float = 10.0, max_depth: int = 3, views: bool = True,
                deepen: bool = True) -> SearchResult:
    """Search programs for `task` for at most `time_limit` seconds and compositions of `max_depth`
    steps (`deepen`: then one more, as far as the time left allows)."""
    start = time.monotonic()
    deadline = start + time_limit * (1 - TIME_MARGIN)
    rules = size_rules(task)[:MAX_SIZE_RULES]
    sizes = [s for _, s in rules]
    n_demo = len(task.train)
    predicted = [{(h, w) for w, h in (s[n_demo + t] for s in sizes)} for t in range(len(task.test))]
    found = _Candidates(task)
    found.stats["size_rules"] = [name for name, _ in rules]
    for name, outputs in _fitted(task):
        found.add(name, "fitted", 1, outputs, "identity")
    perms = colour_permutations(task) if views else None
    cells = cell_view(task) if views else None
    if cells is not None:
        reduced, where = cells
        for name, outputs in _fitted(reduced):
            drawn = [draw(a, c, to_array(o)) for (a, c), o in zip(where, outputs)]
            if all(d is not None for d in drawn):
                found.add(f"cells[{name}]", "fitted", 1, tuple(from_array(d) for d in drawn), "cells")
    # The cell view first where there is one: its grids are small, and a task drawn on cells is
    # usually about them.
    chosen = ((["cells"] if cells is not None else []) + ["identity"] + (["colours"] if perms is not None else [])
              + (["transposed"] if views else []))
    # Each view to max_depth; then, where no program verifies and time is left, the task as given
    # one step deeper (iterative deepening: its last depth runs until the limit).
    runs = [(view, max_depth) for view in chosen] + ([("identity", max_depth + 1)] if deepen else [])
    for i, (view, depth) in enumerate(runs):
        later = view in ("transposed", "cells") or depth > max_depth or (view == "identity" and i > 0)
        if later and found.trusted():
            continue  # a trusted candidate is known: none adds one often (ARC-AGI-1 training)
        remaining = deadline - time.monotonic()
        if depth > max_depth and remaining < DEEPEN_AFTER * time_limit:
            break
        share = VIEW_SHARES[view] if i < len(runs) - 1 and depth == max_depth else 1.0
        if view == "cells":
            small_sizes = [s for _, s in size_rules(reduced)[:MAX_SIZE_RULES]]
            result = _core_search(reduced, "identity", None, small_sizes, depth, remaining * share)
            found.add_run(result, view, depth, lambda t, g: draw(*where[t], g))
            continue
        result = _core_search(task, view, perms, sizes, depth, remaining * share)
        found.add_run(result, view, depth, lambda t, g: _unview(g, view, perms[n_demo + t] if perms else None))
    ranked = found.ranked(predicted)
    attempts: list[list[Grid]] = [[] for _ in task.test]
    for c in ranked:
        for i, out in enumerate(c.outputs):
            if len(attempts[i]) < 2 and out not in attempts[i]:
                attempts[i].append(out)
    return SearchResult(
        found=bool(ranked), programs=tuple(c.program for c in ranked), attempts=tuple(tuple(a) for a in attempts),
        seconds=time.monotonic() - start, evaluated=found.evaluated, depth_reached=found.depth_reached,
        cut=found.cut, kinds=tuple(c.kind for c in ranked), failures=found.failures, stats=found.stats,
        trusted=bool(ranked) and ranked[0].trusted(),
    )
