"""How long a run will take on this machine: the ONE owner of the time estimate (Train, Home, sweeps, the CLI).

`estimate_run(cfg)` -> RunEstimate: data build (when the dataset's cache is cold) + every epoch (training and
validation) + the test pass, on the settings it states (model, its input size, batch, training images,
epochs, device). One rule matches earlier runs (`same_speed`): same model, input size, batch size, device,
precision and memory format; their measured images/s is scaled to this run's number of images. Without
such a run, a few training steps are timed now (`estimate_epoch_seconds`). The estimate says how sure it is
(its source and a range); the page that starts a run records it in the run's config ("estimate"), and
`estimate_vs_actual` compares it with the real time once the run has ended.

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
        val = f" (+ {format_duration(self.val_seconds)} validation)" if self.val_seconds >= 0.5 else ""
        return (f"estimated {format_duration(self.seconds_per_epoch)} per epoch on {self.device}{val}; "
                f"the whole run ≈ {format_duration(self.total_seconds)}")




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


MEASURED, RECORDED = "measured", "recorded"
TIMED_STEPS = 5
# a measured estimate's range: a busy machine (other jobs, a page rerun) slows training; the first epoch warms up
MEASURED_RANGE, RECORDED_RANGE = (0.8, 1.8), (0.85, 1.3)


@dataclass(frozen=True)
class RunEstimate:
    """Estimated wall time of a whole run, on the settings it states, and how sure it is."""

    seconds: float  # data build + epochs (training + validation) + test pass
    low: float
    high: float
    source: str  # MEASURED (timed steps now) or RECORDED (an earlier run of the same settings here)
    how: str  # one sentence: where the figure comes from
    images_per_s: float
    epoch_seconds: float  # one epoch: training + validation
    data_seconds: float  # building the dataset (0 when its cache is warm)
    epochs: int
    settings: dict[str, Any] = field(default_factory=dict)  # model, input, batch, images, epochs, device, data
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        """"about 4m 10s (3m 20s to 7m 30s)"."""
        return f"about {format_duration(self.seconds)} ({format_duration(self.low)} to {format_duration(self.high)})"

    def settings_text(self) -> str:
        """The settings the estimate is for, e.g. "lenet5 · 1x32x32 input · batch 64 · 23,400 images x 2 epochs"."""
        s = self.settings
        size = "x".join(str(v) for v in s.get("input_size") or []) or "?"
        return (f"{s.get('model')} · {size} input · batch {s.get('batch_size')} · {s.get('train_images', 0):,} "
                f"images x {self.epochs} epoch{'s' if self.epochs != 1 else ''} · {s.get('device')}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (recorded in the run's config.json as "estimate")."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Any) -> RunEstimate | None:
        """A recorded estimate read back (untrusted: None unless its numbers are finite and non-negative)."""
        if not isinstance(d, dict):
            return None
        try:
            nums = {k: float(d[k]) for k in ("seconds", "low", "high", "images_per_s", "epoch_seconds", "data_seconds")}
            epochs = int(d.get("epochs") or 0)
        except (KeyError, TypeError, ValueError):
            return None
        if not all(math.isfinite(v) and v >= 0 for v in nums.values()):
            return None
        return cls(**nums, epochs=epochs, source=str(d.get("source", "")), how=str(d.get("how", "")),
                   settings=d["settings"] if isinstance(d.get("settings"), dict) else {},
                   notes=[str(n) for n in d.get("notes") or []] if isinstance(d.get("notes"), list) else [])


def speed_settings(cfg: TrainConfig, device_label: str) -> dict[str, Any]:
    """What sets the speed per image: model, the input size its adapter makes, batch, device, precision, layout."""
    from explorer.models import letters_input_size

    return {"model": cfg.model, "input_size": list(letters_input_size(cfg.model)), "batch_size": cfg.batch_size,
            "device": device_label, "amp": cfg.amp, "channels_last": bool(cfg.channels_last)}


def same_speed(cfg: TrainConfig, device_label: str, train: dict[str, Any], device: Any) -> bool:
    """THE rule that matches an earlier run (its train config and recorded device label) with `cfg` here."""
    from explorer.models import letters_input_size

    try:
        theirs = {"model": train.get("model"), "input_size": list(letters_input_size(str(train.get("model")))),
                  "batch_size": train.get("batch_size"), "device": device, "amp": train.get("amp", "none"),
                  "channels_last": bool(train.get("channels_last", False))}
    except (KeyError, ValueError):
        return False
    return theirs == speed_settings(cfg, device_label)


def _finite(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0 else None


def earlier_speed(cfg: TrainConfig, device_label: str, root: str | os.PathLike | None = None) -> dict[str, Any] | None:
    """The newest finished run that matches (same_speed): its images/s (median of its epochs), validation
    seconds per image, training images, wall time and data-build time; None when no run matches."""
    import statistics

    from explorer.names import run_title
    from explorer.runs import list_runs, open_run

    for info in list_runs(root):
        if info.status not in ("completed", "stopped"):
            continue
        try:
            run = open_run(info.path)
            record, metrics, hist = run.record, run.metrics() or {}, run.history()
        except (OSError, ValueError):
            continue
        device = metrics.get("device") or run.status.get("device_label")
        train = record.train_record
        if not same_speed(cfg, device_label, train, device):
            continue
        speeds = [v for v in (_finite(h.get("images_per_s")) for h in hist) if v]
        ips = statistics.median(speeds) if speeds else _finite(metrics.get("images_per_s"))
        if ips is None:
            continue
        counts = record.split.get("counts")
        n_train = _finite(counts.get("train") if isinstance(counts, dict) else None) or _finite(
            train_images(record.train) if train.get("data") else None)
        vals = [v for v in (_finite(h.get("val_time")) for h in hist) if v]
        return {"title": run_title(run), "images_per_s": ips, "train_images": n_train,
                "val_seconds": statistics.median(vals) if vals else None, "epochs": len(hist) or None,
                "wall": _finite(metrics.get("wall_time_s")), "data_seconds": _finite(metrics.get("data_s")) or 0.0,
                "same_run": _same_run(cfg, train)}
    return None


def _same_run(cfg: TrainConfig, train: dict[str, Any]) -> bool:
    """The same whole run: model, batch, data (name, size) and epochs, single stage."""
    data = train.get("data") if isinstance(train.get("data"), dict) else {}
    return (train.get("model") == cfg.model and train.get("epochs") == cfg.epochs
            and train.get("batch_size") == cfg.batch_size and data.get("name") == cfg.data.name
            and data.get("size") == cfg.data.size and not train.get("stages") and not cfg.stages)


def train_images(cfg: TrainConfig) -> int:
    """Training images per epoch (after the validation split), from the dataset card; ValueError if unknown."""
    n = cfg.data.expected_train_size() or 0
    if n < 1:
        raise ValueError(f"the size of dataset {cfg.data.name!r} is not known before it is loaded")
    return n


def test_images(cfg: TrainConfig) -> int:
    """Test images of the run's dataset, from its card (0 when unknown)."""
    from explorer.data import builtin, get_dataset_card

    if cfg.data.name == "letters-builtin":
        return builtin.test_size_for(int(cfg.data.size or builtin.DEFAULT_SIZE)) * len(builtin.CLASSES)
    return int(get_dataset_card(cfg.data.name).test_size or 0)


