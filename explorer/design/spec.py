"""A design is data, not code: a name, notes, a created date, the input side and a list of layers, each a type
from LAYERS with bounded numbers. `parse_design` checks a JSON object as untrusted input (a hostile or
malformed file gets one clear refusal naming the layer and setting; nothing is ever evaluated).

No torch here: the builder page, the CLI and the registry read designs cheaply."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from explorer.io import safe_name
from explorer.untrusted import CREATED_FORMAT, message_problem, parse_created

FORMAT = "explorer-design"
VERSION = 1
MAX_LAYERS = 64
MAX_NAME = 40
MAX_NOTES = 2000
MAX_FILE_BYTES = 64 * 1024
INPUT_SIDES = (16, 64)  # the square input side the network sees (letters are 28; LeNet-5 takes 32)
_NAME_RE = re.compile(r"[^\s/\\:]+")


class DesignError(ValueError):
    """A design that cannot be read or cannot be built; the message names the layer, the reason and a fix."""


@dataclass(frozen=True)
class Setting:
    """One number (or switch) of a layer type, with its bounds: the one rule set of the form and the checker."""

    name: str
    kind: type  # int, float or bool
    default: Any
    lo: float = 0
    hi: float = 0
    label: str = ""
    help: str = ""

    def check(self, value: Any, where: str) -> Any:
        """The value as its kind, or DesignError naming `where` and the bounds."""
        if self.kind is bool:
            if not isinstance(value, bool):
                raise DesignError(f"{where}: {self.name} must be true or false, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DesignError(f"{where}: {self.name} must be a number, got {type(value).__name__} {str(value)[:20]!r}")
        if self.kind is int:
            if value != int(value):
                raise DesignError(f"{where}: {self.name} must be a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
            if value != value:
                raise DesignError(f"{where}: {self.name} must be a number, got NaN")
        if not self.lo <= value <= self.hi:
            raise DesignError(f"{where}: {self.name} must be between {self.lo:g} and {self.hi:g}, got {value:g}")
        return value


def _i(name: str, default: int, lo: int, hi: int, label: str, help: str = "") -> Setting:
    return Setting(name, int, default, lo, hi, label, help)


_POOL = (_i("kernel", 2, 1, 15, "Kernel F"), _i("stride", 2, 1, 15, "Stride S"), _i("padding", 0, 0, 7, "Padding P"))
_ADAPT = (_i("size", 1, 1, 64, "Output side", "the pooled map is size x size whatever the input"),)

# type -> (title in the palette, settings). The order is the palette's.
LAYERS: dict[str, tuple[str, tuple[Setting, ...]]] = {
    "conv": ("Conv2d", (
        _i("filters", 16, 1, 1024, "Filters k", "output channels (the depth D of the output volume)"),
        _i("kernel", 3, 1, 15, "Kernel F", "spatial extent F x F"),
        _i("stride", 1, 1, 8, "Stride S"),
        _i("padding", 0, 0, 15, "Padding P", "zeros added on each side"),
        _i("dilation", 1, 1, 8, "Dilation D", "gaps between kernel cells: the kernel covers D(F-1)+1 cells"),
        _i("groups", 1, 1, 1024, "Groups", "channels split into groups; must divide input channels and filters"),
        Setting("bias", bool, True, label="Bias"))),
    "batchnorm": ("BatchNorm", ()),
    "relu": ("ReLU", ()),
    "tanh": ("tanh", ()),
    "sigmoid": ("sigmoid", ()),
    "gelu": ("GELU", ()),
    "leakyrelu": ("LeakyReLU", (Setting("slope", float, 0.01, 0.0, 1.0, "Negative slope"),)),
    "maxpool": ("MaxPool", _POOL),
    "avgpool": ("AvgPool", _POOL),
    "adaptive_avgpool": ("Adaptive AvgPool", _ADAPT),
    "adaptive_maxpool": ("Adaptive MaxPool", _ADAPT),
    "dropout": ("Dropout", (Setting("p", float, 0.5, 0.0, 0.95, "Drop probability p"),)),
    "flatten": ("Flatten", ()),
    "linear": ("Linear", (_i("features", 128, 1, 8192, "Outputs", "the layer's output size"),)),
    "residual": ("Residual block", (
        _i("filters", 32, 1, 1024, "Filters", "channels of both 3x3 convs (and of the block's output)"),
        _i("stride", 1, 1, 4, "Stride", "of the first 3x3 conv (and of the 1x1 projection)"))),
    "inception": ("Inception block", (
        _i("b1", 16, 1, 512, "1x1 filters"),
        _i("reduce3", 0, 0, 512, "3x3 reduce", "1x1 filters before the 3x3 conv (0: none)"),
        _i("b3", 24, 1, 512, "3x3 filters"),
        _i("reduce5", 0, 0, 512, "5x5 reduce", "1x1 filters before the 5x5 conv (0: none)"),
        _i("b5", 8, 1, 512, "5x5 filters"),
        _i("pool", 8, 1, 512, "Pool 1x1 filters", "1x1 filters after the 3x3 max pool (stride 1)"))),
}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leakyrelu")


def layer_title(kind: str) -> str:
    """The palette's name of a layer type ("Conv2d", "Residual block")."""
    return LAYERS[kind][0]


