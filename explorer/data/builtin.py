"""The built-in, offline, EMNIST-like letters dataset, generated from Hershey stroke fonts.

Every sample: a letter (upper or lower case, 50/50) in one of several Hershey fonts (sans,
serif, italic, script, cursive), its strokes densified and bent by a random affine map (rotation,
shear, aspect), a smooth elastic displacement and per-point jitter, drawn with a random stroke
width (6-16 % of the letter's size, as a ~20 px pen on a 280 px canvas), light on dark, with a
little noise, then framed by the same EMNIST conversion as the canvas (preprocess.frame_ink).

Deterministic: sample chunks are seeded from (seed, split, chunk, GENERATOR_VERSION), so the
result does not depend on the number of worker processes. Cached as a compressed .npz under
<data root>/builtin/, keyed by seed, size and generator version, written atomically.
"""

from __future__ import annotations

import io
import os
import string
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.data.registry import DatasetCard, register_dataset
from explorer.data.spec import BUILTIN_DEFAULT_SIZE
from explorer.io import atomic_path

if TYPE_CHECKING:  # numpy loads when data is made, so listing datasets stays light
    import numpy as np

GENERATOR_VERSION = 2
DEFAULT_SIZE = BUILTIN_DEFAULT_SIZE  # training images per class: 26,000 train images
TEST_FRACTION = 0.2  # test images per class = max(10, round(0.2 x size))
CLASSES = list(string.ascii_uppercase)
CHUNK = 512
PARALLEL_MIN = 6000  # generate in worker processes from this many images on
CANVAS = 112  # rendering canvas (pixels); the letter's longer side is scaled to ~80 px
# (font, weight for capitals, weight for small letters): sans fonts dominate, as in hand
# printing; serif, italic, script and cursive forms add variety (ornate script capitals rarely).
FONTS = [
    ("futural", 5, 4),
    ("rowmans", 4, 3),
    ("futuram", 1, 1),
    ("rowmand", 1, 1),
    ("timesr", 1, 1),
    ("timesi", 2, 2),
    ("scripts", 0.5, 2),
    ("scriptc", 0.25, 1),
    ("cursive", 0.5, 2),
]


def test_size_for(size: int) -> int:
    """Number of test images per class for a given number of training images per class."""
    return max(10, round(TEST_FRACTION * size))


@lru_cache(maxsize=1)
def _glyphs() -> dict[str, dict[str, list[np.ndarray]]]:
    """Font name -> character -> list of densified polylines (float32 (K, 2), font units, y down)."""
    import numpy as np
    from HersheyFonts import HersheyFonts

    out: dict[str, dict[str, list[np.ndarray]]] = {}
    for name, *_ in FONTS:
        font = HersheyFonts()
        font.load_default_font(name)
        out[name] = {
            ch: [_densify(np.asarray(s, dtype=np.float32)) for s in font.strokes_for_text(ch) if len(s) >= 2]
            for ch in string.ascii_letters
        }
    return out


def _densify(poly: np.ndarray, step: float = 2.5) -> np.ndarray:
    """Insert points along a polyline so that consecutive points are at most `step` apart."""
    import numpy as np
    seg = np.diff(poly, axis=0)
    lengths = np.hypot(seg[:, 0], seg[:, 1])
    pieces = [poly[:1]]
    for a, d, n in zip(poly[:-1], seg, np.maximum(1, np.ceil(lengths / step)).astype(int), strict=True):
        t = (np.arange(1, n + 1, dtype=np.float32) / n)[:, None]
        pieces.append(a + t * d)
    return np.concatenate(pieces)


