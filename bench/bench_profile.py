"""Benchmark: profiling cost against a plain forward measured in the same process.

Prints the profile wall time of ResNet-18 at 3x224x224 (goal: under 5 s on 2 CPU cores), the ratio
profile time / plain forward time, and the sum-of-layers / whole-forward ratio of a small net.
Run: python bench/bench_profile.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.inspect.profile import measure, profile_model


def plain_forward_s(model: nn.Module, x: torch.Tensor, n: int = 5) -> float:
    """Median forward seconds without hooks."""
    model.eval()
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(n):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    """Print the figures."""
    from explorer.models import build_model

    base = plain_forward_s(build_model("resnet18"), torch.rand(1, 3, 224, 224))
    t0, c0 = time.perf_counter(), time.process_time()
    p = profile_model("resnet18", "3,224,224")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"resnet18 3x224x224 on {torch.get_num_threads()} threads: plain forward {base * 1e3:.1f} ms; "
          f"profile {wall:.2f} s wall ({cpu:.2f} s CPU), {p.repeats} repeats; ratio profile/forward {wall / base:.0f}x; "
          f"sum/whole {p.sum_ratio:.2f}")
    torch.set_num_threads(1)
    net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    ratios = [measure(net, (3, 64, 64), repeats=40, budget_s=None).sum_ratio for _ in range(3)]
    print(f"small net 3x64x64, 1 thread: sum of layers / whole forward = {', '.join(f'{r:.3f}' for r in ratios)}")


if __name__ == "__main__":
    main()
