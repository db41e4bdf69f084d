"""torchrun support: which rank this process is, its device, and the meeting at the end.

Under `torchrun` (or any launcher that sets RANK, WORLD_SIZE and LOCAL_RANK) each rank solves its
own shard of the tasks on its own device; at the end the ranks meet (NCCL on GPUs, gloo on CPUs)
and rank 0 receives every shard's predictions and manifest to merge them. No shared file system
is needed for the merge.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

# Ranks finish at different times; the meeting must outwait the slowest shard.
MEETING_TIMEOUT = timedelta(hours=48)


@dataclass(frozen=True)
class Rank:
    rank: int
    world: int
    local_rank: int

    @property
    def device(self) -> str:
        """This rank's own GPU when there are GPUs, else the CPU."""
        import torch  # torch-free for --expert program (every run asks `from_env`)

        return f"cuda:{self.local_rank}" if torch.cuda.is_available() else "cpu"


def from_env() -> Rank | None:
    """The rank set by torchrun, or None when not launched as part of a group."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    return Rank(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))


def start(rank: Rank) -> None:
    """Join the group (rendezvous through torchrun's MASTER_ADDR/MASTER_PORT)."""
    import torch
    import torch.distributed as dist

    if torch.cuda.is_available():
        torch.cuda.set_device(rank.local_rank)
        dist.init_process_group("nccl", timeout=MEETING_TIMEOUT, device_id=torch.device(rank.device))
    else:
        dist.init_process_group("gloo", timeout=MEETING_TIMEOUT)


def gather_to_zero(obj) -> list | None:
    """Every rank's `obj` on rank 0 (in rank order); None on the other ranks. A barrier too."""
    import torch.distributed as dist

    gathered = [None] * dist.get_world_size() if dist.get_rank() == 0 else None
    dist.gather_object(obj, gathered, dst=0)
    return gathered


def stop() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def leave() -> None:
    """End this rank's process now, skipping the interpreter's teardown.

    Gloo's threads can make a normal exit abort with `terminate called without an active
    exception` (seen in about 1 of 10 CPU runs of two ranks, after every file was written), and
    torchrun then kills the other rank while it merges. Everything is written and synced by now.
    """
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
