"""The training loop: one readable function, data resident on the device (DeviceLoader), eval on the
validation split every epoch, checkpoints every epoch, test predictions at the end.

Progress goes into the run folder (status.json every ~second, history.jsonl every epoch), so a page,
the CLI or another process can follow it; a STOP file in the run folder ends the run cleanly between
steps. A run resumes from its last completed epoch (weights_last + optimizer_last).
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from explorer.config import Stage, TrainConfig
from explorer.io import atomic_path
from explorer.runs import STOP_FILE, Run
from explorer.train import ddp
from explorer.train.model import apply_stage, freeze_bn_of_frozen, param_groups, param_layers, prepare_model

Callback = Callable[[str, dict[str, Any]], None]


class StopRequested(Exception):
    """The user asked the run to stop (STOP file or Ctrl-C)."""


class NonFiniteLoss(Exception):
    """The loss became NaN or infinite."""


# ---------------------------------------------------------------------------------------------
# Devices and pre-start checks


def resolve_device(name: str = "auto") -> torch.device:
    """"auto" -> cuda when available, else cpu; "cuda" without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available; use 'auto' or 'cpu'")
    return dev


def device_label(device: torch.device | str) -> str:
    """Human label: "cpu (N threads)" or "cuda:0 (GPU name)"."""
    device = torch.device(device)
    if device.type == "cuda":
        idx = device.index or 0
        return f"cuda:{idx} ({torch.cuda.get_device_name(idx)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def expected_train_size(cfg: TrainConfig) -> int | None:
    """Training images after the validation split, from the dataset card (no loading)."""
    from explorer.data import get_dataset_info
    from explorer.data.builtin import DEFAULT_SIZE

    data = cfg.data or {}
    info = get_dataset_info(data.get("name", "letters-builtin"), data.get("root"))
    n = info.train_size
    if info.name == "letters-builtin":
        n = int(data.get("size") or DEFAULT_SIZE) * len(info.classes)
    if n is None:
        return None
    return n - math.ceil(n * float(data.get("val_fraction", 0.1)))


def precheck(cfg: TrainConfig) -> TrainConfig:
    """Refuse a config before start (ValueError with the reason): settings, model name, transfer mode, batch size."""
    from explorer.models import resolve_name

    cfg.validate()
    resolve_name(cfg.model)
    needs_layers = any(s.transfer in ("frozen", "last_n") for s in cfg.stage_list()) or cfg.head != "default"
    if needs_layers:
        with torch.device("meta"):
            model, _ = prepare_model(cfg, 26, load_pretrained=False)
        cfg.validate(num_trainable_layers=len(param_layers(model)))
    cfg.validate(train_size=expected_train_size(cfg))
    return cfg


# ---------------------------------------------------------------------------------------------
# Learning-rate schedule, plateau and early stopping (plain-number state, saved in checkpoints)


