"""Trust figures as a benchmark, each against a baseline measured in the same process.

1. Label issues (the issue-18 goal): built-in letters with 2% of the training labels flipped (seeded);
   share of the flipped images within the top 4% of the ranked training images, and the wall time,
   against (a) a random ranking (expected 4%) and (b) the same cleanlab ranking on in-sample
   probabilities (one model trained on all images, scoring its own training images: what the
   out-of-sample k-fold pass exists to avoid).
2. Faithfulness of a run's explanations (`--run`): deletion area of each method / the random order's
   area (< 1 means the map beats random), and the rank correlation after full randomisation.

    python bench/bench_trust.py [--size 200] [--folds 3] [--epochs 6] [--run RUN_ID]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explorer.trust.labels import LabelIssueSpec, find_issues, fit_fold, flip_recall, load_pool, rank_issues


def in_sample_recall(spec: LabelIssueSpec) -> float:
    """Baseline: one model trained on every image ranks its own training images."""
    import torch

    from explorer.models import probabilities
    from explorer.train.loop import resolve_device

    pool = load_pool(spec)
    device = resolve_device("auto")
    model = fit_fold(spec.model, torch.from_numpy(pool.images), torch.from_numpy(pool.labels), len(pool.classes),
                     spec.epochs, spec.seed, device, lambda: None)
    probs = probabilities(model, pool.images, device=device)
    return flip_recall(rank_issues(pool, probs, with_injected=True))


def bench_labels(args: argparse.Namespace) -> None:
    """The label-issues goal and its baselines."""
    spec = LabelIssueSpec(size=args.size, folds=args.folds, epochs=args.epochs, inject_flips=0.02, seed=args.seed)
    t0 = time.perf_counter()
    result = find_issues(spec, use_cache=False)
    seconds = time.perf_counter() - t0
    recall = flip_recall(result.table)
    t1 = time.perf_counter()
    base = in_sample_recall(spec)
    t_base = time.perf_counter() - t1
    n_train = int((result.table["split"] == "train").sum())
    print(f"label issues: {spec.dataset} size {spec.size or 'default'}/class ({n_train:,} training + "
          f"{len(result.table) - n_train:,} test images), {spec.model}, {spec.folds} folds x {spec.epochs} epochs, "
          f"{int(result.table['injected'].sum())} flips")
    print(f"  recall of flips in the top 4%: {recall:.1%} (goal >= 80%) in {seconds:.1f} s (goal < 180 s)")
    print(f"  vs random ranking 4.0%: x{recall / 0.04:.1f}; vs in-sample probabilities {base:.1%} "
          f"({t_base:.1f} s): x{recall / max(base, 1e-9):.2f}")
    t2 = time.perf_counter()
    find_issues(replace(spec))  # the cache written above
    print(f"  cached re-ranking: {time.perf_counter() - t2:.2f} s (x{seconds / (time.perf_counter() - t2):.0f} faster)")


def bench_faithfulness(run_ref: str, images: int) -> None:
    """Deletion areas against the random order, and sanity correlations, for every method."""
    from explorer.runs import open_run
    from explorer.trust.report import trust_report

    t0 = time.perf_counter()
    out = trust_report(open_run(run_ref), ["gradcam", "saliency", "integrated_gradients", "occlusion"],
                       images=images, sanity_images=min(4, images), use_cache=False)
    print(f"faithfulness on {images} test images of {run_ref} ({time.perf_counter() - t0:.1f} s):")
    for m, f in out.items():
        print(f"  {m:22s} deletion area {f['deletion_area']:.3f} vs random {f['deletion_area_random']:.3f} "
              f"(ratio {f['deletion_area'] / f['deletion_area_random']:.2f}); rank corr after full randomisation "
              f"{f['rank_corr_randomised']:.2f}{' FLAGGED' if f['flagged'] else ''}")


def main() -> None:
    """Parse arguments and run the benchmarks."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=200, help="built-in letters: training images per class")
    p.add_argument("--folds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run", default=None, help="also score this run's explanations")
    p.add_argument("--images", type=int, default=16)
    p.add_argument("--skip-labels", action="store_true")
    args = p.parse_args()
    if not args.skip_labels:
        bench_labels(args)
    if args.run:
        bench_faithfulness(args.run, args.images)


if __name__ == "__main__":
    main()
