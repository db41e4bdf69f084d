"""The model a run solves with: the loaded base, its stage-1 adapter, and the language model
(lean or hf backend) that trains the task adapter and decodes."""

from __future__ import annotations

from pathlib import Path

import torch

from arcttt.core.config import LoraConfig, SolveConfig
from arcttt.core.errors import ArcError
from arcttt.engine.adapters import check_base_adapter, merge_base_adapter, resolve_base_adapter
from arcttt.engine.model import LoadedModel, load_model
from arcttt.engine.protocol import LM

BACKENDS = ("auto", "lean", "hf")


class Runtime:
    """The loaded base model and the language model that trains and decodes: one LoRA adapter
    (reset per task) when TTT or saved adapters are used, none for in-context learning alone."""

    def __init__(self, config: SolveConfig, loaded: LoadedModel | None = None, with_adapter: bool | None = None):
        self.config = config
        self.loaded = loaded if loaded is not None else load_model(config.model)
        stage1 = resolve_base_adapter(config.model)
        unmerged = None
        if stage1 is not None and self.loaded.quantize == "none":
            self.loaded = merge_base_adapter(self.loaded, stage1, config.model.name)
        elif stage1 is not None:  # quantized weights: the adapter stays beside them
            check_base_adapter(self.loaded, stage1, config.model.name)
            unmerged = stage1
        self.adapted = config.ttt if with_adapter is None else with_adapter
        self.pool = None  # retrieval's training pool (`core.retrieve.Pool`), set by the run loop when asked for
        self.precision = precision_label(self.loaded)
        self.codec = self.loaded.codec  # how tasks are written for this model
        self.lm = build_lm(self.loaded.model, config.lora if self.adapted else None, config.seed,
                           config.infer.max_tokens + self.codec.max_answer_tokens, config.model.backend,
                           config.train.gradient_checkpointing, config.model.name, unmerged)

    @property
    def device(self) -> torch.device:
        return self.loaded.device


def precision_label(loaded: LoadedModel) -> str:
    """How the base's weights are held, as the log records it per task: "bfloat16/none"."""
    return f"{str(loaded.dtype).removeprefix('torch.')}/{loaded.quantize}"


def build_lm(model: torch.nn.Module, lora: LoraConfig | None, seed: int, max_positions: int, backend: str = "auto",
             gradient_checkpointing: bool = False, name: str = "this model", unmerged: Path | None = None) -> LM:
    """The lean backend where it can run the model and train the adapter (or where asked), else
    transformers + peft.

    `unmerged`: a stage-1 adapter applied beside the base weights, frozen (for quantized bases).
    """
    from arcttt.engine.hf import HfLM
    from arcttt.engine.lm import LeanLM, supports
    from arcttt.engine.lora import supports_lora

    if backend not in BACKENDS:
        raise ArcError(f"unknown backend {backend!r}; use auto, lean or hf")
    reason = (supports(model) or supports_lora(lora)
              or ("an unmerged stage-1 adapter" if unmerged is not None else None))
    if backend == "lean" and reason is not None:
        raise ArcError(f"backend = lean cannot run {name!r}: {reason}; use backend = hf or auto")
    if backend == "hf" or reason is not None:
        return HfLM(model, lora, seed, gradient_checkpointing, unmerged)
    return LeanLM(model, lora, seed, max_positions=max_positions, gradient_checkpointing=gradient_checkpointing)
