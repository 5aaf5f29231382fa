"""How long a sweep would take: seconds per epoch for each model setting, from finished runs of the
same model and batch size when there are some, else from a few timed training steps."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterable
from typing import Any

from explorer.config import TrainConfig
from explorer.names import format_duration

TIMED_STEPS = 3
MAX_TIMED_BATCH = 64  # images per timed step (speed per image is about flat in the batch on CPU)


def measured_images_per_s(cfg: TrainConfig, root: str | os.PathLike | None = None) -> float | None:
    """Median images/s of finished epochs of earlier runs with this model and batch size (None if none)."""
    from explorer.runs import open_run, run_dirs

    speeds: list[float] = []
    for path in run_dirs(root)[-200:]:
        try:
            run = open_run(path)
            train = run.config.get("train") or {}
            if train.get("model") != cfg.model or train.get("batch_size") != cfg.batch_size:
                continue
            speeds += [float(h["images_per_s"]) for h in run.history()
                       if isinstance(h.get("images_per_s"), int | float) and h["images_per_s"] > 0]
        except (OSError, ValueError, KeyError):
            continue
    return statistics.median(speeds) if speeds else None


def timed_images_per_s(cfg: TrainConfig, steps: int = TIMED_STEPS, budget_s: float = 1.5) -> float:
    """Images/s of a few timed forward+backward steps on random letters (at most `budget_s` of timing)."""
    import torch

    from explorer.models import build_from_config
    from explorer.train.loop import resolve_device

    device = resolve_device(cfg.device)
    model, _ = build_from_config(cfg, 26, load_pretrained=False)
    model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    n = min(cfg.batch_size, MAX_TIMED_BATCH)
    x, y = torch.rand(n, 1, 28, 28, device=device), torch.randint(0, 26, (n,), device=device)
    elapsed, done = 0.0, 0
    for i in range(steps + 1):  # the first step warms up and is not counted
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i:
            elapsed, done = elapsed + time.perf_counter() - t0, done + 1
            if elapsed > budget_s:
                break
    return n * done / max(elapsed, 1e-9)


def epoch_seconds(cfg: TrainConfig, root: str | os.PathLike | None = None,
                  timed: dict[str, float] | None = None) -> tuple[float, str]:
    """(seconds per epoch, where the figure comes from) for one config; validation adds a fifth.

    `timed` caches timed speeds per model across calls (one timing per model, whatever the batch).
    """
    size = cfg.data.expected_train_size() or 0
    speed = measured_images_per_s(cfg, root)
    source = "earlier runs of this model"
    if speed is None and timed is not None and cfg.model in timed:
        speed, source = timed[cfg.model], f"{TIMED_STEPS} timed steps"
    if speed is None:
        try:
            from explorer.train.estimate import estimate_epoch_seconds  # type: ignore[import-not-found]

            return float(estimate_epoch_seconds(cfg)), "timed steps"
        except (ImportError, TypeError, ValueError):
            pass
        speed, source = timed_images_per_s(cfg), f"{TIMED_STEPS} timed steps"
        if timed is not None:
            timed[cfg.model] = speed
    return 1.2 * size / max(speed, 1e-9), source


def sweep_seconds(configs: Iterable[TrainConfig], root: str | os.PathLike | None = None) -> tuple[float, list[str]]:
    """Total estimated seconds of training every config (one measurement per model and batch size)."""
    per_key: dict[tuple[Any, ...], tuple[float, str]] = {}
    timed: dict[str, float] = {}
    total = 0.0
    for cfg in configs:
        key = (cfg.model, cfg.batch_size, cfg.data, cfg.device)
        if key not in per_key:
            per_key[key] = epoch_seconds(cfg, root, timed)
        total += per_key[key][0] * cfg.total_epochs
    notes = [f"{k[0]} batch {k[1]}: {v[0]:.1f} s/epoch ({v[1]})" for k, v in per_key.items()]
    return total, notes


duration_text = format_duration  # the one duration format (explorer.names)


def grid_seconds(base: TrainConfig, points: Iterable[dict[str, Any]],
                 root: str | os.PathLike | None = None) -> tuple[float, list[str]]:
    """Estimated seconds of a grid without building each point's config (one measurement per model and batch)."""
    per_key: dict[tuple[str, int], float] = {}
    timed: dict[str, float] = {}
    notes: list[str] = []
    total = 0.0
    for p in points:
        key = (str(p.get("model", base.model)), int(p.get("batch_size", base.batch_size)))
        if key not in per_key:
            sec, source = epoch_seconds(base.replace(model=key[0], batch_size=key[1]), root, timed)
            per_key[key] = sec
            notes.append(f"{key[0]} batch {key[1]}: {sec:.1f} s/epoch ({source})")
        epochs = int(p["epochs"]) if "epochs" in p else base.total_epochs
        total += per_key[key] * epochs
    return total, notes
