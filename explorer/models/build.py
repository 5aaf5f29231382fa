"""Networks from the registry's entries (torch): the builders behind each entry's `Build`, the letters
adapter and model, and pretrained weights from the local cache only.

`build_model(name, num_classes, in_chans, ...)` builds the network for any input;
`build_letters_model(name)` wraps it with the per-family adaptation to 1x28x28 letters.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from explorer.models import classic
from explorer.models.cards import Adaptation, Build, ModelCard
from explorer.models.registry import WeightsNotFoundError, get_card, get_entry

# Pixel statistics used by the letters adapter: EMNIST letters (1 channel) and ImageNet (3 channels,
# so ImageNet weights see the statistics they were trained on).
LETTERS_MEAN, LETTERS_STD = (0.1722,), (0.3309,)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

# ------------------------------------------------------------------------------------------
# Module surgery shared by the builders.


def _get(model: nn.Module, path: str) -> nn.Module:
    return model.get_submodule(path)


def _set(model: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, leaf = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, module)


def _replace_conv(model: nn.Module, path: str, in_chans: int, stride: int | None = None,
                  kernel: int | None = None) -> None:
    """Replace the conv at `path` by one taking `in_chans` channels (optionally new stride/kernel).
    Where the kernel shape is kept, pretrained RGB filters are summed into the new channel(s)."""
    old = _get(model, path)
    assert isinstance(old, nn.Conv2d), f"{path} is not a Conv2d"
    k = kernel or old.kernel_size[0]
    s = stride or old.stride[0]
    pad = k // 2 if (kernel or stride) else old.padding
    new = nn.Conv2d(in_chans, old.out_channels, k, stride=s, padding=pad, bias=old.bias is not None,
                    groups=1, device=old.weight.device, dtype=old.weight.dtype)
    if new.weight.device.type != "meta" and k == old.kernel_size[0] and old.weight.shape[1] == 3:
        with torch.no_grad():
            w = old.weight.sum(1, keepdim=True) / in_chans
            new.weight.copy_(w.expand(-1, in_chans, -1, -1))
            if old.bias is not None:
                new.bias.copy_(old.bias)
    _set(model, path, new)


def _maybe_load(model: nn.Module, filename: str | None, pretrained: bool) -> None:
    if pretrained:
        if filename is None:
            raise ValueError("no ImageNet weights exist for this network; train it from scratch")
        load_pretrained(model, load_state_dict_file(local_weights_file(filename)))


# ------------------------------------------------------------------------------------------
# Builders: one per Build.kind; the card's `first_conv` is the conv that takes `in_chans` and that the
# small-input stem replaces (stride 1, optionally the Build's `stem_kernel`).


def _torchvision(card: ModelCard, spec: Build, num_classes: int, in_chans: int, small_input: bool,
                 pretrained: bool) -> nn.Module:
    """torchvision.models.get_model(spec.target); pretrained weights are the card's `weights` entry's file."""
    import torchvision

    fn, extra = spec.target, dict(spec.options)
    if fn in ("inception_v3", "googlenet"):
        extra.setdefault("init_weights", True)
        if fn == "inception_v3":
            # torchvision's reference Inception-v3 (27,161,264 parameters) carries the auxiliary
            # classifier; it only runs in training mode, so letters models leave it out.
            extra["aux_logits"] = num_classes == 1000 and in_chans == 3 and not small_input
    model = torchvision.models.get_model(fn, weights=None, num_classes=num_classes, **extra)
    if pretrained:
        w = torchvision.models.get_weight(card.weights)
        _maybe_load(model, w.url.rsplit("/", 1)[-1], True)
    if small_input:
        _replace_conv(model, card.first_conv, in_chans, stride=1, kernel=spec.stem_kernel)
    elif in_chans != 3:
        _replace_conv(model, card.first_conv, in_chans)
    return model


def _timm(card: ModelCard, spec: Build, num_classes: int, in_chans: int, small_input: bool,
          pretrained: bool) -> nn.Module:
    """timm.create_model(spec.target); pretrained weights from <weights_dir>/<target>.safetensors (or .pth)."""
    import timm

    name = spec.target
    model = timm.create_model(name, pretrained=False, num_classes=num_classes,
                              in_chans=3 if small_input else in_chans, **dict(spec.options))
    if pretrained:
        fname = f"{name}.safetensors" if (weights_dir() / f"{name}.safetensors").exists() else f"{name}.pth"
        _maybe_load(model, fname, True)
    if small_input:
        _replace_conv(model, card.first_conv, in_chans, stride=1)
    return model


def _classic(card: ModelCard, spec: Build, num_classes: int, in_chans: int, small_input: bool,
             pretrained: bool) -> nn.Module:
    """explorer.models.classic.<spec.target> (hand-written: no ImageNet weights exist)."""
    cls = getattr(classic, spec.target)
    _maybe_load(nn.Module(), None, pretrained)
    kw = dict(spec.options) | ({"small_input": True} if small_input else {})
    return cls(num_classes=num_classes, in_chans=in_chans, **kw)


BUILDERS: dict[str, Callable[..., nn.Module]] = {"torchvision": _torchvision, "timm": _timm, "explorer": _classic}



def _check_dims(num_classes: int, in_chans: int) -> None:
    for label, v in (("num_classes", num_classes), ("in_chans", in_chans)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{label} must be a positive whole number, got {v!r}")


def build_model(name: str, num_classes: int = 1000, in_chans: int = 3, pretrained: bool = False,
                small_input: bool = False, spec: Any = None) -> nn.Module:
    """Build a registry network for `in_chans`-channel input and `num_classes` outputs.

    pretrained=True loads ImageNet weights from the local torch cache only (never downloads);
    the head is replaced when num_classes != 1000 and the first conv when in_chans != 3.
    small_input=True swaps in the family's small-input stem (see the card's letters policy);
    spec: a source entry's data (a run's copy of its design), else the saved one.
    """
    entry = get_entry(name, spec)
    card = entry.card
    _check_dims(num_classes, in_chans)
    if small_input and card.letters.policy != "stem":
        raise ValueError(f"{card.title} has no small-input stem; its letters policy is {card.letters.policy!r}")
    if entry.builder is not None:
        return entry.builder(num_classes=num_classes, in_chans=in_chans, small_input=small_input,
                             pretrained=pretrained)
    return BUILDERS[entry.build.kind](card, entry.build, num_classes=num_classes, in_chans=in_chans,
                                      small_input=small_input, pretrained=pretrained)


class LettersAdapter(nn.Module):
    """Turns (N, 1, 28, 28) letters in [0, 1] into the network's input: pad or resize, repeat
    gray to RGB where needed, normalise. No parameters; part of every letters model so every
    consumer (train, evaluate, explain, draw) feeds the same 28x28 tensor."""

    def __init__(self, adaptation: Adaptation) -> None:
        super().__init__()
        self.policy = adaptation.policy
        self.size = tuple(adaptation.input_size)
        c = self.size[0]
        mean, std = (IMAGENET_MEAN, IMAGENET_STD) if c == 3 else (LETTERS_MEAN, LETTERS_STD)
        self.register_buffer("mean", torch.tensor(mean).view(1, c, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, c, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map letters to the network's input tensor."""
        c, h, w = self.size
        if self.policy == "pad":
            ph, pw = h - x.shape[-2], w - x.shape[-1]
            x = F.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2))
        elif self.policy == "resize" and tuple(x.shape[-2:]) != (h, w):
            x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)
        if x.shape[1] != c:
            x = x.expand(-1, c, -1, -1)
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        """Shown by print(model)."""
        return f"policy={self.policy}, size={self.size}"