def json_stages(cfg: TrainConfig) -> str:
    """The stages of a config as one string (part of a cache key)."""
    import json

    return json.dumps([s.to_dict() for s in cfg.stage_list()], default=str, sort_keys=True)


def data_build_seconds(cfg: TrainConfig) -> tuple[float, str]:
    """(seconds, how) to build the run's dataset now: the built-in letters when their cache is cold (measured);
    0 for a cached set or a dataset read from files."""
    if cfg.data.name != "letters-builtin":
        return 0.0, ""
    from explorer.data import builtin, data_root

    size = int(cfg.data.size or builtin.DEFAULT_SIZE)
    return builtin.build_seconds(data_root(cfg.data.root), size, int(cfg.data.gen_seed or 0))


def estimate_run(cfg: TrainConfig, root: str | os.PathLike | None = None, device_label: str | None = None,
                 steps: int = TIMED_STEPS, timed: dict[tuple, Estimate] | None = None,
                 measure: bool = True) -> RunEstimate:
    """THE estimate of a whole run of `cfg` here (see the module docstring). `timed` caches timed steps per
    speed setting across calls (a sweep times each model setting once). ValueError when it cannot be made;
    LookupError when `measure` is off and no earlier run matches."""
    from explorer.train.loop import device_label as label_of
    from explorer.train.loop import resolve_device

    cfg.validate()
    label = device_label or label_of(resolve_device(cfg.device))
    n_train = train_images(cfg)
    n_val = max(0, round(n_train / max(1e-9, 1 - float(cfg.data.val_fraction))) - n_train)
    n_test = test_images(cfg)
    epochs = cfg.total_epochs
    data_s, data_how = data_build_seconds(cfg)
    settings = {**speed_settings(cfg, label), "train_images": n_train, "epochs": epochs,
                "data": cfg.data.name, "data_size": cfg.data.size}
    prior = earlier_speed(cfg, label, root)
    notes: list[str] = []
    if prior is not None:
        ips = prior["images_per_s"]
        val_per_image = (prior["val_seconds"] / max(1, n_val)) if prior["val_seconds"] else 1 / (3 * ips)
        epoch_s = n_train / ips + n_val * val_per_image
        if prior["same_run"] and prior["wall"]:
            total = max(1.0, prior["wall"] - prior["data_seconds"]) + data_s
            how = f"recorded: run {prior['title']} took this long with the same settings here"
        else:
            total = startup_seconds(root) + data_s + epochs * epoch_s + n_test * val_per_image
            scaled = (f", scaled from {int(prior['train_images']):,} to {n_train:,} images"
                      if prior["train_images"] and int(prior["train_images"]) != n_train else "")
            how = f"recorded: {ips:,.0f} images/s in run {prior['title']} of the same settings here{scaled}"
        low, high = RECORDED_RANGE
        source = RECORDED
    elif not measure:
        raise LookupError("no earlier run of the same settings here")
    else:
        key = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(speed_settings(cfg, label).items()))
        key += (n_train, n_val, epochs, json_stages(cfg))
        est = timed.get(key) if timed is not None else None
        if est is None:
            est = estimate_epoch_seconds(cfg, steps=steps)
            if timed is not None:
                timed[key] = est
        ips = est.images_per_s
        epoch_s = est.seconds_per_epoch + est.val_seconds
        total = startup_seconds(root) + data_s + est.total_seconds + n_test * est.val_seconds / max(1, n_val)
        how = f"measured: {steps} timed training steps just now ({ips:,.0f} images/s)"
        notes = list(est.notes)
        low, high = MEASURED_RANGE
        source = MEASURED
    if data_how:
        how += f"; {'+ ' + format_duration(data_s) + ' ' if data_s else ''}{data_how}"
    return RunEstimate(total, total * low, total * high, source, how, ips, epoch_s, data_s, epochs, settings, notes)


