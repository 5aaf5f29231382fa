"""The training loop, read top to bottom: `fit` sets up and catches failures, `_train` prepares data
and model and walks the stages, `train_epoch` is the whole inner loop, `validate` scores the validation
split after every epoch. Data stays on the device (DeviceLoader).

The run folder is written only through `Run` (checkpoint, history, metrics, predictions); status.json
and progress events go through the `Reporter`; the LR schedule and the plateau / early-stopping trackers
live in `schedule.LoopState`, saved with every checkpoint. A STOP file ends the run cleanly between
steps; a run resumes from its last completed epoch exactly as if it had not been interrupted.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explorer.config import Stage, TrainConfig
from explorer.devices import device_label, resolve_device
from explorer.io import DiskFullError, fault_point, is_disk_full
from explorer.models import LettersModel, build_from_config
from explorer.runs import Checkpoint, Run
from explorer.train import ddp
from explorer.train.model import apply_stage, freeze_bn_of_frozen, param_groups, param_layers
from explorer.train.report import Reporter
from explorer.train.schedule import LoopState, Tracker, lr_factor

Callback = Callable[[str, dict[str, Any]], None]
__all__ = ["LoopState", "NonFiniteLoss", "Reporter", "StopRequested", "Tracker", "device_label", "fit", "lr_factor",
           "precheck", "resolve_device", "train_epoch", "validate"]


class StopRequested(Exception):
    """The user asked the run to stop (STOP file or Ctrl-C)."""


class NonFiniteLoss(Exception):
    """The loss became NaN or infinite."""


# ---------------------------------------------------------------------------------------------
# Devices and pre-start checks


def expected_train_size(cfg: TrainConfig) -> int | None:
    """Training images after the validation split, from the dataset card (no loading)."""
    return cfg.data.expected_train_size()


def precheck(cfg: TrainConfig) -> TrainConfig:
    """Refuse a config before start (ValueError with the reason): settings, model name, transfer mode, batch size."""
    from explorer.models import resolve_name

    cfg.validate()
    resolve_device(cfg.device)  # "cuda" without a GPU is refused before any run folder exists
    resolve_name(cfg.model)
    needs_layers = any(s.transfer in ("frozen", "last_n") for s in cfg.stage_list()) or cfg.head != "default"
    if needs_layers:
        with torch.device("meta"):
            model, _ = build_from_config(cfg, 26, load_pretrained=False)
        cfg.validate(num_trainable_layers=len(param_layers(model)))
    cfg.validate(train_size=expected_train_size(cfg))
    ddp.per_rank_batch(cfg.batch_size, ddp.world_size())  # under torchrun the batch is global: it must split
    return cfg


# ---------------------------------------------------------------------------------------------
# Validation, precision, optimizer


@torch.no_grad()
def validate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device,
             batch_size: int = 512, amp: str = "none", channels_last: bool = False) -> tuple[float, float, torch.Tensor]:
    """(mean loss, accuracy, softmax probabilities float32 (N, K) on cpu) of `model` on uint8 images."""
    from explorer.data import DeviceLoader

    was_training = model.training
    model.eval()
    loader = DeviceLoader(images, labels, batch_size, device, shuffle=False)
    probs, loss_sum = [], torch.zeros((), device=device)
    for x, y in loader:
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with _autocast(device, amp):
            logits = model(x)
        logits = logits.float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum")
        probs.append(logits.softmax(1).cpu())
    model.train(was_training)
    p = torch.cat(probs) if probs else torch.zeros(0, 0)
    n = max(1, len(labels))
    acc = float((p.argmax(1) == labels.cpu()).float().mean()) if len(labels) else float("nan")
    return float(loss_sum) / n, acc, p


def _autocast(device: torch.device, amp: str) -> Any:
    if device.type == "cuda" and amp in ("bf16", "fp16"):
        return torch.autocast("cuda", dtype=torch.bfloat16 if amp == "bf16" else torch.float16)
    return torch.autocast(device.type, enabled=False)


def _make_optimizer(cfg: TrainConfig, groups: list[dict]) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=groups[0]["lr"], momentum=cfg.momentum, nesterov=cfg.nesterov)
    cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    return cls(groups, lr=groups[0]["lr"])


# ---------------------------------------------------------------------------------------------
# The loop


@dataclass
class Session:
    """What the stages of one training job share: config, device, data, model, reporter, loop state."""

    cfg: TrainConfig
    run: Run | None
    dist: ddp.DistInfo
    device: torch.device
    report: Reporter
    state: LoopState
    amp: str = "none"
    splits: Any = None
    loader: Any = None
    model: LettersModel | None = None
    scaler: torch.amp.GradScaler | None = None
    stages: tuple[Stage, ...] = ()
    notes: list[str] = field(default_factory=list)
    t_start: float = field(default_factory=time.time)
    data_s: float = 0.0  # seconds spent building / loading the data (recorded in metrics.json as data_s)


def fit(cfg: TrainConfig, run: Run | None, resume: bool = False, callback: Callback | None = None) -> str:
    """Train `cfg`, writing into `run` (None on non-zero DDP ranks); returns the final status.

    Failures are caught and written into status.json ("failed" + error + hint); the return value
    says how it ended: completed, stopped or failed.
    """
    device = resolve_device(cfg.device)
    dist = ddp.setup(device)
    if dist.enabled and device.type == "cuda":
        device = torch.device("cuda", dist.local_rank)
        torch.cuda.set_device(device)
    report = Reporter(run, dist.is_main, dist.world, device, callback)
    s = Session(cfg, run, dist, device, report, LoopState())
    result = "failed"
    try:
        result = _train(s, resume)
    except StopRequested:
        report.status(status="stopped", phase="stopped", error=None)
        result = "stopped"
    except NonFiniteLoss as exc:
        report.failed(str(exc))
    except torch.OutOfMemoryError:
        report.failed(f"CUDA out of memory at batch size {cfg.batch_size} (epoch {s.state.epoch + 1}). Try batch "
                      f"size {max(1, cfg.batch_size // 2)}, amp bf16, or a smaller model; the app keeps running.")
    except OSError as exc:
        report.failed(_disk_full_text(exc, run) if is_disk_full(exc) else f"{type(exc).__name__}: {exc}",
                      with_traceback=True)
    except Exception as exc:  # any other failure: recorded in the run, never lost
        report.failed(f"{type(exc).__name__}: {exc}", with_traceback=True)
    finally:
        ddp.cleanup(dist)
    report.emit("done", {**report.fields, "status": result})
    return result


def _disk_full_text(exc: OSError, run: Run | None) -> str:
    """The one line a full disk gives: which file, that the previous checkpoint is intact, what to do."""
    name = exc.path.name if isinstance(exc, DiskFullError) else Path(exc.filename or "?").name
    where = f" in {run.path}" if run is not None else ""
    resume = f"`python -m explorer runs resume {run.run_id}`" if run is not None else "resume the run"
    return (f"disk full while writing {name}{where}; the previous checkpoint is intact. Free some space, "
            f"then {resume}")


def _train(s: Session, resume: bool) -> str:
    """Data, model, every stage's epochs, then the test pass."""
    torch.manual_seed(s.cfg.seed)
    if s.device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    s.report.running(device_label(s.device))
    _load_data(s)
    ckpt = s.run.load_checkpoint() if (resume and s.run is not None) else None
    _load_model(s, ckpt)
    s.stages = s.cfg.stage_list()
    s.report.started(sum(st.epochs for st in s.stages), len(s.loader), s.cfg.batch_size, notes=s.notes,
                     stages=[st.name for st in s.stages], train_size=len(s.splits.train), world_size=s.dist.world)
    if len(s.splits.val.labels) == 0:  # no validation split: monitor the training loss instead
        s.notes.append("no validation split: early stopping and best weights use the training loss")
    for si, stage in enumerate(s.stages):
        if si < s.state.stage or (si == s.state.stage and s.state.stage_done):
            continue
        if si > s.state.stage:
            s.state.start_stage(si)
        _run_stage(s, si, stage, ckpt)
    ddp.barrier(s.dist)
    if s.run is not None and s.dist.is_main:
        _test(s)
    ddp.barrier(s.dist)  # every rank leaves together: none tears the group down while rank 0 still tests
    return "completed"


