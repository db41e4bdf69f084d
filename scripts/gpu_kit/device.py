"""The device-side checks, each run in a child process there (so that a hang or a crash is that
step's alone): the lean engine on a tiny model against the CPU, and the embedded model's first
training steps with its base digest."""

from __future__ import annotations

import math
import time

from .common import ROOT


def relative_error(a, b) -> float:
    import torch

    a, b = a.double().cpu(), b.double().cpu()
    if not torch.isfinite(a).all():
        return float("inf")
    return float((a - b).norm() / b.norm().clamp(min=1e-30))


def smoke(device_name: str) -> dict:
    """The lean engine's forward and backward on a tiny model: the device (fused attention, float32
    and bfloat16) against the CPU (plain attention, float32), by relative error."""
    import copy

    import torch

    from arcttt.core.config import LoraConfig
    from arcttt.engine.lm import LeanLM
    from arcttt.testing import tiny_gemma

    device = torch.device(device_name)
    base = tiny_gemma()  # frozen, in eval mode: the device checks' model: no transfer needed
    ids = torch.randint(0, 14, (2, 40), generator=torch.Generator().manual_seed(1))
    reference_lora = None

    def forward_backward(where: torch.device, dtype: torch.dtype, flash: bool):
        nonlocal reference_lora
        lean = LeanLM(copy.deepcopy(base).to(where, dtype), LoraConfig(rank=4, alpha=8), seed=1)
        lean.flash = flash
        params = lean.trainable()
        if reference_lora is None:  # random A and B, so every gradient is non-zero
            generator = torch.Generator().manual_seed(2)
            reference_lora = [torch.randn(p.shape, generator=generator) * 0.05 for p in params]
        with torch.no_grad():
            for p, value in zip(params, reference_lora):
                p.copy_(value.to(where, dtype))
        logits = lean(ids.to(where))
        logits.float().square().mean().backward()
        if where.type == "cuda":
            torch.cuda.synchronize()
        return logits.detach().float(), [p.grad.detach().float() for p in params]

    cpu_logits, cpu_grads = forward_backward(torch.device("cpu"), torch.float32, False)
    result: dict = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
                    "torch": torch.__version__, "errors": {}}
    # METHOD.md: float32 far under 1e-3; bfloat16 1e-3..1e-2 a matmul, more through 3 layers and back.
    limits = {"float32": 1e-3, "bfloat16": 5e-2}
    for dtype_name, limit in limits.items():
        start = time.perf_counter()
        logits, grads = forward_backward(device, getattr(torch, dtype_name), True)
        errors = {"logits": relative_error(logits, cpu_logits),
                  "grads": max(relative_error(g, c) for g, c in zip(grads, cpu_grads))}
        result[dtype_name] = {**{k: float(f"{v:.3g}") for k, v in errors.items()},
                              "seconds": round(time.perf_counter() - start, 3)}
        if max(errors.values()) > limit:
            result["errors"][dtype_name] = f"relative error {max(errors.values()):.3g} > {limit}"
    result["ok"] = not result["errors"]
    return result


def embedded_step(device_name: str) -> dict:
    """Two training steps of the embedded model on the device (bf16 on a GPU), and its base digest."""
    import torch

    from arcttt.core.config import LoraConfig, ModelConfig
    from arcttt.core.encode import encode
    from arcttt.core.tasks import load_source
    from arcttt.engine.digest import base_digest
    from arcttt.engine.lm import LeanLM
    from arcttt.engine.model import load_model
    from arcttt.engine.ttt import collate, masked_loss

    start = time.perf_counter()
    cuda = device_name.startswith("cuda")
    loaded = load_model(ModelConfig(device=device_name, dtype="bfloat16" if cuda else "float32", quantize="none",
                                    adapter=""))
    loaded_s = time.perf_counter() - start
    digest = base_digest(loaded.model)
    task = load_source(ROOT / "data" / "sample").tasks[0]
    sample = encode(task.train[:-1], task.train[-1])
    lean = LeanLM(loaded.model, LoraConfig(rank=32, alpha=64), seed=0)
    optimizer = torch.optim.AdamW(lean.trainable(), lr=1e-3)
    ids, targets = collate([sample] * 4, loaded.device, loaded.codec.pad)
    losses = []
    step_start = time.perf_counter()
    for _ in range(2):
        loss = masked_loss(lean(ids), ids, targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
    with torch.no_grad():
        losses.append(float(masked_loss(lean(ids), ids, targets)))
    result = {"device": str(loaded.device), "dtype": str(loaded.dtype).removeprefix("torch."), "engine": "lean",
              "base_digest": digest, "load_s": round(loaded_s, 2),
              "steps_s": round(time.perf_counter() - step_start, 2), "tokens": int(ids.numel()),
              "losses": [round(x, 4) for x in losses],
              "finite": all(math.isfinite(x) for x in losses), "loss_fell": losses[-1] < losses[0]}
    if cuda:
        result["peak_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return result