def recorded_estimate(cfg: TrainConfig, root: str | os.PathLike | None = None,
                      device_label: str | None = None) -> RunEstimate | None:
    """estimate_run from an earlier run of the same settings only (nothing is timed); None when there is none."""
    try:
        return estimate_run(cfg, root, device_label, measure=False)
    except (LookupError, ValueError):
        return None


STARTUP_S = 5.0  # starting a worker (Python, torch, imports) when no run here has recorded it (4-25 s on 2 cores)


def startup_seconds(root: str | os.PathLike | None = None) -> float:
    """Seconds a worker takes to start here: the median "startup_s" of the newest runs that recorded it."""
    import statistics

    from explorer.runs import list_runs, open_run

    seen = []
    for info in list_runs(root)[:20]:
        try:
            v = _finite((open_run(info.path).metrics() or {}).get("startup_s"))
        except (OSError, ValueError):
            continue
        if v is not None:
            seen.append(v)
        if len(seen) >= 5:
            break
    return statistics.median(seen) if seen else STARTUP_S


def print_estimate(cfg: TrainConfig, enabled: bool = True, root: str | os.PathLike | None = None) -> RunEstimate | None:
    """For `train`: print the estimate (and the settings it is for) on stderr (rank 0 only); a failed
    estimate is one line, not an error."""
    import os
    import sys

    from explorer.train.loop import precheck

    if not enabled or int(os.environ.get("RANK", "0")) != 0:
        return None
    precheck(cfg)  # a refused config is the user's error (exit 2), not a failed estimate
    try:
        est = estimate_run(cfg, root)
    except (ValueError, RuntimeError) as exc:
        print(f"estimate unavailable: {exc}", file=sys.stderr)
        return None
    print(f"estimated {est.text()} for {est.settings_text()} ({est.how}); "
          f"{format_duration(est.epoch_seconds)} per epoch on {est.settings.get('device')}", file=sys.stderr)
    for note in est.notes:
        print(f"note: {note}", file=sys.stderr)
    return est


def estimate_vs_actual(run: Any) -> str | None:
    """"estimated 4m 10s (3m 20s to 7m 30s), took 6m 38s" for a finished run whose config records the estimate
    shown before it started; None when it has no estimate or no measured time."""
    est = RunEstimate.from_dict(run.record.estimate)
    metrics = run.metrics() or {}
    took = _finite(metrics.get("wall_time_s"))
    took = took + (_finite(metrics.get("startup_s")) or 0.0) if took is not None else None
    if est is None or took is None:
        return None
    within = "within the range" if est.low <= took <= est.high else ("faster than estimated" if took < est.low
                                                                       else "slower than estimated")
    return f"estimated {est.text()}, took {format_duration(took)} ({within})"
