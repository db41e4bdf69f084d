"""How a config knob is declared: once, as a dataclass field whose metadata says everything else.

A knob's field holds its default; `knob(...)` adds its range check, its unit, its command-line
flag (if it has one) and whether it came after the first recorded digests. The config schema
derives its rules from the checks, the command line derives its options from the flags, and the
digest derives what to leave out from `new`. Adding a knob with a flag touches its field alone.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from arcttt.core.errors import ArcError

Check = Callable[[Any], "str | None"]  # what is wrong with a value, or None
SECONDS = "seconds"
_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}


@dataclass(frozen=True)
class Flag:
    """A knob's option on the command line (`arcttt solve --steps N` sets `train.steps`)."""

    name: str
    """The option as typed: "--steps", or "--ttt/--no-ttt" for an on/off pair."""
    help: str
    """One line for `--help` (the default is appended from the field)."""
    needs: str = ""
    """What must run for the knob to matter: "model" (not with `expert = "program"`), "training"
    (the model, and `ttt` on) or "programs" (not with `expert = "ttt"`); a flag given where it has
    no effect is refused."""
    metavar: str | None = None

    @property
    def parameter(self) -> str:
        """The option's parameter name: its first spelling without dashes ("--min-prob" -> "min_prob")."""
        return self.name.split("/")[0].lstrip("-").replace("-", "_")


def knob(default: Any = dataclasses.MISSING, check: Check | None = None, flag: Flag | None = None, *,
         unit: str = "", new: bool = False, factory: Callable[[], Any] | None = None) -> Any:
    """A config field with its `check` (None: any value of its type), `unit` ("seconds": TOML and
    flags also take "90s", "5m", "2h"), command-line `flag` and `new` (added after the first
    recorded digests: hashed only away from its default, so old digests stay valid)."""
    metadata = {"check": check, "flag": flag, "unit": unit, "new": new}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def seconds(default: float = 0.0, flag: Flag | None = None, *, new: bool = False) -> Any:
    """A knob of seconds (0 or more) that TOML and the command line may give with units."""
    return knob(default, at_least(0), flag, unit=SECONDS, new=new)


def is_duration(spec: dataclasses.Field) -> bool:
    """Whether a dataclass field holds seconds (made with `seconds()`)."""
    return spec.metadata.get("unit") == SECONDS


def parse_duration(text: str) -> float:
    """Seconds of "2h", "90m", "1h30m", "45s", "1.5h" or a plain number of seconds."""
    spec = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", spec):
        return float(spec)
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", spec)
    if not parts or "".join(n + u for n, u in parts) != spec.replace(" ", ""):
        raise ArcError(f"not a duration: {text!r} (e.g. 2h, 90m, 1h30m, 45s or seconds)")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


def knobs_of(root: type) -> Iterator[tuple[str, str, dataclasses.Field]]:
    """Every knob of a config class as (section or "" for top level, name, field); a section is a
    dataclass-valued field of the root, its knobs that dataclass's fields."""
    defaults = root()
    for spec in dataclasses.fields(root):
        value = getattr(defaults, spec.name)
        if dataclasses.is_dataclass(value):
            for inner in dataclasses.fields(value):
                yield spec.name, inner.name, inner
        else:
            yield "", spec.name, spec


def value_of(config: Any, section: str, name: str) -> Any:
    """The value of knob (section or "", name) in `config`."""
    return getattr(getattr(config, section) if section else config, name)


def path(section: str, name: str) -> str:
    """A knob as the user names it: "train.steps", or "seed" at the top level."""
    return f"{section}.{name}" if section else name


# --- checks: each returns what is wrong with a value, or None ----------------------------------

def at_least(low: float, strict: bool = False) -> Check:
    def check(value: Any) -> str | None:
        bad = not math.isfinite(value) or (value <= low if strict else value < low)
        return f"must be {'more than' if strict else 'at least'} {low:g}" if bad else None
    return check


def between(low: float, high: float, high_open: bool = False, low_open: bool = False) -> Check:
    def check(value: Any) -> str | None:
        bad = (not math.isfinite(value) or (value <= low if low_open else value < low)
               or (value >= high if high_open else value > high))
        return f"must be in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}" if bad else None
    return check


def one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"
    return check


def seed_range(value: int) -> str | None:
    return None if 0 <= value < 2**63 else "must be 0 to 2**63 - 1 (a numpy seed)"


def device_name(value: str) -> str | None:
    return None if re.fullmatch(r"auto|cpu|mps|cuda(:[0-9]+)?", value) else "must be auto, cpu, mps, cuda or cuda:N"


def module_names(value: tuple) -> str | None:
    ok = value and all(isinstance(v, str) and v for v in value) and len(set(value)) == len(value)
    return None if ok else "must be a non-empty list of distinct module names"


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def non_empty(value: str) -> str | None:
    return None if value.strip() else "must name a model"


def flags_of(root: type) -> dict[str, tuple[str, dataclasses.Field]]:
    """Every knob of `root` with a command-line flag: its parameter name -> (knob path, field)."""
    return {spec.metadata["flag"].parameter: (path(section, name), spec)
            for section, name, spec in knobs_of(root) if spec.metadata.get("flag")}


def value_at(config: Any, knob: str) -> Any:
    """The value of knob `knob` ("train.steps", "seed") in `config`."""
    section, _, name = knob.rpartition(".")
    return value_of(config, section, name)
