"""The learning-rate schedule and the epoch-end bookkeeping: LR factor, plateau and early-stopping
trackers and the best epoch, all kept as objects in `LoopState` and saved as plain data in checkpoints."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from explorer.config import TrainConfig


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


TRACKERS = ("plateau", "early", "best")


@dataclass
class LoopState:
    """Where a run is: saved with every checkpoint so a run resumes exactly after its last epoch."""

    epoch: int = 0  # completed epochs over all stages
    stage: int = 0
    stage_epoch: int = 0  # completed epochs in the current stage
    stage_done: bool = False
    plateau_scale: float = 1.0
    plateau: Tracker = field(default_factory=lambda: Tracker("min"))
    early: Tracker = field(default_factory=lambda: Tracker("min"))
    best: Tracker = field(default_factory=lambda: Tracker("max"))
    best_epoch: int = 0
    train_time: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain data (numbers, dicts) for a checkpoint loaded with weights_only=True."""
        return {k: v.state() if isinstance(v, Tracker) else v for k, v in self.__dict__.items()}

    def load(self, d: dict[str, Any]) -> None:
        """Take the state of a checkpoint's to_dict()."""
        for k, v in d.items():
            setattr(self, k, Tracker(**v) if k in TRACKERS else v)

    def start_stage(self, stage: int) -> None:
        """Enter `stage`: its epoch count, plateau scale and trackers start afresh (early keeps its mode)."""
        self.stage, self.stage_epoch, self.stage_done = stage, 0, False
        self.plateau_scale = 1.0
        self.plateau = Tracker("min")
        self.early = Tracker(self.early.mode)

    def end_epoch(self, cfg: TrainConfig, stage_epochs: int, val_loss: float, val_acc: float) -> tuple[bool, bool]:
        """Book one completed epoch: (is_best, stop_early). Plateau scales the LR after `plateau_patience`
        epochs without a lower val_loss; early stopping after `early_stopping_patience` without improvement."""
        monitor = val_loss if cfg.early_stopping_metric == "val_loss" else val_acc
        self.best.mode = self.early.mode = "min" if cfg.early_stopping_metric == "val_loss" else "max"
        is_best = self.best.update(monitor)
        self.epoch += 1
        if is_best:
            self.best_epoch = self.epoch
        if cfg.schedule == "plateau" and not self.plateau.update(val_loss) and self.plateau.bad > cfg.plateau_patience:
            self.plateau_scale *= cfg.plateau_factor
            self.plateau.bad = 0
        self.early.update(monitor)
        stop_early = cfg.early_stopping_patience > 0 and self.early.bad >= cfg.early_stopping_patience
        self.stage_epoch += 1
        self.stage_done = stop_early or self.stage_epoch >= stage_epochs
        return is_best, stop_early

    def eta_s(self, total_epochs: int, epoch_time: float) -> float:
        """Seconds left at `epoch_time` per epoch."""
        return max(0.0, (total_epochs - self.epoch) * epoch_time)
