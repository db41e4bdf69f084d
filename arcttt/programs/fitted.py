"""Final steps whose parameters are fitted on the demonstrations rather than enumerated.

A fitter sees what a program makes of each demonstration input and the output it should make;
it returns a primitive with the fitted parameters bound (its name shows them), or None when no
consistent parameters exist. The search still checks the result on every demonstration.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from arcttt.programs.blocks import fit_fractal, fit_staircase, fit_tile_maps
from arcttt.programs.cells import fit_cell_rule
from arcttt.programs.crops import (fit_corner_marks, fit_lattice_cells, fit_rectangle_lines, fit_scale_into_frame,
                                   fit_shoot_at_lines, fit_shrink_scaled, fit_summary_stripes)
from arcttt.programs.extend import (fit_complete_lines, fit_count_bars, fit_dot_bars, fit_header_cycle, fit_join_halves,
                                    fit_pattern_rays, fit_seed_stripes, fit_tile_band)
from arcttt.programs.features import OBJECT_FEATURES, object_features
from arcttt.programs.grows import (fit_corner_rays, fit_counted_copies, fit_kron_halves, fit_paint_around,
                                   fit_scale_by_count, resized)
from arcttt.programs.dsl import RIGID_MAPS, Obj, Primitive, background, background_policies, objects
from arcttt.programs.moves import fit_attract, fit_mirror_across, fit_project, fit_slide_to_lines, fit_sorted_rows
from arcttt.programs.parts import fit_combine, fit_count, fit_overlay, fit_summarise
from arcttt.programs.paint import (fit_box_fill, fit_contact, fit_denoise, fit_header, fit_largest_rectangle,
                                  fit_match_references, fit_periodic, fit_rings)
from arcttt.programs.patterns import (fit_band_holes, fit_bar_staircase, fit_concentric_squares, fit_midpoint_stamp,
                                      fit_position_mod, fit_seed_pattern, fit_spiral)
from arcttt.programs.picks import (fit_corner_overlay, fit_corner_pieces, fit_jigsaw, fit_pick_part,
                                   fit_repeating_unit)
from arcttt.programs.puzzles import (fit_frame_nearest_side, fit_nested_ls, fit_pieces_into_holes,
                                     fit_pieces_to_anchors, fit_scale_template_into_marks, fit_scaled_twin)
from arcttt.programs.rays import (fit_bounce, fit_centre_lines, fit_diagonal_rays, fit_edge_lines, fit_elbow,
                                  fit_rays)
from arcttt.programs.regions import (fit_checker_flood, fit_enclosed_fill, fit_halo, fit_keep_unique, fit_leaky_box,
                                     fit_marker_cross, fit_open_lines, fit_ring_crossings)
from arcttt.programs.repair import fit_repair, fit_symmetry
from arcttt.programs.roles import fit_empty_squares, fit_nearest_colour, fit_own_boxes, fit_rectangle_roles
from arcttt.programs.seeds import (fit_content_corner_rays, fit_diagonal_copies, fit_marker_sweep, fit_mirror_ray,
                                   fit_sidestep_rays, fit_tip_ray)
from arcttt.programs.shapes import (fit_bar_halves, fit_cluster_boxes, fit_dashed_lines, fit_greedy_rectangles,
                                    fit_recolour_by_kind, fit_retract_connectors)
from arcttt.programs.shifts import fit_align, fit_bridge, fit_mirror_to_marker, fit_shift, fit_step_toward
from arcttt.programs.stamps import fit_complete_copies, fit_copy_template, fit_key_colours, fit_shape_stamp, fit_stamp
from arcttt.programs.templates import (fit_frame_onto_holes, fit_mirror_to_markers, fit_scaled_template,
                                       fit_template_on_anchors, fit_templates_by_colour)
from arcttt.programs.summaries import fit_colour_box, fit_colour_list, fit_lookup, fit_pick_colour


def apply_colour_map(g: np.ndarray, table: tuple[int, ...]) -> np.ndarray:
    """Recolour every cell through a 10-entry table (colour -> colour)."""
    return np.asarray(table, dtype=g.dtype)[g]


def fit_colour_map(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """A per-colour map, the same on every demonstration, taking `made` to `wanted` cell by cell.

    Colours never seen map to themselves. None when a colour would need two images, or when the
    map changes nothing (then the program without it already says the same).
    """
    table = list(range(10))
    fixed = [False] * 10
    for a, b in zip(made, wanted):
        if a.shape != b.shape:
            return None
        pairs = np.unique(a.astype(np.int16) * 10 + b, return_counts=False)
        for p in pairs.tolist():
            src, dst = divmod(p, 10)
            if fixed[src] and table[src] != dst:
                return None
            table[src], fixed[src] = dst, True
    if table == list(range(10)):
        return None
    changed = ", ".join(f"{i}:{table[i]}" for i in range(10) if table[i] != i)
    return Primitive(f"colour_map({{{changed}}})", partial(apply_colour_map, table=tuple(table)))


# How objects are cut, in the order tried: one colour or several, 4- or 8-connected, on the
# background; then the components of one colour (the background's too: the rooms between walls).
OBJECT_CUTS = ((True, False), (True, True), (False, True))
COLOUR_CUTS = tuple((c, diagonal) for c in range(10) for diagonal in (False, True))
KEEP = -1  # the object keeps its colours


def cut_objects(g: np.ndarray, mode: tuple) -> list[Obj]:
    """The objects `mode` names: ("on", by_colour, diagonal, background policy), the objects on the
    background; ("of", colour, diagonal), the components of one colour."""
    if mode[0] == "on":
        _, by_colour, diagonal, policy = mode
        return objects(g, by_colour, diagonal, background(g, policy))
    _, colour, diagonal = mode
    return [o for o in objects(g, True, diagonal, bg=-1) if o.colour == colour]


def recolour_objects(g: np.ndarray, fits: tuple[tuple[str, dict], ...], mode: tuple) -> np.ndarray | None:
    """Each object recoloured (or kept, or erased) through the first fitted (feature, table) that
    knows every object's value; None where none does."""
    found = cut_objects(g, mode)
    rows = object_features(g, found)
    for feature, table in fits:
        if all(row[feature] in table for row in rows):
            out = g.copy()
            for o, row in zip(found, rows):
                if table[row[feature]] != KEEP:
                    out[o.mask] = table[row[feature]]
            return out
    return None


