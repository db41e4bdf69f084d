"""The base model: any Hugging Face causal LM id, a local folder, or the embedded Gemma 3 270M
(`arcttt.engine.embedded`), loaded where `arcttt.engine.placement` decides.

Whatever the source, the model leaves here with its vocabulary cut down to the encoder's
`len(SYMBOLS)` symbols (input embeddings and lm_head sliced to the model's own ids for them, ties
kept), so token id i *is* `encode.SYMBOLS[i]` and no tokenizer is needed after loading.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from arcttt.core.config import EMBEDDED, ModelConfig
from arcttt.core.encode import BOS, END, PAD, SYMBOLS
from arcttt.core.errors import ArcError, notice
from arcttt.engine.embedded import embedded_path
from arcttt.engine.placement import count_parameters, device_facts, enable_tf32, place, resolve_device


@dataclass
class LoadedModel:
    """A causal LM whose vocabulary is `SYMBOLS`, where it runs, and what it is."""

    model: nn.Module
    device: torch.device
    dtype: torch.dtype
    name: str
    quantize: str
    placement: str = ""
    """Why this dtype and quantization (printed on GPU runs)."""


def symbol_token_ids(tokenizer) -> list[int]:
    """The tokenizer's id for each of `SYMBOLS`, looked up one symbol at a time, all distinct.

    Looking symbols up alone matters: tokenizers merge digits ("12") and newlines ("\\n\\n").
    Where a symbol has no token of its own, or two symbols share one (bos = eos = pad in many
    tokenizers), an unused id from the top of the vocabulary stands in: fine-tuning gives it meaning.
    """
    ids: list[int | None] = []
    for i, symbol in enumerate(SYMBOLS):
        if i == BOS:
            ids.append(tokenizer.bos_token_id)
        elif i == PAD:
            ids.append(tokenizer.pad_token_id)
        else:
            pieces = tokenizer.encode(symbol, add_special_tokens=False)
            # SentencePiece tokenizers may put a lone word-start piece first ("▁", "1"): the
            # symbol is the last piece.
            ids.append(pieces[-1] if pieces else None)
    taken: set[int] = set()
    spare = len(tokenizer) - 1
    out = []
    for token in ids:
        if token is None or token in taken:
            while spare in taken or spare in ids:
                spare -= 1
            token = spare
        taken.add(token)
        out.append(token)
    return out


def shrink_vocab(model: nn.Module, token_ids: list[int]) -> nn.Module:
    """Cut input embeddings and lm_head to `token_ids` (in that order), keeping them tied if they were."""
    embeddings = model.get_input_embeddings()
    head = model.get_output_embeddings()
    tied = head is not None and head.weight.data_ptr() == embeddings.weight.data_ptr()
    index = torch.tensor(token_ids, device=embeddings.weight.device)
    embeddings.weight = nn.Parameter(embeddings.weight.data[index].clone(), requires_grad=False)
    embeddings.num_embeddings = len(token_ids)
    embeddings.padding_idx = PAD
    if head is not None:
        if tied:
            head.weight = embeddings.weight
        else:
            head.weight = nn.Parameter(head.weight.data[index].clone(), requires_grad=False)
            if getattr(head, "bias", None) is not None:
                head.bias = nn.Parameter(head.bias.data[index].clone(), requires_grad=False)
        head.out_features = len(token_ids)
    for config in {id(c): c for c in (model.config, model.config.get_text_config())}.values():
        config.vocab_size = len(token_ids)
        config.bos_token_id, config.eos_token_id, config.pad_token_id = BOS, END, PAD
    generation = getattr(model, "generation_config", None)
    if generation is not None:
        generation.bos_token_id, generation.eos_token_id, generation.pad_token_id = BOS, END, PAD
    return model


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


def quiet_libraries() -> None:
    """Keep stderr for arcttt's progress: no per-load weight bars, no hub-kernel hints."""
    import logging

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # peft asks transformers a deprecated question on every wrap; the answer does not change.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    # bitsandbytes suggests fetching a CPU kernel from a hub on import; arcttt never downloads.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)


@contextmanager
def _loading(name: str, quantize: str = "none", device: torch.device | None = None):
    """Turn a library's failure to load `name` into one clear ArcError."""
    try:
        yield
    except (OSError, ValueError) as exc:
        offline = " (offline: HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE") else ""
        raise ArcError(f"cannot load model {name!r}{offline}: {str(exc).splitlines()[0]}") from exc
    except ArcError:
        raise
    except Exception as exc:  # bitsandbytes raises plain RuntimeErrors on unsupported devices
        if quantize == "none":
            raise
        raise ArcError(f"bitsandbytes cannot quantize {name!r} ({quantize}) on {device}: {exc}") from exc


def load_model(config: ModelConfig) -> LoadedModel:
    """Load the base model on its device, in its dtype, quantized if asked or needed, vocabulary reduced."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    quiet_libraries()
    device = resolve_device(config.device)
    if config.name == EMBEDDED:
        source, reduced = embedded_path(config), True
    else:
        source, reduced = config.name, False
    with _loading(config.name):
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
    with _loading(config.name, placement.quantize, device):
        model = AutoModelForCausalLM.from_pretrained(
            source, config=hf_config, dtype=placement.dtype, quantization_config=quantization,
            trust_remote_code=config.trust_remote_code, **extra)
        tokenizer = None if reduced else AutoTokenizer.from_pretrained(
            source, trust_remote_code=config.trust_remote_code)
    if tokenizer is not None:
        shrink_vocab(model, symbol_token_ids(tokenizer))
    if device.type != "cuda":
        model.to(device)
    model.requires_grad_(False)
    model.eval()
    return LoadedModel(model, device, placement.dtype, config.name, quantized_as(model, placement.quantize),
                       placement.reason)


def quantized_as(model: nn.Module, asked: str) -> str:
    """How the loaded weights are stored: what was asked, or the checkpoint's own quantization
    (a GPTQ/AWQ/fp8 checkpoint loads quantized whatever was asked), so nothing merges into them."""
    if asked != "none" or getattr(model, "hf_quantizer", None) is None:
        return asked
    method = getattr(getattr(model.config, "quantization_config", None), "quant_method", None)
    return str(getattr(method, "value", method) or "prequantized")


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
