"""The stage-1 adapter: an ARC-tuned LoRA adapter written by `arcttt pretrain`, applied to the
base model before any task (`--stage1`). Not to be confused with task adapters, the LoRA
adapters TTT trains per task (`--task-adapters-out`/`--task-adapters-in`).

Its folder holds peft's adapter files and `ADAPTER_MANIFEST`, which records what it was trained
on (for the contamination warning) and on which base (checked before it is applied).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from arcttt.core.config import EMBEDDED, ModelConfig
from arcttt.core.errors import ArcError

if TYPE_CHECKING:
    from arcttt.engine.model import LoadedModel

SHIPPED_ADAPTERS = Path(__file__).parents[1] / "adapters"
EMBEDDED_ADAPTER = SHIPPED_ADAPTERS / "gemma3-270m-arc"
ADAPTER_MANIFEST = "arcttt-adapter.json"


def resolve_base_adapter(config: ModelConfig) -> Path | None:
    """The stage-1 adapter folder the config asks for, or None for the bare model."""
    if config.adapter == "":
        return None
    if config.adapter == "default":
        # The shipped adapter was trained in arcttt's format: other formats start from the bare model.
        shipped = (config.name == EMBEDDED and config.format in ("auto", "arcttt")
                   and (EMBEDDED_ADAPTER / ADAPTER_MANIFEST).exists())
        return EMBEDDED_ADAPTER if shipped else None
    path = Path(config.adapter)
    if not (path / ADAPTER_MANIFEST).exists():
        raise ArcError(f"not a stage-1 adapter (no {ADAPTER_MANIFEST}): write one with `arcttt pretrain`",
                       source=str(path))
    return path


def read_base_adapter_manifest(path: Path) -> dict:
    try:
        return json.loads((path / ADAPTER_MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise ArcError(f"cannot read {ADAPTER_MANIFEST}: {exc}", source=str(path)) from exc


def check_base_adapter(loaded: LoadedModel, path: Path, model_name: str) -> dict:
    """The adapter's manifest, if it was trained with this vocabulary on this base model."""
    from arcttt.engine.digest import base_digest, digestible  # torch-free for --expert program

    manifest = read_base_adapter_manifest(path)
    symbols = loaded.codec.symbols
    if manifest.get("symbols") != (list(symbols) if symbols is not None else None):
        raise ArcError(f"adapter was trained in format {manifest.get('format', 'arcttt')} with another vocabulary, "
                       f"and this model runs format {loaded.codec.name}: retrain it with `arcttt pretrain` in this "
                       "format, or set model.format to the adapter's", source=str(path))
    if manifest.get("base_model") != model_name:
        raise ArcError(f"adapter was trained on {manifest.get('base_model')!r}, not {model_name!r}", source=str(path))
    recorded = manifest.get("base_digest")
    if recorded is not None and digestible(loaded):
        actual = base_digest(loaded.model)
        if recorded != actual:
            raise ArcError(f"adapter was trained on another base model: its manifest's base_digest {recorded} is "
                           f"not this {model_name!r}'s {actual}; retrain it on this model", source=str(path))
    return manifest


def merge_base_adapter(loaded: LoadedModel, path: Path, model_name: str) -> LoadedModel:
    """Fold a stage-1 LoRA adapter into the base weights: TTT adapters then train on top of it.

    Never into quantized weights: they would be re-quantized with the adapter in them, losing
    most of it. Those bases keep the adapter beside them, unmerged (`runtime.build_lm`).
    """
    from peft import PeftModel

    from arcttt.engine.model import LoadedModel

    if loaded.quantize != "none":
        raise ArcError(f"will not merge an adapter into {loaded.quantize} weights (it would be re-quantized); "
                       "apply it unmerged", source=str(path))
    check_base_adapter(loaded, path, model_name)
    merged = PeftModel.from_pretrained(loaded.model, str(path)).merge_and_unload()
    merged.requires_grad_(False)
    merged.eval()
    return LoadedModel(merged, loaded.device, loaded.dtype, loaded.name, loaded.quantize, loaded.placement,
                       loaded.codec)