def _load_data(s: Session) -> None:
    """The splits and this rank's shard of the training set in a DeviceLoader."""
    from explorer.data import Augment, DataSpec, DeviceLoader, make_splits

    cfg = s.cfg
    t0 = time.time()
    s.splits = make_splits(DataSpec.from_dict(cfg.data), progress=_data_progress(s, t0))
    s.data_s = time.time() - t0
    cfg.validate(train_size=len(s.splits.train))
    train = s.splits.train
    augment = Augment.from_dict(cfg.augment) if cfg.augment else None
    s.loader = DeviceLoader(train.images, train.labels, ddp.per_rank_batch(cfg.batch_size, s.dist.world), s.device,
                            shuffle=True, augment=augment, seed=cfg.seed,
                            sampler=ddp.sampler(len(train.labels), s.dist, cfg.seed))


def _data_progress(s: Session, t0: float) -> Callable[[int, int], None]:
    """The data build's progress into status.json: images done of total, the time left for them (from the
    rate so far) and for the whole run (plus the rest of the estimate recorded when the run started)."""
    est = s.run.record.estimate if s.run is not None else None  # RunEstimate.to_dict(), untrusted
    try:
        rest: float | None = max(0.0, float(est["seconds"]) - float(est["data_seconds"]))
        rest = rest if math.isfinite(rest) else None
    except (KeyError, TypeError, ValueError):
        rest = None

    def progress(done: int, total: int) -> None:
        left = (time.time() - t0) / max(done, 1) * max(0, total - done)
        s.report.status(phase=f"data {done}/{total}", data_done=done, data_total=total, data_eta_s=left,
                        eta_s=left + rest if rest is not None else None)

    return progress