def settings(kind: str) -> tuple[Setting, ...]:
    """The settings of a layer type, in the form's order."""
    return LAYERS[kind][1]


def default_layer(kind: str) -> dict[str, Any]:
    """A new layer of `kind` with every setting at its default."""
    if kind not in LAYERS:
        raise DesignError(f"unknown layer type {kind!r}; types are: {', '.join(LAYERS)}")
    return {"type": kind, **{s.name: s.default for s in settings(kind)}}


def check_layer(obj: Any, index: int) -> dict[str, Any]:
    """One layer as a complete dict (missing settings take their defaults), or DesignError naming layer `index`."""
    where = f"layer {index}"
    if not isinstance(obj, dict):
        raise DesignError(f"{where}: must be an object like {{\"type\": \"conv\", ...}}, got {type(obj).__name__}")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in LAYERS:
        raise DesignError(f"{where}: unknown layer type {str(kind)[:30]!r}; types are: {', '.join(LAYERS)}")
    where = f"layer {index} ({layer_title(kind)})"
    own = {s.name: s for s in settings(kind)}
    extra = sorted(str(k)[:30] for k in obj if k != "type" and k not in own)
    if extra:
        known = ", ".join(own) or "none"
        raise DesignError(f"{where}: unknown setting {', '.join(extra)}; its settings are: {known}")
    out = {"type": kind}
    for name, s in own.items():
        out[name] = s.check(obj[name], where) if name in obj else s.default
    return out


def check_name(name: Any) -> str:
    """A design's name: 1-40 letters, digits and `_.()+-`, no spaces or separators; DesignError otherwise."""
    if not isinstance(name, str) or not name.strip():
        raise DesignError("a design needs a name: letters, digits, '-' or '_' (for example my-cnn)")
    if len(name) > MAX_NAME or safe_name(name, default="", max_len=MAX_NAME) != name or not _NAME_RE.fullmatch(name):
        hint = safe_name(name, default="my-cnn", max_len=MAX_NAME)
        raise DesignError(f"design name {name[:50]!r} is not a plain name (letters, digits, '-', '_', at most "
                          f"{MAX_NAME} characters); try {hint!r}")
    return name


@dataclass(frozen=True)
class Design:
    """A network design as data: what `explorer.design.build` builds and the registry lists as design:NAME."""

    name: str
    layers: tuple[dict[str, Any], ...] = ()
    notes: str = ""
    created: str = field(default_factory=lambda: time.strftime(CREATED_FORMAT))
    input_size: int = 28

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (the file a design is saved and exported as)."""
        return {"format": FORMAT, "version": VERSION, "name": self.name, "notes": self.notes,
                "created": self.created, "input_size": self.input_size, "layers": [dict(x) for x in self.layers]}

    def replace(self, **changes: Any) -> Design:
        """A copy with some fields changed, checked again."""
        return parse_design({**self.to_dict(), **changes})

    @property
    def year(self) -> int:
        """The year it was created (for the model card)."""
        try:
            return int(self.created[:4])
        except ValueError:
            return int(time.strftime("%Y"))


def parse_design(obj: Any, source: str = "the design") -> Design:
    """Check a design read from JSON (untrusted: types, bounds, known keys) -> Design, or DesignError."""
    if not isinstance(obj, dict):
        raise DesignError(f"{source} must be a JSON object with a name and a list of layers")
    fmt = obj.get("format", FORMAT)
    if fmt != FORMAT:
        raise DesignError(f"{source} is not a design file (format {str(fmt)[:30]!r}, expected {FORMAT!r})")
    version = obj.get("version", VERSION)
    if version != VERSION:
        raise DesignError(f"{source} has version {str(version)[:10]!r}; this app reads version {VERSION}")
    allowed = {"format", "version", "name", "notes", "created", "input_size", "layers"}
    extra = sorted(str(k)[:30] for k in obj if k not in allowed)
    if extra:
        raise DesignError(f"{source}: unknown field {', '.join(extra)}; a design has {', '.join(sorted(allowed))}")
    name = check_name(obj.get("name"))
    notes = obj.get("notes") or ""
    problem = message_problem(notes, MAX_NOTES)
    if problem:
        raise DesignError(f"{source}: notes {problem}")
    created = parse_created(obj.get("created")) or time.strftime(CREATED_FORMAT)
    side = Setting("input_size", int, 28, *INPUT_SIDES).check(obj.get("input_size", 28), source)
    layers = obj.get("layers", [])
    if not isinstance(layers, list):
        raise DesignError(f"{source}: layers must be a list, got {type(layers).__name__}")
    if len(layers) > MAX_LAYERS:
        raise DesignError(f"{source}: at most {MAX_LAYERS} layers, got {len(layers)}")
    return Design(name, tuple(check_layer(x, i + 1) for i, x in enumerate(layers)), notes, created, side)
