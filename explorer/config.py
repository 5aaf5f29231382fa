"""Configuration as frozen dataclasses: one TrainConfig says everything a training run does.

`TrainConfig.to_dict()` / `from_dict()` round-trip through JSON (the run's config.json);
`validate()` refuses impossible settings before anything starts, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "step", "cosine", "onecycle", "plateau")
TRANSFER_MODES = ("scratch", "frozen", "last_n", "finetune")
TRANSFER_TEXT = {
    "scratch": "from scratch (random init, everything trains)",
    "frozen": "frozen backbone (only the classifier head trains)",
    "last_n": "unfreeze the last N parameterised layers",
    "finetune": "full fine-tune, backbone at a lower LR",
}
AMP_MODES = ("none", "bf16", "fp16")
HEADS = ("default", "dropout_linear", "mlp_dropout")
INITS = ("default", "he")
EARLY_METRICS = ("val_loss", "val_acc")


def default_data() -> dict[str, Any]:
    """The default data spec (built-in letters), as a plain dict."""
    return {"name": "letters-builtin", "root": None, "size": None, "seed": 0, "val_fraction": 0.1, "gen_seed": 0}


@dataclass(frozen=True)
class Stage:
    """One stage of a multi-stage run (e.g. frozen base, then the last 20 layers unfrozen)."""

    name: str = "main"
    epochs: int = 1
    lr: float = 1e-3
    transfer: str = "scratch"
    unfreeze_last_n: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Stage:
        """Build from to_dict output (unknown keys are an error)."""
        _check_keys(cls, d)
        return cls(**d)


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs: model, data, recipe, precision, seed, device."""

    model: str = "small_cnn"
    data: dict[str, Any] = field(default_factory=default_data)
    name: str = ""
    epochs: int = 3
    batch_size: int = 128
    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    schedule: str = "onecycle"
    warmup_epochs: float = 0.0
    step_size: int = 0  # "step": epochs between LR drops (0 = a third of the epochs)
    gamma: float = 0.1  # "step": LR factor at each drop
    plateau_factor: float = 0.5  # "plateau": LR factor when the val loss stalls
    plateau_patience: int = 1
    label_smoothing: float = 0.0
    early_stopping_metric: str = "val_loss"
    early_stopping_patience: int = 0  # 0 = off
    transfer: str = "scratch"
    pretrained: bool = False  # ImageNet weights from the local cache when there (else from scratch, said plainly)
    unfreeze_last_n: int = 0
    backbone_lr_mult: float = 0.1
    stages: tuple[Stage, ...] = ()
    head: str = "default"
    dropout: float = 0.0
    head_hidden: tuple[int, ...] = (256, 128)
    init: str = "default"
    augment: dict[str, Any] | None = None
    amp: str = "none"
    channels_last: bool = False
    compile: bool = False
    seed: int = 0
    device: str = "auto"

    # ---- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (stages as dicts, tuples as lists)."""
        d = asdict(self)
        d["stages"] = [s.to_dict() for s in self.stages]
        d["head_hidden"] = list(self.head_hidden)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from to_dict output; unknown keys are an error naming the valid ones."""
        _check_keys(cls, d)
        d = dict(d)
        if "stages" in d:
            d["stages"] = tuple(s if isinstance(s, Stage) else Stage.from_dict(s) for s in d["stages"] or ())
        if "head_hidden" in d:
            d["head_hidden"] = tuple(int(v) for v in d["head_hidden"])
        if "data" in d and d["data"] is not None and not isinstance(d["data"], dict):
            d["data"] = d["data"].to_dict()
        if "data" in d:
            d["data"] = {**default_data(), **(d["data"] or {})}
        return cls(**d)

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)

    # ---- derived -------------------------------------------------------------------------
    def stage_list(self) -> tuple[Stage, ...]:
        """The stages this run goes through (one stage built from the top-level fields if none given)."""
        if self.stages:
            return self.stages
        return (Stage("main", self.epochs, self.lr, self.transfer, self.unfreeze_last_n),)

    @property
    def total_epochs(self) -> int:
        """Epochs over all stages."""
        return sum(s.epochs for s in self.stage_list())

    # ---- validation ----------------------------------------------------------------------
    def validate(self, train_size: int | None = None, num_trainable_layers: int | None = None) -> TrainConfig:
        """Raise ValueError with the reason if a setting is impossible; return self when fine.

        train_size: images in the training split (refuses a larger batch); num_trainable_layers:
        parameterised layers in the model (refuses unfreezing more than it has).
        """
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("schedule", self.schedule, SCHEDULES)
        _choice("transfer", self.transfer, TRANSFER_MODES)
        _choice("amp", self.amp, AMP_MODES)
        _choice("head", self.head, HEADS)
        _choice("init", self.init, INITS)
        _choice("early_stopping_metric", self.early_stopping_metric, EARLY_METRICS)
        if not isinstance(self.model, str) or not self.model.strip():
            raise ValueError("model must be a registry name, e.g. small_cnn or resnet18")
        _whole("batch_size", self.batch_size, 1)
        _whole("seed", self.seed, 0)
        _whole("early_stopping_patience", self.early_stopping_patience, 0)
        _whole("step_size", self.step_size, 0)
        _whole("plateau_patience", self.plateau_patience, 0)
        _whole("unfreeze_last_n", self.unfreeze_last_n, 0)
        if not self.stages:
            _whole("epochs", self.epochs, 1, "zero epochs would train nothing")
            _positive("lr", self.lr)
        for i, s in enumerate(self.stages):
            _whole(f"stage {i + 1} ({s.name}) epochs", s.epochs, 1, "zero epochs would train nothing")
            _positive(f"stage {i + 1} ({s.name}) lr", s.lr)
            _choice(f"stage {i + 1} ({s.name}) transfer", s.transfer, TRANSFER_MODES)
            _whole(f"stage {i + 1} ({s.name}) unfreeze_last_n", s.unfreeze_last_n, 0)
        for st in self.stage_list():
            if st.transfer == "last_n" and st.unfreeze_last_n < 1:
                raise ValueError("transfer 'last_n' needs unfreeze_last_n >= 1 (how many layers to unfreeze)")
            if num_trainable_layers is not None and st.unfreeze_last_n > num_trainable_layers:
                raise ValueError(
                    f"cannot unfreeze the last {st.unfreeze_last_n} layers of {self.model}: it has only "
                    f"{num_trainable_layers} parameterised layers"
                )
        _range("momentum", self.momentum, 0.0, 1.0, hi_open=True)
        _range("weight_decay", self.weight_decay, 0.0, math.inf)
        _range("label_smoothing", self.label_smoothing, 0.0, 1.0, hi_open=True)
        _range("dropout", self.dropout, 0.0, 1.0, hi_open=True)
        _range("warmup_epochs", self.warmup_epochs, 0.0, math.inf)
        if self.warmup_epochs >= max(1, self.total_epochs) and self.warmup_epochs > 0:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) must be shorter than the run ({self.total_epochs} epochs)")
        _range("gamma", self.gamma, 0.0, 1.0, lo_open=True)
        _range("plateau_factor", self.plateau_factor, 0.0, 1.0, lo_open=True, hi_open=True)
        _range("backbone_lr_mult", self.backbone_lr_mult, 0.0, math.inf, lo_open=True)
        if any(int(h) < 1 for h in self.head_hidden) or (self.head == "mlp_dropout" and not self.head_hidden):
            raise ValueError(f"head_hidden must be positive layer widths, got {list(self.head_hidden)}")
        if self.nesterov and self.optimizer == "sgd" and self.momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        if not (self.device == "auto" or self.device == "cpu" or self.device.startswith("cuda")):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {self.device!r}")
        if train_size is not None and self.batch_size > train_size:
            raise ValueError(
                f"batch_size {self.batch_size} is larger than the training data ({train_size} images); "
                f"use at most {train_size}"
            )
        if self.augment is not None:
            from explorer.data import Augment

            Augment.from_dict(self.augment)
        if self.data:
            from explorer.data import DataSpec

            DataSpec.from_dict(self.data)
        return self


def _check_keys(cls: type, d: dict[str, Any]) -> None:
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {sorted(unknown)}; valid keys: {sorted(names)}")


def _choice(label: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ValueError(f"{label} must be one of {', '.join(options)}; got {value!r}")


def _whole(label: str, value: Any, low: int, why: str = "") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        extra = f" ({why})" if why and isinstance(value, int) and value < low else ""
        raise ValueError(f"{label} must be a whole number >= {low}, got {value!r}{extra}")


def _positive(label: str, value: Any) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{label} must be a finite number > 0, got {value!r}")


def _range(label: str, value: Any, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)
    if ok:
        ok = (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)
    if not ok:
        lb, rb = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ValueError(f"{label} must be in {lb}{lo}, {hi}{rb}, got {value!r}")
