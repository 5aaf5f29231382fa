"""Build a letters model for a TrainConfig: pretrained weights when cached, the recipe's head,
He init, and the freezing helpers (frozen backbone, unfreeze last N, lower backbone LR)."""

from __future__ import annotations

from torch import nn

from explorer.config import Stage, TrainConfig
from explorer.models import LettersModel, WeightsNotFoundError, build_letters_model, get_card


def head_name(model: LettersModel) -> str:
    """Name (in model.net) of the classifier head: the model card's `classifier`."""
    return get_card(model.name).classifier


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


def prepare_model(cfg: TrainConfig, num_classes: int, load_pretrained: bool = True) -> tuple[LettersModel, list[str]]:
    """Build the model a config describes; returns (model, notes for the user).

    load_pretrained=False skips the ImageNet weights (when the weights are loaded from a run anyway).
    """
    notes: list[str] = []
    model = None
    if cfg.pretrained and load_pretrained:
        try:
            model = build_letters_model(cfg.model, num_classes=num_classes, pretrained=True)
            notes.append("ImageNet weights loaded from the local cache.")
        except (WeightsNotFoundError, FileNotFoundError, RuntimeError, ValueError) as exc:
            first = str(exc).split(". ")[0]
            notes.append(f"ImageNet weights are not in the local cache, so {cfg.model} trains FROM SCRATCH ({first}).")
    if model is None:
        model = build_letters_model(cfg.model, num_classes=num_classes, pretrained=False)
        if cfg.init == "he":
            he_init(model)
            notes.append("He (variance-scaled) initialisation.")
    replace_head(model, cfg.head, cfg.dropout, cfg.head_hidden)
    return model, notes


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
