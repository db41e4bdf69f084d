"""The program search: output sizes first, a compiled breadth-first search, task views, ranking.

1. **Sizes.** Rules for the output's size that hold on every demonstration (constant, the
   input's, linear in the input's, transposed) predict each test output's size; the search's
   size-bound functions (embed, tile, broadcast, ...) take them as their argument, and a
   candidate whose test output has another size than every rule predicts ranks last.
2. **Search** (`arcttt.programs._core`, C++): compositions of the DSL's functions up to
   `max_depth`, deduplicated on the demonstrations, each checked exactly, through a fitted colour
   map, or kept as a piece; pieces are stacked greedily where no program solves the task.
3. **Views.** The task is also searched transposed (icecuber's diagonal flips) and the answers
   transposed back; a program verified under both views ranks first.
4. **Fitted rules** on the raw inputs (a local rule, recolouring by object size) from
   `arcttt.programs.fitted`.
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
from arcttt.programs.fitted import FITTERS

Size = tuple[int, int]  # (width, height), as the core takes it

MEMORY_LIMIT = 1 << 30  # bytes of stored states a search may hold (the core cuts cleanly beyond)
# Of the time left when a view starts, its share (the last view takes all that is left).
VIEW_SHARES = {"identity": 0.5, "colours": 0.5, "transposed": 1.0}
MAX_SIZE_RULES = 2


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


# --- sizes --------------------------------------------------------------------------------------


def _linear(xs: list[int], ys: list[int]) -> tuple[Fraction, Fraction] | None:
    """y = a*x + b holding on every pair, a in small fractions; None where none holds."""
    for a in (Fraction(1), Fraction(2), Fraction(3), Fraction(4), Fraction(5), Fraction(1, 2), Fraction(1, 3),
              Fraction(0)):
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
        if all(0 < h <= 30 and 0 < w <= 30 for h, w in predicted):
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

    def cost(self) -> float:
        """Steps, with a fitted colour map's entries beyond the first counted half a step each."""
        entries = self.program.rsplit("colour_map(", 1)[1].count(">") if "colour_map(" in self.program else 0
        return self.depth + 0.5 * max(0, entries - 1)

    def rank(self, predicted: list[set[tuple[int, int]]]) -> tuple:
        right_size = all(not sizes or (len(g), len(g[0])) in sizes for g, sizes in zip(self.outputs, predicted))
        return (not right_size, self.kind == "pieces", -len(self.views), self.cost(), self.order)


def _fitted(task: Task) -> list[tuple[str, tuple[Grid, ...]]]:
    """The fitted rules (local rule, recolour by size) on the raw inputs, where one verifies."""
    made = [to_array(e.input) for e in task.train]
    wanted = [to_array(e.output) for e in task.train]
    found = []
    for fitter in FITTERS[1:]:  # the colour map is the core's
        try:
            step = fitter(made, wanted)
            if step is None:
                continue
            if not all(np.array_equal(step(m), w) for m, w in zip(made, wanted)):
                continue
            outs = [step(to_array(e.input)) for e in task.test]
        except (ValueError, IndexError, KeyError):  # a rule that does not apply to a test input
            continue
        if all(o is not None and 0 < o.shape[0] <= 30 and 0 < o.shape[1] <= 30 for o in outs):
            found.append((step.name, tuple(from_array(o) for o in outs)))
    return found


def search_task(task: Task, time_limit: float = 10.0, max_depth: int = 3, views: bool = True) -> SearchResult:
    """Search programs for `task` for at most `time_limit` seconds and compositions of `max_depth` steps."""
    start = time.monotonic()
    rules = size_rules(task)[:MAX_SIZE_RULES]
    sizes = [s for _, s in rules]
    n_demo = len(task.train)
    predicted = [{(h, w) for w, h in (s[n_demo + t] for s in sizes)} for t in range(len(task.test))]
    by_output: dict[tuple[Grid, ...], _Candidate] = {}
    stats: dict = {"size_rules": [name for name, _ in rules]}
    evaluated, failures, cut, depth_reached = 0, 0, False, 0

    def add(program: str, kind: str, depth: int, outputs: tuple[Grid, ...], view: str) -> None:
        known = by_output.get(outputs)
        if known is None:
            by_output[outputs] = _Candidate(program, kind, depth, outputs, {view}, len(by_output))
        else:
            known.views.add(view)
            if (kind == "pieces") < (known.kind == "pieces") or depth < known.depth:
                known.program, known.kind, known.depth = program, kind, depth

    for name, outputs in _fitted(task):
        add(name, "fitted", 1, outputs, "identity")
    perms = colour_permutations(task) if views else None
    chosen = ["identity"] + (["colours"] if perms is not None else []) + (["transposed"] if views else [])
    for i, view in enumerate(chosen):
        if view == "transposed" and any(c.kind != "pieces" for c in by_output.values()):
            break  # a verified program is known: the flipped view rarely adds one (ARC-AGI-1 training)
        remaining = time_limit - (time.monotonic() - start)
        share = VIEW_SHARES[view] if i < len(chosen) - 1 else 1.0
        result = _core_search(task, view, perms, sizes, max_depth, remaining * share)
        evaluated += result["applications"]
        failures += result["failures"]
        cut |= result["cut"] or result["memory_cut"]
        stats[view] = {k: result[k] for k in ("applications", "states", "pieces", "depth_reached", "cut",
                                               "memory_cut", "memory_bytes", "seconds")}
        if view == "identity":
            depth_reached = result["depth_reached"]
        for c in result["candidates"]:
            outs = [_unview(np.asarray(g, dtype=np.int8), view, perms[n_demo + t] if perms else None)
                    for t, g in enumerate(c["test"])]
            program = " | ".join(c["steps"]) or "identity"
            if view != "identity":
                program = f"{view}[{program}]"
            add(program, c["kind"], c["depth"], tuple(from_array(o) for o in outs), view)
    ranked = sorted(by_output.values(), key=lambda c: c.rank(predicted))
    attempts: list[list[Grid]] = [[] for _ in task.test]
    for c in ranked:
        for i, out in enumerate(c.outputs):
            if len(attempts[i]) < 2 and out not in attempts[i]:
                attempts[i].append(out)
    return SearchResult(
        found=bool(ranked), programs=tuple(c.program for c in ranked), attempts=tuple(tuple(a) for a in attempts),
        seconds=time.monotonic() - start, evaluated=evaluated, depth_reached=depth_reached, cut=cut,
        kinds=tuple(c.kind for c in ranked), failures=failures, stats=stats,
    )
