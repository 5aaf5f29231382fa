"""CLI: `label-issues` (likely label errors), `trust` (faithfulness and sanity figures), `disagree` (two runs image by
image: explorer.trust.disagree; `--out` writes the images they disagree on)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def _progress(done: int, total: int, text: str) -> None:
    """One status line on stderr, rewritten in place."""
    print(f"\r[{done}/{total}] {text[:70]:<70}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def _label_issues(args: argparse.Namespace) -> int:
    """Rank every image by how likely its label is wrong; write the CSV in rank order."""
    from explorer.runs import check_output
    from explorer.trust.labels import LabelIssueSpec, find_issues, flip_recall

    check_output(args.out, args.force)

    spec = LabelIssueSpec(dataset=args.dataset, model=args.model, folds=args.folds, size=args.size, seed=args.seed,
                          epochs=args.epochs, inject_flips=args.inject_flips, root=args.data_root)
    result = find_issues(spec, progress=_progress, use_cache=not args.no_cache)
    table = result.table.reset_index()
    cols = ["rank", "index", "split", "given", "suggested", "score", "flagged"] + (["injected"] if spec.inject_flips else [])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table[cols].to_csv(args.out, index=False)
    flagged = int(table["flagged"].sum())
    print(f"{len(table):,} images ranked ({'cached probabilities' if result.cached else f'{spec.folds}-fold pass'}, "
          f"{result.seconds:.1f} s); cleanlab flags {flagged:,}; wrote {args.out}")
    if spec.inject_flips:
        print(f"injected flips within the top 4% of training images: {flip_recall(result.table):.1%}")
    return 0


def _trust(args: argparse.Namespace) -> int:
    """Deletion areas (vs random) and sanity-check rank correlations of a run's explanations, as JSON."""
    from explorer.runs import check_output, open_run
    from explorer.trust.report import trust_report

    if args.out:
        check_output(args.out, args.force)
    if args.sanity_images < 1:
        raise ValueError(f"--sanity-images must be 1 or more (at most --images are used), got {args.sanity_images}: "
                         "the randomisation check needs at least one image")
    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    out = trust_report(open_run(args.run), methods, images=args.images, seed=args.seed, steps=args.steps,
                       sanity_images=args.sanity_images, progress=_progress, use_cache=not args.no_cache)
    text = json.dumps(out, indent=2)
    if args.out:
        from explorer.io import atomic_write_text

        atomic_write_text(Path(args.out), text + "\n")
    for m, f in out.items():
        flag = "  FLAGGED: the map hardly depends on the weights" if f["flagged"] else ""
        print(f"{m}: deletion area {f['deletion_area']:.3f} (random order {f['deletion_area_random']:.3f}); "
              f"rank correlation after full randomisation {f['rank_corr_randomised']:.3f}{flag}")
    return 0


def _disagree(args: argparse.Namespace) -> int:
    """Pair two runs' test predictions image by image; print the counts, write one row per image."""
    from explorer.runs import check_output, open_run
    from explorer.trust.disagree import A_ONLY, B_ONLY, COLUMNS, disagreement

    if args.out:
        check_output(args.out, args.force)
    d = disagreement(open_run(args.run_a), open_run(args.run_b))
    print(f"{d.n:,} paired test images: accuracy A {d.accuracy('a'):.4f}, B {d.accuracy('b'):.4f}; "
          f"{A_ONLY}: {len(d.rows(A_ONLY)):,}; {B_ONLY}: {len(d.rows(B_ONLY)):,}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        d.table[COLUMNS].to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    return 0


def _add_output_options(p: Any, **out: Any) -> None:
    """--out (with the given argparse settings) and --force, which every command here takes."""
    p.add_argument("--out", **out)
    p.add_argument("--force", action="store_true", help="replace existing output files")


def add_parsers(subparsers: Any) -> None:
    """Register label-issues, trust and disagree."""
    p = subparsers.add_parser("label-issues", help="rank images by how likely their label is wrong (cleanlab, k-fold)")
    p.add_argument("dataset", help="dataset name, e.g. letters-builtin")
    p.add_argument("--model", default="lenet_keras", help="registry model trained per fold (default lenet_keras)")
    p.add_argument("--folds", type=int, default=3, help="cross-validation folds (2..20)")
    p.add_argument("--size", type=int, default=None, help="letters-builtin: training images per class")
    p.add_argument("--seed", type=int, default=0, help="seed of folds, training and injected flips")
    p.add_argument("--epochs", type=int, default=6, help="epochs per fold model")
    p.add_argument("--inject-flips", type=float, default=0.0, metavar="F",
                   help="flip a seeded fraction F of the training labels first and add an 'injected' column")
    p.add_argument("--data-root", default=None, help="data folder (default $EXPLORER_DATA or ./data)")
    p.add_argument("--no-cache", action="store_true", help="recompute even when cached probabilities exist")
    _add_output_options(p, required=True, help="CSV to write (rank order)")
    p.set_defaults(func=_label_issues)

    p = subparsers.add_parser("trust", help="faithfulness (deletion) and sanity-check figures of a run's explanations")
    p.add_argument("run", help="run id or folder")
    p.add_argument("--method", default="gradcam", help="attribution method(s), comma-separated")
    p.add_argument("--images", type=int, default=16, help="seeded test images to score")
    p.add_argument("--sanity-images", type=int, default=4, help="of those, how many get the randomisation check")
    p.add_argument("--steps", type=int, default=20, help="deletion steps")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-cache", action="store_true", help="recompute even when the run has cached figures")
    _add_output_options(p, default=None, help="JSON file to write")
    p.set_defaults(func=_trust)

    p = subparsers.add_parser("disagree", help="two runs image by image: where one is right and the other wrong")
    p.add_argument("run_a", help="run id or folder (A)")
    p.add_argument("run_b", help="run id or folder (B)")
    _add_output_options(p, default=None, metavar="CSV",
                        help="write one row per test image: index, true, pred_a, prob_a, pred_b, prob_b")
    p.set_defaults(func=_disagree)
