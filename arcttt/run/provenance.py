"""What decides a run's predictions beyond its config: model, adapter and code, by content.

`SolveConfig.digest` covers the knobs; a stage-1 adapter retrained in place, a new embedded model,
another `--task-adapters-in` folder or another arcttt version change predictions just as much. The run
digest covers all of them, so `--resume` and `merge` never mix predictions of different runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from functools import lru_cache
from pathlib import Path

from arcttt import __version__
from arcttt.core.config import EMBEDDED, SolveConfig

# Files above this are digested by size, mtime and their first and last MiB: hashing every byte
# of a folder of 8B-model adapters would take longer than a task.
FULL_HASH_LIMIT = 64 << 20
_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """sha256 of a file's content (sampled with its size and mtime above FULL_HASH_LIMIT)."""
    digest = hashlib.sha256()
    stat = path.stat()
    with path.open("rb") as f:
        if stat.st_size <= FULL_HASH_LIMIT:
            for block in iter(lambda: f.read(_CHUNK), b""):
                digest.update(block)
        else:
            digest.update(f"{stat.st_size}:{stat.st_mtime_ns}".encode())
            digest.update(f.read(_CHUNK))
            f.seek(-_CHUNK, 2)
            digest.update(f.read(_CHUNK))
    return digest.hexdigest()[:16]


def tree_digest(folder: Path) -> str:
    """A digest of every regular file under `folder` (names and contents), in a fixed order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name.startswith(".") or "/." in name or name.endswith(".lock"):
            continue  # temp and lock files of a writer are not content
        digest.update(f"{name}\0{file_digest(path)}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


def _model_contents(name: str) -> str:
    if name == EMBEDDED:
        from arcttt.engine.embedded import embedded_cache_key

        return f"embedded:{embedded_cache_key()}"  # the GGUF's sha256, the vocabulary, the conversion
    path = Path(name)
    if path.is_dir():
        return f"folder:{tree_digest(path)}"
    return f"hub:{name}"  # a hub id: its revision is the hub's business; the id is in the config


@lru_cache(maxsize=8)
def contents(config: SolveConfig, task_adapters_in: Path | None = None) -> dict[str, str]:
    """Content digests of everything besides the config that decides the predictions."""
    from arcttt.engine.adapters import resolve_base_adapter

    adapter = resolve_base_adapter(config.model)
    return {
        "config": config.digest,
        "arcttt": __version__,
        "model": _model_contents(config.model.name),
        "adapter": tree_digest(adapter) if adapter is not None else "",
        "adapters": tree_digest(task_adapters_in) if task_adapters_in is not None and task_adapters_in.is_dir() else "",
    }


def cpu_name() -> str:
    """The CPU's model and core count, as records and logs name a machine without a GPU."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def run_digest(config: SolveConfig, task_adapters_in: Path | None = None) -> str:
    """The digest `--resume` and `merge` compare: config plus model, adapters and arcttt by content."""
    text = json.dumps(contents(config, task_adapters_in), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# The files whose changes change what a run predicts: a record made with any of them edited
# names its commit with "+dirty" (results, runs and docs may change freely).
CODE_PATHS = ("arcttt", "pyproject.toml", "setup.py")


def git_commit(root: Path | None = None) -> str:
    """The checked-out commit of arcttt's source, "+dirty" where its code differs from that commit
    (empty outside a git checkout)."""
    where = root or Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=where, timeout=10).stdout.strip()
        if not commit:
            return ""
        changed = subprocess.run(["git", "status", "--porcelain", "--", *CODE_PATHS], capture_output=True,
                                 text=True, cwd=where, timeout=30).stdout.strip()
        return commit + "+dirty" if changed else commit
    except (OSError, subprocess.SubprocessError):
        return ""
