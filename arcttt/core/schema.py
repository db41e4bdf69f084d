"""How a config class is read from TOML (and `--set`, and options), checked and written back.

A `Schema` serves one root dataclass: its dataclass-valued fields are the TOML sections, every
other field a top-level key. Checks come from the knobs' declarations (`arcttt.core.knobs`); rules
between knobs (`Relation`) are checked wherever their knob is given.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from arcttt.core.errors import ArcError, notice, printable
from arcttt.core.knobs import Check, is_duration, knobs_of, parse_duration, path, value_of

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def rules_of(root: type) -> dict[tuple[str, str], Check]:
    """(section or "" for top level, field) -> its check, for every knob of `root` that has one."""
    return {(section, name): spec.metadata["check"] for section, name, spec in knobs_of(root)
            if spec.metadata.get("check")}


Spell = Callable[[str, Any], str]  # how the user writes "knob has this value": `train.steps = 0`, `--steps 0`


def toml_spelling(knob: str, value: Any) -> str:
    return f"{knob} = {_toml_value(value)}"


@dataclass(frozen=True)
class Relation:
    """A rule between knobs: `knob`, where a config file, a flag or `--set` sets it away from its
    default, acts only when knob `needs` has the value `wanted`."""

    knob: tuple[str, str]
    needs: tuple[str, str]
    wanted: Any

    def holds(self, config: Any) -> bool:
        return value_of(config, *self.needs) == self.wanted

    def reason(self, config: Any, spell: Spell = toml_spelling) -> str:
        actual = value_of(config, *self.needs)
        return f"applies only with {spell(path(*self.needs), self.wanted)} ({self.needs[1]} is {actual})"


class RelationError(ArcError):
    """A knob given where the knob it relates to makes it inert (`relation`, in `config`)."""

    def __init__(self, relation: Relation, config: Any, source: str):
        super().__init__(relation.reason(config), source=source, field=path(*relation.knob))
        self.relation, self.config = relation, config


@dataclass(frozen=True)
class Schema:
    """How one kind of config is read from TOML, checked and written back. The root dataclass's
    dataclass-valued fields are the TOML sections (tables); a key left out keeps the root's
    default, section keys included (stage 1's `[lora]` defaults differ from a solve's)."""

    root: type
    renamed: dict[tuple[str, str], str] = field(default_factory=dict)
    relations: tuple[Relation, ...] = ()

    @property
    def rules(self) -> dict[tuple[str, str], Check]:
        return rules_of(self.root)

    @property
    def sections(self) -> tuple[str, ...]:
        defaults = self.root()
        return tuple(f.name for f in fields(self.root) if dataclasses.is_dataclass(getattr(defaults, f.name)))

    def from_dict(self, data: dict[str, Any], source: str = "config") -> Any:
        """A config from nested dicts (TOML or JSON), refusing unknown keys and wrong types."""
        data = self.current_names(data, source)
        defaults, sections = self.root(), self.sections
        config = _coerce({k: v for k, v in data.items() if k not in sections}, source, defaults)
        parts = {}
        for name in sections:
            section = data.get(name, {})
            if not isinstance(section, dict):
                raise ArcError(f"[{name}] must be a table", source=source)
            parts[name] = _coerce(section, f"{source} [{name}]", getattr(defaults, name), name)
        return self.validate(replace(config, **parts), source, given=self.given_keys(data))

    def given_keys(self, data: Mapping[str, Any]) -> set[tuple[str, str]]:
        """The knobs nested `data` gives, as (section or "", name)."""
        sections = self.sections
        return {(k, inner) for k, v in data.items() if k in sections and isinstance(v, dict) for inner in v} | {
            ("", k) for k in data if k not in sections}

    def validate(self, config: Any, source: str = "config", given: set[tuple[str, str]] = frozenset()) -> Any:
        """The config itself if every value is in range and every relation of a `given` knob holds;
        else an error naming the field and what is wrong."""
        for (section, name), check in self.rules.items():
            value = value_of(config, section, name)
            problem = check(value)
            if problem:
                raise ArcError(f"{problem}, got {value!r}", source=source, field=path(section, name))
        defaults = self.root()
        for relation in self.relations:
            # Only a value away from the default says something: a complete file (the effective
            # config written beside a run) gives every knob.
            moved = value_of(config, *relation.knob) != value_of(defaults, *relation.knob)
            if relation.knob in given and moved and not relation.holds(config):
                raise RelationError(relation, config, source)
        return config

    def override(self, config: Any, changes: Mapping[str, Any], source: str = "options") -> Any:
        """`config` with `changes` ({"train.steps": 64, "seed": 1}; None values skipped), checked
        as a TOML file's values are: unknown knobs, wrong types, ranges and relations."""
        nested: dict[str, Any] = {}
        for key, value in changes.items():
            if value is None:
                continue
            section, _, name = key.rpartition(".")
            if section and section not in self.sections:
                raise ArcError(f"unknown knob {key!r}; sections: {', '.join(self.sections)}", source=source)
            (nested.setdefault(section, {}) if section else nested)[name] = value
        parts = {name: _coerce(values, source, getattr(config, name), name)
                 for name, values in nested.items() if name in self.sections and isinstance(values, dict)}
        top = _coerce({k: v for k, v in nested.items() if k not in self.sections}, source, config)
        return self.validate(replace(top, **parts), source, given=self.given_keys(nested))

    def settings(self, config: Any, assignments: list[str], source: str = "--set") -> Any:
        """`config` with `--set` assignments ("train.steps=64", values in TOML syntax; a bare word
        is a string), each checked as a TOML file's value is."""
        changes = {}
        for assignment in assignments:
            key, sep, text = assignment.partition("=")
            if not sep or not key.strip():
                raise ArcError(f"{assignment!r} is not KNOB=VALUE (e.g. train.steps=64)", source=source)
            key = key.strip()
            if key not in self.knob_paths():
                raise ArcError(f"unknown knob {key!r}; known: {', '.join(self.knob_paths())}", source=source)
            changes[key] = _toml_literal(text.strip())
        return self.override(config, changes, source)

    def knob_paths(self) -> list[str]:
        """Every knob as `--set` names it ("train.steps")."""
        return [path(section, name) for section, name, _ in knobs_of(self.root)]

    def load(self, path: str | Path | None) -> Any:
        """The defaults, or a TOML file (and the files it extends) on top of them."""
        if path is None:
            return self.root()
        data, chain = self.read_chain(Path(path))
        source = str(path) if len(chain) == 1 else f"{path} (extending {', '.join(map(str, chain[1:]))})"
        return self.from_dict(data, source)

    def read_chain(self, path: Path, below: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Path]]:
        """The TOML at `path` merged over the file it `extends` (and so on), with the files read."""
        data = self.current_names(_read_toml(path), str(path))
        parent = data.pop("extends", None)
        if parent is None:
            return data, [path]
        if not isinstance(parent, str) or not parent.strip():
            raise ArcError("must name a TOML file (relative to this file's folder)", source=str(path), field="extends")
        parent_path, chain = path.parent / parent, (*below, path)
        if parent_path.resolve() in {p.resolve() for p in chain}:
            raise ArcError("extends makes a cycle: " + " -> ".join(map(str, (*chain, parent_path))), source=str(path))
        base, parents = self.read_chain(parent_path, chain)
        return _merged(base, data), [path, *parents]

    def current_names(self, data: dict[str, Any], source: str) -> dict[str, Any]:
        """`data` with renamed keys under their current names, each old one noted on stderr."""
        out = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
        for (section, old), new in self.renamed.items():
            table = out.get(section) if section else out
            if not isinstance(table, dict) or old not in table:
                continue
            where = f"[{section}] {old}" if section else old
            if new in table:
                raise ArcError(f"{where} is the old name of {new}: give only {new}", source=source)
            notice(f"arcttt: {printable(source)}: {where} is deprecated, it is now {new} "
                   "(the old name goes in the next release)")
            table[new] = table.pop(old)
        return out

    def to_toml(self, config: Any) -> str:
        """The config as TOML (complete, no `extends`) that `load` reads back to an equal config."""
        data, sections = dataclasses.asdict(config), self.sections
        lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if k not in sections]
        for name in sections:
            lines += ["", f"[{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in data[name].items()]
        return "\n".join(lines) + "\n"


def _coerce(values: dict[str, Any], where: str, base: Any, section: str = "") -> Any:
    """`base` with `values` (checked against its fields' types) in place of its own."""
    known = {f.name: f for f in fields(base)}
    out = {}
    for key, value in values.items():
        if key not in known:
            raise ArcError(f"unknown key {key!r}; known: {', '.join(known)}", source=where)
        default = getattr(base, key)
        if is_duration(known[key]) and isinstance(value, str):
            try:
                value = parse_duration(value)
            except ArcError as exc:
                raise ArcError(exc.reason, source=where, field=path(section, key)) from None
        if isinstance(default, tuple):
            if not isinstance(value, (list, tuple)):
                raise ArcError(f"{key} must be a list", source=where, field=path(section, key))
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ArcError(f"{key} must be true or false, got {value!r}", source=where, field=path(section, key))
        elif isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif not isinstance(value, type(default)) or isinstance(value, bool) != isinstance(default, bool):
            raise ArcError(f"{key} must be {type(default).__name__}, got {value!r}", source=where,
                           field=path(section, key))
        out[key] = value
    return replace(base, **out)


def _toml_literal(text: str) -> Any:
    """A `--set` value: TOML syntax (64, 2e-4, true, "x", ["a", "b"]), or else the text itself."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def _merged(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, tables merged key by key."""
    out = dict(base)
    for key, value in over.items():
        out[key] = {**out[key], **value} if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArcError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ArcError(f"not TOML: {exc}", source=str(path)) from exc


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