def _load_model(s: Session, ckpt: Checkpoint | None) -> None:
    """The model (pretrained, or the checkpoint's weights and loop state) on the device; the run's model record."""
    cfg, classes = s.cfg, list(s.splits.classes)
    spec = s.run.model_spec() if s.run is not None else None  # a design's copy kept with the run
    model, s.notes = build_from_config(cfg, len(classes), load_pretrained=ckpt is None, spec=spec)
    if ckpt is not None:
        model.load_state_dict(ckpt.weights)
        s.state.load(ckpt.loop)
        s.notes.append(f"resumed after epoch {s.state.epoch}")
    s.amp = cfg.amp
    if s.device.type != "cuda" and s.amp != "none":
        s.notes.append(f"mixed precision ({s.amp}) is for GPUs; this CPU run uses float32")
        s.amp = "none"
    model.to(s.device)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    if s.run is not None and s.dist.is_main:
        s.run.update_config(
            data=s.splits.record, classes=classes, notes=s.notes,
            model={"name": model.name, "num_classes": len(classes), "input_size": list(model.adaptation.input_size),
                   "params": sum(p.numel() for p in model.parameters())},
        )  # fmt: skip
    s.scaler = torch.amp.GradScaler("cuda") if (s.device.type == "cuda" and s.amp == "fp16") else None
    s.model = model


