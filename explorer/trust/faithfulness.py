"""Explanations that carry their own evidence: deletion curves and the Adebayo et al. (2018) sanity check.

Deletion (Petsiuk et al. 2018): remove the most-attributed pixels first (set to 0, the background of a
letter), in `steps` equal steps, and record the target class's probability after each; the area under
that curve is low when the map found the pixels the model relies on. The same curve for a seeded
random order of pixels is the baseline an honest map must beat.

Sanity check ("Sanity checks for saliency maps", Adebayo et al., NeurIPS 2018, cascading model
randomisation): copies of the model whose parameterised layers are re-initialised one block at a
time from the top (classifier first); the Spearman rank correlation between each copy's map and the
trained model's map should fall towards 0. A method whose map hardly changes (correlation above
SANITY_LIMIT after full randomisation) is flagged as not explaining this model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_STEPS = 20
SANITY_LIMIT = 0.5  # rank correlation after full randomisation above this: the map ignores the weights
MAX_SANITY_BLOCKS = 8  # at most this many cascading randomisation steps (layers are grouped beyond it)


@dataclass(frozen=True)
class Deletion:
    """Deletion curves of one explanation: attribution order and a random order, with their areas."""

    fractions: np.ndarray  # (steps + 1,) share of pixels removed
    curve: np.ndarray  # target probability after each step, most-attributed pixels first
    random_curve: np.ndarray  # the same for a seeded random order
    target: int

    @property
    def area(self) -> float:
        """Area under the attribution-order curve (lower = more faithful)."""
        return _area(self.fractions, self.curve)

    @property
    def area_random(self) -> float:
        """Area under the random-order curve (the baseline)."""
        return _area(self.fractions, self.random_curve)


@dataclass(frozen=True)
class Sanity:
    """Cascading randomisation: rank correlation of each randomised copy's map with the trained map."""

    method: str
    blocks: list[str]  # the layers re-initialised at each step (cumulative), top first
    rank_corr: list[float]  # one per step
    notes: list[str] = field(default_factory=list)

    @property
    def final(self) -> float:
        """Rank correlation with the fully randomised model."""
        return self.rank_corr[-1] if self.rank_corr else float("nan")

    @property
    def flagged(self) -> bool:
        """True when the map hardly changes with the weights: it does not explain this model."""
        return bool(self.final > SANITY_LIMIT)


def _area(x: np.ndarray, y: np.ndarray) -> float:
    """Trapezoid area of y over x."""
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


def deletion_images(image: np.ndarray, order: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """(steps + 1) copies of a float (H, W) image with the first k/steps of `order`'s pixels set to 0 -> (images, fractions)."""
    h, w = image.shape
    n = h * w
    counts = np.round(np.linspace(0, n, steps + 1)).astype(int)
    out = np.repeat(image.reshape(1, n), steps + 1, axis=0).astype(np.float32)
    for i, c in enumerate(counts):
        out[i, order[:c]] = 0.0
    return out.reshape(steps + 1, h, w), counts / n


def deletion(model: Any, image: Any, heatmap: np.ndarray, target: int, steps: int = DEFAULT_STEPS,
             seed: int = 0) -> Deletion:
    """Deletion curves of one heatmap for `target`: most-attributed pixels first, and a seeded random order."""
    from explorer.models import probabilities, to_batch

    if not 1 <= int(steps) <= 784:
        raise ValueError(f"steps must be in [1, 784], got {steps!r}")
    x = to_batch(image)[0, 0].numpy()
    heat = np.asarray(heatmap, dtype=np.float64)
    if heat.shape != x.shape:
        raise ValueError(f"heatmap shape {heat.shape} does not match the image {x.shape}")
    order = np.argsort(-heat.ravel(), kind="stable")
    rand = np.random.default_rng(seed).permutation(x.size)
    imgs_a, fractions = deletion_images(x, order, steps)
    imgs_r, _ = deletion_images(x, rand, steps)
    probs = probabilities(model, np.concatenate([imgs_a, imgs_r])[:, None])[:, target]
    return Deletion(fractions, probs[: steps + 1], probs[steps + 1:], int(target))


def parameter_layers(model: Any) -> list[str]:
    """Names of the modules that own parameters directly, in forward-definition order."""
    return [name for name, m in model.named_modules() if name and any(True for _ in m.parameters(recurse=False))]


def _blocks(names: list[str], limit: int = MAX_SANITY_BLOCKS) -> list[list[str]]:
    """The layers top first, grouped into at most `limit` cascading steps."""
    top_first = names[::-1]
    groups = np.array_split(np.arange(len(top_first)), min(limit, len(top_first)))
    return [[top_first[i] for i in g] for g in groups if len(g)]


def randomise_(model: Any, names: list[str], seed: int) -> None:
    """Re-initialise the named modules in place (reset_parameters, seeded; else normal(0, 0.05))."""
    import torch

    modules = dict(model.named_modules())
    for i, name in enumerate(names):
        m = modules[name]
        torch.manual_seed(seed * 1009 + i)
        if hasattr(m, "reset_parameters"):
            m.reset_parameters()
        else:
            with torch.no_grad():
                for p in m.parameters(recurse=False):
                    p.normal_(0.0, 0.05)


def rank_corr(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps; a constant map carries no ranking, so 0.0."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def sanity_check(model: Any, image: Any, method: str = "gradcam", target: int | None = None,
                 seed: int = 0) -> Sanity:
    """Cascading randomisation from the top: the rank correlation of each copy's map with the trained one."""
    from explorer.explain import explain
    from explorer.models import model_lock

    with model_lock(model):
        ref = explain(model, image, method=method, target=target)
        rand = copy.deepcopy(model)
    names, corrs, notes = [], [], []
    for block in _blocks(parameter_layers(rand)):
        randomise_(rand, block, seed + len(names))
        names.append(block[0] if len(block) == 1 else f"{block[0]} … {block[-1]} ({len(block)} layers)")
        heat = explain(rand, image, method=method, target=ref.target, layer=ref.layer).heatmap
        if np.ptp(heat) == 0:
            notes.append(f"after randomising {names[-1]} the map is constant (correlation 0)")
        corrs.append(rank_corr(ref.heatmap, heat))
    return Sanity(method, names, corrs, notes)
