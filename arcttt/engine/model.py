"""The base model: any Hugging Face causal LM id, a local folder, or the embedded Gemma 3 270M
(`arcttt.engine.embedded`), loaded where `arcttt.engine.placement` decides, with the format its
tasks are written in (`arcttt.core.formats`: asked, or recognised from the checkpoint).

For a symbol format the model leaves here with its vocabulary cut down to the format's symbols
(input embeddings and lm_head sliced to the model's own ids for them, ties kept), so token id i
*is* `format.symbols[i]` and no tokenizer is needed after loading. A text format keeps the whole
vocabulary and the tokenizer (`TextCodec`).
"""

from __future__ import annotations

import itertools

import hashlib
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from arcttt.core.config import EMBEDDED, ModelConfig
from arcttt.core.errors import ArcError, notice
from arcttt.core.formats import (ARCHITECTS, ARCTTT, NVARC, SYMBOL_FORMATS, TEXT_FORMATS, Codec, SymbolFormat,
                                 TextCodec, published_for)
from arcttt.engine.embedded import embedded_path
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


ROLES = {"<bos>": "bos_token_id", "<eos>": "eos_token_id", "<pad>": "pad_token_id"}


def _lookup(tokenizer, symbol: str, fmt: SymbolFormat) -> int | None:
    """The tokenizer's own id for one symbol, or None where it has none."""
    if symbol in ROLES:
        return getattr(tokenizer, ROLES[symbol])
    if symbol in fmt.specials:
        token = tokenizer.convert_tokens_to_ids(symbol)
        return None if token is None or token == tokenizer.unk_token_id else token
    pieces = tokenizer.encode(symbol, add_special_tokens=False)
    # SentencePiece tokenizers may put a lone word-start piece first ("▁", "1"): the symbol is
    # the last piece.
    if not pieces:
        return None
    if fmt is not ARCTTT and tokenizer.decode(pieces[-1:]) != symbol:
        return None  # "user" spelt in two pieces has no token of its own (arcttt's lookup predates this check)
    return pieces[-1]


def symbol_token_ids(tokenizer, fmt: SymbolFormat = ARCTTT, rows: int | None = None) -> tuple[list[int], list[str]]:
    """The tokenizer's id for each of the format's symbols, looked up one symbol at a time, all
    distinct; and the symbols that got a stand-in.

    Looking symbols up alone matters: tokenizers merge digits ("12") and newlines ("\\n\\n").
    Where a symbol has no token of its own, or two symbols share one (bos = eos = pad in many
    tokenizers), an unused id from the top of the vocabulary stands in: fine-tuning gives it meaning.
    With the model's `rows`: only ids it has a row for, and once the tokenizer's are used up
    (NVARC's 16 tokens), the rows beyond the tokenizer's.
    """
    ids = [_lookup(tokenizer, symbol, fmt) for symbol in fmt.symbols]
    taken: set[int] = set()
    rows = rows or len(tokenizer)
    top = min(len(tokenizer), rows)
    spares = itertools.chain(range(top - 1, -1, -1), range(rows - 1, top - 1, -1))
    out, standins = [], []
    for symbol, token in zip(fmt.symbols, ids):
        if token is None or token in taken:
            token = next((s for s in spares if s not in taken and s not in ids), None)
            if token is None:
                raise ArcError(f"format {fmt.name}: no unused token id is left to stand in for {symbol!r}")
            standins.append(symbol)
        taken.add(token)
        out.append(token)
    return out, standins


def shrink_vocab(model: nn.Module, token_ids: list[int], fmt: SymbolFormat = ARCTTT) -> nn.Module:
    """Cut input embeddings and lm_head to `token_ids` (in that order), keeping them tied if they were."""
    embeddings = model.get_input_embeddings()
    head = model.get_output_embeddings()
    tied = head is not None and head.weight.data_ptr() == embeddings.weight.data_ptr()
    index = torch.tensor(token_ids, device=embeddings.weight.device)
    embeddings.weight = nn.Parameter(embeddings.weight.data[index].clone(), requires_grad=False)
    embeddings.num_embeddings = len(token_ids)
    embeddings.padding_idx = fmt.pad
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
        config.bos_token_id, config.eos_token_id, config.pad_token_id = fmt.bos, fmt.end, fmt.pad
    generation = getattr(model, "generation_config", None)
    if generation is not None:
        generation.bos_token_id, generation.eos_token_id, generation.pad_token_id = fmt.bos, fmt.end, fmt.pad
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
    codec: Codec = fmt if reduced else codec_for(config, tokenizer, model)
    if device.type != "cuda":
        model.to(device)
    keep_as_loaded(model)
    model.requires_grad_(False)
    model.eval()
    return LoadedModel(model, device, placement.dtype, config.name, quantized_as(model, placement.quantize),
                       placement.reason, codec)


