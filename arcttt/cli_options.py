"""The command line's options beyond Typer: one option per config knob that declares a flag,
how the options given become the effective config, and the usage errors (exit 2) that name them.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from arcttt.core.errors import ArcError


class UsageError(typer.BadParameter):
    """A usage error (exit 2) whose message names the flags itself, shown as it is."""

    def format_message(self) -> str:
        return self.message


# --- knob options: one per config knob that declares a flag (arcttt.core.knobs) -----------------

# Options that act only through the model but are not config knobs (a knob says so in its flag).
MODEL_OPTIONS = ("no_stage1", "task_adapters_in", "task_adapters_out", "threads")
# Flags renamed in 0.x: old spelling (hidden, still accepted with a notice) -> new parameter.
RENAMED_FLAGS = {"adapter": "stage1", "no_adapter": "no_stage1", "adapters": "task_adapters_in",
                 "save_adapters": "task_adapters_out", "time_budget": "train_budget"}
SET_HELP = ("Any knob, as in a --config file: KNOB=VALUE (train.steps=64, infer.sampler=dfs, "
            "lora.target_modules=[\"q_proj\"]); repeatable, applied last.")


def default_text(value) -> str:
    """A knob's default as `--help` shows it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value) if value != "" else "none"


def with_default(help: str, default: str) -> str:
    """Help text ending in the default as `--help` shows it (for options whose own default is None,
    which typer would not show). The bracket is escaped: Rich would read it as markup."""
    return f"{help} \\[default: {default}]"


def duration(text: str) -> float:
    """Seconds of a duration option: "90s", "5m", "2h", "1h30m" or plain seconds."""
    from arcttt.core.knobs import parse_duration

    try:
        return parse_duration(text)
    except ArcError as exc:
        raise typer.BadParameter(exc.reason) from None


def knob_options(root: type, after: str, sections: bool = True):
    """Decorate a command taking `**knobs` with one option per flagged knob of config class `root`
    (inserted after parameter `after`; top-level knobs only unless `sections`), each showing the
    knob's built-in default."""
    import inspect

    from arcttt.core.knobs import flags_of, is_duration, value_at

    defaults = root()
    options = []
    for parameter, (knob, spec) in flags_of(root).items():
        if "." in knob and not sections:
            continue
        flag, default = spec.metadata["flag"], value_at(defaults, knob)
        extra = {"parser": duration, "metavar": "DURATION"} if is_duration(spec) else {}
        if flag.metavar:
            extra["metavar"] = flag.metavar
        info = typer.Option(flag.name, help=with_default(flag.help, default_text(default)), **extra)
        options.append(inspect.Parameter(parameter, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                         annotation=Annotated[Optional[type(default)], info]))

    def decorate(command):
        signature = inspect.signature(command, eval_str=True)
        params = [p for p in signature.parameters.values() if p.kind != p.VAR_KEYWORD]
        at = next(i for i, p in enumerate(params) if p.name == after) + 1
        command.__signature__ = signature.replace(parameters=params[:at] + options + params[at:])
        return command
    return decorate


def flag(ctx: typer.Context, parameter: str) -> str:
    """How the user spells a parameter: its first option name (`--min-prob`)."""
    option = next(p for p in ctx.command.params if p.name == parameter)
    return option.opts[0] if parameter != "ttt" else "--no-ttt"


def given(ctx: typer.Context) -> set[str]:
    """Parameters set on the command line (or by environment), not left at their defaults."""
    sources = {name: ctx.get_parameter_source(name) for name in ctx.params}
    return {name for name, source in sources.items() if source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")}


def new_spellings(ctx: typer.Context, values: dict) -> dict:
    """`values` with each renamed flag's old spelling folded into the new one (noted on stderr)."""
    from arcttt.core.errors import notice

    values, chosen = dict(values), given(ctx)
    for old, new in RENAMED_FLAGS.items():
        if old not in chosen:
            continue
        if new in chosen:
            raise UsageError(f"{flag(ctx, old)} is the old spelling of {flag(ctx, new)}: give only {flag(ctx, new)}")
        notice(f"arcttt: {flag(ctx, old)} is deprecated, use {flag(ctx, new)} (the old spelling goes in the next release)")
        values[new] = values[old]
        chosen.add(new)
    return values


def check_combinations(ctx: typer.Context, chosen: set[str], config) -> None:
    """Refuse options that contradict each other or do nothing with the effective config (exit 2)."""
    from arcttt.core.knobs import flags_of

    needs = {parameter: spec.metadata["flag"].needs for parameter, (_, spec) in flags_of(type(config)).items()}
    needs.update(dict.fromkeys(MODEL_OPTIONS, "model"))

    def names(*parameters: str) -> list[str]:
        return [flag(ctx, p) for p in parameters]

    if {"stage1", "no_stage1"} <= chosen:
        raise UsageError("{} and {} contradict each other: give one".format(*names("stage1", "no_stage1")))
    if {"resume", "overwrite"} <= chosen:
        raise UsageError("{} and {} contradict each other: continue the run or start over".format(
            *names("resume", "overwrite")))
    for parameter in sorted(chosen & set(needs)):
        need = needs[parameter]
        if config.expert == "program" and need in ("model", "training"):
            where = "" if "expert" in chosen else " (expert = \"program\" in --config)"
            raise UsageError(f"{flag(ctx, parameter)} has no effect with --expert program{where}: no model runs")
        if config.expert == "ttt" and need == "programs":
            raise UsageError(f"{flag(ctx, parameter)} has no effect with --expert ttt (no program search runs)")
        if not config.ttt and need == "training":
            where = "" if "ttt" in chosen else " (ttt = false in --config)"
            raise UsageError(f"{flag(ctx, parameter)} has no effect with --no-ttt{where}")
    if "workers" in chosen and ctx.params["workers"] > 1 and "shard" in chosen:
        raise UsageError("--workers splits the tasks itself: give --workers or --shard, not both")
    if "shard" in chosen:
        from arcttt.run.shard import parse_shard

        try:
            parse_shard(ctx.params["shard"])
        except ArcError as exc:
            raise UsageError(exc.reason) from None


def effective_config(ctx: typer.Context, schema, config, values: dict, settings: list[str], changes: dict):
    """`config` with the knob options given (`values`, plus `changes` by knob path), then `--set`;
    a value out of range, or a knob given where another makes it inert, is a usage error naming
    the option."""
    from arcttt.core.knobs import flags_of
    from arcttt.core.schema import RelationError

    flagged = flags_of(schema.root)
    options = {knob: name for name, (knob, _) in flagged.items()}
    changes = {**{flagged[name][0]: value for name, value in values.items() if name in flagged}, **changes}

    def spell(knob: str, value) -> str:
        name = options.get(knob)
        return f"{flag(ctx, name) if name else knob} {value}"

    try:
        config = schema.override(config, changes)
    except RelationError as exc:
        raise UsageError(f"{flag(ctx, options[exc.field])} {exc.relation.reason(exc.config, spell)}") from None
    except ArcError as exc:  # the file was valid on its own: an option is out of range
        name = options.get(exc.field)
        raise UsageError(f"{flag(ctx, name) if name else exc.field}: {exc.reason}") from None
    try:
        return schema.settings(config, settings)
    except ArcError as exc:
        raise UsageError(f"--set {exc.field + ': ' if exc.field else ''}{exc.reason}") from None
