"""Likely label errors: cleanlab on out-of-sample probabilities from a k-fold pass of a small model.

Every image of a dataset (its train and test splits pooled) gets a probability vector from a model
that never saw it: the pool is cut into K stratified folds, one model per fold is trained on the
other K-1 folds (on the device, with progress) and predicts the held-out fold. cleanlab then scores
each given label (`rank.get_label_quality_scores`, self-confidence) and estimates how many labels are wrong
(`count.num_label_issues`); the first that many ranks are flagged (cleanlab's 'low_self_confidence' rule on our
own ranking, so equal scores are never split into flagged and not flagged out of rank order). `--inject-flips F` first flips a seeded fraction F of the training
labels, so the ranking itself can be checked: the flipped images should come first.

The probabilities are cached per dataset, model, folds, size, seed, epochs and flips under
<data root>/label_issues/ (npz, written atomically). No pickle is ever loaded.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from explorer.data.registry import data_root, get_dataset_card
from explorer.data.spec import DataSpec
from explorer.io import atomic_path

Progress = Callable[[int, int, str], None]
MAX_FOLDS = 20
MAX_EPOCHS = 50
CACHE_VERSION = 1


@dataclass(frozen=True)
class LabelIssueSpec:
    """What a label-issues pass uses: dataset, model, folds, built-in size, seed, epochs, injected flips."""

    dataset: str = "letters-builtin"
    model: str = "lenet_keras"  # fast on CPU: the pass trains `folds` models
    folds: int = 3
    size: int | None = None  # letters-builtin: training images per class (None = default)
    seed: int = 0
    epochs: int = 6
    inject_flips: float = 0.0
    root: str | None = None
    gen_seed: int = 0  # letters-builtin: seed of the generated images (as DataSpec.gen_seed)

    def __post_init__(self) -> None:
        get_dataset_card(self.dataset)  # ValueError naming the valid datasets
        if not isinstance(self.folds, int) or not 2 <= self.folds <= MAX_FOLDS:
            raise ValueError(f"folds must be a whole number in [2, {MAX_FOLDS}], got {self.folds!r}")
        if not isinstance(self.epochs, int) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise ValueError(f"epochs must be a whole number in [1, {MAX_EPOCHS}], got {self.epochs!r}")
        if not isinstance(self.inject_flips, int | float) or not 0.0 <= self.inject_flips <= 0.5:
            raise ValueError(f"inject_flips must be a fraction in [0, 0.5], got {self.inject_flips!r}")
        DataSpec(name=self.dataset, size=self.size, seed=self.seed, gen_seed=self.gen_seed)  # bounds

    def cache_name(self) -> str:
        """File name of the cached probabilities of this pass."""
        flips = f"-flip{self.inject_flips:g}" if self.inject_flips else ""
        return (f"{self.dataset}-{self.model}-k{self.folds}-n{self.size or 'default'}-g{self.gen_seed}-s{self.seed}-e{self.epochs}"
                f"{flips}-v{CACHE_VERSION}.npz")


@dataclass(frozen=True)
class Pool:
    """The pooled images of a dataset's train and test splits, with where each came from."""

    images: np.ndarray  # uint8 (N, 28, 28)
    labels: np.ndarray  # int64 (N,), after any injected flips
    split: np.ndarray  # "train" / "test"
    index: np.ndarray  # int64 position in its split (train: the positions DataSpec.exclude names)
    injected: np.ndarray  # bool (N,)
    classes: list[str]


@dataclass(frozen=True)
class LabelIssues:
    """The ranked table of a pass, and how it was obtained."""

    table: pd.DataFrame  # rank order: index, split, given, suggested, score, flagged[, injected]
    spec: LabelIssueSpec
    seconds: float
    cached: bool
    classes: list[str]