def recolour_by_cuts(g: np.ndarray, cuts: tuple[tuple[tuple, tuple, tuple[int, int]], ...]) -> np.ndarray | None:
    """The first cut (mode, fits, sizes seen) whose objects all have sizes the demonstrations'
    objects had, else the first that recolours at all: a cut the demonstrations cannot tell from
    another (4- or 8-connected) shows itself on a test grid by pieces of sizes never seen."""
    fallback = None
    for mode, fits, (low, high) in cuts:
        out = recolour_objects(g, fits, mode)
        if out is None:
            continue
        if all(low <= o.size <= high for o in cut_objects(g, mode)):
            return out
        fallback = out if fallback is None else fallback
    return fallback


def _object_targets(a: np.ndarray, b: np.ndarray, found: list[Obj]) -> list[int] | None:
    """Per object, its one colour in `b` (KEEP where that is its colour in `a` already); None where
    an object turns into several colours, or a cell outside every object changes."""
    inside = np.zeros(a.shape, dtype=bool)
    targets = []
    for o in found:
        inside |= o.mask
        got = np.unique(b[o.mask])
        if (a[o.mask] == b[o.mask]).all():
            targets.append(KEEP)
        elif got.size == 1:
            targets.append(int(got[0]))
        else:
            return None
    return None if (a[~inside] != b[~inside]).any() else targets


def _fit_features(made: list[np.ndarray], wanted: list[np.ndarray], mode: tuple) -> tuple[list, tuple[int, int]]:
    """With objects cut as `mode` says, every feature whose values map to one colour each, the same
    on every demonstration (at least two colours: one for all is a colour map); with the sizes of
    the objects seen."""
    observed, sizes = [], []
    for a, b in zip(made, wanted):
        found = cut_objects(a, mode)
        targets = _object_targets(a, b, found) if found else None
        if targets is None:
            return [], (0, 0)
        observed.append((object_features(a, found), targets))
        sizes += [o.size for o in found]
    fits = []
    for feature in OBJECT_FEATURES:
        table: dict = {}
        if all(table.setdefault(row[feature], t) == t for rows, targets in observed for row, t in zip(rows, targets)):
            if len(set(table.values())) > 1:
                fits.append((feature, table))
    return fits, (min(sizes), max(sizes))


