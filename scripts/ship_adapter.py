"""Copy a finished stage-1 adapter into the package as the embedded model's default.

Usage: python scripts/ship_adapter.py runs/stage1
       python scripts/ship_adapter.py --quick --dest DIR    # re-ship the shipped adapter into DIR (CI)
The LoRA weights are stored in bfloat16 (half the size; they load into the adapter's own dtype),
with the adapter config and the manifest; checkpoints and logs stay behind.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save

from arcttt.core.durable import write_bytes_atomic
from arcttt.engine.adapters import ADAPTER_MANIFEST, EMBEDDED_ADAPTER

LIMIT_BYTES = 16 * 1024 * 1024


def ship(adapter: Path, dest: Path) -> dict:
    """Write `adapter` (a stage-1 folder of the embedded model) into `dest`; returns its manifest."""
    manifest = json.loads((adapter / ADAPTER_MANIFEST).read_text())
    if manifest["base_model"] != "embedded":
        raise SystemExit(f"{adapter} was trained on {manifest['base_model']!r}, not the embedded model")
    weights = load_file(adapter / "adapter_model.safetensors")
    files = {"adapter_model.safetensors": save({k: v.to(torch.bfloat16).contiguous() for k, v in weights.items()}),
             "adapter_config.json": (adapter / "adapter_config.json").read_bytes(),
             ADAPTER_MANIFEST: (adapter / ADAPTER_MANIFEST).read_bytes()}
    size = sum(len(data) for data in files.values())
    if size > LIMIT_BYTES:
        raise SystemExit(f"shipped adapter would be {size / 2**20:.1f} MiB, over the 16 MiB limit")
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    for name, data in files.items():
        write_bytes_atomic(dest / name, data)
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("adapter", type=Path, nargs="?")
    parser.add_argument("--dest", type=Path, default=EMBEDDED_ADAPTER, help="where it goes (default: the package)")
    parser.add_argument("--quick", action="store_true", help="ship the shipped adapter again, into --dest (CI)")
    args = parser.parse_args()
    if args.quick:
        if args.dest.resolve() == EMBEDDED_ADAPTER.resolve():
            parser.error("--quick re-ships the package's own adapter: give --dest a folder outside the package")
        args.adapter = EMBEDDED_ADAPTER
    if args.adapter is None:
        parser.error("give the stage-1 folder to ship (or --quick)")
    if args.adapter.resolve() == args.dest.resolve():
        parser.error(f"{args.adapter} is already --dest")
    manifest = ship(args.adapter, args.dest)
    size = sum(p.stat().st_size for p in args.dest.iterdir())
    print(f"shipped {args.adapter} -> {args.dest} ({size / 2**20:.1f} MiB): {manifest['steps']} steps, "
          f"{manifest['tokens']} tokens, loss {manifest['loss_first_20']:.3f} -> {manifest['loss_last_20']:.3f}")


if __name__ == "__main__":
    main()
