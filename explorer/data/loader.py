"""A fast input pipeline: the whole dataset lives on the training device as uint8, batches are
gathered by index and augmented there in one batched affine_grid/grid_sample call.

No horizontal flip by default: a mirrored letter is another glyph or no letter at all (b/d,
p/q, J/L mirror into each other's shapes; S, Z, N, R mirrored are not letters), so flipping
teaches the network wrong labels. The seed report used one; `Augment(hflip=0.5)` reproduces it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from explorer.data.spec import Augment


@lru_cache(maxsize=8)
def _base_grid(h: int, w: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Homogeneous output coordinates (1, h*w, 3) of affine_grid's identity (align_corners=False)."""
    eye = torch.eye(2, 3, device=device, dtype=dtype).unsqueeze(0)
    base = F.affine_grid(eye, [1, 1, h, w], align_corners=False).view(1, h * w, 2)
    return torch.cat([base, torch.ones(1, h * w, 1, device=device, dtype=dtype)], dim=-1)


def augment_batch(x: torch.Tensor, augment: Augment, generator: torch.Generator | None = None) -> torch.Tensor:
    """Randomly rotate/zoom/shift/shear/warp (and flip) a batch (B, C, H, W) of floats on its device."""
    if not augment.enabled:
        return x
    b, _, h, w = x.shape
    dev, dt = x.device, x.dtype

    gdev = generator.device if generator is not None else dev  # draw where the generator lives: same numbers on any device

    def uniform(bound: float) -> torch.Tensor:
        return ((torch.rand(b, generator=generator, device=gdev, dtype=dt) * 2 - 1) * bound).to(dev)

    angle = uniform(math.radians(augment.rotation_deg))
    scale = 1 + uniform(augment.zoom)
    shear = torch.tan(uniform(math.radians(augment.shear_deg)))
    tx, ty = uniform(2 * augment.shift), uniform(2 * augment.shift)  # normalised coords span 2
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps output coordinates to input coordinates: the inverse of scale -> shear -> rotate -> shift.
    a11, a12 = cos / scale, (sin + cos * shear) / scale
    a21, a22 = -sin / scale, (cos - sin * shear) / scale
    theta = torch.stack(
        [
            torch.stack([a11, a12, -(a11 * tx + a12 * ty)], dim=1),
            torch.stack([a21, a22, -(a21 * tx + a22 * ty)], dim=1),
        ],
        dim=1,
    )
    # = F.affine_grid(theta, x.shape, align_corners=False), as one batched matmul on a cached base grid
    grid = torch.matmul(_base_grid(h, w, dev, dt), theta.transpose(1, 2)).view(b, h, w, 2)
    if augment.elastic > 0:
        coarse = torch.randn(b, 2, 4, 4, generator=generator, device=gdev, dtype=dt).to(dev)
        field = F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=True)
        field = field / field.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
        px = torch.tensor([2.0 / w, 2.0 / h], device=dev, dtype=dt) * augment.elastic
        grid = grid + field.permute(0, 2, 3, 1) * px
    if augment.hflip > 0:
        flip = (torch.rand(b, generator=generator, device=gdev) < augment.hflip).to(dev)
        grid[..., 0] = torch.where(flip[:, None, None], -grid[..., 0], grid[..., 0])
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


class DeviceLoader:
    """Iterate (x float32 (B, 1, 28, 28) in [0, 1], y int64) batches from a dataset kept whole on `device`."""

    def __init__(
        self,
        images_u8: torch.Tensor | np.ndarray,
        labels: torch.Tensor | np.ndarray,
        batch_size: int,
        device: str | torch.device = "cpu",
        shuffle: bool = True,
        augment: Augment | None = None,
        seed: int = 0,
        drop_last: bool = False,
        sampler: Any = None,
    ) -> None:
        images = torch.as_tensor(images_u8)
        if images.dtype != torch.uint8:
            raise ValueError(f"images must be uint8 (N, H, W), got {images.dtype}")
        if images.ndim == 3:
            images = images.unsqueeze(1)
        if images.ndim != 4:
            raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got shape {tuple(images.shape)}")
        labels = torch.as_tensor(labels).long()
        if len(labels) != len(images):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.augment = augment if augment is not None and augment.enabled else None
        self.seed = int(seed)
        self.drop_last = drop_last
        self.sampler = sampler  # e.g. torch's DistributedSampler: this rank's indices, reshuffled by set_epoch
        self.epoch = 0

    def __len__(self) -> int:
        """Batches per epoch."""
        n = len(self.sampler) if self.sampler is not None else len(self.images)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    @property
    def num_samples(self) -> int:
        """Number of images in the dataset."""
        return len(self.images)

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch whose shuffle and augmentation the next iteration reproduces."""
        self.epoch = int(epoch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield the batches of one epoch; each epoch has its own seeded order and augmentation."""
        gen = torch.Generator()  # on the CPU: the same order and augmentation on every device for one seed
        gen.manual_seed(self.seed * 1_000_003 + self.epoch)
        self.epoch += 1
        n = len(self.images)
        if self.sampler is not None:  # this rank's part of the epoch's order (one permutation shared by all ranks)
            self.sampler.set_epoch(self.epoch - 1)
            order = torch.as_tensor(list(self.sampler), dtype=torch.long).to(self.device)
        elif self.shuffle:
            order = torch.randperm(n, generator=gen).to(self.device)
        else:
            order = torch.arange(n, device=self.device)
        for i in range(len(self)):
            idx = order[i * self.batch_size : (i + 1) * self.batch_size]
            x = self.images[idx].float().div_(255.0)
            if self.augment is not None:
                x = augment_batch(x, self.augment, gen)
            yield x, self.labels[idx]