def _run_stage(s: Session, si: int, stage: Stage, ckpt: Checkpoint | None) -> None:
    """The remaining epochs of one stage: freeze/unfreeze, optimizer, then train, validate, checkpoint."""
    cfg, model = s.cfg, s.model
    counts = apply_stage(model, stage)
    net: nn.Module = torch.compile(model) if cfg.compile else model
    if s.dist.enabled:
        net = nn.parallel.DistributedDataParallel(
            net, device_ids=[s.device.index] if s.device.type == "cuda" else None,
            find_unused_parameters=stage.transfer in ("frozen", "last_n"),
        )  # fmt: skip
    opt = _make_optimizer(cfg, param_groups(model, stage, stage.lr, cfg.backbone_lr_mult, cfg.weight_decay))
    if ckpt is not None and ckpt.loop["stage"] == si and not ckpt.loop.get("stage_done"):
        opt.load_state_dict(ckpt.optimizer)
    s.report.status(stage=si, stage_name=stage.name, trainable_params=counts["trainable"], frozen_params=counts["frozen"])
    for _ in range(s.state.stage_epoch, stage.epochs):
        epoch = s.state.epoch + 1
        s.report.epoch_started(epoch, si, stage.name)
        train_loss, train_acc, seen, epoch_time = train_epoch(s, net, opt, stage)
        s.report.status(phase="eval", epoch=epoch, step=len(s.loader))
        t_val = time.time()
        val_y = s.splits.val.labels
        if len(val_y):
            val_loss, val_acc, pred, prob = _validate_split(s, model)
            if s.run is not None and s.dist.is_main:  # compact: predicted class and its probability
                s.run.derived.write_val_epoch(epoch, val_y.cpu().numpy(), pred.numpy(), prob.numpy())
        else:
            val_loss, val_acc = train_loss, train_acc
        row = {"epoch": epoch, "stage": si, "stage_name": stage.name, "train_loss": train_loss,
               "train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc,
               "lr": opt.param_groups[0]["lr"], "epoch_time": epoch_time, "wall": time.time(),
               "images_per_s": seen * s.dist.world / max(1e-9, epoch_time), "trainable_params": counts["trainable"],
               "val_time": time.time() - t_val}
        if not math.isfinite(val_loss):
            raise NonFiniteLoss(f"the validation loss is {val_loss} after epoch {epoch}. Hint: lower the learning rate.")
        if _end_epoch(s, opt, stage, row):
            s.report.status(note=f"early stopping in stage {si + 1} after epoch {epoch}")
            break


def _validate_split(s: Session, model: nn.Module) -> tuple[float, float, torch.Tensor, torch.Tensor]:
    """The whole validation split's (loss, accuracy, predicted class, its probability); under torchrun each
    rank validates a strided part with rank 0's buffers and the sums are reduced (the same numbers on every
    rank, so every rank makes the same early-stopping choice)."""
    x, y = s.splits.val.images, s.splits.val.labels
    if not s.dist.enabled:
        loss, acc, prob = validate(model, x, y, s.device, amp=s.amp, channels_last=s.cfg.channels_last)
        top = prob.max(1)
        return loss, acc, top.indices, top.values
    ddp.same_buffers(model, s.dist)
    idx = torch.arange(len(y))[s.dist.rank :: s.dist.world]
    loss, acc, prob = validate(model, x[idx], y[idx], s.device, amp=s.amp, channels_last=s.cfg.channels_last)
    n = len(idx)
    if n:
        top = prob.max(1)
        mine = (idx, top.indices, top.values)
    else:  # fewer validation images than ranks: this one has none
        mine = (idx, torch.zeros(0, dtype=torch.long), torch.zeros(0))
    loss_sum, correct, count = ddp.reduce_sums([loss * n, round(acc * n) if n else 0, n], s.dist, s.device)
    pred, conf = torch.zeros(len(y), dtype=torch.long), torch.zeros(len(y))
    for part_idx, part_pred, part_conf in ddp.gather(mine, s.dist):  # type: ignore[misc]
        pred[part_idx], conf[part_idx] = part_pred, part_conf
    return loss_sum / max(1.0, count), correct / max(1.0, count), pred, conf