class LettersModel(nn.Module):
    """A registry network adapted to letters: `net(adapter(x))` for x of shape (N, 1, 28, 28)."""

    def __init__(self, name: str, net: nn.Module, adaptation: Adaptation, num_classes: int,
                 card: ModelCard | None = None) -> None:
        super().__init__()
        self.name = name
        self.card = card  # what the network is (its first_conv and classifier paths): the model carries it
        self.num_classes = num_classes
        self.adaptation = adaptation
        self.adapter = LettersAdapter(adaptation)
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class scores (logits) for a batch of letters."""
        return self.net(self.adapter(x))


def build_letters_model(name: str, num_classes: int = 26, pretrained: bool = False,
                        spec: Any = None) -> LettersModel:
    """Build a registry network adapted to 1x28x28 letters by its family's stated policy (`spec`: see build_model)."""
    card = get_card(name, spec)
    policy = card.letters
    net = build_model(card.name, num_classes=num_classes, in_chans=policy.input_size[0],
                      pretrained=pretrained, small_input=policy.policy == "stem", spec=spec)
    return LettersModel(card.name, net, policy, num_classes, card)


# ---------------------------------------------------------------------------------------------
# Pretrained weights: only from the local torch cache.


def weights_dir() -> Path:
    """Where pretrained weights are looked for: torch.hub's checkpoints folder."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def local_weights_file(filename: str) -> Path:
    """Path of a weights file in the local cache, or WeightsNotFoundError saying where to put it."""
    path = weights_dir() / filename
    if not path.is_file():
        raise WeightsNotFoundError(
            f"pretrained weights not found: {path}. This app never downloads at run time. "
            f"Download {filename} on a machine with internet (for torchvision models: "
            f"python -c \"import torchvision; torchvision.models.get_weight('...').get_state_dict()\") "
            f"and copy it into {weights_dir()} (or set TORCH_HOME), or train from scratch."
        )
    return path


def load_state_dict_file(path: Path) -> dict[str, torch.Tensor]:
    """Load a state dict from .safetensors or a tensors-only .pth (weights_only=True)."""
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


def load_pretrained(model: nn.Module, state: dict[str, torch.Tensor]) -> nn.Module:
    """Load ImageNet weights into `model`, skipping tensors whose shape differs (a new head or stem)."""
    own = model.state_dict()
    usable = {k: v for k, v in state.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(usable, strict=False)
    return model
