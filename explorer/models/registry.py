"""One registry of networks: name -> builder + card (the metadata lives beside the builder, as in timm).

The registry never imports model modules: they call `register` when imported, and the package face
(explorer/models/__init__.py) imports them eagerly, so the registry is complete once explorer.models is.

`build_model(name, num_classes, in_chans, ...)` builds the network for any input;
`build_letters_model(name)` wraps it with the per-family adaptation to 1x28x28 letters.

A *source* (register_source) adds entries that are not known at import: names under its prefix (the user's
designs, "design:NAME", explorer/models/designs.py) are listed after the built-in networks and looked up on
demand; `spec` (a design's data, as a run keeps it) builds the entry a run was trained with.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

# Pixel statistics used by the letters adapter: EMNIST letters (1 channel) and ImageNet (3 channels,
# so ImageNet weights see the statistics they were trained on).
LETTERS_MEAN, LETTERS_STD = (0.1722,), (0.3309,)
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)

POLICIES = {
    "native": "the network takes 1x28x28 letters as they are",
    "pad": "letters are zero-padded from 28x28 to 32x32, as LeCun et al. did with MNIST",
    "stem": "small-input stem: the first convolution takes 1 channel at stride 1, so 28x28 keeps enough "
            "spatial extent through the network",
    "resize": "letters are resized up (bilinear) to the network's input size and the gray channel is "
              "repeated to RGB, so ImageNet weights apply",
}


class UnknownModelError(KeyError):
    """Raised for a model name that is not in the registry; the message lists close matches."""

    def __str__(self) -> str:
        return str(self.args[0])


class WeightsNotFoundError(FileNotFoundError):
    """Raised when pretrained weights are asked for but are not in the local torch cache."""


@dataclass(frozen=True)
class Adaptation:
    """How a family is adapted to 1-channel 28x28 letters."""

    policy: str
    input_size: tuple[int, int, int]
    note: str = ""

    def describe(self) -> str:
        """One sentence for the model card."""
        c, h, w = self.input_size
        text = f"{POLICIES[self.policy].capitalize()} (network input {c}x{h}x{w})."
        return f"{text} {self.note}".strip()


@dataclass(frozen=True)
class ModelCard:
    """Everything the app says about an architecture, as data."""

    name: str
    title: str
    family: str
    year: int
    paper: str
    url: str
    key_idea: str
    source: str  # "torchvision", "timm" or "explorer" (hand-written)
    input_size: tuple[int, int, int]  # reference input (C, H, W)
    letters: Adaptation
    top1: float | None = None  # ImageNet-1k top-1 %, where known
    top5: float | None = None
    accuracy_source: str = ""
    ref_params: int | None = None  # torchvision weights.meta["num_params"]
    ref_gmacs: float | None = None  # torchvision weights.meta["_ops"] (GMACs)
    weights: str | None = None  # torchvision weights enum entry, e.g. "ResNet18_Weights.IMAGENET1K_V1"
    min_size: int | None = None  # smallest square input the network accepts
    first_conv: str = ""  # module path (in the built net) of the conv that takes the image channels
    classifier: str = ""  # module path of the classifier head (nn.Linear; a 1x1 conv for SqueezeNet/NiN)
    notes: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)
    ref_classes: int = 1000  # outputs of the published network (ImageNet 1,000; LeNet-5's digits 10)
    ref_task: str = "ImageNet"  # what those classes are

    @property
    def heading(self) -> str:
        """The title with its year once: "ResNet-18 (2015)", "LeNet-5 (1998)" (a title that already says it)."""
        return self.title if str(self.year) in self.title else f"{self.title} ({self.year})"

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (for JSON and DataFrames)."""
        d = asdict(self)
        d["letters"] = {**asdict(self.letters), "description": self.letters.describe()}
        return d


Builder = Callable[..., nn.Module]
_REGISTRY: dict[str, tuple[ModelCard, Builder]] = {}