def load_pool(spec: LabelIssueSpec) -> Pool:
    """Load the dataset's train and test splits, pooled, with the seeded label flips applied."""
    from explorer.data import load_dataset

    options = DataSpec(name=spec.dataset, size=spec.size, gen_seed=spec.gen_seed).load_options()
    train = load_dataset(spec.dataset, "train", spec.root, **options)
    test = load_dataset(spec.dataset, "test", spec.root, **options)
    images = np.concatenate([train.images.numpy(), test.images.numpy()])
    labels = np.concatenate([train.labels.numpy(), test.labels.numpy()]).astype(np.int64)
    split = np.array(["train"] * len(train) + ["test"] * len(test))
    index = np.concatenate([np.arange(len(train)), np.arange(len(test))]).astype(np.int64)
    labels, injected = flip_labels(labels, split == "train", spec.inject_flips, spec.seed, len(train.classes))
    return Pool(images, labels, split, index, injected, list(train.classes))


def flip_labels(labels: np.ndarray, eligible: np.ndarray, fraction: float, seed: int,
                n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Give round(fraction x eligible) seeded images a different random class -> (labels, flipped mask)."""
    out, flipped = labels.copy(), np.zeros(len(labels), dtype=bool)
    n = round(fraction * int(eligible.sum()))
    if n == 0:
        return out, flipped
    rng = np.random.default_rng([seed, 18])
    chosen = rng.choice(np.flatnonzero(eligible), size=n, replace=False)
    out[chosen] = (labels[chosen] + rng.integers(1, n_classes, size=n)) % n_classes
    flipped[chosen] = True
    return out, flipped


def check_folds(labels: np.ndarray, folds: int, classes: list[str]) -> None:
    """ValueError when a class present in the data has fewer images than folds (stratified k-fold needs one per fold)."""
    counts = np.bincount(labels, minlength=len(classes))
    small = [(classes[i], int(c)) for i, c in enumerate(counts) if 0 < c < folds]
    if len(labels) < 2 * folds or small:
        detail = ", ".join(f"{c}: {n}" for c, n in small[:5]) or f"{len(labels)} images in all"
        raise ValueError(f"the dataset is too small for {folds} folds ({detail}); every class needs at least "
                         f"{folds} images: use fewer folds or a larger --size")


def fit_fold(model_name: str, x: Any, y: Any, n_classes: int, epochs: int, seed: int, device: Any,
             tick: Callable[[], None]) -> Any:
    """Train one fold's model from scratch (Adam, cosine LR, whole data on the device); returns it in eval mode."""
    import torch
    import torch.nn.functional as F

    from explorer.data import DeviceLoader
    from explorer.models import build_letters_model

    torch.manual_seed(seed)
    model = build_letters_model(model_name, num_classes=n_classes).to(device)
    loader = DeviceLoader(x, y, 64, device, shuffle=True, seed=seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    total = max(1, epochs * len(loader))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5 * (1 + math.cos(math.pi * step / total)))
    model.train()
    for _ in range(epochs):
        for xb, yb in loader:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(xb), yb).backward()
            opt.step()
            sched.step()
        tick()
    return model.eval()


def crossval_probs(pool: Pool, spec: LabelIssueSpec, progress: Progress | None = None) -> np.ndarray:
    """Out-of-sample probabilities (N, K): each image predicted by the fold model that did not train on it."""
    import torch
    from sklearn.model_selection import StratifiedKFold

    from explorer.models import probabilities
    from explorer.train.loop import resolve_device

    check_folds(pool.labels, spec.folds, pool.classes)
    device = resolve_device("auto")
    probs = np.zeros((len(pool.labels), len(pool.classes)), dtype=np.float32)
    steps, done = spec.folds * (spec.epochs + 1), [0]

    def tick(text: str = "") -> None:
        done[0] += 1
        if progress:
            progress(done[0], steps, text)

    kfold = StratifiedKFold(n_splits=spec.folds, shuffle=True, random_state=spec.seed)
    images, labels = torch.from_numpy(pool.images), torch.from_numpy(pool.labels)
    for k, (tr, ho) in enumerate(kfold.split(pool.images, pool.labels)):
        model = fit_fold(spec.model, images[tr], labels[tr], len(pool.classes), spec.epochs, spec.seed + k, device,
                         lambda k=k: tick(f"fold {k + 1}/{spec.folds}: training"))
        probs[ho] = probabilities(model, pool.images[ho], device=device)
        tick(f"fold {k + 1}/{spec.folds}: predicted {len(ho):,} held-out images")
    return probs