def embedded_format(config: ModelConfig) -> SymbolFormat:
    """The embedded model runs any symbol format (its cache is cut per format); arcttt's by default."""
    if config.format in ("auto", ARCTTT.name):
        return ARCTTT
    if config.format not in SYMBOL_FORMATS:
        raise ArcError(f"the embedded model runs the symbol formats ({', '.join(SYMBOL_FORMATS)}), "
                       f"not {config.format!r}: its vocabulary is cut when it is converted")
    return SYMBOL_FORMATS[config.format]


def recognise_format(name: str, tokenizer) -> tuple[str, str]:
    """The format a checkpoint was trained on, where it can be told, and how it was told."""
    vocab = tokenizer.get_vocab()
    if len(tokenizer) == len(NVARC.symbols) and all(s in vocab for s in NVARC.specials):
        return NVARC.name, "its 16-token NVARC vocabulary"
    named = published_for(name)
    if named is not None:
        return named, f"the model id names the {named} checkpoints"
    if len(tokenizer) < 1000 and all(c in vocab for c in "I+/-=O"):
        return ARCHITECTS.name, "a single-character vocabulary with the ARChitects' markers I+/-=O"
    return ARCTTT.name, "no anchor's checkpoint recognised"


def codec_for(config: ModelConfig, tokenizer, model: nn.Module) -> Codec:
    """The codec a Hugging Face checkpoint is run with: a symbol format cuts the model's vocabulary
    to its symbols (saying which got a stand-in id), a text format keeps the tokenizer."""
    codec, ids = tokenizer_codec(config, tokenizer, model.get_output_embeddings().weight.shape[0])
    if ids is not None:
        shrink_vocab(model, ids, codec)
    return codec


def tokenizer_codec(config: ModelConfig, tokenizer, vocab: int) -> tuple[Codec, list[int] | None]:
    """The checkpoint's codec and, for a symbol format, the tokenizer's id of each symbol."""
    if config.format == "auto":
        name, why = recognise_format(config.name, tokenizer)
        notice(f"arcttt: {config.name}: format {name} ({why}; set model.format to choose)")
    else:
        name = config.format
    if name in TEXT_FORMATS:
        return text_codec(TEXT_FORMATS[name], tokenizer, vocab), None
    fmt = SYMBOL_FORMATS[name]
    ids, standins = symbol_token_ids(tokenizer, fmt, vocab)
    real = [s for s in standins if s != "<pad>"]  # padding is never read: any id does
    if real and published_for(config.name) == fmt.name:
        raise ArcError(f"{config.name!r} is published for the {fmt.name} format, but its tokenizer has no token "
                       f"of its own for {', '.join(map(repr, real))}: a stand-in would not be the token it was "
                       "trained on (is this the right tokenizer?)")
    if standins:
        notice(f"arcttt: {config.name}: format {fmt.name}: stand-in ids (trained from scratch) for "
               f"{', '.join(map(repr, standins))}")
    return fmt, ids


def load_codec(config: ModelConfig) -> tuple[Codec, list[int] | None]:
    """The codec `load_model` would give, from the tokenizer and config alone (no weights), and
    for a symbol format on a Hugging Face checkpoint its tokenizer's id of each symbol."""
    from transformers import AutoConfig, AutoTokenizer

    quiet_libraries()
    if config.name == EMBEDDED:
        return embedded_format(config), None
    with _loading(config.name):
        tokenizer = AutoTokenizer.from_pretrained(config.name, trust_remote_code=config.trust_remote_code)
        hf_config = AutoConfig.from_pretrained(config.name, trust_remote_code=config.trust_remote_code)
    return tokenizer_codec(config, tokenizer, hf_config.get_text_config().vocab_size)


def text_codec(fmt, tokenizer, vocab: int) -> TextCodec:
    """A text format read by the model's own tokenizer; the answer ends at the end-of-turn token."""
    end = tokenizer.convert_tokens_to_ids(fmt.eot)
    if end is None or end == tokenizer.unk_token_id:
        raise ArcError(f"format {fmt.name} ends each answer with {fmt.eot!r}, which the tokenizer of this model "
                       "does not have as a token")
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else end

    def offsets(text: str) -> list[tuple[int, int]]:
        return tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]

    return TextCodec(fmt, lambda text: tokenizer.encode(text, add_special_tokens=False),
                     lambda ids: tokenizer.decode(ids), end, vocab, pad,
                     offsets if getattr(tokenizer, "is_fast", False) else None)


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
