"""DistributedDataParallel helpers for `torchrun --nproc_per_node N -m explorer train ...`.

Backend gloo on CPU, nccl on CUDA; each rank trains on an equal strided shard of the training
set (a DistributedSampler equivalent for the on-device loader); only rank 0 writes the run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    """Rank, world size and local rank of this process (1 process: 0, 1, 0)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """True on the process that writes the run."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        """True when more than one process trains."""
        return self.world > 1


def launched_by_torchrun() -> bool:
    """True when RANK and WORLD_SIZE are set (torchrun / torch.distributed.launch)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def setup(device: torch.device, timeout_s: float = 1800.0) -> DistInfo:
    """Join the process group when launched by torchrun; a no-op (rank 0 of 1) otherwise."""
    if not launched_by_torchrun():
        return DistInfo()
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", rank))
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend, timeout=timedelta(seconds=timeout_s))
    return DistInfo(rank, world, local)


def shard(images: torch.Tensor, labels: torch.Tensor, info: DistInfo) -> tuple[torch.Tensor, torch.Tensor]:
    """This rank's strided shard (rank::world), cut to the same length on every rank so that all
    ranks run the same number of steps."""
    if not info.enabled:
        return images, labels
    n = len(labels) // info.world
    if n < 1:
        raise ValueError(f"{len(labels)} training images cannot be shared by {info.world} processes")
    return images[info.rank :: info.world][:n], labels[info.rank :: info.world][:n]


def any_flag(flags: list[bool], info: DistInfo, device: torch.device) -> list[bool]:
    """Element-wise OR of boolean flags over all ranks (so every rank stops at the same step)."""
    if not info.enabled:
        return flags
    t = torch.tensor([1.0 if f else 0.0 for f in flags], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]


def barrier(info: DistInfo) -> None:
    """Wait for every rank (no-op for one process)."""
    if info.enabled and dist.is_initialized():
        dist.barrier()


def cleanup(info: DistInfo) -> None:
    """Leave the process group."""
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()
