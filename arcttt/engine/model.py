"""The base model: any Hugging Face causal LM id, a local folder, or the embedded Gemma 3 270M
(`arcttt.engine.embedded`), loaded where `arcttt.engine.placement` decides (quantized if asked or
needed), with the codec its tasks are written in (`arcttt.engine.codecs`: asked, or recognised
from the checkpoint).

For a symbol format the model leaves here with its vocabulary cut down to the format's symbols
(`arcttt.engine.vocab`), so token id i *is* `format.symbols[i]` and no tokenizer is needed after
loading. A text format keeps the whole vocabulary and the tokenizer (`TextCodec`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from arcttt.core.config import EMBEDDED, ModelConfig
from arcttt.core.errors import ArcError, notice
from arcttt.core.formats import ARCTTT, Codec
from arcttt.engine.codecs import codec_for, embedded_format
from arcttt.engine.embedded import embedded_path
from arcttt.engine.libraries import loading, quiet_libraries
from arcttt.engine.placement import count_parameters, device_facts, enable_tf32, place, resolve_device


@dataclass
class LoadedModel:
    """A causal LM, where it runs, what it is, and the codec its tasks are written with (for a
    symbol format, the model's vocabulary is the format's symbols)."""

    model: nn.Module
    device: torch.device
    dtype: torch.dtype
    name: str
    quantize: str
    placement: str = ""
    """Why this dtype and quantization (printed on GPU runs)."""
    codec: Codec = ARCTTT


def _quantization(quantize: str, dtype: torch.dtype, device: torch.device):
    if quantize == "none":
        return None
    try:
        from transformers import BitsAndBytesConfig
        import bitsandbytes  # noqa: F401  (fail here, clearly, rather than deep in loading)
    except ImportError as exc:
        raise ArcError(f"--quantize {quantize} needs bitsandbytes: {exc}") from exc
    if quantize == "4bit":
        return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                  bnb_4bit_compute_dtype=dtype)
    return BitsAndBytesConfig(load_in_8bit=True)


def load_model(config: ModelConfig) -> LoadedModel:
    """Load the base model on its device, in its dtype, quantized if asked or needed, with its
    format's codec (vocabulary reduced for a symbol format)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    quiet_libraries()
    device = resolve_device(config.device)
    if config.name == EMBEDDED:
        fmt = embedded_format(config)
        source, reduced = embedded_path(config, fmt), True
    else:
        source, reduced = config.name, False
    with loading(config.name):
        hf_config = AutoConfig.from_pretrained(source, trust_remote_code=config.trust_remote_code)
    facts = device_facts(device)
    size_matters = device.type == "cuda" and config.quantize == "auto"
    parameters = count_parameters(hf_config, config.trust_remote_code) if size_matters else None
    placement = place(config.dtype, config.quantize, facts, parameters, hf_config.model_type)
    if device.type == "cuda":
        enable_tf32()
        notice(f"arcttt: {config.name}: {placement.reason}")
    quantization = _quantization(placement.quantize, placement.dtype, device)
    extra = {"device_map": {"": device}} if device.type == "cuda" else {}
    with loading(config.name, placement.quantize, device):
        model = AutoModelForCausalLM.from_pretrained(
            source, config=hf_config, dtype=placement.dtype, quantization_config=quantization,
            trust_remote_code=config.trust_remote_code, **extra)
        tokenizer = None if reduced else AutoTokenizer.from_pretrained(
            source, trust_remote_code=config.trust_remote_code)
    codec: Codec = fmt if reduced else codec_for(config, tokenizer, model)
    if device.type != "cuda":
        model.to(device)
    keep_as_loaded(model)
    model.requires_grad_(False)
    model.eval()
    return LoadedModel(model, device, placement.dtype, config.name, quantized_as(model, placement.quantize),
                       placement.reason, codec)


def keep_as_loaded(model: nn.Module) -> None:
    """Keep 4-bit weights exactly as loaded, for every task.

    On CPUs with AVX-512 BF16, bitsandbytes re-lays a 4-bit layer out for its own kernels at the
    first forward pass without gradients, rounding the layer's scales to bfloat16 (and quantizing
    them again whenever the weights are saved): the base would change after the first task's
    inference, so a task's answers would depend on the tasks run before it.
    """
    for module in model.modules():
        if getattr(module, "support_avx512bf16_for_cpu", False):
            module.support_avx512bf16_for_cpu = False


def quantized_as(model: nn.Module, asked: str) -> str:
    """How the loaded weights are stored: what was asked, or the checkpoint's own quantization
    (a GPTQ/AWQ/fp8 checkpoint loads quantized whatever was asked), so nothing merges into them."""
    if asked != "none" or getattr(model, "hf_quantizer", None) is None:
        return asked
    method = getattr(getattr(model.config, "quantization_config", None), "quant_method", None)
    return str(getattr(method, "value", method) or "prequantized")
