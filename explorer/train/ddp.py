"""DistributedDataParallel helpers for `torchrun --nproc_per_node N -m explorer train ...`.

The rule: `--batch-size` is the global batch. Each of N ranks takes batch/N images a step (the batch must
divide by N), so one optimizer step sees the same number of images as one process does and the recipe's
learning rate holds unscaled. Every epoch a DistributedSampler (set_epoch) deals each rank its part of one
seeded permutation, the same permutation one process walks: step k's global batch is the images one
process sees at step k. Validation is split over the ranks and its sums reduced, so every rank (and the
history) has the whole split's loss and accuracy; rank 0 alone writes the run and tests the whole test
split. Backend gloo on CPU, nccl on CUDA; world size, backend and the per-rank batch are recorded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler


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


def world_size() -> int:
    """The number of processes torchrun started (1 without torchrun); read before the process group exists."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1"))) if launched_by_torchrun() else 1
    except ValueError:
        return 1


def per_rank_batch(batch_size: int, world: int) -> int:
    """Images each rank takes a step: the global batch split evenly (ValueError naming a fix when it cannot be)."""
    if world <= 1:
        return batch_size
    if batch_size % world or batch_size < world:
        lo = max(world, batch_size // world * world)
        raise ValueError(f"batch size {batch_size} is the global batch and cannot be split evenly over {world} "
                         f"processes; use a multiple of {world} (e.g. {lo} or {lo + world})")
    return batch_size // world


def sampler(n: int, info: DistInfo, seed: int) -> DistributedSampler | None:
    """This rank's DistributedSampler over `n` training images (None for one process): shuffled per epoch
    with the one process's seed (DeviceLoader seeds its permutation with seed * 1_000_003 + epoch), the tail
    dropped so that every rank runs the same number of steps."""
    if not info.enabled:
        return None
    if n < info.world:
        raise ValueError(f"{n} training images cannot be shared by {info.world} processes")
    return DistributedSampler(range(n), num_replicas=info.world, rank=info.rank, shuffle=True,
                              seed=seed * 1_000_003, drop_last=True)


def same_buffers(model: torch.nn.Module, info: DistInfo) -> None:
    """Give every rank rank 0's buffers (BatchNorm's running statistics), the model rank 0 saves."""
    if info.enabled:
        for b in model.buffers():
            dist.broadcast(b, 0)


def reduce_sums(values: list[float], info: DistInfo, device: torch.device) -> list[float]:
    """Element-wise sums over all ranks (float64)."""
    if not info.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return [float(v) for v in t.tolist()]


def gather(obj: object, info: DistInfo) -> list[object]:
    """Every rank's `obj`, in rank order (a list of one for one process)."""
    if not info.enabled:
        return [obj]
    parts: list[object] = [None] * info.world
    dist.all_gather_object(parts, obj)
    return parts


def backend() -> str | None:
    """The process group's backend (gloo, nccl), None without one."""
    return str(dist.get_backend()) if dist.is_initialized() else None


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
