"""Build the letters model a training config describes: pretrained weights when cached, the recipe's
head, He init. The run store and the trainer both build models here (explorer.runs never imports the
trainer)."""

from __future__ import annotations

from typing import Any, Protocol

from torch import nn

from explorer.models.build import LettersModel, build_letters_model
from explorer.models.registry import WeightsNotFoundError, model_card


class ModelConfig(Protocol):
    """The fields of a TrainConfig that say which model to build (explorer.config sits above models)."""

    model: str
    pretrained: bool
    init: str
    head: str
    dropout: float
    head_hidden: tuple[int, ...]


def head_name(model: LettersModel) -> str:
    """Name (in model.net) of the classifier head: the model card's `classifier` (as timm's pretrained_cfg)."""
    return model_card(model).classifier


def _set_submodule(root: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, child, new)


def replace_head(model: LettersModel, kind: str, dropout: float = 0.0, hidden: tuple[int, ...] = (256, 128)) -> str:
    """Swap the classifier head for `kind` ("default" keeps it; "dropout_linear": Dropout + Linear;
    "mlp_dropout": len(hidden) dense+ReLU+Dropout layers then Linear) and return its name."""
    name = head_name(model)
    old = model.net.get_submodule(name)
    if kind != "default":
        if not isinstance(old, nn.Linear):
            raise ValueError(f"head {kind!r} needs a linear classifier; {model.name}'s head is {type(old).__name__}")
        layers: list[nn.Module] = []
        width = old.in_features
        if kind == "mlp_dropout":
            for h in hidden:
                layers += [nn.Linear(width, h), nn.ReLU(inplace=True), nn.Dropout(dropout)]
                width = h
        else:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(width, model.num_classes))
        _set_submodule(model.net, name, nn.Sequential(*layers))
    return name


def he_init(model: nn.Module) -> None:
    """Variance-scaled (He / Kaiming normal, fan_out, ReLU) init of convs; BN to (1, 0); linears normal(0, 0.01)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d | nn.GroupNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, 0, 0.01)
            nn.init.zeros_(m.bias)


def build_from_config(cfg: ModelConfig, num_classes: int, load_pretrained: bool = True,
                      spec: Any = None) -> tuple[LettersModel, list[str]]:
    """Build the model a config describes; returns (model, notes for the user).

    load_pretrained=False skips the ImageNet weights (when the weights are loaded from a run anyway);
    spec: the design a run keeps (Run.model_spec()), so a run rebuilds what it trained.
    """
    notes: list[str] = []
    model = None
    if cfg.pretrained and load_pretrained:
        try:
            model = build_letters_model(cfg.model, num_classes=num_classes, pretrained=True, spec=spec)
            notes.append("ImageNet weights loaded from the local cache.")
        except (WeightsNotFoundError, FileNotFoundError, RuntimeError, ValueError) as exc:
            first = str(exc).split(". ")[0]
            notes.append(f"ImageNet weights are not in the local cache, so {cfg.model} trains FROM SCRATCH ({first}).")
    if model is None:
        model = build_letters_model(cfg.model, num_classes=num_classes, pretrained=False, spec=spec)
        if cfg.init == "he":
            he_init(model)
            notes.append("He (variance-scaled) initialisation.")
    replace_head(model, cfg.head, cfg.dropout, cfg.head_hidden)
    return model, notes
