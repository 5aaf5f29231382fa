"""Grad-CAM for one 28x28 letter on the ResNet-18 letters model: explorer.explain vs naive captum.

The naive baseline, measured in the same run on the same model and image: a forward pass to
find the predicted class, a LayerGradCam constructed for the call, its attribution, then
upsampling and normalising - what a notebook would do. explorer.explain reads the predicted
class from captum's own forward pass (one forward instead of two) and caches the layer lookup.

    python bench/bench_explain.py [--model resnet18] [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.explain import default_target_layer, explain, get_layer


def naive_gradcam(model: torch.nn.Module, layer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """What one would write with captum directly."""
    from captum.attr import LayerAttribution, LayerGradCam

    model.eval()
    with torch.no_grad():
        pred = int(model(x).argmax(dim=1))
    attr = LayerGradCam(model, layer).attribute(x, target=pred, relu_attributions=True)
    up = LayerAttribution.interpolate(attr, (28, 28), interpolate_mode="bilinear")[0, 0]
    return (up - up.min()) / (up.max() - up.min() + 1e-12)


def main() -> None:
    """Time both paths, interleaved, and print medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="resnet18")
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    from explorer.models import build_letters_model

    torch.manual_seed(0)
    model = build_letters_model(args.model, num_classes=26).eval()
    x = torch.rand(1, 1, 28, 28)
    name = default_target_layer(model, x)
    layer = get_layer(model, name)
    for _ in range(3):  # warm-up both
        explain(model, x, "gradcam")
        naive_gradcam(model, layer, x)
    ours, naive, cpu_ours, cpu_naive = [], [], [], []
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        explain(model, x, "gradcam")
        ours.append(time.perf_counter() - t)
        cpu_ours.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        naive_gradcam(model, layer, x)
        naive.append(time.perf_counter() - t)
        cpu_naive.append(time.process_time() - c)
    a, b = statistics.median(ours) * 1e3, statistics.median(naive) * 1e3
    print(f"model {args.model}, layer {name}, torch threads {torch.get_num_threads()}, repeats {args.repeats}")
    print(f"explorer.explain gradcam   median {a:7.1f} ms  (min {min(ours) * 1e3:.1f})")
    print(f"naive captum LayerGradCam  median {b:7.1f} ms  (min {min(naive) * 1e3:.1f})")
    ca, cb = statistics.median(cpu_ours) * 1e3, statistics.median(cpu_naive) * 1e3
    print(f"CPU time (all threads)     median {ca:7.1f} ms explorer, {cb:.1f} ms naive")
    print(f"ratio explorer/naive       {a / b:.2f} (medians), {min(ours) / min(naive):.2f} (minima)   "
          f"target: < 50 ms -> {'OK' if a < 50 else 'MISSED'}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
