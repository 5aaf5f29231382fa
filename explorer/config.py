"""Configuration as frozen dataclasses: one TrainConfig says everything a training run does.

`TrainConfig.to_dict()` / `from_dict()` round-trip through JSON (the run's config.json);
`validate()` refuses impossible settings before anything starts, with the reason.
"""

from __future__ import annotations

import math
import re
from dataclasses import MISSING, Field, asdict, dataclass, field, fields, replace
from typing import Any

from explorer.data.spec import Augment, DataSpec

OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("none", "step", "cosine", "onecycle", "plateau")
TRANSFER_MODES = ("scratch", "frozen", "last_n", "finetune")
TRANSFER_TEXT = {
    "scratch": "from scratch (random init, everything trains)",
    "frozen": "frozen backbone (only the classifier head trains)",
    "last_n": "unfreeze the last N parameterised layers",
    "finetune": "full fine-tune, backbone at a lower LR",
}
# Short option texts for the form (the values stay the config's); the long ones go in the field's help.
CHOICE_TEXT: dict[str, dict[str, str]] = {
    "optimizer": {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"},
    "schedule": {"none": "constant", "step": "step decay", "cosine": "cosine", "onecycle": "one-cycle",
                 "plateau": "reduce on plateau"},
    "early_stopping_metric": {"val_loss": "validation loss", "val_acc": "validation accuracy"},
    "transfer": {"scratch": "from scratch", "frozen": "frozen backbone", "last_n": "unfreeze last N",
                 "finetune": "full fine-tune"},
    "head": {"default": "the model's own", "dropout_linear": "dropout + linear", "mlp_dropout": "MLP + dropout"},
    "init": {"default": "library default", "he": "He (variance scaling)"},
    "amp": {"none": "off (float32)", "bf16": "bfloat16", "fp16": "float16"},
}
AMP_MODES = ("none", "bf16", "fp16")
HEADS = ("default", "dropout_linear", "mlp_dropout")
INITS = ("default", "he")
EARLY_METRICS = ("val_loss", "val_acc")


SEED_MAX = 2**31 - 1
MAX_STAGES = 20
MAX_TOTAL_EPOCHS = 1000  # over all stages (each stage's epochs also obey the epochs field's bound)
MAX_TEXT = 200  # model, run and stage names
DEVICE_RE = re.compile(r"(auto|cpu|cuda(:\d{1,2})?)")


def default_data() -> DataSpec:
    """The default data spec (built-in letters)."""
    return DataSpec()


def _f(default: Any = MISSING, *, help: str, label: str = "", lo: float | None = None, hi: float | None = None,
       lo_open: bool = False, hi_open: bool = False, choices: tuple[str, ...] = (), why: str = "",
       cli: bool = True, factory: Any = MISSING, alias: str = "") -> Any:
    """A dataclass field whose metadata (help, bounds, choices) drives validate(), the CLI and the form."""
    meta = {"help": help, "label": label, "lo": lo, "hi": hi, "lo_open": lo_open, "hi_open": hi_open,
            "choices": choices, "why": why, "cli": cli, "alias": alias}
    if factory is not MISSING:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


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
        """Build from to_dict output (unknown keys and a non-object are an error)."""
        if not isinstance(d, dict):
            raise ValueError(f"a stage must be a JSON object, got {type(d).__name__}")
        _check_keys(cls, d)
        return cls(**d)


@dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs: model, data, recipe, precision, seed, device."""

    model: str = _f("small_cnn", label="Model", help="the architecture (registry name, e.g. small_cnn or resnet18); the "
                    "Inspect page shows its layers and costs")
    data: DataSpec = _f(factory=DataSpec, label="Data", help="which dataset and split", cli=False)
    name: str = _f("", label="Run name", help="a name to find the run by (made safe for a folder name); empty: the run id", cli=False)
    epochs: int = _f(3, label="Epochs", help="passes over the training data (a staged recipe sets them per stage)", lo=1, hi=1000, why="zero epochs would train nothing")
    batch_size: int = _f(128, label="Batch size", help="images per training step", lo=1, hi=65536)
    optimizer: str = _f("sgd", label="Optimizer", help="how the weights move: SGD (with momentum), Adam, or AdamW "
                           "(Adam with decoupled weight decay)", choices=OPTIMIZERS)
    lr: float = _f(0.05, label="Learning rate", help="the peak learning rate (the schedule moves it from there)", lo=0.0, hi=1e6, lo_open=True)
    momentum: float = _f(0.9, label="Momentum (SGD)", help="SGD momentum: how much of the last step carries into the next", lo=0.0, hi=1.0, hi_open=True)
    nesterov: bool = _f(True, label="Nesterov momentum", help="Nesterov momentum: look ahead along the momentum (SGD only)")
    weight_decay: float = _f(5e-4, label="Weight decay", help="L2 weight decay (not on biases and norms)", lo=0.0,
                             hi=1.0)
    schedule: str = _f("onecycle", label="LR schedule", help="how the learning rate changes over the run: constant; step "
                          "decay (x gamma every step size epochs); cosine (down to zero); one-cycle (up, then down, "
                          "every step); reduce on plateau (x factor when the validation loss stalls)", choices=SCHEDULES)
    warmup_epochs: float = _f(0.0, label="Warmup epochs", help="linear learning-rate warmup from zero, in epochs", lo=0.0, hi=100.0,
                              alias="--warmup")
    step_size: int = _f(0, label="Step size", help="'step' schedule: epochs between LR drops (0 = a third of the "
                        "epochs)", lo=0, hi=1000)
    gamma: float = _f(0.1, label="Step gamma", help="'step' schedule: LR factor at each drop", lo=0.0, hi=1.0,
                      lo_open=True)
    plateau_factor: float = _f(0.5, label="Plateau factor", help="'plateau' schedule: LR factor when the val loss "
                               "stalls", lo=0.0, hi=1.0, lo_open=True, hi_open=True)
    plateau_patience: int = _f(1, label="Plateau patience", help="'plateau' schedule: epochs without improvement "
                               "before the LR drops", lo=0, hi=100)
    label_smoothing: float = _f(0.0, label="Label smoothing", help="label smoothing of the cross-entropy", lo=0.0,
                                hi=1.0, hi_open=True)
    early_stopping_metric: str = _f("val_loss", label="Early stopping on", help="what early stopping watches: the validation loss or the "
                                    "validation accuracy",
                                    choices=EARLY_METRICS, alias="--early-stopping")
    early_stopping_patience: int = _f(0, label="Early stopping patience", help="epochs without improvement "
                                      "before the run stops (0 = off)", lo=0, hi=100, alias="--patience")
    transfer: str = _f("scratch", label="Transfer mode", help="what trains: " + "; ".join(TRANSFER_TEXT.values()),
                  choices=TRANSFER_MODES)
    pretrained: bool = _f(False, label="ImageNet weights", help="ImageNet weights from the "
                          "local cache when there (else from scratch, said plainly)")
    unfreeze_last_n: int = _f(0, label="Unfreeze last N layers", help="transfer 'last_n': parameterised layers "
                              "to unfreeze", lo=0, hi=10000, alias="--unfreeze-last")
    backbone_lr_mult: float = _f(0.1, label="Backbone LR factor", help="transfer 'finetune': backbone LR "
                                 "factor", lo=0.0, hi=10.0, lo_open=True)
    stages: tuple[Stage, ...] = _f((), label="Stages", help="stages of a multi-stage run", cli=False)
    head: str = _f("default", label="Classifier head", help="the classifier head: the model's own; dropout + linear; or an "
                      "MLP (hidden widths 256, 128) with dropout", choices=HEADS)
    dropout: float = _f(0.0, label="Dropout (head)", help="dropout before the classifier head's last layer (0 = off)", lo=0.0, hi=1.0, hi_open=True)
    head_hidden: tuple[int, ...] = _f((256, 128), label="Hidden layers (head)", help="'mlp_dropout' head: hidden layer widths (at most 8)", lo=1,
                                      hi=4096, cli=False)
    init: str = _f("default", label="Weight init", help="weight init when training from scratch: the library's default, or "
                      "He (variance scaling, for ReLU networks)", choices=INITS)
    augment: Augment | None = _f(None, label="Augmentation", help="random small rotations, zooms and shifts of each batch (no flips); off when unset", cli=False)
    amp: str = _f("none", label="Mixed precision (GPU)", help="mixed precision on a GPU: off (float32), bfloat16, or "
                     "float16 with a gradient scaler; a CPU run trains in float32", choices=AMP_MODES)
    channels_last: bool = _f(False, label="Channels-last memory layout", help="keep images and weights channels-last "
                                "(NHWC, torch's channels_last); often faster on GPUs")
    compile: bool = _f(False, label="Compile the model", help="torch.compile the model: faster epochs after a slow "
                          "first one (the compile time)")
    seed: int = _f(0, label="Seed", help="random seed of the weights, data order and augmentation (same seed, same run)", lo=0, hi=SEED_MAX)
    device: str = _f("auto", label="Device", help="auto (default), cpu, cuda, cuda:N")

    def __post_init__(self) -> None:
        """Accept the dict forms of data and augment (config.json of existing runs) and store them typed."""
        if not isinstance(self.data, DataSpec):
            object.__setattr__(self, "data", DataSpec.from_dict(self.data or {}))
        if self.augment is not None and not isinstance(self.augment, Augment):
            object.__setattr__(self, "augment", Augment.from_dict(self.augment))

    # ---- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (stages as dicts, tuples as lists)."""
        d = asdict(self)
        d["stages"] = [s.to_dict() for s in self.stages]
        d["head_hidden"] = list(self.head_hidden)
        d["data"] = self.data.to_dict()
        d["augment"] = self.augment.to_dict() if self.augment is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Build from to_dict output; unknown keys, wrong shapes (a list where an object belongs) and
        wrong types are a ValueError naming the key."""
        if not isinstance(d, dict):
            raise ValueError(f"a training config must be a JSON object, got {type(d).__name__}")
        _check_keys(cls, d)
        d = dict(d)
        for key, kind in (("stages", list | tuple), ("head_hidden", list | tuple), ("data", dict | DataSpec),
                          ("augment", dict | Augment | None)):
            if key in d and d[key] is not None and not isinstance(d[key], kind):
                raise ValueError(f"{key} has the wrong type ({type(d[key]).__name__}) in the training config")
        if len(d.get("stages") or ()) > MAX_STAGES:
            raise ValueError(f"at most {MAX_STAGES} stages, got {len(d['stages'])}")
        if len(d.get("head_hidden") or ()) > 8:
            raise ValueError(f"head_hidden has at most 8 layer widths, got {len(d['head_hidden'])}")
        try:
            if "stages" in d:
                d["stages"] = tuple(s if isinstance(s, Stage) else Stage.from_dict(s) for s in d["stages"] or ())
            if "head_hidden" in d:
                d["head_hidden"] = tuple(_int(v, "head_hidden") for v in d["head_hidden"])
            return cls(**d)
        except TypeError as exc:
            raise ValueError(f"invalid training config: {exc}") from exc

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
        for f in fields(self):
            if f.name in ("epochs", "lr") and self.stages:
                continue  # the stages carry them
            check_field(f, f.name, getattr(self, f.name))
        if not self.model.strip():
            raise ValueError("model must be a registry name, e.g. small_cnn or resnet18")
        self._check_sizes()
        own = {f.name: f for f in fields(self)}
        for i, s in enumerate(self.stages):
            for key in ("epochs", "lr", "transfer", "unfreeze_last_n"):
                check_field(own[key], f"stage {i + 1} ({s.name}) {key}", getattr(s, key))
        for st in self.stage_list():
            if st.transfer == "last_n" and st.unfreeze_last_n < 1:
                raise ValueError("transfer 'last_n' needs unfreeze_last_n >= 1 (how many layers to unfreeze)")
            if num_trainable_layers is not None and st.unfreeze_last_n > num_trainable_layers:
                raise ValueError(
                    f"cannot unfreeze the last {st.unfreeze_last_n} layers of {self.model}: it has only "
                    f"{num_trainable_layers} parameterised layers"
                )
        if self.warmup_epochs >= max(1, self.total_epochs) and self.warmup_epochs > 0:
            raise ValueError(f"warmup_epochs ({self.warmup_epochs}) must be shorter than the run ({self.total_epochs} epochs)")
        if self.head == "mlp_dropout" and not self.head_hidden:
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
        return self


    def _check_sizes(self) -> None:
        """Bounds that no single field's metadata carries: stage count, total epochs, text lengths, device."""
        if len(self.stages) > MAX_STAGES:
            raise ValueError(f"at most {MAX_STAGES} stages, got {len(self.stages)}")
        if self.total_epochs > MAX_TOTAL_EPOCHS:
            raise ValueError(f"at most {MAX_TOTAL_EPOCHS} epochs over all stages, got {self.total_epochs}")
        if len(self.head_hidden) > 8:
            raise ValueError(f"head_hidden has at most 8 layer widths, got {len(self.head_hidden)}")
        texts = [("model", self.model), ("name", self.name)] + [("stage name", s.name) for s in self.stages]
        for label, text in texts:
            if not isinstance(text, str) or len(text) > MAX_TEXT:
                raise ValueError(f"{label} must be text of at most {MAX_TEXT} characters, got {str(text)[:40]!r}...")
        if not isinstance(self.device, str) or not DEVICE_RE.fullmatch(self.device):
            raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {self.device!r}")


def _int(value: Any, label: str) -> int:
    """A whole number from JSON (an int, or a float/string holding one); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{label} must hold whole numbers, got {value!r}")
    return int(value)


def _check_keys(cls: type, d: dict[str, Any]) -> None:
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {sorted(unknown)}; valid keys: {sorted(names)}")


def _choice(label: str, value: Any, options: tuple[str, ...]) -> None:
    if value not in options:
        raise ValueError(f"{label} must be one of {', '.join(options)}; got {value!r}")


def check_field(f: Field, label: str, value: Any) -> None:
    """Check one value against its field's metadata (type, choices, bounds); ValueError names the rule."""
    meta, kind = f.metadata, str(f.type)
    if meta.get("choices"):
        _choice(label, value, meta["choices"])
    elif kind == "bool" and not isinstance(value, bool):
        raise ValueError(f"{label} must be true or false, got {value!r}")
    elif kind == "str" and not isinstance(value, str):
        raise ValueError(f"{label} must be text, got {value!r}")
    elif kind == "int":
        _whole(label, value, int(meta["lo"]), meta.get("why", ""), hi=meta["hi"])
    elif kind == "float":
        _range(label, value, meta["lo"], meta["hi"], meta["lo_open"], meta["hi_open"])
    elif kind.startswith("tuple[int"):
        if not isinstance(value, tuple | list) or len(value) > 16:
            raise ValueError(f"{label} must be a list of at most 16 whole numbers, got {value!r}")
        for v in value:
            _whole(label, v, int(meta["lo"]), hi=meta["hi"])


def _whole(label: str, value: Any, low: int, why: str = "", hi: float | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        extra = f" ({why})" if why and isinstance(value, int) and value < low else ""
        raise ValueError(f"{label} must be a whole number >= {low}, got {value!r}{extra}")
    if hi is not None and value > hi:
        raise ValueError(f"{label} must be a whole number <= {int(hi)}, got {value!r}")


def _range(label: str, value: Any, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)
    if not ok:
        if lo == 0 and lo_open and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise ValueError(f"{label} must be a finite number > 0, got {value!r}")
        lb, rb = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ValueError(f"{label} must be in {lb}{lo:g}, {hi:g}{rb}, got {value!r}")


def used_settings(train: Any) -> dict[str, Any]:
    """A run's training settings as the run used them (config.json's "train" record): a field the record leaves
    out takes the config's default, and a default the data loader fills in (the built-in letters' images per
    class) is written out, so a missing value never reads as a difference ("1000 vs None"). A record that is not
    a valid config comes back as it is (a dict; {} for anything else): the readers type-check its values."""
    if not isinstance(train, dict):
        return {}
    try:
        cfg = TrainConfig.from_dict(train)
        return cfg.replace(data=cfg.data.with_defaults()).to_dict()
    except (ValueError, TypeError, KeyError, AttributeError):
        return dict(train)


# Keys of a run's config.json that are not settings (the record of what was built and split), as words.
RECORD_LABELS = {
    "model.name": "Model (built)", "model.num_classes": "Classes", "model.input_size": "Input size",
    "model.params": "Parameters", "data.dataset": "Dataset (split)", "data.val_indices_sha256": "Validation split hash",
    "classes": "Class names",
}  # fmt: skip
_SETTING_TYPES = {"train": TrainConfig, "train.data": DataSpec, "train.augment": Augment}


def field_label(cls: type, name: str) -> str:
    """The label of a settings field (its metadata's: TrainConfig, DataSpec, Augment), else its name in words."""
    meta = {f.name: f.metadata for f in fields(cls)}.get(name) or {}
    return meta.get("label") or name.replace("_", " ").capitalize()


def setting_label(key: str) -> str:
    """A flattened config.json key as words, one label per setting everywhere (the Train form, Compare runs,
    sweeps): "train.lr" -> "Learning rate" and "train.data.size" -> "Images per class" from the fields'
    metadata; the record's other keys from RECORD_LABELS; anything else its words ("versions.torch" ->
    "Versions › torch")."""
    prefix, _, name = key.rpartition(".")
    if prefix in _SETTING_TYPES and name in {f.name for f in fields(_SETTING_TYPES[prefix])}:
        return field_label(_SETTING_TYPES[prefix], name)
    if key in RECORD_LABELS:
        return RECORD_LABELS[key]
    parts = key.split(".")
    if parts[0] == "train" and len(parts) > 1:
        parts = parts[1:]
    text = " › ".join(p.replace("_", " ") for p in parts)
    return text[:1].upper() + text[1:]
