"""Copy a finished stage-1 adapter into the package as the embedded model's default.

Usage: python scripts/ship_adapter.py runs/stage1
The LoRA weights are stored in bfloat16 (half the size; they load into the adapter's own dtype),
with the adapter config and the manifest; checkpoints and logs stay behind.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from arcttt.engine.adapters import ADAPTER_MANIFEST, EMBEDDED_ADAPTER

LIMIT_BYTES = 16 * 1024 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("adapter", type=Path)
    args = parser.parse_args()
    manifest = json.loads((args.adapter / ADAPTER_MANIFEST).read_text())
    if manifest["base_model"] != "embedded":
        raise SystemExit(f"{args.adapter} was trained on {manifest['base_model']!r}, not the embedded model")
    shutil.rmtree(EMBEDDED_ADAPTER, ignore_errors=True)
    EMBEDDED_ADAPTER.mkdir(parents=True)
    weights = load_file(args.adapter / "adapter_model.safetensors")
    save_file({k: v.to(torch.bfloat16).contiguous() for k, v in weights.items()},
              EMBEDDED_ADAPTER / "adapter_model.safetensors")
    shutil.copy(args.adapter / "adapter_config.json", EMBEDDED_ADAPTER / "adapter_config.json")
    shutil.copy(args.adapter / ADAPTER_MANIFEST, EMBEDDED_ADAPTER / ADAPTER_MANIFEST)
    size = sum(p.stat().st_size for p in EMBEDDED_ADAPTER.iterdir())
    if size > LIMIT_BYTES:
        raise SystemExit(f"shipped adapter is {size / 2**20:.1f} MiB, over the 16 MiB limit")
    print(f"shipped {args.adapter} -> {EMBEDDED_ADAPTER} ({size / 2**20:.1f} MiB): {manifest['steps']} steps, "
          f"{manifest['tokens']} tokens, loss {manifest['loss_first_20']:.3f} -> {manifest['loss_last_20']:.3f}")


if __name__ == "__main__":
    main()
