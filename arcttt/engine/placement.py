"""Where and how the base model runs: device, dtype and quantization, decided from device facts.

The rules (each printed with its reason when a GPU run decides automatically):
- dtype `auto`: bfloat16 where the device computes in it natively (CUDA GPUs since Ampere, CPUs
  with AVX-512 BF16 or AMX), else float32. float16 is never chosen: Gemma's activations overflow
  it, and training in it needs loss scaling (done when asked for explicitly, see `ttt`).
- quantize `auto`: none on the CPU, where memory is not the constraint (asked for, 4bit and 8bit
  run there too, on bitsandbytes' CPU backend, slower than unquantized weights). On a GPU, none
  while the weights at that dtype take at most `COMFORT` of the free memory (the rest holds
  activations, LoRA state and the KV cache), else 4-bit NF4 (QLoRA). A 270M-8B model on an 80 GB
  H100 stays bfloat16; an 8B model on a 24 GB card is quantized (the ARChitects' setting on a 4090).

`DeviceFacts` are read from the machine in one place, so tests decide with made-up ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from arcttt.core.errors import ArcError

COMFORT = 0.5
"""Largest share of the free GPU memory the unquantized weights may take."""

DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16}
QUANTIZATIONS = ("none", "4bit", "8bit")


@dataclass(frozen=True)
class DeviceFacts:
    """What the placement rules need to know of a device."""

    device: torch.device
    name: str
    bf16: bool
    """Native bfloat16 matrix arithmetic."""
    free_bytes: int | None = None
    """Free accelerator memory; None on the CPU (its memory is not the constraint here)."""


@dataclass(frozen=True)
class Placement:
    dtype: torch.dtype
    quantize: str
    reason: str
    """One line for the log: the facts and the rule that decided."""


def resolve_device(spec: str) -> torch.device:
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ArcError(f"device {spec!r} asked for, but CUDA is not available here")
    return device


def cpu_has_bf16() -> bool:
    """True on CPUs with native bfloat16 matrix instructions (AVX-512 BF16 or AMX)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def device_facts(device: torch.device) -> DeviceFacts:
    """Read the facts off the machine (the only place that asks CUDA)."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        free, _total = torch.cuda.mem_get_info(index)
        # Native bf16 since Ampere (compute capability 8); `is_bf16_supported()` also says yes to
        # the slow emulation on Volta and Turing.
        native = torch.cuda.get_device_properties(index).major >= 8
        return DeviceFacts(device, torch.cuda.get_device_name(index), native, free)
    return DeviceFacts(device, device.type, device.type == "cpu" and cpu_has_bf16())


def resolve_dtype(spec: str, facts: DeviceFacts) -> torch.dtype:
    if spec == "auto":
        return torch.bfloat16 if facts.bf16 else torch.float32
    if spec not in DTYPES:
        raise ArcError(f"unknown dtype {spec!r}; use auto, bfloat16, float16 or float32")
    return DTYPES[spec]


def _gb(size: float) -> str:
    return f"{size / 1e9:.1f} GB"


def place(dtype_spec: str, quantize_spec: str, facts: DeviceFacts, parameters: int | None,
          model_type: str = "") -> Placement:
    """The dtype and quantization for a model of `parameters` weights on the device `facts` describe."""
    dtype = resolve_dtype(dtype_spec, facts)
    name = str(dtype).removeprefix("torch.")
    if dtype == torch.float16 and model_type.startswith("gemma"):
        raise ArcError(f"{model_type} overflows in float16 (its activations exceed 65504): use bfloat16, "
                       "or float32 where the device has no bfloat16")
    if quantize_spec not in ("auto", *QUANTIZATIONS):
        raise ArcError(f"unknown quantization {quantize_spec!r}; use auto, none, 4bit or 8bit")
    if quantize_spec != "auto":
        return Placement(dtype, quantize_spec, f"{name}, quantize {quantize_spec} (as asked)")
    if facts.device.type != "cuda":
        # bitsandbytes runs 4/8-bit on the CPU too (when asked), but there memory is not the
        # constraint and its kernels are slower than plain matmuls. "As stored": a checkpoint
        # saved quantized (a quantization_config in its config.json) still loads quantized.
        return Placement(dtype, "none", f"{name} on {facts.name}, weights as stored, not quantized by arcttt "
                                        "(auto quantizes only to fit GPU memory; quantize = 4bit or 8bit works on "
                                        "the CPU too)")
    if parameters is None or facts.free_bytes is None:
        return Placement(dtype, "4bit", f"{name}, 4-bit: the model's size is unknown, so the safe choice")
    size = parameters * dtype.itemsize
    facts_line = (f"{parameters / 1e9:.2f}B parameters, {_gb(size)} in {name}, {_gb(facts.free_bytes)} free "
                  f"on {facts.name}")
    if size <= COMFORT * facts.free_bytes:
        return Placement(dtype, "none", f"{facts_line}: {name}, not quantized (fits in {COMFORT:.0%} of it)")
    return Placement(dtype, "4bit", f"{facts_line}: 4-bit NF4 (more than {COMFORT:.0%} of it unquantized)")


def count_parameters(config, trust_remote_code: bool = False) -> int | None:
    """Weights of a causal LM with this Hugging Face config, counted on the meta device (no memory)."""
    import copy

    from transformers import AutoModelForCausalLM

    try:
        with torch.device("meta"):  # on a copy: building a model writes into its config
            model = AutoModelForCausalLM.from_config(copy.deepcopy(config), trust_remote_code=trust_remote_code)
    except Exception:  # noqa: BLE001 - any failure only means "size unknown", which is decided safely
        return None
    seen: set[int] = set()
    total = 0
    for parameter in model.parameters():  # tied weights once
        if id(parameter) not in seen:
            seen.add(id(parameter))
            total += parameter.numel()
    return total


def enable_tf32() -> None:
    """fp32 matmuls on TensorFloat-32 tensor cores (LoRA master weights, fp32 logits): ~8x faster
    on Ampere and later, with a 10-bit mantissa that LoRA updates and losses do not notice.

    Only for CUDA runs: it also lets oneDNN use reduced precision for fp32 on the CPU. Set through
    the one call that both torch's old and new TF32 flags read back without complaint.
    """
    torch.set_float32_matmul_precision("high")
