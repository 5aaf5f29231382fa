"""The freezing helpers of training stages (frozen backbone, unfreeze last N, lower backbone LR); building
the model of a config is explorer.models.build_from_config."""

from __future__ import annotations

from torch import nn

from explorer.config import Stage
from explorer.models import LettersModel
from explorer.models.from_config import (
    build_from_config,
    he_init,
    head_name,
    replace_head,
)

prepare_model = build_from_config  # the trainer's older name

__all__ = ["apply_stage", "build_from_config", "freeze_bn_of_frozen", "he_init",
           "head_name", "param_groups", "param_layers", "prepare_model", "replace_head"]


def param_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Parameterised leaf modules (modules with their own parameters) in definition order."""
    return [(n, m) for n, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))]


def apply_stage(model: LettersModel, stage: Stage) -> dict[str, int]:
    """Set requires_grad for a stage's transfer mode; returns {"trainable": n, "frozen": n} parameter counts."""
    head = head_name(model)
    head_prefix = f"net.{head}"
    layers = param_layers(model)
    if stage.transfer in ("scratch", "finetune"):
        train_names = {n for n, _ in layers}
    elif stage.transfer == "frozen":
        train_names = {n for n, _ in layers if n == head_prefix or n.startswith(head_prefix + ".")}
    elif stage.transfer == "last_n":
        if stage.unfreeze_last_n > len(layers):
            raise ValueError(f"cannot unfreeze the last {stage.unfreeze_last_n} layers: the model has {len(layers)}")
        train_names = {n for n, _ in layers[-stage.unfreeze_last_n:]}
        train_names |= {n for n, _ in layers if n == head_prefix or n.startswith(head_prefix + ".")}
    else:
        raise ValueError(f"unknown transfer mode {stage.transfer!r}")
    for n, m in layers:
        for p in m.parameters(recurse=False):
            p.requires_grad_(n in train_names)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return {"trainable": trainable, "frozen": frozen}


def freeze_bn_of_frozen(model: nn.Module) -> None:
    """Put batch-norm layers whose parameters are frozen into eval mode (Keras' frozen-base behaviour)."""
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.weight is not None and not m.weight.requires_grad:
            m.eval()


def param_groups(model: LettersModel, stage: Stage, lr: float, backbone_lr_mult: float,
                 weight_decay: float) -> list[dict]:
    """Optimizer parameter groups: no weight decay on biases and norms; in "finetune" mode the
    backbone gets lr x backbone_lr_mult. Each group records its base LR in "base_lr"."""
    head_prefix = f"net.{head_name(model)}"
    groups: dict[tuple[bool, bool], list] = {}
    for n, p in model.named_parameters():
        if not p.requires_grad:
            continue
        is_head = n.startswith(head_prefix + ".")
        no_decay = p.ndim <= 1
        groups.setdefault((is_head, no_decay), []).append(p)
    out = []
    for (is_head, no_decay), params in sorted(groups.items()):
        base = lr if (is_head or stage.transfer != "finetune") else lr * backbone_lr_mult
        out.append({"params": params, "lr": base, "base_lr": base, "weight_decay": 0.0 if no_decay else weight_decay})
    return out
