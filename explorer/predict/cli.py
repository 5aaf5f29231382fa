"""`explorer predict RUN IMAGE [IMAGE ...] [--device cuda]`: the top-k letters of a saved run for image
files or test:N references, through the same preprocessing and inference path as the Draw page."""

from __future__ import annotations

import argparse
import json

from explorer.devices import DEVICE_HELP

MAX_IMAGES = 1000  # images per call: each is a file read and a forward pass


def cmd_predict(args: argparse.Namespace) -> int:
    """Predict each image with the run's saved model; print (or --json) the top-k with probabilities."""
    from explorer.devices import device_label, resolve_device
    from explorer.predict import predict_image
    from explorer.runs import open_run

    if not 1 <= args.top <= 100:
        raise ValueError(f"--top must be a whole number from 1 to 100, got {args.top}")
    if len(args.images) > MAX_IMAGES:
        raise ValueError(f"{len(args.images)} images given; predict takes at most {MAX_IMAGES} per call")
    device = resolve_device(args.device)
    run = open_run(args.run)
    images = [(ref, run.image_ref(ref)) for ref in args.images]  # every reference checked before the model loads
    model = run.load_model(args.which, device=str(device))
    classes = run.classes
    rows = []
    for ref, x in images:
        pred = predict_image(model, x, classes, k=args.top)
        rows.append({"image": ref, "top": [[c, round(p, 6)] for c, p in zip(pred.letters, pred.top_probs, strict=True)],
                     "latency_ms": round(pred.latency_ms, 3)})
    if args.json:
        print(json.dumps({"run": run.run_id, "device": device_label(device), "predictions": rows}, indent=2))
        return 0
    print(f"run {run.run_id} on {device_label(device)}")
    for row in rows:
        tops = ", ".join(f"{c} {100 * p:.1f}%" for c, p in row["top"])
        print(f"{row['image']}: {tops}  ({row['latency_ms']:.1f} ms)")
    return 0


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the `predict` command."""
    p = subparsers.add_parser(
        "predict",
        help="the top letters a saved run reads in image files or test images",
        description="Predict images with a run's saved model (the Draw page's path): files (PNG, JPEG, ...; "
                    "any size, either polarity) or test:N for the run's N-th test image.",
    )
    p.add_argument("run", metavar="RUN", help="run id or run folder")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files, or test:N references")
    p.add_argument("--which", default="best", choices=["best", "last"], help="which saved weights (default best)")
    p.add_argument("--device", default="cpu", help=f"where the model runs: {DEVICE_HELP} (default cpu)")
    p.add_argument("--top", type=int, default=5, help="how many letters to show per image (default 5)")
    p.add_argument("--json", action="store_true", help="print the predictions as JSON")
    p.set_defaults(func=cmd_predict)
