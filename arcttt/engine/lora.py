"""The lean backend's LoRA adapter (`arcttt.engine.lm.LeanLM`), stacked: one tensor per projection
holds every layer's matrices, kept in fp32 as master weights, so AdamW touches 14 tensors, not 252;
a LoRA on the embedding or the head (`embed_tokens`, `lm_head`) is one pair more each.

Here: its targets, its fresh initialisation (peft's), its views in the compute dtype for a forward
pass, its merge into working copies of the weights for decoding, and its files in peft's layout
(loadable by peft as a LoRA on the same base model).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from arcttt.core.config import LoraConfig
from arcttt.core.errors import ArcError

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
ENDS = ("embed_tokens", "lm_head")  # LoRA on the embedding and the head (one update each, not per layer)
TARGETS = (*PROJECTIONS, *ENDS)
FUSED = (("q_proj", "k_proj", "v_proj"), ("gate_proj", "up_proj"))
"""Projections that share an input (and one fused weight in the lean model)."""


def supports_lora(lora: LoraConfig | None) -> str | None:
    """None if `LeanLM` can train this adapter, else why not (a LoRA target it does not have)."""
    unknown = [t for t in (lora.target_modules if lora is not None else ()) if t not in TARGETS]
    if unknown:
        return f"LoRA target modules {unknown} (lora.target_modules): it trains only {', '.join(TARGETS)}"
    return None


def lora_scale(lora: LoraConfig) -> float:
    """The factor of a LoRA update B A: alpha / rank, or alpha / sqrt(rank) for rank-stabilised LoRA."""
    return lora.alpha / (math.sqrt(lora.rank) if lora.use_rslora else lora.rank)


def fresh_adapters(lora: LoraConfig, seed: int, shapes: dict[str, tuple[int, int]], layers: int, hidden: int,
                   embed: torch.Tensor, head: torch.Tensor) -> dict[str, nn.Parameter]:
    """The adapter as peft initialises it, stacked over `layers`: `{projection}_A` [layers, rank, in]
    and `{projection}_B` [layers, out, rank] for each target among `shapes` ((out, in) of each
    projection), then the embedding's and the head's pairs, all on the embedding's device."""
    generator = torch.Generator().manual_seed(seed)
    device = embed.device
    adapters = {}
    for name, (out, inp) in shapes.items():
        if name not in lora.target_modules:
            continue
        # peft's default: A ~ kaiming-uniform(a=sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), B = 0.
        bound = 1.0 / math.sqrt(inp)
        a = (torch.rand((layers, lora.rank, inp), generator=generator) * 2 - 1) * bound
        adapters[f"{name}_A"] = nn.Parameter(a.to(device))
        adapters[f"{name}_B"] = nn.Parameter(torch.zeros((layers, out, lora.rank), device=device))
    vocab = embed.shape[0]
    if "embed_tokens" in lora.target_modules:
        # peft's embedding LoRA starts the other way round: A = 0 [rank, vocab], B ~ N(0, 1) [hidden, rank].
        adapters["embed_tokens_A"] = nn.Parameter(torch.zeros((lora.rank, vocab), device=device))
        b = torch.randn((hidden, lora.rank), generator=generator)
        adapters["embed_tokens_B"] = nn.Parameter(b.to(device))
    if "lm_head" in lora.target_modules:
        bound = 1.0 / math.sqrt(hidden)
        a = (torch.rand((lora.rank, hidden), generator=generator) * 2 - 1) * bound
        adapters["lm_head_A"] = nn.Parameter(a.to(device))
        adapters["lm_head_B"] = nn.Parameter(torch.zeros((head.shape[0], lora.rank), device=device))
    return adapters


def lora_views(adapters: nn.ParameterDict, scale: float,
               dtype: torch.dtype) -> dict[str, tuple[list[torch.Tensor], list[torch.Tensor]]]:
    """Per projection, each layer's (A, scaled B) in the compute dtype: one cast per stacked tensor."""
    views = {}
    for name in PROJECTIONS:
        if f"{name}_A" not in adapters:
            continue
        a = adapters[f"{name}_A"].to(dtype).unbind(0)
        b = (adapters[f"{name}_B"] * scale).to(dtype).unbind(0)
        views[name] = (a, b)
    # The embedding and the head: (A, s B) as F.embedding / F.linear take them.
    if "embed_tokens_A" in adapters:
        views["embed_tokens"] = (adapters["embed_tokens_A"].t().to(dtype),
                                 (adapters["embed_tokens_B"] * scale).t().to(dtype))
    if "lm_head_A" in adapters:
        views["lm_head"] = (adapters["lm_head_A"].to(dtype), (adapters["lm_head_B"] * scale).to(dtype))
    # Projections that share an input share one A matmul: their A rows stacked.
    for parts in FUSED:
        present = [p for p in parts if p in views]
        if len(present) > 1:
            stacked = torch.cat([adapters[f"{p}_A"] for p in present], dim=1).to(dtype).unbind(0)
            views[parts] = (stacked, present)
    return views


