"""A command's options as a Markdown table, read from the command itself, for the docs.

docs/OPTIONS.md holds `solve`'s table between `<!-- options:solve:begin -->` and
`<!-- options:solve:end -->`; a test checks it equals `options_table("solve")`, so the docs
cannot drift from `--help`. Regenerate it with `python -m arcttt.cli_doc solve`.
"""

from __future__ import annotations

import re
import sys

import typer
import typer.main

# `with_default` in arcttt.cli ends a help text in an escaped "\[default: X]" (Rich would read
# the bare bracket as markup).
_DEFAULT = re.compile(r"\s*\\\[default: (.*)\]$")
_VALUES = {"int": "N", "int range": "N", "float": "X", "float range": "X", "path": "PATH", "str": "TEXT"}


def _value(param, ctx) -> str:
    """How a value of the option is written: its metavar, or a short name of its type."""
    if param.is_flag:
        return ""
    shown = param.metavar or str(param.display_type_rich(ctx)).strip("<>")
    return f" {_VALUES.get(shown, shown)}"


def _cell(text: str) -> str:
    """Text for one Markdown table cell: on one line, its pipes and angle brackets escaped."""
    return " ".join(text.replace("|", "\\|").replace("<", "&lt;").split())


def _row(param, ctx) -> tuple[str, str, str] | None:
    """(option, default, meaning) of one parameter; None for a hidden one."""
    if getattr(param, "hidden", False):
        return None
    if param.param_type_name == "argument":
        return f"`{param.name.upper()}`", "required", param.help or ""
    names = ", ".join(f"`{name}{_value(param, ctx)}`" for name in param.opts)
    names += "".join(f" / `{name}`" for name in param.secondary_opts)
    help = param.help or ""
    match = _DEFAULT.search(help)
    if match:
        return names, match.group(1), help[:match.start()]
    if param.required:
        return names, "required", help
    if param.secondary_opts and isinstance(param.default, bool):
        return names, "on" if param.default else "off", help
    return names, "" if param.default is None else str(param.default), help


def options_table(command: str = "solve") -> str:
    """The options of `arcttt COMMAND` (hidden old spellings left out) as a Markdown table."""
    from arcttt.cli import app

    chosen = typer.main.get_command(app).commands[command]
    ctx = typer.Context(chosen, info_name=command)
    rows = [row for row in (_row(param, ctx) for param in chosen.params) if row is not None]
    lines = ["| option | default | meaning |", "|---|---|---|"]
    lines += [f"| {option} | {_cell(default)} | {_cell(meaning)} |" for option, default, meaning in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(options_table(*sys.argv[1:2]), end="")
