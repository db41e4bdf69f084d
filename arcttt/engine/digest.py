"""A base model's content digest: what a stage-1 adapter's manifest records of the base it was
trained on, and what `arcttt.engine.adapters` checks before applying it."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from arcttt.engine.model import LoadedModel

DIGESTIBLE = (torch.bfloat16, torch.float32)


def digestible(loaded: LoadedModel) -> bool:
    """Whether `base_digest` of this load equals that of any other bf16/fp32 load of the weights.

    fp16 loses the smallest bf16 values and 4/8-bit weights are stored packed, so those loads
    have digests of their own and are not compared.
    """
    return loaded.quantize == "none" and loaded.dtype in DIGESTIBLE


def base_digest(model: nn.Module) -> str:
    """A content digest of a base model's weights, the same whether loaded in bfloat16 or float32.

    Float tensors are hashed as bfloat16 (the shipped adapters' precision). It reads every weight
    once: about a second for the embedded model, longer for billions of parameters.
    """
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if "lora_" in name:
            continue
        tensor = tensor.detach().cpu()
        if tensor.is_floating_point():
            tensor = tensor.to(torch.bfloat16)
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:32]