def rank_issues(pool: Pool, probs: np.ndarray, with_injected: bool) -> pd.DataFrame:
    """The cleanlab ranking: every image, most likely mislabeled first; "flagged" = the first N ranks, N = cleanlab's
    estimate of the number of wrong labels (so a flagged row never ranks below an unflagged one)."""
    from cleanlab.count import num_label_issues
    from cleanlab.rank import get_label_quality_scores

    quality = get_label_quality_scores(pool.labels, probs, method="self_confidence")
    n_wrong = int(num_label_issues(pool.labels, probs))
    order = np.lexsort((np.arange(len(quality)), quality))  # lowest quality first, ties by position
    flagged = np.zeros(len(order), dtype=bool)
    flagged[order[:n_wrong]] = True
    classes = np.asarray(pool.classes)
    table = pd.DataFrame({
        "index": pool.index[order], "split": pool.split[order], "given": classes[pool.labels[order]],
        "suggested": classes[probs[order].argmax(1)], "score": (1.0 - quality[order]).round(6),
        "flagged": flagged[order],
    })  # fmt: skip
    if with_injected:
        table["injected"] = pool.injected[order]
    table.index = pd.RangeIndex(1, len(table) + 1, name="rank")
    return table


def _cache_path(spec: LabelIssueSpec) -> Path:
    return data_root(spec.root) / "label_issues" / spec.cache_name()


def _read_cache(path: Path, n: int, k: int) -> np.ndarray | None:
    """Cached probabilities if the file is readable and of the expected shape (else None)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            probs = z["probs"].astype(np.float32)
    except (OSError, KeyError, ValueError):
        return None
    ok = probs.shape == (n, k) and bool(np.isfinite(probs).all())
    return probs if ok else None


def find_issues(spec: LabelIssueSpec, progress: Progress | None = None, use_cache: bool = True) -> LabelIssues:
    """Rank every image of the dataset by how likely its given label is wrong (cached k-fold probabilities)."""
    t0 = time.perf_counter()
    if progress:
        progress(0, 1, f"loading {spec.dataset}")
    pool = load_pool(spec)
    path = _cache_path(spec)
    probs = _read_cache(path, len(pool.labels), len(pool.classes)) if use_cache else None
    cached = probs is not None
    if probs is None:
        probs = crossval_probs(pool, spec, progress)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, probs=probs, labels=pool.labels, spec=np.array(str(asdict(spec))))
    table = rank_issues(pool, probs, with_injected=spec.inject_flips > 0)
    return LabelIssues(table, spec, time.perf_counter() - t0, cached, pool.classes)


def flip_recall(table: pd.DataFrame, top: float = 0.04) -> float:
    """Share of the injected flips that rank within the top `top` fraction of the training images."""
    train = table[table["split"] == "train"]
    if "injected" not in train or not train["injected"].any():
        raise ValueError("no injected flips in this table: run with inject_flips > 0")
    head = train.iloc[: math.ceil(top * len(train))]
    return float(head["injected"].sum() / train["injected"].sum())


def exclusion_for(table: pd.DataFrame, ranks: list[int] | None = None, top: int | None = None) -> list[int]:
    """Training positions to exclude: the rows at the given ranks, or the first `top` training rows (test rows never)."""
    rows = table.loc[ranks] if ranks is not None else table[table["split"] == "train"].iloc[: top or 0]
    return sorted(int(i) for i in rows.loc[rows["split"] == "train", "index"])
