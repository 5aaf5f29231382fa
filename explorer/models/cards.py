"""What the registry says about an architecture, as data (no torch): the card, its letters adaptation and
how its network is built (a `Build`, resolved by explorer.models.build only when a network is built)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

POLICIES = {
    "native": "the network takes 1x28x28 letters as they are",
    "pad": "letters are zero-padded from 28x28 to 32x32, as LeCun et al. did with MNIST",
    "stem": "small-input stem: the first convolution takes 1 channel at stride 1, so 28x28 keeps enough "
            "spatial extent through the network",
    "resize": "letters are resized up (bilinear) to the network's input size and the gray channel is "
              "repeated to RGB, so ImageNet weights apply",
}


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


@dataclass(frozen=True)
class Build:
    """How an entry's network is built: `kind` "torchvision" (target: torchvision.models' function name),
    "timm" (target: timm's model name) or "explorer" (target: a class in explorer.models.classic);
    `stem_kernel` for the small-input stem, `options` extra keyword arguments of the builder."""

    kind: str
    target: str
    stem_kernel: int | None = None
    options: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Entry:
    """One row of the zoo: a card and how to build its network."""

    card: ModelCard
    build: Build
    builder: Callable[..., Any] | None = None  # an entry from data (a registry Source) brings its own builder
