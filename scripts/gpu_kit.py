"""The GPU kit's command line: `python scripts/gpu_kit.py pack | plan | unpack | run ...`
(docs/GPU_KIT.md). The kit itself is the package beside this file, scripts/gpu_kit/."""

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
sys.path[:0] = [str(SCRIPTS), str(SCRIPTS.parent)]  # the kit and arcttt, from any working directory

# `gpu_kit` is the package scripts/gpu_kit/: Python finds a package before a module of the same name.
from gpu_kit.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
