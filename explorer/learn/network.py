"""What Learn looks at: a network (a trained run's model from the one model cache, or an untrained registry
model, seeded) and an input letter (a test image of the run's split, an example letter, an image file, or
the drawing the Draw page keeps), as a float32 (1, 28, 28) tensor in [0, 1]."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.learn.errors import LearnError

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"
UNTRAINED_SEED = 0
BUILTIN_TEST = {"name": "letters-builtin", "size": 20}  # the test split an untrained model's test:N reads


@dataclass
class Network:
    """A letters model and where it came from."""

    model: nn.Module
    arch: str  # registry name
    title: str  # what the page and the CLI call it
    classes: list[str] = field(default_factory=list)
    run: Any = None  # explorer.runs.Run for a trained run, None for an untrained registry model

    @property
    def trained(self) -> bool:
        """True for a run's model (its saved weights)."""
        return self.run is not None


def untrained(name: str) -> Network:
    """A registry model with freshly initialised weights (seeded, so the numbers are reproducible).

    The last few are kept (building VGG takes seconds); run models come from explorer.run_models' cache."""
    from explorer.models import get_card, model_spec

    card = get_card(name)  # UnknownModelError (a KeyError) names close matches
    spec = model_spec(card.name)  # a design's data: an edited design is built anew
    return _untrained(card.name, json.dumps(spec, sort_keys=True) if spec else "")


@functools.lru_cache(maxsize=4)
def _untrained(name: str, spec_json: str = "") -> Network:
    from explorer.models import build_letters_model, get_card

    spec = json.loads(spec_json) if spec_json else None
    card = get_card(name, spec)
    with torch.random.fork_rng(devices=[]):  # seeded without touching the caller's random state
        torch.manual_seed(UNTRAINED_SEED)
        model = build_letters_model(card.name, spec=spec).eval()
    classes = [chr(65 + i) for i in range(getattr(model, "num_classes", 26))]
    return Network(model, card.name, f"{card.title} (untrained, seed {UNTRAINED_SEED})", classes)


def from_run(run: Any, which: str = "best") -> Network:
    """A run's model from the one cache (explorer.run_models); a LearnError when it has no usable weights."""
    from explorer.names import run_title
    from explorer.run_models import NoWeightsError, WeightsError, load_run_model

    try:
        model = load_run_model(run, which)
    except NoWeightsError as exc:
        raise LearnError(f"run {run_title(run)} ({run.run_id}) has no saved weights yet (no completed epoch): "
                         f"train it, or pick an untrained architecture. ({exc})") from None
    except WeightsError as exc:
        raise LearnError(f"run {run_title(run)} ({run.run_id}): {exc}") from None
    return Network(model, run.model_name, run_title(run), list(run.classes or []), run)


def open_network(ref: str, root: str | os.PathLike | None = None, which: str = "best") -> Network:
    """A run (id or folder) if one matches, else an untrained registry model of that name."""
    from explorer.models import UnknownModelError
    from explorer.runs import open_run

    try:
        run = open_run(ref, root)
    except (FileNotFoundError, ValueError):
        run = None
    if run is not None:
        return from_run(run, which)
    try:
        return untrained(ref)
    except UnknownModelError as exc:
        raise LearnError(f"{ref!r} is neither a saved run (see `explorer runs list`) nor a registry model: "
                         f"{exc}") from None


def example_letters(folder: Path = EXAMPLES_DIR) -> dict[str, Path]:
    """Label -> PNG of the example letters (X.png is the capital, x_lower.png the lower case)."""
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.glob("*.png")):
        out[path.stem.removesuffix("_lower") if path.stem.endswith("_lower") else path.stem] = path
    return dict(sorted(out.items(), key=lambda kv: (kv[0].islower(), kv[0])))


def test_split(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """uint8 test images (N, 28, 28) and labels: the run's test split, or the built-in letters' for an
    untrained model."""
    if net.run is not None:
        images = net.run.test_images()  # in the order of the run's saved predictions, whose labels name them
        preds = net.run.predictions()
        labels = preds.y_true if preds is not None and len(preds.y_true) == len(images) else np.full(len(images), -1)
        return images, np.asarray(labels)
    from explorer.data import load_dataset

    data = load_dataset(BUILTIN_TEST["name"], "test", size=BUILTIN_TEST["size"])
    return data.images.numpy(), data.labels.numpy()


def image_input(ref: str, net: Network) -> tuple[torch.Tensor, str]:
    """(float32 (1, 28, 28) in [0, 1], description) for `test:N`, `example:X` or an image file."""
    from explorer.models import to_batch

    if ref.startswith("test:"):
        try:
            i = int(ref[5:])
        except ValueError:
            raise LearnError(f"bad input {ref!r}: use test:N with N a whole number") from None
        images, labels = test_split(net)
        if not 0 <= i < len(images):
            raise LearnError(f"test image {i} is out of range: the test split has {len(images)} images "
                             f"(test:0 to test:{len(images) - 1})")
        label = int(labels[i]) if i < len(labels) else -1
        true = f" (true {net.classes[label]})" if 0 <= label < len(net.classes) else ""
        return to_batch(images[i])[0], f"test image #{i}{true}"
    if ref.startswith("example:"):
        label = ref[8:]
        examples = example_letters()
        if label not in examples:
            raise LearnError(f"no example letter {label!r}; examples: {', '.join(examples) or '(none)'}")
        return _from_file(examples[label]), f"example letter {label}"
    path = Path(ref)
    if not path.is_file():
        raise LearnError(f"input {ref!r} is not test:N, example:X or an image file")
    return _from_file(path), f"image {path.name}"


def _from_file(path: Path) -> torch.Tensor:
    from explorer.data import preprocess_image

    return preprocess_image(path.read_bytes())


def as_input(image: Any) -> torch.Tensor:
    """A drawing or image (numpy/tensor, (28, 28) or (1, 28, 28), uint8 or [0, 1] float) as (1, 1, 28, 28)."""
    from explorer.models import to_batch

    try:
        return to_batch(image)
    except ValueError as exc:
        raise LearnError(f"this input cannot be used: {exc}") from None
