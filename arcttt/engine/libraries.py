"""The libraries a checkpoint is loaded and wrapped with (transformers, bitsandbytes, peft): their
logs kept off arcttt's stderr, and their failures to load a model turned into one clear `ArcError`."""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING

from arcttt.core.errors import ArcError

if TYPE_CHECKING:
    import torch


def quiet_libraries() -> None:
    """Keep stderr for arcttt's progress: no per-load weight bars, no hub-kernel hints."""
    import logging

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # peft asks transformers a deprecated question on every wrap; the answer does not change.
    warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
    # bitsandbytes suggests fetching a CPU kernel from a hub on import; arcttt never downloads.
    logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)


@contextmanager
def loading(name: str, quantize: str = "none", device: torch.device | None = None):
    """Turn a library's failure to load `name` into one clear ArcError."""
    try:
        yield
    except (OSError, ValueError) as exc:
        offline = " (offline: HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE") else ""
        raise ArcError(f"cannot load model {name!r}{offline}: {str(exc).splitlines()[0]}") from exc
    except ArcError:
        raise
    except Exception as exc:  # bitsandbytes raises plain RuntimeErrors on unsupported devices
        if quantize == "none":
            raise
        raise ArcError(f"bitsandbytes cannot quantize {name!r} ({quantize}) on {device}: {exc}") from exc