def render_letter(label: int, rng: np.random.Generator) -> np.ndarray:
    """Draw one random letter of class `label` (0 = A) and return its uint8 (28, 28) EMNIST-like frame."""
    import numpy as np
    from PIL import Image, ImageDraw

    from explorer.data.preprocess import frame_ink
    glyphs = _glyphs()
    upper = rng.random() < 0.5
    ch = CLASSES[label] if upper else CLASSES[label].lower()
    weights = np.array([f[1] if upper else f[2] for f in FONTS], dtype=np.float64)
    font = FONTS[rng.choice(len(FONTS), p=weights / weights.sum())][0]
    polys = glyphs[font][ch]
    pts = np.concatenate(polys)
    centre = (pts.min(0) + pts.max(0)) / 2
    size = float((pts.max(0) - pts.min(0)).max()) or 1.0
    # affine: rotation, shear, aspect
    angle = np.deg2rad(np.clip(rng.normal(0, 7), -18, 18))
    shear = rng.uniform(-0.3, 0.3)
    aspect = np.exp(rng.uniform(-0.2, 0.2))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], dtype=np.float32)
    mat = rot @ np.array([[aspect, shear], [0, 1 / aspect]], dtype=np.float32)
    # elastic: a smooth displacement field (a few random low-frequency waves) + jitter
    amp = size * rng.uniform(0.0, 0.06)
    waves = [(rng.normal(0, 1, 2) * 2 * np.pi / size, rng.uniform(0, 2 * np.pi), rng.normal(0, 1, 2)) for _ in range(3)]

    def warp(q: np.ndarray) -> np.ndarray:
        q = (q - centre) @ mat.T
        disp = np.zeros_like(q)
        for k, phase, direction in waves:
            disp += np.sin(q @ k + phase)[:, None] * direction
        return q + amp / 3 * disp + rng.normal(0, size * 0.004, q.shape)

    warped = [warp(s) for s in polys]
    allw = np.concatenate(warped)
    lo, hi = allw.min(0), allw.max(0)
    scale = 80.0 / max(float((hi - lo).max()), 1e-6)
    offset = CANVAS / 2 - (lo + hi) / 2 * scale
    width = max(2, round(80.0 * rng.uniform(0.06, 0.16)))
    img = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(img)
    r = width / 2
    for s in warped:
        xy = s * scale + offset
        level = int(rng.uniform(200, 255))
        draw.line([tuple(v) for v in xy.tolist()], fill=level, width=width)
        for x, y in xy.tolist():  # round joints and caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=level)
    out = frame_ink(np.asarray(img))
    if rng.random() < 0.5:  # noise on the ink of half of the samples (the background stays clean, as in EMNIST)
        noise = 1 + rng.standard_normal(out.shape, dtype=np.float32) * np.float32(rng.uniform(0.0, 0.15))
        noisy = np.clip(out * noise, 0, None)
        out = (noisy * (255.0 / noisy.max())).round().astype(np.uint8)  # rescaled to 0..255 as EMNIST
    return out


