"""Inside views on the 5,200-image test split of letters-builtin, each against a baseline measured in
the same process: one plain forward pass of the same model over the test split (explorer.models.
probabilities). Goals (issue 14, 2 CPU cores): one ResNet-18 layer's channels < 10 s, a revisit of the
stored result < 0.3 s, PCA < 1 s, t-SNE of 5,200 points < 60 s, the quick CNN's robustness sweep < 60 s.

    python bench/bench_inside.py [--layer net.layer2] [--no-tsne]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.config import TrainConfig
from explorer.data import DataSpec, make_splits
from explorer.inside.channels import run_channels, top_units
from explorer.inside.embedding import features, pca_2d, tsne_2d
from explorer.inside.robustness import sweep
from explorer.models import build_from_config, probabilities
from explorer.runs import create_run

DATA = {"name": "letters-builtin"}


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    """(seconds, result) of one call."""
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - t, out


def fixture_run(model: str, root: str) -> object:
    """A completed run folder of `model` (untrained, seeded weights) on the default letters-builtin split."""
    cfg = TrainConfig.from_dict({"model": model, "data": DATA, "epochs": 1})
    run = create_run(cfg, root)
    torch.manual_seed(0)
    net, _ = build_from_config(cfg, 26, load_pretrained=False)
    run.update_config(classes=[chr(65 + i) for i in range(26)], model={"name": model, "num_classes": 26})
    run.save_checkpoint(net.state_dict(), {}, {"epoch": 1, "stage": 0, "best_epoch": 1}, is_best=True)
    run.write_status(status="completed", pid=None)
    return run


def line(what: str, seconds: float, base: float, goal: float) -> None:
    """One result line: time, ratio to the baseline forward, goal."""
    ok = "meets" if seconds < goal else "MISSES"
    print(f"{what:<46} {seconds:8.2f} s  = {seconds / base:6.2f} x forward  ({ok} goal < {goal:g} s)")


def main() -> None:
    """Measure every goal and print ratios against the same-process forward-pass baseline."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layer", default="net.layer2")
    ap.add_argument("--no-tsne", action="store_true")
    args = ap.parse_args()
    print(f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    images = make_splits(DataSpec.from_dict(DATA)).test.images.numpy()
    root = tempfile.mkdtemp(prefix="bench-inside-")
    for model_name in ("small_cnn", "resnet18"):
        run = fixture_run(model_name, root)
        model = run.load_model()
        probabilities(model, images[:64])  # warm-up
        base, _ = timed(probabilities, model, images)
        print(f"\n{model_name}: baseline, one forward pass over {len(images):,} test images: {base:.2f} s")
        if model_name == "resnet18":
            t, _ = timed(top_units, model, images, args.layer, k=9)
            line(f"channels of {args.layer} (top-9, hooks)", t, base, 10)
            t, _ = timed(top_units, model, images, "net.layer4", k=9)
            line("channels of net.layer4 (512 ch, whole net)", t, base, 10)
            run_channels(run, args.layer)
            t, (_, stored) = timed(run_channels, run, args.layer)
            assert stored
            line("revisit (stored result)", t, base, 0.3)
            t, (feats, _) = timed(features, model, images)
            line(f"penultimate features ({feats.shape[1]}-d)", t, base, 60)
            t, _ = timed(pca_2d, feats)
            line("PCA to 2-D", t, base, 1)
            if not args.no_tsne:
                t, _ = timed(tsne_2d, feats, 0)
                line("t-SNE to 2-D (scikit-learn)", t, base, 60)
        else:
            t, table = timed(sweep, model, images, np.zeros(len(images), dtype=np.int64))
            line(f"robustness sweep ({len(table)} settings)", t, base, 60)


if __name__ == "__main__":
    main()
