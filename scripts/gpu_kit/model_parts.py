"""The embedded model as the kit carries it: the GGUF tensors arcttt keeps, in their quantized
bytes, split into one part a call; and arcttt's float32 conversion rebuilt from them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from arcttt.core.errors import ArcError

from .common import sha256_file


@dataclass
class Entry:
    """One GGUF tensor in the kit: its quantized bytes and where they go in the arcttt cache."""

    gguf: str
    hf: str
    type: int
    dtype: str
    shape: list[int]
    data: bytes = field(repr=False)
    rows: list[int] | None = None

    def record(self) -> dict:
        return {"gguf": self.gguf, "hf": self.hf, "type": self.type, "dtype": self.dtype, "shape": self.shape,
                "rows": self.rows, "bytes": len(self.data)}


def extract(reader, hf_name: Callable[[str], str | None], rows: dict[str, list[int]]) -> list[Entry]:
    """The tensors of a GGUF reader that map to a cached weight, each as its raw bytes (only the
    listed rows of a tensor named in `rows`: quantization blocks run along a row, so rows cut cleanly)."""
    import numpy as np

    entries = []
    for tensor in reader.tensors:
        target = hf_name(tensor.name)
        if target is None:
            continue
        data = tensor.data
        kept = rows.get(tensor.name)
        if kept is not None:
            data = data[np.asarray(kept)]
        data = np.ascontiguousarray(data)
        entries.append(Entry(tensor.name, target, int(tensor.tensor_type), str(data.dtype), list(data.shape),
                             data.tobytes(), kept))
    return entries


def gemma_names(layers: int) -> Callable[[str], str | None]:
    """GGUF tensor name -> the cached model's name, by gguf's own table (as transformers maps them)."""
    from gguf import MODEL_ARCH, get_tensor_name_map

    table = get_tensor_name_map(MODEL_ARCH.GEMMA3, layers)
    parts = ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm", "post_feedforward_layernorm",
             "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "self_attn.q_norm",
             "self_attn.k_norm", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")
    hf_names = [f"model.layers.{i}.{part}" for i in range(layers) for part in parts] + ["model.embed_tokens",
                                                                                         "model.norm"]
    return {f"{table.get_name(hf)}.weight": f"{hf}.weight" for hf in hf_names}.get


def symbol_rows(gguf_path: Path) -> list[int]:
    """The GGUF vocabulary's row for each of arcttt's symbols, as arcttt's conversion picks them."""
    from transformers import AutoTokenizer

    from arcttt.engine.vocab import symbol_token_ids

    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    return symbol_token_ids(tokenizer)[0]


def dequantized(record: dict, data: bytes):
    """A kit tensor as transformers converts it: GGUF's own dequantization, then Gemma's norm
    weights stored as 1 + w brought back to w (transformers' Gemma2TensorProcessor), in float32."""
    import numpy as np
    from gguf import GGMLQuantizationType, dequantize

    raw = np.frombuffer(data, dtype=record["dtype"]).reshape(record["shape"])
    weights = dequantize(raw, GGMLQuantizationType(record["type"]))
    if "norm.weight" in record["gguf"]:
        weights = weights - 1
    return np.ascontiguousarray(weights, dtype=np.float32)


def tensor_sha(array) -> str:
    return hashlib.sha256(array.tobytes()).hexdigest()


def split_parts(entries: list[Entry], parts: int = 2) -> list[list[Entry]]:
    """Consecutive runs of tensors of about equal bytes, one run a part."""
    total = sum(len(e.data) for e in entries)
    out: list[list[Entry]] = [[] for _ in range(parts)]
    done, index = 0, 0
    for entry in entries:
        if index < parts - 1 and out[index] and done + len(entry.data) / 2 > total * (index + 1) / parts:
            index += 1
        out[index].append(entry)
        done += len(entry.data)
    return out


def write_parts(kit: Path, groups: list[list[Entry]]) -> tuple[list[dict], list[dict]]:
    """`callN/model-N.bin` per group; the tensor records with their part and offset, and the parts."""
    records, parts = [], []
    for number, group in enumerate(groups, 1):
        path = kit / f"call{number}" / f"model-{number}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        offset = 0
        with open(path, "wb") as handle:
            for entry in group:
                handle.write(entry.data)
                records.append({**entry.record(), "part": number, "offset": offset})
                offset += len(entry.data)
        parts.append({"file": path.relative_to(kit).as_posix(), "bytes": offset, "sha256": sha256_file(path)})
    return records, parts


def rebuild(kit: Path, manifest: dict) -> dict:
    """The cached model's tensors, name -> float32 array, from the kit's parts."""
    blobs = {}
    for number, part in enumerate(manifest["parts"], 1):
        path = kit / part["file"]
        if not path.exists():
            raise ArcError(f"model part {number} is missing: carry .gpukit/call{number} (a machine that went back "
                           f"between calls has lost the earlier call's files; start again with call 1)",
                           source=str(path))
        blobs[number] = path.read_bytes()
    tensors = {}
    for record in manifest["tensors"]:
        blob = blobs[record["part"]]
        tensors[record["hf"]] = dequantized(record, blob[record["offset"]:record["offset"] + record["bytes"]])
    return tensors


def check_tensors(tensors: dict, manifest: dict) -> None:
    """Every rebuilt tensor's sha256 equals the one recorded from arcttt's own conversion."""
    wrong = [r["hf"] for r in manifest["tensors"] if tensor_sha(tensors[r["hf"]]) != r["sha256"]]
    if wrong:
        raise ArcError(f"{len(wrong)} rebuilt tensor(s) differ from the conversion packed: {', '.join(wrong[:3])}",
                       source="scripts/gpu_kit.py unpack")


def save_safetensors(tensors: dict, path: Path) -> None:
    from safetensors.numpy import save_file

    save_file(tensors, str(path), metadata={"format": "pt"})  # what save_pretrained writes