def lr_factor(cfg: TrainConfig, step: int, total: int, steps_per_epoch: int, plateau_scale: float) -> float:
    """LR multiplier at `step` (0-based, within the stage) of `total` steps: schedule x warmup."""
    warm = int(round(cfg.warmup_epochs * steps_per_epoch))
    if cfg.schedule == "onecycle":
        up = warm or max(1, int(0.25 * total))
        if step < up:
            return 0.04 + 0.96 * step / up
        t = (step - up) / max(1, total - up)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
    f = 1.0
    if cfg.schedule == "step":
        size = cfg.step_size or max(1, (total // max(1, steps_per_epoch)) // 3)
        f = cfg.gamma ** ((step // steps_per_epoch) // size)
    elif cfg.schedule == "cosine":
        t = (step - warm) / max(1, total - warm)
        f = 0.5 * (1 + math.cos(math.pi * min(1.0, max(0.0, t))))
    elif cfg.schedule == "plateau":
        f = plateau_scale
    if warm and step < warm:
        f *= (step + 1) / warm
    return f


@dataclass
class Tracker:
    """Best value of a metric and epochs without improvement (for plateau and early stopping)."""

    mode: str  # "min" or "max"
    best: float | None = None
    bad: int = 0

    def update(self, value: float) -> bool:
        """Record a value; True when it improved."""
        better = self.best is None or (value < self.best if self.mode == "min" else value > self.best)
        if better:
            self.best, self.bad = value, 0
        else:
            self.bad += 1
        return better

    def state(self) -> dict[str, Any]:
        """Plain-data state."""
        return {"mode": self.mode, "best": self.best, "bad": self.bad}


@dataclass
class LoopState:
    """Where a run is: saved with every checkpoint so a run resumes exactly after its last epoch."""

    epoch: int = 0  # completed epochs over all stages
    stage: int = 0
    stage_epoch: int = 0  # completed epochs in the current stage
    stage_done: bool = False
    plateau_scale: float = 1.0
    plateau: dict[str, Any] = field(default_factory=lambda: {"mode": "min", "best": None, "bad": 0})
    early: dict[str, Any] = field(default_factory=lambda: {"mode": "min", "best": None, "bad": 0})
    best: dict[str, Any] = field(default_factory=lambda: {"mode": "max", "best": None, "bad": 0})
    best_epoch: int = 0
    train_time: float = 0.0


# ---------------------------------------------------------------------------------------------
# Checkpoints


def _save_weights(model: nn.Module, path: os.PathLike) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata={"format": "pt"})


def _save_checkpoint(run: Run, model: nn.Module, opt: torch.optim.Optimizer, state: LoopState,
                     row: dict[str, Any], is_best: bool) -> None:
    """weights_last (+best) as safetensors and optimizer_last.pt (tensors and plain containers)."""
    _save_weights(model, run.path / "weights_last.safetensors")
    if is_best:
        _save_weights(model, run.path / "weights_best.safetensors")
    payload = {"optimizer": opt.state_dict(), "loop": dict(state.__dict__), "history_row": row}
    with atomic_path(run.path / "optimizer_last.pt") as tmp:
        torch.save(payload, tmp)


def _load_checkpoint(run: Run) -> dict[str, Any] | None:
    p = run.path / "optimizer_last.pt"
    if not p.is_file() or not (run.path / "weights_last.safetensors").is_file():
        return None
    return torch.load(p, map_location="cpu", weights_only=True)


# ---------------------------------------------------------------------------------------------
# Evaluation


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device,
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
    emit = callback or (lambda event, info: None)
    status_extra: dict[str, Any] = {}
    state = LoopState()

    def write_status(**kw: Any) -> None:
        status_extra.update(kw)
        if run is not None and dist.is_main:
            run.write_status(**status_extra)

    try:
        result = _fit(cfg, run, resume, dist, device, emit, write_status, state)
    except StopRequested:
        write_status(status="stopped", phase="stopped", error=None)
        result = "stopped"
    except NonFiniteLoss as exc:
        write_status(status="failed", phase="failed", error=str(exc))
        result = "failed"
    except torch.OutOfMemoryError:
        msg = (f"CUDA out of memory at batch size {cfg.batch_size} (epoch {state.epoch + 1}). Try batch size "
               f"{max(1, cfg.batch_size // 2)}, amp bf16, or a smaller model; the app keeps running.")
        write_status(status="failed", phase="failed", error=msg)
        result = "failed"
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            msg = (f"disk full while saving into {run.path if run else '?'} ({exc}); the previous checkpoint "
                   "is intact. Free some space and resume the run.")
        else:
            msg = f"{type(exc).__name__}: {exc}"
        _write_failure(write_status, msg)
        result = "failed"
    except Exception as exc:  # any other failure: recorded in the run, never lost
        _write_failure(write_status, f"{type(exc).__name__}: {exc}")
        result = "failed"
    finally:
        ddp.cleanup(dist)
    emit("done", {"status": result, **status_extra})
    return result


def _write_failure(write_status: Callable[..., None], msg: str) -> None:
    with contextlib.suppress(OSError):  # the disk may still be full: status.json keeps its previous content
        write_status(status="failed", phase="failed", error=msg, traceback=traceback.format_exc(limit=8))


def _fit(cfg: TrainConfig, run: Run | None, resume: bool, dist: ddp.DistInfo, device: torch.device,
         emit: Callback, write_status: Callable[..., None], state: LoopState) -> str:
    from explorer.data import Augment, DataSpec, DeviceLoader, make_splits

    t_start = time.time()
    torch.manual_seed(cfg.seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    stop_path = run.path / STOP_FILE if run is not None else None
    write_status(status="running", pid=os.getpid(), phase="data", device=str(device), device_label=device_label(device),
                 world_size=dist.world, error=None)

    # ---- data -----------------------------------------------------------------------------
    spec = DataSpec.from_dict(cfg.data)
    splits = make_splits(spec, progress=lambda done, total: write_status(phase=f"data {done}/{total}"))
    cfg.validate(train_size=len(splits.train))
    classes = list(splits.classes)
    num_classes = len(classes)
    x_train, y_train = ddp.shard(splits.train.images, splits.train.labels, dist)
    augment = Augment.from_dict(cfg.augment) if cfg.augment else None
    loader = DeviceLoader(x_train, y_train, cfg.batch_size, device, shuffle=True, augment=augment, seed=cfg.seed)
    steps_per_epoch = len(loader)

    # ---- model ----------------------------------------------------------------------------
    ckpt = _load_checkpoint(run) if (resume and run is not None) else None
    model, notes = prepare_model(cfg, num_classes, load_pretrained=ckpt is None)
    if ckpt is not None:
        from safetensors.torch import load_file

        model.load_state_dict(load_file(str(run.path / "weights_last.safetensors")))
        state.__dict__.update(ckpt["loop"])
        notes.append(f"resumed after epoch {state.epoch}")
    amp = cfg.amp
    if device.type != "cuda" and amp != "none":
        notes.append(f"mixed precision ({amp}) is for GPUs; this CPU run uses float32")
        amp = "none"
    model.to(device)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)
    if run is not None and dist.is_main:
        run.update_config(
            data=splits.record, classes=classes, notes=notes,
            model={"name": model.name, "num_classes": num_classes, "input_size": list(model.adaptation.input_size),
                   "params": sum(p.numel() for p in model.parameters())},
        )  # fmt: skip
    scaler = torch.amp.GradScaler("cuda") if (device.type == "cuda" and amp == "fp16") else None
    stages = cfg.stage_list()
    total_epochs = sum(s.epochs for s in stages)
    write_status(phase="train", epochs=total_epochs, steps=steps_per_epoch, notes=notes,
                 stages=[s.name for s in stages], train_size=len(splits.train), world_size=dist.world)
    emit("start", {"epochs": total_epochs, "steps": steps_per_epoch, "notes": notes, "device": device_label(device)})

    best = Tracker(**state.best)
    val_x, val_y = splits.val.images, splits.val.labels
    if len(val_y) == 0:  # no validation split: monitor the training loss instead
        notes.append("no validation split: early stopping and best weights use the training loss")

    for si, stage in enumerate(stages):
        if si < state.stage or (si == state.stage and state.stage_done):
            continue
        if si > state.stage:
            state.stage, state.stage_epoch, state.stage_done = si, 0, False
            state.plateau_scale = 1.0
            state.plateau = {"mode": "min", "best": None, "bad": 0}
            state.early = {"mode": state.early["mode"], "best": None, "bad": 0}
        counts = apply_stage(model, stage)
        net: nn.Module = model
        if cfg.compile:
            net = torch.compile(model)
        if dist.enabled:
            net = nn.parallel.DistributedDataParallel(
                net, device_ids=[device.index] if device.type == "cuda" else None,
                find_unused_parameters=stage.transfer in ("frozen", "last_n"),
            )  # fmt: skip
        opt = _make_optimizer(cfg, param_groups(model, stage, stage.lr, cfg.backbone_lr_mult, cfg.weight_decay))
        if ckpt is not None and ckpt["loop"]["stage"] == si and not ckpt["loop"].get("stage_done"):
            opt.load_state_dict(ckpt["optimizer"])
        plateau = Tracker(**state.plateau)
        early_mode = "min" if cfg.early_stopping_metric == "val_loss" else "max"
        early = Tracker(**{**state.early, "mode": early_mode})
        write_status(stage=si, stage_name=stage.name, trainable_params=counts["trainable"],
                     frozen_params=counts["frozen"])
        total_steps = stage.epochs * steps_per_epoch

        for _ in range(state.stage_epoch, stage.epochs):
            epoch = state.epoch + 1
            torch.manual_seed(cfg.seed * 1000 + epoch)
            loader.set_epoch(epoch)
            model.train()
            freeze_bn_of_frozen(model)
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device, dtype=torch.long)
            seen = 0
            t0 = last_beat = time.time()
            check_every = 1 if device.type == "cpu" else 25
            emit("epoch_start", {"epoch": epoch, "stage": si, "stage_name": stage.name, "steps": steps_per_epoch})
            for step, (x, y) in enumerate(loader):
                gstep = state.stage_epoch * steps_per_epoch + step
                f = lr_factor(cfg, gstep, total_steps, steps_per_epoch, state.plateau_scale)
                for g in opt.param_groups:
                    g["lr"] = g["base_lr"] * f
                if cfg.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                with _autocast(device, amp):
                    logits = net(x)
                    loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
                opt.zero_grad(set_to_none=True)
                if scaler is not None:
                    scaler.scale(loss).backward()
                    scaler.step(opt)
                    scaler.update()
                else:
                    loss.backward()
                    opt.step()
                loss_sum += loss.detach() * len(y)
                correct += (logits.detach().argmax(1) == y).sum()
                seen += len(y)
                now = time.time()
                if step % check_every == 0 or step == steps_per_epoch - 1:
                    bad = not bool(torch.isfinite(loss_sum))
                    stop = stop_path is not None and stop_path.exists()
                    stop, bad = ddp.any_flag([stop, bad], dist, device)
                    if bad:
                        raise NonFiniteLoss(
                            f"the loss became NaN or infinite in epoch {epoch} (step {step + 1}) at learning rate "
                            f"{opt.param_groups[0]['lr']:.3g}. Hint: lower the learning rate (e.g. 10x), add warmup, "
                            "or switch amp to 'none'/'bf16'."
                        )
                    if stop:
                        raise StopRequested()
                emit("step", {"epoch": epoch, "step": step + 1, "steps": steps_per_epoch, "loss": None})
                if now - last_beat >= 1.0 and dist.is_main:
                    last_beat = now
                    ips = seen * dist.world / max(1e-9, now - t0)
                    left = (total_epochs - epoch) * steps_per_epoch + (steps_per_epoch - step - 1)
                    write_status(phase="train", epoch=epoch, step=step + 1, lr=opt.param_groups[0]["lr"],
                                 train_loss=float(loss_sum) / seen, images_per_s=ips,
                                 eta_s=left * cfg.batch_size * dist.world / max(ips, 1e-9), **_gpu_mem(device))
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            epoch_time = time.time() - t0
            state.train_time += epoch_time
            train_loss, train_acc = float(loss_sum) / max(1, seen), float(correct) / max(1, seen)

            write_status(phase="eval", epoch=epoch, step=steps_per_epoch)
            if len(val_y):
                val_loss, val_acc, _ = evaluate(model, val_x, val_y, device, amp=amp, channels_last=cfg.channels_last)
            else:
                val_loss, val_acc = train_loss, train_acc
            ips = seen * dist.world / max(1e-9, epoch_time)
            row = {"epoch": epoch, "stage": si, "stage_name": stage.name, "train_loss": train_loss,
                   "train_acc": train_acc, "val_loss": val_loss, "val_acc": val_acc,
                   "lr": opt.param_groups[0]["lr"], "epoch_time": epoch_time, "wall": time.time(),
                   "images_per_s": ips, "trainable_params": counts["trainable"]}
            if not math.isfinite(val_loss):
                raise NonFiniteLoss(f"the validation loss is {val_loss} after epoch {epoch}. Hint: lower the learning rate.")
            monitor = val_loss if cfg.early_stopping_metric == "val_loss" else val_acc
            best.mode = early_mode
            is_best = best.update(monitor)
            if is_best:
                state.best_epoch = epoch
            if cfg.schedule == "plateau" and not plateau.update(val_loss) and plateau.bad > cfg.plateau_patience:
                state.plateau_scale *= cfg.plateau_factor
                plateau.bad = 0
            early.update(monitor)
            stop_early = cfg.early_stopping_patience > 0 and early.bad >= cfg.early_stopping_patience
            state.epoch, state.stage_epoch = epoch, state.stage_epoch + 1
            state.stage_done = stop_early or state.stage_epoch >= stage.epochs
            state.plateau, state.early, state.best = plateau.state(), early.state(), best.state()
            row["early_stop"] = stop_early
            if run is not None and dist.is_main:
                _save_checkpoint(run, model, opt, state, row, is_best)
                _append_history(run, row)
            write_status(phase="train", epoch=epoch, step=steps_per_epoch, images_per_s=ips, eta_s=_eta(state, stages, epoch_time),
                         best_epoch=state.best_epoch, **_gpu_mem(device))
            emit("epoch_end", row)
            if stop_early:
                write_status(note=f"early stopping in stage {si + 1} after epoch {epoch}")
                break

    # ---- test -------------------------------------------------------------------------------
    ddp.barrier(dist)
    if run is None or not dist.is_main:
        return "completed"
    write_status(phase="test")
    from safetensors.torch import load_file

    best_path = run.path / "weights_best.safetensors"
    if best_path.is_file():
        model.load_state_dict(load_file(str(best_path)))
    test = splits.test
    test_loss, test_acc, probs = evaluate(model, test.images, test.labels, device, amp=amp, channels_last=cfg.channels_last)
    indices = test.indices if test.indices is not None else torch.arange(len(test))
    run.write_predictions(test.labels.numpy(), probs.numpy(), indices.numpy())
    hist = run.history()
    from explorer.io import atomic_write_json

    atomic_write_json(run.path / "metrics.json", {
        "test_acc": test_acc, "test_loss": test_loss, "test_size": len(test), "best_epoch": state.best_epoch,
        "best_val_acc": max((h["val_acc"] for h in hist), default=None), "epochs_done": state.epoch,
        "train_time_s": state.train_time, "wall_time_s": time.time() - t_start,
        "images_per_s": float(np.mean([h["images_per_s"] for h in hist])) if hist else None,
        "device": device_label(device), "world_size": dist.world,
    })  # fmt: skip
    write_status(status="completed", phase="done", test_acc=test_acc, eta_s=0)
    return "completed"


def _append_history(run: Run, row: dict[str, Any]) -> None:
    from explorer.io import append_jsonl

    append_jsonl(run.path / "history.jsonl", row)


def _eta(state: LoopState, stages: tuple[Stage, ...], epoch_time: float) -> float:
    left = sum(s.epochs for s in stages) - state.epoch
    return max(0.0, left * epoch_time)


def _gpu_mem(device: torch.device) -> dict[str, float]:
    if device.type != "cuda":
        return {}
    peak = torch.cuda.max_memory_allocated(device) / 2**20
    return {"gpu_mem_mb": peak, "gpu_mem_peak_mb": peak,
            "gpu_mem_now_mb": torch.cuda.memory_allocated(device) / 2**20,
            "gpu_mem_reserved_mb": torch.cuda.memory_reserved(device) / 2**20,
            "gpu_mem_total_mb": torch.cuda.get_device_properties(device).total_memory / 2**20}


def sync_history(run: Run) -> None:
    """On resume: keep history rows up to the checkpoint's epoch, add the checkpoint's row if missing."""
    ckpt = _load_checkpoint(run)
    if ckpt is None:
        (run.path / "history.jsonl").unlink(missing_ok=True)
        return
    done = int(ckpt["loop"]["epoch"])
    rows = [r for r in run.history() if int(r.get("epoch", 0)) <= done]
    if not any(int(r.get("epoch", 0)) == done for r in rows) and ckpt.get("history_row"):
        rows.append(dict(ckpt["history_row"]))
    import json

    from explorer.io import atomic_write_text

    atomic_write_text(run.path / "history.jsonl", "".join(json.dumps(r) + "\n" for r in rows))


def train(cfg: TrainConfig, root: str | os.PathLike | None = None, run_dir: str | os.PathLike | None = None,
          resume: bool = False, callback: Callback | None = None, name: str | None = None,
          tags: list[str] | None = None) -> Run | None:
    """Run a training job end to end: create (or reopen) the run folder on rank 0 and fit.

    Returns the Run (None on non-zero DDP ranks). ValueError for a config refused before start.
    """
    from explorer.runs import create_run, open_run

    is_main = int(os.environ.get("RANK", "0")) == 0
    run: Run | None = None
    if run_dir is not None:
        run = open_run(run_dir)
        cfg = run.train_config()
        if is_main:
            (run.path / STOP_FILE).unlink(missing_ok=True)
            if resume or (run.path / "optimizer_last.pt").is_file():
                resume = True
                sync_history(run)
            run.write_status(status="running", pid=os.getpid(), error=None, phase="starting")
    else:
        precheck(cfg)
        if is_main:
            run = create_run(cfg, root, name=name, tags=tags)
    fit(cfg, run, resume=resume, callback=callback)
    return run if is_main else None
