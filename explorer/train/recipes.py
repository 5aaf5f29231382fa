"""Training recipes as editable presets: the EMNIST-letters report's three, and a quick default."""

from __future__ import annotations

from explorer.config import Stage, TrainConfig

_LETTER_AUGMENT = {"rotation_deg": 10.0, "zoom": 0.1, "shift": 0.1, "shear_deg": 0.0, "elastic": 0.0, "hflip": 0.0}

RECIPES: dict[str, TrainConfig] = {
    "quick": TrainConfig(
        model="small_cnn", epochs=3, batch_size=128, optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True,
        weight_decay=5e-4, schedule="onecycle", label_smoothing=0.05, channels_last=True,
    ),
    "resnet18_scratch": TrainConfig(
        model="resnet18", epochs=10, batch_size=128, optimizer="sgd", lr=0.05, momentum=0.9, nesterov=False,
        weight_decay=5e-4, schedule="cosine", warmup_epochs=1.0, init="he", transfer="scratch", channels_last=True,
    ),
    "densenet121_transfer": TrainConfig(
        model="densenet121", epochs=10, batch_size=64, optimizer="adam", lr=1e-3, weight_decay=0.0,
        schedule="plateau", plateau_factor=0.5, plateau_patience=1, pretrained=True, transfer="finetune",
        backbone_lr_mult=0.1, head="dropout_linear", dropout=0.3, early_stopping_metric="val_loss",
        early_stopping_patience=3, augment=dict(_LETTER_AUGMENT), channels_last=True,
    ),
    "xception_two_stage": TrainConfig(
        model="xception", batch_size=64, optimizer="adam", lr=1e-3, weight_decay=0.0, schedule="plateau",
        plateau_factor=0.2, plateau_patience=1, pretrained=True, head="mlp_dropout", head_hidden=(256, 128),
        dropout=0.5, early_stopping_metric="val_loss", early_stopping_patience=3, channels_last=True,
        stages=(
            Stage("frozen base", epochs=5, lr=1e-3, transfer="frozen"),
            Stage("fine-tune last 20", epochs=5, lr=1e-4, transfer="last_n", unfreeze_last_n=20),
        ),
    ),
}  # fmt: skip

DESCRIPTIONS: dict[str, str] = {
    "quick": "Quick CNN (default): 3 conv-BN-ReLU stages, SGD + Nesterov, one-cycle LR; a useful model in "
    "3 epochs on the built-in letters, even on a CPU (press Estimate for the time on this machine).",
    "resnet18_scratch": "From the EMNIST-letters report, ResNet-18 from scratch: 28x28 input (3x3 stride-1 stem), batch norm, "
    "SGD with momentum, variance-scaled (He) init, cosine LR with 1 warmup epoch.",
    "densenet121_transfer": "From the EMNIST-letters report, DenseNet-121 transfer: 64x64 RGB input, ImageNet weights when in the "
    "local cache (otherwise from scratch, said plainly), dropout before the head, Adam with reduce-on-plateau, "
    "early stopping on the validation loss, rotation/zoom/shift augmentation (no flips: mirrored letters are "
    "other letters; set hflip to reproduce the report).",
    "xception_two_stage": "From the EMNIST-letters report, Xception in two stages: 71x71x3 input; stage 1 trains a GAP + two dense "
    "+ dropout head on a frozen base with early stopping and reduce-LR-on-plateau; stage 2 unfreezes the last "
    "20 layers and continues at a 10x smaller LR. One run, both stages in its curves.",
}

TITLES: dict[str, str] = {
    "quick": "Quick CNN (default)",
    "resnet18_scratch": "ResNet-18 from scratch",
    "densenet121_transfer": "DenseNet-121 transfer",
    "xception_two_stage": "Xception in two stages",
}

DEFAULT_RECIPE = "quick"


def get_recipe(name: str) -> TrainConfig:
    """The preset TrainConfig of a recipe (a frozen dataclass: edit it with .replace(...))."""
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose from {', '.join(RECIPES)}")
    return RECIPES[name]
