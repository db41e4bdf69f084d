"""Test-time training: a fresh LoRA adapter per task, trained on the task's leave-one-out set.

One peft wrapper lives for the whole run; before each task its LoRA weights are put back to the
same fresh initialisation (B = 0, so the model starts as the base model), and the base weights
are frozen throughout, so no task leaks into the next.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from arcttt.config import LoraConfig, TrainConfig
from arcttt.encode import PAD, Encoded
from arcttt.errors import ArcError
from arcttt.model import quiet_libraries


@dataclass
class TrainStats:
    steps: int = 0
    tokens: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)


class Adapter:
    """A LoRA adapter on the base model that can be reset, trained, saved and loaded per task."""

    def __init__(self, model: nn.Module, config: LoraConfig, seed: int, gradient_checkpointing: bool = False):
        from peft import LoraConfig as PeftLoraConfig
        from peft import get_peft_model, get_peft_model_state_dict

        present = {name.rsplit(".", 1)[-1] for name, module in model.named_modules() if isinstance(module, nn.Linear)
                   or type(module).__name__ in ("Linear4bit", "Linear8bitLt")}
        targets = [t for t in config.target_modules if t in present]
        if not targets:
            raise ArcError(f"none of the LoRA target modules {list(config.target_modules)} is in the model; "
                           f"its linear layers are: {sorted(present)}")
        if getattr(model, "is_loaded_in_4bit", False) or getattr(model, "is_loaded_in_8bit", False):
            from peft import prepare_model_for_kbit_training

            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
        elif gradient_checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.enable_input_require_grads()
        quiet_libraries()
        lora = PeftLoraConfig(r=config.rank, lora_alpha=config.alpha, lora_dropout=config.dropout,
                              target_modules=targets, task_type="CAUSAL_LM")
        # LoRA's A matrices are drawn from torch's global generator: seed it here, privately.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.model = get_peft_model(model, lora)
        # The vocabulary cut makes peft think embeddings were resized; they are frozen base weights.
        state = get_peft_model_state_dict(self.model, save_embedding_layers=False)
        self._fresh = {k: v.detach().clone() for k, v in state.items()}

    def reset(self) -> None:
        """Back to the fresh adapter: the model computes exactly what the base model does."""
        from peft import set_peft_model_state_dict

        set_peft_model_state_dict(self.model, self._fresh)

    def save(self, directory: Path) -> None:
        """The adapter in peft's format (safetensors)."""
        self.model.save_pretrained(directory, safe_serialization=True, save_embedding_layers=False)

    def load(self, directory: Path) -> None:
        """Weights saved by `save` for the same base model and LoRA config."""
        from peft import set_peft_model_state_dict
        from peft.utils import load_peft_weights

        try:
            weights = load_peft_weights(str(directory), device=str(next(self.model.parameters()).device))
        except (OSError, ValueError) as exc:
            raise ArcError(f"cannot load adapter: {exc}", source=str(directory)) from exc
        set_peft_model_state_dict(self.model, weights)


def length_grouped_batches(lengths: list[int], batch_size: int, rng: np.random.Generator) -> list[list[int]]:
    """Batches of similar lengths (little padding), in a random order; a shuffle breaks length ties."""
    order = sorted(rng.permutation(len(lengths)).tolist(), key=lambda i: lengths[i])
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def collate(samples: list[Encoded], device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Right-padded ids, attention mask, and loss mask."""
    width = max(len(s) for s in samples)
    ids = torch.full((len(samples), width), PAD, dtype=torch.long)
    attention = torch.zeros((len(samples), width), dtype=torch.long)
    targets = torch.zeros((len(samples), width), dtype=torch.bool)
    for row, sample in enumerate(samples):
        ids[row, :len(sample)] = torch.tensor(sample.ids)
        attention[row, :len(sample)] = 1
        targets[row, :len(sample)] = torch.tensor(sample.mask)
    return ids.to(device), attention.to(device), targets.to(device)


def masked_loss(logits: torch.Tensor, ids: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over target positions only (position t predicts token t + 1)."""
    logits = logits[:, :-1].float()
    labels = ids[:, 1:]
    weights = targets[:, 1:].float()
    losses = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), reduction="none")
    return (losses * weights.reshape(-1)).sum() / weights.sum().clamp(min=1)


def total_steps(n_samples: int, config: TrainConfig) -> int:
    if config.steps > 0:
        return config.steps
    return max(1, math.ceil(config.epochs * n_samples / config.batch_size))


def train(model: nn.Module, samples: list[Encoded], config: TrainConfig, rng: np.random.Generator,
          device: torch.device, deadline: float | None = None) -> TrainStats:
    """Train the trainable (LoRA) parameters on `samples`: AdamW, warm-up then cosine decay."""
    from transformers import get_cosine_schedule_with_warmup

    stats = TrainStats()
    if not samples:
        return stats
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    n_steps = total_steps(len(samples), config)
    schedule = get_cosine_schedule_with_warmup(optimizer, round(config.warmup * n_steps), n_steps)
    lengths = [len(s) for s in samples]
    start = time.monotonic()
    batches: list[list[int]] = []
    model.train()
    try:
        for _ in range(n_steps):
            if not batches:
                batches = length_grouped_batches(lengths, config.batch_size, rng)
            batch = [samples[i] for i in batches.pop()]
            ids, attention, targets = collate(batch, device)
            logits = model(input_ids=ids, attention_mask=attention).logits
            loss = masked_loss(logits, ids, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            stats.steps += 1
            stats.tokens += int(attention.sum())
            stats.losses.append(float(loss.detach()))
            if deadline is not None and time.monotonic() > deadline:
                break
    finally:
        model.eval()
        stats.seconds = time.monotonic() - start
    return stats