def _render_chunk(args: tuple[int, int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Render samples [start, stop) of one split; sample i has class i % 26."""
    import numpy as np
    seed, split_id, chunk, start, stop = args
    rng = np.random.default_rng([seed, split_id, chunk, GENERATOR_VERSION])
    labels = np.arange(start, stop) % len(CLASSES)
    images = np.stack([render_letter(int(y), rng) for y in labels])
    return images, labels.astype(np.int64)


def generate(
    size: int = DEFAULT_SIZE,
    seed: int = 0,
    split: str = "train",
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate `size` images per class for a split -> (uint8 (N, 28, 28), int64 (N,)); deterministic."""
    from concurrent.futures import ProcessPoolExecutor

    import numpy as np
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if size < 1:
        raise ValueError(f"size (images per class) must be >= 1, got {size}")
    total = size * len(CLASSES)
    split_id = 0 if split == "train" else 1
    jobs = [(seed, split_id, c, s, min(s + CHUNK, total)) for c, s in enumerate(range(0, total, CHUNK))]
    if workers is None:  # worker processes pay ~2 s to start: only worth it for big sets
        workers = min(len(jobs), os.cpu_count() or 1) if total >= PARALLEL_MIN else 1
    results: list[tuple[np.ndarray, np.ndarray]] = []
    done = 0
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            results.append(_render_chunk(job))
            done += job[4] - job[3]
            if progress:
                progress(done, total)
    else:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            for job, res in zip(jobs, pool.map(_render_chunk, jobs), strict=True):
                results.append(res)
                done += job[4] - job[3]
                if progress:
                    progress(done, total)
    images = np.concatenate([r[0] for r in results])
    labels = np.concatenate([r[1] for r in results])
    return images, labels


def cache_path(root: str | os.PathLike, size: int, seed: int) -> Path:
    """Where the built-in dataset for (size, seed) is cached under the data root."""
    return Path(root) / "builtin" / f"letters-v{GENERATOR_VERSION}-seed{seed}-n{size}.npz"


def load_or_generate(
    root: str | os.PathLike,
    size: int = DEFAULT_SIZE,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, np.ndarray]:
    """Return {"train_images", "train_labels", "test_images", "test_labels"}, generating and caching once."""
    import numpy as np
    path = cache_path(root, size, seed)
    if path.exists():
        try:
            with np.load(path) as z:
                return {k: z[k] for k in ("train_images", "train_labels", "test_images", "test_labels")}
        except (OSError, ValueError, KeyError, EOFError):
            path.unlink(missing_ok=True)  # unreadable cache: regenerate
    test_size = test_size_for(size)
    total = (size + test_size) * len(CLASSES)

    def report(split_done: int, offset: int) -> None:
        if progress:
            progress(offset + split_done, total)

    t0 = time.perf_counter()
    train = generate(size, seed, "train", progress=lambda d, _t: report(d, 0))
    test = generate(test_size, seed, "test", progress=lambda d, _t: report(d, size * len(CLASSES)))
    arrays = {
        "train_images": train[0],
        "train_labels": train[1],
        "test_images": test[0],
        "test_labels": test[1],
        "generation_seconds": np.float64(time.perf_counter() - t0),
    }
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())
    return {k: arrays[k] for k in ("train_images", "train_labels", "test_images", "test_labels")}


def build_seconds(root: str | os.PathLike, size: int = DEFAULT_SIZE, seed: int = 0,
                  sample: int = 52) -> tuple[float, str]:
    """(seconds, how) to build the letters of (size, seed) under `root`: 0 when cached; else scaled from the
    generation time an earlier cached build here recorded, else from rendering `sample` letters now."""
    import numpy as np
    if cache_path(root, size, seed).exists():
        return 0.0, "the letters are cached"
    total = (size + test_size_for(size)) * len(CLASSES)
    workers = min(-(-total // CHUNK), os.cpu_count() or 1) if total >= PARALLEL_MIN else 1
    for other in sorted((Path(root) / "builtin").glob(f"letters-v{GENERATOR_VERSION}-seed*-n*.npz")):
        try:
            with np.load(other) as z:
                took, n = float(z["generation_seconds"]), len(z["train_labels"]) + len(z["test_labels"])
        except (OSError, ValueError, KeyError, EOFError):
            continue
        if took > 0 and n > 0:
            return took * total / n, f"building {total:,} letters, scaled from an earlier build of {n:,} here"
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    render_letter(0, rng)  # the first one also loads the fonts: once per process
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i in range(sample):
        render_letter(i % len(CLASSES), rng)
    per_image = (time.perf_counter() - t0) / sample
    start = 2.0 + setup if workers > 1 else setup  # worker processes take about 2 s to start, then load the fonts
    return per_image * total / workers + start, (f"building {total:,} letters, measured on {sample} rendered now "
                                                 f"({workers} process{'es' if workers > 1 else ''})")


def _load(split: str, root: Path, size: int | None = None, seed: int | None = None,
          progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, np.ndarray, str]:
    """Registry loader: one split of the generated set (generated and cached on first use)."""
    size, seed = int(size or DEFAULT_SIZE), int(seed or 0)
    arrays = load_or_generate(root, size, seed, progress)
    return arrays[f"{split}_images"], arrays[f"{split}_labels"], str(cache_path(root, size, seed))


register_dataset(DatasetCard(
    name="letters-builtin", title="Built-in letters (offline)", classes=tuple(CLASSES),
    source="generated from Hershey stroke fonts",
    description="An EMNIST-like letters set generated on this machine: 26 classes A-Z (upper and lower case "
    "merged), light strokes on dark, framed and centred by EMNIST's conversion; letter forms from "
    "several stroke fonts with random stroke width, affine and elastic distortion and noise. "
    "Deterministic from a seed, cached under {root}" + os.sep + "builtin. The default is "
    f"{DEFAULT_SIZE:,} training images per class.",
    train_size=DEFAULT_SIZE * len(CLASSES), test_size=test_size_for(DEFAULT_SIZE) * len(CLASSES), offline=True, order=0,
    load=_load, available=lambda root: True,
    how_to_get=lambda root: "Always available: generated on first use (about 30 s for 26,000 images on 2 cores).",
    options=frozenset({"size", "seed", "progress"}),
))  # fmt: skip
