"""What each heavy view job runs and how long it should take here.

run_view(kind, params, progress) computes and stores the view (explorer.inside's run_* functions store through
Run.derived.write_arrays; label issues through their probability cache). estimate_view(kind, params) measures: one timed
batch of the run's model on this machine, times the images the view pushes through it (robustness: the test
split under 8 transforms x 5 severities plus the plain pass; channels and embedding: one pass), plus building
the test split when the letters' cache is cold and starting a worker; label issues: explorer.train.estimate's
one estimate of a fold's training run, once per fold."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

Progress = Callable[[float, str], None]
ROBUSTNESS_PASSES = 1 + 8 * 5  # the plain test split, then 8 transforms x 5 severities
TSNE_S_PER_NLOGN = 2.5e-5  # only when no t-SNE can be timed: seconds per n·log2(n) points


def _run_robustness(params: dict[str, Any], progress: Progress) -> None:
    from explorer.inside.robustness import run_robustness

    run_robustness(params["run"], progress=progress)


def _run_channels(params: dict[str, Any], progress: Progress) -> None:
    from explorer.inside.channels import run_channels

    run_channels(params["run"], str(params["layer"]), progress=progress)


def _run_embedding(params: dict[str, Any], progress: Progress) -> None:
    from explorer.inside.embedding import run_embedding

    run_embedding(params["run"], str(params.get("method", "pca")), progress=progress)


def _run_label_issues(params: dict[str, Any], progress: Progress) -> None:
    from explorer.trust.labels import LabelIssueSpec, find_issues

    find_issues(LabelIssueSpec(**params["spec"]), progress=lambda done, total, text: progress(done / max(total, 1), text))


KINDS: dict[str, Callable[[dict[str, Any], Progress], None]] = {
    "robustness": _run_robustness, "channels": _run_channels, "embedding": _run_embedding,
    "label_issues": _run_label_issues,
}
TITLES = {"robustness": "Robustness curves", "channels": "Top images per channel", "embedding": "Embedding map",
          "label_issues": "Label issues"}


def run_view(kind: str, params: dict[str, Any], progress: Progress) -> None:
    """Compute and store the view `kind` with `params` (ValueError for an unknown kind)."""
    if kind not in KINDS:
        raise ValueError(f"unknown view job {kind!r}; choose from {sorted(KINDS)}")
    KINDS[kind](params, progress)


def seconds_per_image(model: Any, batch: int = 128, repeats: int = 2) -> float:
    """Seconds per image of a forward pass of `model` here: the best of `repeats` timed batches after a warm-up."""
    import torch

    from explorer.models.inference import eval_mode, model_device

    x = torch.rand(batch, 1, 28, 28, device=model_device(model))
    best = math.inf
    with eval_mode(model), torch.inference_mode():
        model(x)
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            best = min(best, time.perf_counter() - t0)
    return best / batch


def perturb_seconds_per_image(batch: int = 256) -> float:
    """Seconds per image of perturbing a batch here, averaged over the robustness transforms (severity 3)."""
    import torch

    from explorer.inside.robustness import TRANSFORMS, perturb

    x = torch.rand(batch, 1, 28, 28)
    t0 = time.perf_counter()
    for name in TRANSFORMS:
        perturb(x, name, 3, seed=0)
    return (time.perf_counter() - t0) / (len(TRANSFORMS) * batch)


def _run_parts(params: dict[str, Any]) -> tuple[Any, int, float, str, Any]:
    """(run, test images, seconds to build its data now, how, the run's model) of a run view's parameters."""
    from explorer.inside.common import run_model, usable_run
    from explorer.train.estimate import data_build_seconds, test_images

    run = usable_run(params["run"])
    cfg = run.record.train
    data_s, data_how = data_build_seconds(cfg)
    return run, test_images(cfg), data_s, data_how, run_model(run)


def estimate_view(kind: str, params: dict[str, Any], root: str | os.PathLike | None = None) -> tuple[float, str]:
    """(seconds, how) the view job should take here, measured (see the module docstring). ValueError, or
    explorer.inside.InsideError, when it cannot be estimated (an unusable run)."""
    from explorer.names import format_duration
    from explorer.train.estimate import startup_seconds

    start = startup_seconds(root)
    if kind == "label_issues":
        return _label_issues_seconds(params, root, start)
    run, n, data_s, data_how, model = _run_parts(params)
    per = seconds_per_image(model, batch=max(1, min(n, 512)))  # the views' own batches are 256 to 1,024
    passes = ROBUSTNESS_PASSES if kind == "robustness" else 1
    if kind == "robustness":  # each pass after the plain one also perturbs its images: timed too
        per += perturb_seconds_per_image() * (passes - 1) / passes
    total, extra = start + data_s + passes * n * per, ""
    if kind == "embedding" and params.get("method") == "tsne":
        tsne = tsne_seconds(n)
        total += tsne
        extra = f" + t-SNE of {n:,} points about {format_duration(tsne)} (timed on 300 points)"
    how = (f"measured: {per * 1e3:.2f} ms an image on this machine x {passes} pass{'es' if passes > 1 else ''} of "
           f"{n:,} test images{extra}" + (f"; + {format_duration(data_s)} {data_how}" if data_s else ""))
    return total, how


def tsne_seconds(n: int, probe: int = 300) -> float:
    """t-SNE time for `n` points, scaled by n·log n from timing `probe` random points now."""
    import numpy as np

    from explorer.inside.embedding import tsne_2d

    x = np.random.default_rng(0).normal(size=(probe, 32)).astype(np.float32)
    t0 = time.perf_counter()
    try:
        tsne_2d(x)
        per = (time.perf_counter() - t0) / (probe * math.log2(probe))
    except (ValueError, RuntimeError):
        per = TSNE_S_PER_NLOGN
    return per * n * math.log2(max(n, 2))


def _label_issues_seconds(params: dict[str, Any], root: Any, start: float) -> tuple[float, str]:
    """Folds x the one estimate (explorer.train.estimate.estimate_run) of training a fold's model."""
    from explorer.config import TrainConfig
    from explorer.train.estimate import estimate_run

    spec = params["spec"]
    folds = int(spec.get("folds", 3))
    data = {"name": spec.get("dataset", "letters-builtin"), "size": spec.get("size"), "val_fraction": 1 / folds,
            "gen_seed": spec.get("gen_seed", 0)}
    cfg = TrainConfig.from_dict({"model": spec.get("model", "lenet_keras"), "epochs": int(spec.get("epochs", 6)),
                                 "batch_size": 64, "data": data, "device": "auto"})
    est = estimate_run(cfg, root)
    per_fold = max(0.0, est.seconds - est.data_seconds)
    return start + est.data_seconds + folds * per_fold, f"{folds} folds x {est.settings_text()} ({est.how})"
