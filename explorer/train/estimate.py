"""How long a run will take on this machine: seconds per epoch from a few timed training steps on the
chosen device (estimate_epoch_seconds), or the recorded wall time of a finished run with the same settings
on the same device (recorded_estimate); `estimate` takes the recorded one when there is one.

The steps are what the loop does per batch (augmentation, autocast, GradScaler, channels_last,
forward, backward, optimizer step) on random letters of the configured batch size, for each stage's
trainable set; the validation pass is timed the same way. torch.compile is left out (its compile
time would dominate a few steps) and said so.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from explorer.config import TrainConfig
from explorer.names import format_duration


@dataclass(frozen=True)
class Estimate:
    """How long an epoch of `cfg` should take on `device`."""

    device: str  # human label, e.g. "cpu (2 threads)"
    seconds_per_step: float  # mean of the timed steps (first stage)
    seconds_per_epoch: float  # training part of one epoch of the first stage (what history's epoch_time measures)
    val_seconds: float  # the validation pass after each epoch
    steps_per_epoch: int
    images_per_s: float
    total_seconds: float  # every epoch of every stage, validation included
    stages: list[dict[str, Any]] = field(default_factory=list)  # per stage: name, epochs, seconds_per_epoch
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON and caching."""
        return asdict(self)

    def text(self) -> str:
        """One line, e.g. "estimated 4m 10s per epoch on cpu (2 threads) (+ 3s validation); all 3 epochs ≈ 12m 40s"."""
        val = f" (+ {fmt_duration(self.val_seconds)} validation)" if self.val_seconds >= 0.5 else ""
        return (f"estimated {fmt_duration(self.seconds_per_epoch)} per epoch on {self.device}{val}; "
                f"the whole run ≈ {fmt_duration(self.total_seconds)}")


fmt_duration = format_duration  # the one duration format (explorer.names)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _batch(cfg: TrainConfig, n: int, device: torch.device, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Random letters as the loader yields them: float (n, 1, 28, 28) in [0, 1], int64 labels."""
    x = torch.randint(0, 256, (n, 1, 28, 28), generator=gen, dtype=torch.uint8).to(device).float().div_(255)
    return x, torch.randint(0, 26, (n,), generator=gen).to(device)


def _time_steps(cfg: TrainConfig, model: torch.nn.Module, device: torch.device, amp: str, steps: int,
                warmup: int) -> float:
    """Seconds per training step (mean of `steps` after `warmup`), with the loop's per-batch work."""
    from explorer.data import Augment, augment_batch

    augment = Augment.from_dict(cfg.augment) if cfg.augment else None
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-6, momentum=0.9) if cfg.optimizer == "sgd" else torch.optim.AdamW(params, lr=1e-6)
    scaler = torch.amp.GradScaler("cuda") if amp == "fp16" else None
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    gen = torch.Generator().manual_seed(0)
    x0, y = _batch(cfg, cfg.batch_size, device, gen)
    model.train()
    t0 = 0.0
    for i in range(warmup + steps):
        if i == warmup:
            _sync(device)
            t0 = time.perf_counter()
        x = augment_batch(x0, augment) if augment is not None else x0
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=dtype, enabled=amp != "none"):
            loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()
    _sync(device)
    return (time.perf_counter() - t0) / steps


@torch.no_grad()
def _time_eval(cfg: TrainConfig, model: torch.nn.Module, device: torch.device, amp: str, n: int) -> float:
    """Seconds to evaluate `n` images (one timed batch of up to 512 after a warm-up one)."""
    if n <= 0:
        return 0.0
    b = min(512, n)
    x, _ = _batch(cfg, b, device, torch.Generator().manual_seed(1))
    if cfg.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    model.eval()
    dtype = torch.bfloat16 if amp == "bf16" else torch.float16
    with torch.autocast(device.type, dtype=dtype, enabled=amp != "none"):
        model(x)
        _sync(device)
        t0 = time.perf_counter()
        model(x)
        _sync(device)
    return (time.perf_counter() - t0) * math.ceil(n / b)