@dataclass(frozen=True)
class Source:
    """Registry entries under a name prefix that come from data (the user's designs), not from code."""

    prefix: str
    entries: Callable[[], list[tuple[ModelCard, Builder]]]  # every entry, in the source's order
    lookup: Callable[[str, Any], tuple[ModelCard, Builder]]  # (name, spec or None) -> entry; UnknownModelError
    spec: Callable[[str], dict[str, Any]]  # the data a run keeps to rebuild the entry (a design's JSON)


_SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> None:
    """Add a source of entries under `source.prefix` (e.g. "design:")."""
    if source.prefix in _SOURCES:
        raise ValueError(f"source {source.prefix!r} registered twice")
    _SOURCES[source.prefix] = source


def _source(name: str) -> Source | None:
    return next((src for p, src in _SOURCES.items() if isinstance(name, str) and name.startswith(p)), None)


def _entry(name: str, spec: Any = None) -> tuple[ModelCard, Builder]:
    src = _source(name)
    if src is not None:
        return src.lookup(name, spec)
    return _REGISTRY[resolve_name(name)]


def _all_entries() -> list[tuple[ModelCard, Builder]]:
    return list(_REGISTRY.values()) + [e for src in _SOURCES.values() for e in src.entries()]


def model_spec(name: str) -> dict[str, Any] | None:
    """What a run must keep to rebuild `name` later (a design's JSON); None for a built-in network."""
    src = _source(name)
    return None if src is None else src.spec(name)


def register(card: ModelCard, builder: Builder) -> None:
    """Add a network to the registry. builder(num_classes, in_chans, small_input, pretrained)."""
    if card.name in _REGISTRY:
        raise ValueError(f"model {card.name!r} registered twice")
    if not card.first_conv or not card.classifier:
        raise ValueError(f"model {card.name!r}: the card must name its first_conv and classifier modules")
    _REGISTRY[card.name] = (card, builder)


def list_models(family: str | None = None) -> list[str]:
    """Names of all registered networks, in lineage order, then the sources' (optionally one family)."""
    return [c.name for c, _ in _all_entries() if family is None or c.family == family]


def list_cards() -> list[ModelCard]:
    """Cards of all registered networks, in lineage order, then the sources' (the user's designs)."""
    return [c for c, _ in _all_entries()]


def resolve_name(name: str) -> str:
    """Return the registry name for `name` (case/dash-insensitive) or raise UnknownModelError."""
    if name in _REGISTRY:
        return name
    if _source(name) is not None:
        return _entry(name)[0].name
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    squash = key.replace("_", "")
    for n in _REGISTRY:
        if n.lower() == key or n.replace("_", "") == squash:
            return n
    close = difflib.get_close_matches(key, list(_REGISTRY), n=5, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise UnknownModelError(
        f"unknown model {name!r}.{hint} Run `python -m explorer models` for the full list."
    )


def get_card(name: str, spec: Any = None) -> ModelCard:
    """The card of a registered network (`spec`: a source entry's data, as a run keeps it)."""
    return _entry(name, spec)[0]


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
    card, builder = _entry(name, spec)
    _check_dims(num_classes, in_chans)
    if small_input and card.letters.policy != "stem":
        raise ValueError(f"{card.title} has no small-input stem; its letters policy is {card.letters.policy!r}")
    return builder(num_classes=num_classes, in_chans=in_chans, small_input=small_input, pretrained=pretrained)


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


def model_card(model: nn.Module) -> ModelCard:
    """The card of a built letters model (the one it was built from, even when its design changed since)."""
    card = getattr(model, "card", None)
    return card if isinstance(card, ModelCard) else get_card(getattr(model, "name", ""))


def letters_input_size(name: str, spec: Any = None) -> tuple[int, int, int]:
    """The tensor size the network itself sees for a letter (after the adapter)."""
    return get_card(name, spec).letters.input_size


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