def fit_recolour_objects(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Objects recoloured by one of their features (size, rank, holes, shape, ...), each feature's
    value to a colour read off the demonstrations. Every way of cutting objects where a feature
    fits is kept, in order, each with every feature that fits there, simplest first."""
    if any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    modes = [("on", by_colour, diagonal, policy)
             for policy in background_policies(made) for by_colour, diagonal in OBJECT_CUTS]
    modes += [("of", colour, diagonal) for colour, diagonal in COLOUR_CUTS]
    cuts = []
    for mode in modes:
        fits, sizes = _fit_features(made, wanted, mode)
        if fits and all(np.array_equal(recolour_objects(a, tuple(fits), mode), b) for a, b in zip(made, wanted)):
            cuts.append((mode, tuple(fits), sizes))
    if not cuts:
        return None
    name = ", ".join(feature for feature, _ in cuts[0][1][:6]) + (", ..." if len(cuts[0][1]) > 6 else "")
    what = "" if cuts[0][0][0] == "on" else f" of colour {cuts[0][0][1]}"
    return Primitive(f"recolour_objects{what}(by {name})", partial(recolour_by_cuts, cuts=tuple(cuts)))


# Neighbourhoods a local rule may read: the cell and its 4 neighbours, or all 8.
CROSS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))
SQUARE = CROSS + ((-1, -1), (-1, 1), (1, -1), (1, 1))


def neighbourhoods(g: np.ndarray, offsets: tuple[tuple[int, int], ...]) -> np.ndarray:
    """Each cell's neighbourhood as one int (outside the grid reads as colour 10)."""
    h, w = g.shape
    padded = np.full((h + 2, w + 2), 10, dtype=np.int64)
    padded[1:-1, 1:-1] = g
    code = np.zeros((h, w), dtype=np.int64)
    for dr, dc in offsets:
        code = code * 11 + padded[1 + dr:1 + dr + h, 1 + dc:1 + dc + w]
    return code


def _rule(made: list[np.ndarray], wanted: list[np.ndarray], offsets) -> dict[int, int] | None:
    table: dict[int, int] = {}
    for a, b in zip(made, wanted):
        codes, targets = neighbourhoods(a, offsets).ravel(), b.ravel().astype(np.int64)
        pairs = np.unique(codes * 10 + targets)
        keys = pairs // 10
        if np.unique(keys).size != keys.size:
            return None
        for k, v in zip(keys.tolist(), (pairs % 10).tolist()):
            if table.setdefault(k, v) != v:
                return None
    return table


def apply_rule(g: np.ndarray, table: dict[int, int], offsets) -> np.ndarray | None:
    """Each cell's colour looked up from its neighbourhood; None on a neighbourhood never seen."""
    codes = neighbourhoods(g, offsets)
    out = np.empty(g.shape, dtype=g.dtype)
    for k in np.unique(codes).tolist():
        if k not in table:
            return None
        out[codes == k] = table[k]
    return out


def fit_local_rule(made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """A cell-by-cell rule from each cell's neighbourhood to its new colour, fitted on all
    demonstrations, kept only if fitted on all but one it predicts the one left out (each in turn)."""
    if len(made) < 2 or any(a.shape != b.shape for a, b in zip(made, wanted)):
        return None
    for name, offsets in (("cross", CROSS), ("square", SQUARE)):
        table = _rule(made, wanted, offsets)
        if table is None or all(k // 11 ** (len(offsets) - 1) == v for k, v in table.items()):
            continue
        held_out_ok = True
        for i in range(len(made)):
            rest = _rule(made[:i] + made[i + 1:], wanted[:i] + wanted[i + 1:], offsets)
            got = None if rest is None else apply_rule(made[i], rest, offsets)
            if got is None or not np.array_equal(got, wanted[i]):
                held_out_ok = False
                break
        if held_out_ok:
            return Primitive(f"local_rule({name}, {len(table)} patterns)",
                             partial(apply_rule, table=table, offsets=offsets))
    return None


# Every fitted rule, in the order that ranks the candidates of those that verify (the colour map
# runs inside the core). On ARC-AGI-1 training, of 192 fits that verify (a rule on a task), 191 are
# right on the test (`scripts/fitted_rules.py`).
FITTERS = (
    # cells repainted
    fit_colour_map, fit_recolour_objects, fit_local_rule, fit_contact, fit_periodic, fit_header, fit_rings,
    fit_match_references, fit_rectangle_roles, fit_nearest_colour, fit_position_mod, fit_recolour_by_kind,
    fit_bar_halves,
    # regions painted
    fit_halo, fit_enclosed_fill, fit_keep_unique, fit_open_lines, fit_ring_crossings, fit_leaky_box,
    fit_checker_flood, fit_marker_cross,
    # patterns completed, stamped, copied, carried on
    fit_repair, fit_symmetry, fit_stamp, fit_shape_stamp, fit_copy_template, fit_complete_copies, fit_key_colours,
    fit_tile_band, fit_complete_lines, fit_pattern_rays, fit_header_cycle, fit_seed_stripes, fit_join_halves,
    fit_dot_bars, fit_count_bars, fit_mirror_to_markers, fit_scaled_template, fit_template_on_anchors,
    fit_frame_onto_holes, fit_templates_by_colour, fit_midpoint_stamp, fit_concentric_squares, fit_band_holes,
    fit_seed_pattern, fit_spiral, fit_bar_staircase,
    # parts and summaries
    fit_combine, fit_overlay, fit_summarise, fit_count, fit_cell_rule, fit_colour_list, fit_colour_box,
    fit_pick_colour, fit_lookup, fit_repeating_unit, fit_pick_part, fit_corner_overlay,
    fit_summary_stripes,
    # regions cut out, pieces put together
    fit_rectangle_lines, fit_shrink_scaled, fit_scale_into_frame, fit_corner_marks, fit_shoot_at_lines,
    fit_lattice_cells, fit_jigsaw, fit_corner_pieces, fit_frame_nearest_side, fit_scale_template_into_marks,
    fit_nested_ls, fit_pieces_into_holes, fit_pieces_to_anchors, fit_scaled_twin,
    # blocks of the input, outputs grown
    fit_tile_maps, fit_fractal, fit_staircase, fit_kron_halves, fit_counted_copies, fit_paint_around,
    fit_corner_rays, fit_scale_by_count,
    # objects moved
    fit_attract, fit_slide_to_lines, fit_project, fit_mirror_across, fit_sorted_rows, fit_shift, fit_step_toward,
    fit_align, fit_mirror_to_marker, fit_bridge, fit_retract_connectors,
    # lines, boxes, noise
    fit_rays, fit_elbow, fit_bounce, fit_diagonal_rays, fit_edge_lines, fit_centre_lines, fit_box_fill,
    fit_own_boxes, fit_empty_squares, fit_cluster_boxes, fit_greedy_rectangles, fit_dashed_lines,
    fit_content_corner_rays, fit_marker_sweep, fit_diagonal_copies, fit_tip_ray, fit_mirror_ray, fit_sidestep_rays,
    fit_largest_rectangle, fit_denoise,
)

# A fitted rule's output may take a rigid map after it (`dsl.RIGID_MAPS`) only for the rules whose
# output may have another shape than their input: after a rule that keeps the shape, a map is
# rarely what a task does, and costs a fit each.
MAPPED_AFTER = {fit_repair, fit_key_colours, fit_combine, fit_summarise}


def _then(g: np.ndarray, rule: Primitive, after) -> np.ndarray | None:
    out = rule(g)
    return None if out is None else np.ascontiguousarray(after(out))


def fit_then_rigid(fitter, made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """The fitted rule followed by the first rigid map under which it fits (fitted on the outputs
    mapped back); None where the rule fits none, or keeps the shape (`MAPPED_AFTER`)."""
    if fitter not in MAPPED_AFTER:
        return None
    for name, after, inverse in RIGID_MAPS:
        rule = fitter(made, [np.ascontiguousarray(inverse(w)) for w in wanted])
        if rule is not None:
            return Primitive(f"{rule.name} | {name}", partial(_then, rule=rule, after=after), rule.shape)
    return None


def _after(g: np.ndarray, how: str, k: int, m: int, rule: Primitive) -> np.ndarray | None:
    return rule(resized(g, how, k, m))


def fit_after_resize(fitter, made: list[np.ndarray], wanted: list[np.ndarray]) -> Primitive | None:
    """Where every output is k x m times its input (the same k, m), the input tiled (then scaled
    up) to the output's size, then the fitted rule; None where it fits neither."""
    factors = {(b.shape[0] / a.shape[0], b.shape[1] / a.shape[1]) for a, b in zip(made, wanted)}
    if len(factors) != 1:
        return None
    k, m = factors.pop()
    if k != int(k) or m != int(m) or (k, m) == (1, 1) or k < 1 or m < 1:
        return None
    k, m = int(k), int(m)
    for how in ("tile", "scale"):
        rule = fitter([resized(a, how, k, m) for a in made], wanted)
        if rule is not None:
            return Primitive(f"{how}({k}x{m}) | {rule.name}", partial(_after, how=how, k=k, m=m, rule=rule), rule.shape)
    return None


def verified(fitter, made: list[np.ndarray], wanted: list[np.ndarray], tests: list[np.ndarray]):
    """(name, test outputs) of the fitted rule (or the rule then a rigid map, or the input tiled
    or scaled up, then the rule) where it reproduces every demonstration and answers every test
    input with a grid ARC allows; else None. A rule that does not apply to a grid is skipped, as
    the search skips a failing function."""
    try:
        step = fitter(made, wanted) or fit_then_rigid(fitter, made, wanted) or fit_after_resize(fitter, made, wanted)
        if step is None or not all(np.array_equal(step(m), w) for m, w in zip(made, wanted)):
            return None
        outs = [step(t) for t in tests]
    except (ValueError, IndexError, KeyError):
        return None
    if any(o is None or not 0 < o.shape[0] <= 30 or not 0 < o.shape[1] <= 30 for o in outs):
        return None
    return step.name, outs