def estimate_epoch_seconds(cfg: TrainConfig, steps: int = 3, warmup: int = 1) -> Estimate:
    """Time `steps` training steps (after `warmup`) per stage of `cfg` on its device and scale to an epoch.

    Raises ValueError with the reason (e.g. the batch does not fit in GPU memory).
    """
    from explorer.train.loop import device_label, expected_train_size, resolve_device
    from explorer.train.model import apply_stage, prepare_model

    cfg.validate()
    device = resolve_device(cfg.device)
    amp = cfg.amp if device.type == "cuda" else "none"
    notes = [] if amp == cfg.amp else [f"{cfg.amp} is for GPUs: estimated in float32 as the CPU run trains"]
    if cfg.compile:
        notes.append("torch.compile not included: the first epoch adds the compile time")
    n_train = expected_train_size(cfg) or 0
    if n_train < 1:
        raise ValueError(f"the size of dataset {cfg.data.name!r} is not known before it is loaded")
    total_n = n_train / max(1e-9, 1 - float(cfg.data.val_fraction)) if n_train else 0
    n_val = max(0, round(total_n) - n_train)
    steps_per_epoch = max(1, math.ceil(n_train / cfg.batch_size))
    model, _ = prepare_model(cfg, 26, load_pretrained=False)
    model.to(device)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    try:
        stages = []
        for stage in cfg.stage_list():
            apply_stage(model, stage)
            sec = _time_steps(cfg, model, device, amp, steps, warmup) * steps_per_epoch
            stages.append({"name": stage.name, "epochs": stage.epochs, "seconds_per_epoch": sec})
        val_s = _time_eval(cfg, model, device, amp, n_val)
    except torch.OutOfMemoryError:
        raise ValueError(f"batch size {cfg.batch_size} of {cfg.model} does not fit in GPU memory; try "
                         f"{max(1, cfg.batch_size // 2)} or amp bf16") from None
    finally:
        del model
        if device.type == "cuda":
            torch.cuda.empty_cache()
    first = stages[0]["seconds_per_epoch"]
    total = sum(s["epochs"] * (s["seconds_per_epoch"] + val_s) for s in stages)
    return Estimate(device_label(device), first / steps_per_epoch, first, val_s, steps_per_epoch, steps_per_epoch * cfg.batch_size / first,
                    total, stages, notes)


def print_estimate(cfg: TrainConfig, enabled: bool = True) -> Estimate | None:
    """For `train`: print the estimate line on stderr (rank 0 only); a failed estimate is one line, not an error."""
    import os
    import sys

    from explorer.train.loop import precheck

    if not enabled or int(os.environ.get("RANK", "0")) != 0:
        return None
    precheck(cfg)  # a refused config is the user's error (exit 2), not a failed estimate
    try:
        est = estimate_epoch_seconds(cfg)
    except (ValueError, RuntimeError) as exc:
        print(f"estimate unavailable: {exc}", file=sys.stderr)
        return None
    print(est.text(), file=sys.stderr)
    for note in est.notes:
        print(f"note: {note}", file=sys.stderr)
    return est


@dataclass(frozen=True)
class RunEstimate:
    """Estimated wall time of a whole run and how it was obtained (one sentence a user can read)."""

    seconds: float
    how: str  # "recorded: ..." or "measured: ..."
    images_per_s: float


def _same_config(cfg: TrainConfig, train: dict[str, Any]) -> bool:
    """True when a run's stored train config matches `cfg` in what sets its duration."""
    data = train.get("data") if isinstance(train.get("data"), dict) else {}
    return (train.get("model") == cfg.model and train.get("epochs") == cfg.epochs
            and train.get("batch_size") == cfg.batch_size and data.get("name") == cfg.data.name
            and data.get("size") == cfg.data.size and not train.get("stages") and not cfg.stages)


def recorded_estimate(cfg: TrainConfig, device_label: str, root: str | os.PathLike | None = None) -> RunEstimate | None:
    """The wall time of the newest completed run with the same model, data, epochs and batch on this device."""
    from explorer.runs import list_runs, open_run

    for info in list_runs(root):
        if info.status != "completed":
            continue
        try:
            run = open_run(info.path)
            metrics, train = run.metrics() or {}, run.config.get("train") or {}
        except (OSError, ValueError):
            continue
        wall = metrics.get("wall_time_s")
        if (isinstance(wall, int | float) and 0 < wall < 7 * 86400 and metrics.get("device") == device_label
                and isinstance(train, dict) and _same_config(cfg, train)):
            ips = metrics.get("images_per_s")
            return RunEstimate(float(wall), f"recorded: run {info.name} took this long with the same settings here",
                               float(ips) if isinstance(ips, int | float) else 0.0)
    return None


def measured_estimate(cfg: TrainConfig, steps: int = 5) -> RunEstimate:
    """The whole run from a few timed steps now (estimate_epoch_seconds), plus ~5 s to build the data."""
    est = estimate_epoch_seconds(cfg, steps=steps)
    return RunEstimate(est.total_seconds + 5.0, f"measured: {steps} timed training steps just now "
                       f"({est.images_per_s:,.0f} images/s)", est.images_per_s)


def estimate(cfg: TrainConfig, device_label: str, root: str | os.PathLike | None = None) -> RunEstimate:
    """The recorded estimate when a matching finished run exists, else a measured one."""
    return recorded_estimate(cfg, device_label, root) or measured_estimate(cfg)
