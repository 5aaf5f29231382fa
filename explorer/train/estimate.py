"""How long a training config will take on this machine: from a finished run of the same config on the same
device when there is one (its recorded wall time), otherwise from a few timed training steps measured now."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import torch

from explorer.config import TrainConfig
from explorer.runs import list_runs, open_run


@dataclass(frozen=True)
class Estimate:
    """Estimated wall time of a run and how it was obtained."""

    seconds: float
    how: str  # one sentence a user can read: "measured: 5 timed steps now, 2,300 images/s"
    images_per_s: float


def _same_config(cfg: TrainConfig, train: dict) -> bool:
    """True when a run's stored train config matches `cfg` in what sets its duration."""
    data, mine = train.get("data") or {}, cfg.data or {}
    return (train.get("model") == cfg.model and train.get("epochs") == cfg.epochs
            and train.get("batch_size") == cfg.batch_size and data.get("name") == mine.get("name")
            and data.get("size") == mine.get("size") and not train.get("stages") and not cfg.stages)


def recorded_estimate(cfg: TrainConfig, device_label: str, root: str | os.PathLike | None = None) -> Estimate | None:
    """The wall time of the newest completed run with the same model, data, epochs and batch on this device."""
    for info in list_runs(root):
        if info.status != "completed":
            continue
        try:
            run = open_run(info.path)
            metrics = run.metrics() or {}
            train = run.config.get("train") or {}
        except (OSError, ValueError):
            continue
        wall = metrics.get("wall_time_s")
        if (isinstance(wall, int | float) and 0 < wall < 7 * 86400 and metrics.get("device") == device_label
                and _same_config(cfg, train)):
            ips = metrics.get("images_per_s")
            return Estimate(float(wall), f"recorded: run {info.name} took this long with the same settings here",
                            float(ips) if isinstance(ips, int | float) else 0.0)
    return None


def measured_estimate(cfg: TrainConfig, steps: int = 5, device: str = "auto") -> Estimate:
    """Time `steps` training steps of cfg's model on random letters-sized batches (after one warm-up step)."""
    from explorer.train.loop import expected_train_size, resolve_device
    from explorer.train.model import prepare_model

    dev = resolve_device(device if device != "auto" else cfg.device)
    model, _ = prepare_model(cfg, 26, load_pretrained=False)
    model.to(dev).train()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=1e-3, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(cfg.batch_size, 1, 28, 28, generator=gen).to(dev)
    y = torch.randint(0, 26, (cfg.batch_size,), generator=gen).to(dev)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    step()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    ips = steps * cfg.batch_size / max(time.perf_counter() - t0, 1e-9)
    n_train = expected_train_size(cfg) or 0
    epochs = cfg.total_epochs
    # Training, plus validation each epoch and the test at the end (forward only, ~1/3 of a step per
    # image, on about a fifth of the data), plus about 5 s to build the data and write the run.
    seconds = epochs * n_train / ips * (1 + 0.2 / 3) + 5.0
    return Estimate(seconds, f"measured: {steps} timed training steps just now ({ips:,.0f} images/s)", ips)


def estimate(cfg: TrainConfig, device_label: str, root: str | os.PathLike | None = None) -> Estimate:
    """The recorded estimate when a matching finished run exists, else a measured one."""
    return recorded_estimate(cfg, device_label, root) or measured_estimate(cfg)
