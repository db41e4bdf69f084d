"""What every part of the kit shares: its places, a device call's size limit, hashing, sizes."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from arcttt.core.errors import ArcError

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "scripts" / "gpu_kit.py"  # the command line, which the kit also runs as its own child
KIT = ROOT / ".gpukit"
FORMAT = 2  # of the kit's manifest and summary; 2: the model goes to a folder $ARCTTT_EMBEDDED_MODEL names
MiB = 2**20
CALL_LIMIT = 64 * MiB  # working tree + carried paths, per call (device README, Limits)
MARGIN = 2 * MiB  # the tree may grow between pack and the call
ADAPTER_MANIFEST = ROOT / "arcttt" / "adapters" / "gemma3-270m-arc" / "arcttt-adapter.json"


def log(message: str) -> None:
    print(message, flush=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(MiB), b""):
            digest.update(block)
    return digest.hexdigest()


def mib(n: int) -> str:
    return f"{n / MiB:.1f} MiB"


def tree_bytes(root: Path = ROOT) -> int:
    """Bytes of the working tree that every call sends: tracked and untracked-not-ignored files,
    and `shared/` where the checkout has one."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, check=True).stdout.decode().split("\0")
    paths = {root / p for p in listed if p}
    if (root / "shared").is_dir():
        paths |= {p for p in (root / "shared").rglob("*") if p.is_file()}
    return sum(p.stat().st_size for p in paths if p.is_file() and not p.is_symlink())


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def check_calls(calls: dict[str, int], tree: int, limit: int = CALL_LIMIT, margin: int = MARGIN) -> dict:
    """Per call: carried bytes, the tree, their sum and the limit; refuses a call over it."""
    table = {}
    for name, carried in calls.items():
        total = carried + tree
        table[name] = {"carried": carried, "tree": tree, "total": total, "limit": limit}
        if total + margin > limit:
            raise ArcError(f"call {name} would carry {mib(carried)} + the working tree {mib(tree)} = {mib(total)}, "
                           f"over the {mib(limit)} a call takes (with a {mib(margin)} margin): shrink the tree "
                           f"(untracked files count) or the kit", source="scripts/gpu_kit.py pack")
    return table
