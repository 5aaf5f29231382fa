"""Trust figures of a saved run: mean deletion areas (vs random order) and sanity-check correlations per method.

Cached in the run folder (Run.derived, result "trust"), keyed by the settings and the weights
file's size and mtime, so a retrained run is scored again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from explorer.runs import Run
from explorer.trust.faithfulness import DEFAULT_STEPS, SANITY_LIMIT, deletion, sanity_check

MAX_IMAGES = 500
Progress = Callable[[int, int, str], None]


def pick_images(run: Run, n: int, seed: int) -> np.ndarray:
    """`n` seeded test images of the run (uint8 (n, 28, 28))."""
    if not 1 <= int(n) <= MAX_IMAGES:
        raise ValueError(f"images must be in [1, {MAX_IMAGES}], got {n!r}")
    images = run.test_split().images
    idx = np.sort(np.random.default_rng(seed).choice(len(images), size=min(int(n), len(images)), replace=False))
    return images[idx]


def method_figures(model: Any, images: np.ndarray, method: str, seed: int, steps: int,
                   sanity_images: int, tick: Callable[[], None]) -> dict[str, Any]:
    """Mean deletion areas and mean sanity correlations of one method over `images`."""
    from explorer.explain import explain

    areas, randoms, finals, per_step, blocks = [], [], [], [], []
    for i, image in enumerate(images):
        ex = explain(model, image, method=method)
        d = deletion(model, image, ex.heatmap, ex.target, steps=steps, seed=seed + i)
        areas.append(d.area)
        randoms.append(d.area_random)
        if i < sanity_images:
            s = sanity_check(model, image, method, target=ex.target, seed=seed)
            finals.append(s.final)
            per_step.append(s.rank_corr)
            blocks = s.blocks
        tick()
    final = float(np.mean(finals))
    return {
        "deletion_area": float(np.mean(areas)), "deletion_area_random": float(np.mean(randoms)),
        "deletion_beats_random": float(np.mean(np.array(areas) < np.array(randoms))),
        "rank_corr_randomised": final, "rank_corr_by_step": np.mean(per_step, axis=0).round(4).tolist(),
        "randomised_blocks": blocks, "flagged": bool(final > SANITY_LIMIT), "images": len(images),
        "sanity_images": len(finals),
    }  # fmt: skip


def trust_report(run: Run, methods: Sequence[str] = ("gradcam",), images: int = 16, seed: int = 0,
                 steps: int = DEFAULT_STEPS, sanity_images: int = 4, progress: Progress | None = None,
                 use_cache: bool = True) -> dict[str, Any]:
    """{method: {deletion_area, deletion_area_random, rank_corr_randomised, ...}} for `images` seeded test images."""
    from explorer.explain import METHODS
    from explorer.run_models import load_run_model

    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    run.check_usable()  # ValueError while it is still training, FileNotFoundError without weights
    wp = run.weights_path("best")
    key = {"methods": list(methods), "images": int(images), "seed": int(seed), "steps": int(steps),
           "sanity_images": int(sanity_images), "weights": [wp.name, *run.weights_stamp()]}
    if use_cache and (hit := run.derived.read("trust", key)) is not None:
        return hit
    model = load_run_model(run)
    picked = pick_images(run, images, seed)
    total, done = len(methods) * len(picked), [0]

    def tick(method: str) -> None:
        done[0] += 1
        if progress:
            progress(done[0], total, f"{method}: image {done[0]}/{total}")

    out = {m: method_figures(model, picked, m, seed, steps, min(sanity_images, len(picked)),
                             lambda m=m: tick(m)) for m in methods}
    run.derived.write("trust", key, out)
    return out
