"""Input-pipeline throughput: DeviceLoader (whole dataset on the device, batched affine_grid/grid_sample
augmentation) vs a plain torchvision Dataset + DataLoader + PIL RandomAffine, same data, same run.

    python bench/bench_data.py [--size 200] [--batch 256] [--device cpu] [--workers 0 2] [--seconds 3]

Prints images/s of each and the ratio (goal: DeviceLoader >= 10x the best baseline on CPU).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from explorer.data import Augment, DeviceLoader, load_dataset


class PILDataset(Dataset):
    """The usual way: one PIL image per __getitem__, torchvision transforms per sample."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, aug: Augment) -> None:
        self.images, self.labels = images.numpy(), labels
        self.tf = transforms.Compose(
            [
                transforms.RandomAffine(
                    degrees=aug.rotation_deg, translate=(aug.shift, aug.shift), scale=(1 - aug.zoom, 1 + aug.zoom)
                ),
                transforms.ToTensor(),
            ]
        )

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        from PIL import Image

        return self.tf(Image.fromarray(self.images[i], mode="L")), int(self.labels[i])


def measure(loader: object, device: str, seconds: float) -> float:
    """Images per second of iterating `loader` (whole epochs, at least `seconds`), batches moved to device."""
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            n += len(x)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return n / (time.perf_counter() - t0)


def main() -> None:
    """Run the comparison and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=200, help="built-in letters per class (26 x size images)")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="DataLoader num_workers to try")
    ap.add_argument("--seconds", type=float, default=2.0, help="minimum time per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved measurement rounds (best kept)")
    ap.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    ap.add_argument("--root", default=os.environ.get("EXPLORER_DATA") or tempfile.gettempdir() + "/explorer-bench")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    data = load_dataset("letters-builtin", "train", root=args.root, size=args.size)
    aug = Augment(rotation_deg=10, zoom=0.1, shift=0.1)
    print(f"data: {len(data):,} images 28x28 (letters-builtin), batch {args.batch}, device {args.device}, "
          f"torch threads {torch.get_num_threads()}, augmentation {aug.to_dict()}")  # fmt: skip
    loaders = {}
    for w in args.workers:
        loaders[f"torchvision Dataset+DataLoader+PIL RandomAffine, num_workers={w}"] = DataLoader(
            PILDataset(data.images, data.labels, aug), batch_size=args.batch, shuffle=True, num_workers=w,
            persistent_workers=w > 0, pin_memory=args.device.startswith("cuda"),
        )  # fmt: skip
    fast_name = "DeviceLoader (on-device, batched affine_grid/grid_sample)"
    loaders[fast_name] = DeviceLoader(data.images, data.labels, args.batch, device=args.device, augment=aug)
    for loader in loaders.values():
        measure(loader, args.device, 0.0)  # warm-up (starts workers)
    # Interleaved rounds, best of each: fair when the machine's load changes during the run.
    results = dict.fromkeys(loaders, 0.0)
    for _ in range(args.rounds):
        for name, loader in loaders.items():
            results[name] = max(results[name], measure(loader, args.device, args.seconds))
    fast_rate = results[fast_name]
    base = max(v for k, v in results.items() if k.startswith("torchvision"))
    for name, rate in results.items():
        print(f"{rate:>12,.0f} img/s  {name}")
    print(f"ratio DeviceLoader / best baseline: {fast_rate / base:.1f}x (goal >= 10x)")


if __name__ == "__main__":
    main()
