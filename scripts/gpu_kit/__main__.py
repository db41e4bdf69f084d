"""`python scripts/gpu_kit ...` (or `python -m gpu_kit ...` with scripts/ on the path): the same
command line as `python scripts/gpu_kit.py ...`, the documented entry."""

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(SCRIPTS), str(SCRIPTS.parent)]  # the kit and arcttt, from any working directory

from gpu_kit.cli import main  # noqa: E402

main()