def train_epoch(s: Session, net: nn.Module, opt: torch.optim.Optimizer, stage: Stage) -> tuple[float, float, int, float]:
    """One epoch over the training shard: (train loss, train accuracy, images seen, seconds)."""
    cfg, device, steps = s.cfg, s.device, len(s.loader)
    epoch = s.state.epoch + 1
    torch.manual_seed(cfg.seed * 1000 + epoch)
    s.loader.set_epoch(epoch)
    s.model.train()
    freeze_bn_of_frozen(s.model)
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen, t0 = 0, time.time()
    check_every = 1 if device.type == "cpu" else 25
    for step, (x, y) in enumerate(s.loader):
        f = lr_factor(cfg, s.state.stage_epoch * steps + step, stage.epochs * steps, steps, s.state.plateau_scale)
        for g in opt.param_groups:
            g["lr"] = g["base_lr"] * f
        if cfg.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with _autocast(device, s.amp):
            logits = net(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        if s.scaler is not None:
            s.scaler.scale(loss).backward()
            s.scaler.step(opt)
            s.scaler.update()
        else:
            loss.backward()
            opt.step()
        loss_sum += loss.detach() * len(y)
        correct += (logits.detach().argmax(1) == y).sum()
        seen += len(y)
        if step % check_every == 0 or step == steps - 1:
            _check(s, loss_sum, epoch, step, opt.param_groups[0]["lr"])
        s.report.step(epoch, step, seen, loss_sum, opt.param_groups[0]["lr"])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    epoch_time = time.time() - t0
    s.state.train_time += epoch_time
    total_loss, total_correct, total_seen = ddp.reduce_sums([float(loss_sum), float(correct), seen], s.dist, device)
    return total_loss / max(1, total_seen), total_correct / max(1, total_seen), seen, epoch_time


def _check(s: Session, loss_sum: torch.Tensor, epoch: int, step: int, lr: float) -> None:
    """Raise NonFiniteLoss or StopRequested when any rank saw a NaN loss or a STOP request."""
    bad = not bool(torch.isfinite(loss_sum))
    stop = s.run is not None and s.run.stop_requested
    stop, bad = ddp.any_flag([stop, bad], s.dist, s.device)
    if bad:
        raise NonFiniteLoss(
            f"the loss became NaN or infinite in epoch {epoch} (step {step + 1}) at learning rate {lr:.3g}. "
            "Hint: lower the learning rate (e.g. 10x), add warmup, or switch amp to 'none'/'bf16'."
        )
    if stop:
        raise StopRequested()


def _end_epoch(s: Session, opt: torch.optim.Optimizer, stage: Stage, row: dict[str, Any]) -> bool:
    """Book the epoch in the loop state, checkpoint it with its history row; True to stop the stage early."""
    epoch_time = row["epoch_time"]
    is_best, stop_early = s.state.end_epoch(s.cfg, stage.epochs, row["val_loss"], row["val_acc"])
    row["early_stop"] = stop_early
    if s.run is not None and s.dist.is_main:
        s.run.save_checkpoint(s.model.state_dict(), opt.state_dict(), s.state.to_dict(), row, is_best)
        fault_point(f"ckpt:saved@{row['epoch']}")
        s.run.append_history(row)
        fault_point(f"history@{row['epoch']}")
    s.report.epoch_ended(row, s.state.eta_s(sum(st.epochs for st in s.stages), epoch_time), s.state.best_epoch)
    return stop_early


def _test(s: Session) -> None:
    """Best weights over the test split: predictions, metrics, status completed (rank 0)."""
    run, state = s.run, s.state
    s.report.status(phase="test")
    best = run.read_weights("best", fallback=False)
    if best is not None:
        s.model.load_state_dict(best)
    test = s.splits.test
    test_loss, test_acc, probs = validate(s.model, test.images, test.labels, s.device, amp=s.amp,
                                          channels_last=s.cfg.channels_last)
    indices = test.indices if test.indices is not None else torch.arange(len(test))
    run.write_predictions(test.labels.numpy(), probs.numpy(), indices.numpy())
    hist = run.history()
    run.write_metrics({
        "test_acc": test_acc, "test_loss": test_loss, "test_size": len(test), "best_epoch": state.best_epoch,
        "best_val_acc": max((h["val_acc"] for h in hist), default=None), "epochs_done": state.epoch,
        "train_time_s": state.train_time, "wall_time_s": time.time() - s.t_start, "data_s": s.data_s,
        "startup_s": _startup_seconds(run, s.t_start),
        "images_per_s": float(np.mean([h["images_per_s"] for h in hist])) if hist else None,
        "device": device_label(s.device), "world_size": s.dist.world, "backend": ddp.backend(),
        "batch_per_rank": s.loader.batch_size,
    })  # fmt: skip
    s.report.status(status="completed", phase="done", test_acc=test_acc, eta_s=0)


def _startup_seconds(run: Run, t_start: float) -> float | None:
    """Seconds from the run's creation to the start of the loop (the worker's start: Python, torch, imports);
    None for a resumed run or an unreadable creation time."""
    from explorer.untrusted import CREATED_FORMAT

    try:
        took = t_start - time.mktime(time.strptime(run.record.created, CREATED_FORMAT))
    except (TypeError, ValueError, OverflowError):
        return None
    return took if 0 <= took < 600 else None  # a resumed run restarts much later: not a start-up time