def merged_layers(layers: list, adapters: nn.ParameterDict, shapes: dict[str, tuple[int, int]],
                  scale: float) -> list:
    """Working copies of the layers' weights (`lm.Layer`) with the LoRA folded in (W + s B A); the
    base is never written."""
    if not len(adapters):
        return layers
    out = []
    with torch.no_grad():
        def fold(weight: torch.Tensor, parts: tuple[str, ...], i: int) -> torch.Tensor:
            if not any(f"{p}_A" in adapters for p in parts):
                return weight
            rows = []
            for part in parts:
                out_size = shapes[part][0]
                if f"{part}_A" in adapters:
                    a, b = adapters[f"{part}_A"][i], adapters[f"{part}_B"][i]
                    rows.append((b @ a) * scale)
                else:
                    rows.append(torch.zeros((out_size, weight.shape[1]), device=weight.device))
            return (weight.float() + torch.cat(rows)).to(weight.dtype)

        for i, layer in enumerate(layers):
            out.append(replace(layer, qkv=fold(layer.qkv, FUSED[0], i), o=fold(layer.o, ("o_proj",), i),
                               gate_up=fold(layer.gate_up, FUSED[1], i), down=fold(layer.down, ("down_proj",), i)))
    return out


def merged_ends(embed: torch.Tensor, head: torch.Tensor, adapters: nn.ParameterDict,
                scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """The embedding and head with their LoRA folded in (working copies), or the base's own."""
    with torch.no_grad():
        if "embed_tokens_A" in adapters:
            delta = (adapters["embed_tokens_B"] @ adapters["embed_tokens_A"]).t() * scale
            embed = (embed.float() + delta).to(embed.dtype)
        if "lm_head_A" in adapters:
            delta = (adapters["lm_head_B"] @ adapters["lm_head_A"]) * scale
            head = (head.float() + delta).to(head.dtype)
    return embed, head


def peft_keys(key: str, layers: int) -> list[tuple[str, int | None]]:
    """peft's state-dict keys of one stacked adapter tensor: (key, layer index or None for the whole)."""
    name, which = key.rsplit("_", 1)
    if name == "embed_tokens":
        return [(f"base_model.model.model.embed_tokens.lora_embedding_{which}", None)]
    if name == "lm_head":
        return [(f"base_model.model.lm_head.lora_{which}.weight", None)]
    module = "self_attn" if name in PROJECTIONS[:4] else "mlp"
    return [(f"base_model.model.model.layers.{i}.{module}.{name}.lora_{which}.weight", i) for i in range(layers)]


def peft_state(adapters: nn.ParameterDict, layers: int) -> dict[str, torch.Tensor]:
    """The adapter in peft's key layout."""
    state = {}
    for key, value in adapters.items():
        for peft_key, i in peft_keys(key, layers):
            state[peft_key] = (value if i is None else value[i]).detach().clone()
    return state


def save_adapter(directory: Path, adapters: nn.ParameterDict, layers: int, lora: LoraConfig) -> None:
    """The adapter as peft writes one (weights + config), each file replaced atomically."""
    from safetensors.torch import save

    from arcttt.core.durable import write_bytes_atomic, write_json_atomic

    directory.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(directory / "adapter_model.safetensors", save(peft_state(adapters, layers)))
    targets = sorted({k.rsplit("_", 1)[0] for k in adapters})
    write_json_atomic(directory / "adapter_config.json",
                      {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": lora.rank, "lora_alpha": lora.alpha,
                       "lora_dropout": lora.dropout, "use_rslora": lora.use_rslora, "target_modules": targets,
                       "bias": "none"}, indent=1)


def load_adapter(directory: Path, adapters: nn.ParameterDict, layers: int) -> None:
    """Copy a saved adapter (peft's layout, this model's shapes) into `adapters`."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = directory / "adapter_model.safetensors"
    try:
        state = load_file(str(path))
    except (OSError, SafetensorError) as exc:
        raise ArcError(f"cannot load adapter: {exc}", source=str(path)) from exc
    expected = peft_state(adapters, layers)
    if set(state) != set(expected) or any(state[k].shape != expected[k].shape for k in state):
        raise ArcError("adapter does not match this model and LoRA config", source=str(path))
    with torch.no_grad():
        for key, value in adapters.items():
            for peft_key, i in peft_keys(key, layers):
                (value if i is None else value[i]).copy_(state[peft_key])
