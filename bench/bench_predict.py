"""Live prediction of one drawn letter: preprocess + forward + softmax, explorer.predict vs a naive path.

explorer.predict: the run's model loaded once and cached (load_run_model), the canvas RGBA array
through the one preprocessing path (explorer.data.preprocess_image), forward under
inference_mode, softmax. The naive baseline, measured in the same run on the same weights and
drawing: what a first version of a page would do on every stroke -- rebuild the model and load
its safetensors weights, PIL convert("L") + resize to 28x28, forward, softmax.

    python bench/bench_predict.py [--models small_cnn resnet18] [--repeats 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.predict import load_run_model, predict_from_image


def canvas_drawing(size: int = 280) -> np.ndarray:
    """An RGBA canvas like streamlit-drawable-canvas returns: a white 'L' on black."""
    img = np.zeros((size, size, 4), np.uint8)
    img[..., 3] = 255
    img[40:240, 90:120, :3] = 255
    img[210:240, 90:200, :3] = 255
    return img


def naive_predict(run_path: Path, model_name: str, rgba: np.ndarray) -> np.ndarray:
    """Rebuild + load the model, PIL grey + resize, forward, softmax -- on every call."""
    from safetensors.torch import load_file

    from explorer.models import build_letters_model
    from explorer.runs import Run

    model = build_letters_model(model_name, num_classes=26).eval()
    model.load_state_dict(load_file(str(Run(run_path).weights_path("best"))))
    small = Image.fromarray(rgba).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    x = torch.from_numpy(np.asarray(small, dtype=np.float32) / 255.0)[None, None]
    with torch.no_grad():
        return torch.softmax(model(x), 1)[0].numpy()


def bench(model_name: str, repeats: int, root: Path) -> tuple[float, float]:
    """Median ms of the explorer path and of the naive path for one model (interleaved)."""
    from tests.run_fixtures import make_run

    run = make_run(root, model=model_name, name=f"bench-{model_name}")
    model = load_run_model(run.path)
    rgba = canvas_drawing()
    for _ in range(3):
        predict_from_image(model, rgba)
        naive_predict(run.path, model_name, rgba)
    ours, naive, pre = [], [], []
    for _ in range(repeats):
        t = time.perf_counter()
        model = load_run_model(run.path)  # a cache hit, as on every stroke
        _, pred = predict_from_image(model, rgba)
        ours.append(time.perf_counter() - t)
        pre.append(pred.timings["preprocess_ms"])
        t = time.perf_counter()
        naive_predict(run.path, model_name, rgba)
        naive.append(time.perf_counter() - t)
    a, b = statistics.median(ours) * 1e3, statistics.median(naive) * 1e3
    print(f"{model_name:10s} explorer.predict median {a:7.2f} ms (min {min(ours) * 1e3:.2f}; preprocess "
          f"{statistics.median(pre):.2f})   naive median {b:8.2f} ms (min {min(naive) * 1e3:.2f})   "
          f"ratio naive/explorer {b / a:5.1f}x   target < 20 ms -> {'OK' if a < 20 else 'MISSED'}")
    return a, b


def main() -> None:
    """Time both paths for each model and print medians and ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["small_cnn", "resnet18"])
    ap.add_argument("--repeats", type=int, default=30)
    args = ap.parse_args()
    torch.manual_seed(0)
    print(f"torch threads {torch.get_num_threads()}, repeats {args.repeats}, 280x280 RGBA canvas -> 1x28x28")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            bench(name, args.repeats, Path(tmp))
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
