"""What data a run uses, as typed frozen dataclasses: DataSpec (dataset, split) and Augment.

No torch here: explorer.config builds on these, and commands like `--help` stay light.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from explorer.data.registry import DEFAULT_DATASET, check_name, get_dataset_card

BUILTIN_DEFAULT_SIZE = 1000  # letters-builtin: training images per class (explorer.data.builtin.DEFAULT_SIZE)
MAX_BUILTIN_SIZE = 10_000  # letters-builtin: at most 260,000 generated training images
MAX_EXCLUDE = 200_000  # at most this many excluded training images (EMNIST letters has 124,800)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_exclude(value: Any) -> tuple[int, ...]:
    """An exclusion list as a sorted tuple of unique whole numbers within the field's bounds, else ValueError."""
    if value is None:
        return ()
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise ValueError(f"DataSpec.exclude must be a list of image positions, got {type(value).__name__}")
    items = list(value)
    if len(items) > MAX_EXCLUDE:
        raise ValueError(f"DataSpec.exclude names {len(items):,} images; at most {MAX_EXCLUDE:,} may be excluded")
    bad = [v for v in items if not (_whole(v) or (hasattr(v, "dtype") and int(v) == v)) or not 0 <= int(v) <= 2**31 - 1]
    if bad:
        raise ValueError(f"DataSpec.exclude must hold whole numbers in [0, 2**31 - 1]; got {bad[:5]!r}")
    return tuple(sorted({int(v) for v in items}))


@dataclass(frozen=True)
class DataSpec:
    """Which data a run uses: dataset, data root, built-in size, split seed, validation fraction."""

    name: str = field(default=DEFAULT_DATASET, metadata={"label": "Dataset"})
    root: str | None = field(default=None, metadata={"label": "Data folder"})
    # letters-builtin: training images per class (None = default)
    size: int | None = field(default=None, metadata={"label": "Images per class"})
    seed: int = field(default=0, metadata={"label": "Split seed"})  # seed of the train/validation split
    val_fraction: float = field(default=0.1, metadata={"label": "Validation fraction"})
    # letters-builtin: seed of the generated images
    gen_seed: int = field(default=0, metadata={"label": "Built-in generator seed"})
    # positions in the dataset's train split (before the validation split) that the run leaves out,
    # e.g. likely label errors (explorer.trust.labels); sorted, unique
    exclude: tuple[int, ...] = field(default=(), metadata={
        "help": "training images to leave out (positions in the dataset's train split)", "label": "Excluded images",
        "lo": 0, "hi": 2**31 - 1, "max_len": MAX_EXCLUDE})

    def __post_init__(self) -> None:
        check_name(self.name)
        if not isinstance(self.val_fraction, int | float) or not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction!r}")
        if self.size is not None and (not _whole(self.size) or not 1 <= self.size <= MAX_BUILTIN_SIZE):
            raise ValueError(f"size must be a whole number of images per class in [1, {MAX_BUILTIN_SIZE:,}], got {self.size!r}")
        for label in ("seed", "gen_seed"):
            value = getattr(self, label)
            if not _whole(value) or not 0 <= value <= 2**31 - 1:
                raise ValueError(f"DataSpec.{label} must be a whole number in [0, 2**31 - 1], got {value!r}")
        if self.root is not None and not isinstance(self.root, str):
            raise ValueError(f"DataSpec.root must be a folder path (text), got {self.root!r}")
        object.__setattr__(self, "exclude", check_exclude(self.exclude))

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON configs (no "exclude" key when nothing is excluded: such configs read as before)."""
        d = asdict(self)
        if self.exclude:
            d["exclude"] = list(self.exclude)
        else:
            del d["exclude"]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | DataSpec) -> DataSpec:
        """Build from a dict made by to_dict (missing keys take the defaults; unknown keys are an error)."""
        if isinstance(d, DataSpec):
            return d
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown DataSpec keys {sorted(unknown)}; valid keys: {sorted(names)}")
        return cls(**d)

    def load_options(self) -> dict[str, Any]:
        """The load_dataset options this spec implies."""
        if self.name == "letters-builtin":
            return {"size": self.size or BUILTIN_DEFAULT_SIZE, "seed": self.gen_seed}
        return {}

    def with_defaults(self) -> DataSpec:
        """The spec with what the loader fills in written out: letters-builtin's images per class (size None means
        the default, BUILTIN_DEFAULT_SIZE); other datasets have a fixed size and keep None."""
        return replace(self, size=self.load_options().get("size"))

    def expected_train_size(self) -> int | None:
        """Training images after the validation split, from the dataset card (nothing is loaded)."""
        card = get_dataset_card(self.name)
        n = card.train_size
        if self.name == "letters-builtin":
            n = int(self.size or BUILTIN_DEFAULT_SIZE) * len(card.classes)
        if n is None:
            return None
        return n - math.ceil(n * float(self.val_fraction))


@dataclass(frozen=True)
class Augment:
    """Random per-sample geometric augmentation, applied on the device to whole batches."""

    # rotation uniform in +-rotation_deg
    rotation_deg: float = field(default=10.0, metadata={"label": "Rotation (degrees)"})
    zoom: float = field(default=0.1, metadata={"label": "Zoom"})  # scale uniform in 1 +- zoom
    # translation uniform in +- shift x image size, per axis
    shift: float = field(default=0.1, metadata={"label": "Shift"})
    # horizontal shear uniform in +- shear_deg
    shear_deg: float = field(default=0.0, metadata={"label": "Shear (degrees)"})
    # max smooth elastic displacement, in pixels (0 = off)
    elastic: float = field(default=0.0, metadata={"label": "Elastic distortion (pixels)"})
    # probability of a horizontal flip (0 for letters: see the module docstring)
    hflip: float = field(default=0.0, metadata={"label": "Horizontal flip (probability)"})

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ValueError(f"Augment.{f.name} must be a finite number >= 0, got {value!r}")
        if self.zoom >= 1:
            raise ValueError(f"Augment.zoom must be < 1, got {self.zoom}")
        for name, hi in (("rotation_deg", 180.0), ("shift", 1.0), ("shear_deg", 89.0), ("elastic", 28.0)):
            if getattr(self, name) > hi:
                raise ValueError(f"Augment.{name} must be <= {hi:g}, got {getattr(self, name)}")
        if self.hflip > 1:
            raise ValueError(f"Augment.hflip is a probability (0..1), got {self.hflip}")

    @property
    def enabled(self) -> bool:
        """True if any augmentation is switched on."""
        return any(getattr(self, f.name) > 0 for f in fields(self))

    def to_dict(self) -> dict[str, float]:
        """Plain dict for JSON configs."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | Augment | None) -> Augment:
        """Build from a dict made by to_dict (missing keys take the defaults; unknown keys are an error)."""
        if isinstance(d, Augment):
            return d
        d = dict(d or {})
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown Augment keys {sorted(unknown)}; valid keys: {sorted(names)}")
        return cls(**{k: float(v) for k, v in d.items()})
