"""`python -m explorer export RUN --format onnx --out DIR` and `python -m explorer runs push RUN... --mlflow URI`."""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add `export` (`runs push` is added by extend_parsers, once the `runs` command exists)."""
    e = sub.add_parser("export", help="export a run to ONNX, verified by onnxruntime, with a model card")
    e.add_argument("run", help="run id (or a unique prefix) or run folder")
    e.add_argument("--format", default="onnx", choices=["onnx"])
    e.add_argument("--out", required=True, help="output folder (model.onnx, MODEL_CARD.md, export.json)")
    e.add_argument("--force", action="store_true", help="replace an earlier export in that folder")
    e.add_argument("--which", default="best", choices=["best", "last"], help="weights to export")
    e.add_argument("--limit", type=int, default=None, help="verify on the first N test images (default: all)")
    e.add_argument("--runs", help="runs root (default $EXPLORER_RUNS or ./runs)")
    e.set_defaults(func=cmd_export)


def extend_parsers(groups: dict[str, argparse._SubParsersAction]) -> None:
    """Add `push` to the `runs` command's actions (explorer.train.cli owns `runs`)."""
    if "runs" not in groups:
        raise RuntimeError("`runs push` needs the `runs` command (explorer.train.cli) registered first")
    p = groups["runs"].add_parser("push", help="log runs to an MLflow tracking server (optional extra: pip install mlflow)")
    p.add_argument("run", nargs="+", help="run ids or folders")
    p.add_argument("--mlflow", default=None, help="tracking URI or folder (default ./mlruns)")
    p.add_argument("--experiment", default="cnn-explorer", help="MLflow experiment name (default cnn-explorer)")
    p.set_defaults(func=cmd_push)


def cmd_export(args: argparse.Namespace) -> int:
    """Export and print the verification."""
    from explorer.export.onnx import export_onnx

    if args.limit is not None and args.limit < 1:
        raise ValueError("--limit must be 1 or more")
    from explorer.runs import check_output

    check_output(args.out, args.force, folder=True, writes=("model.onnx", "MODEL_CARD.md", "export.json"))
    r = export_onnx(args.run, args.out, fmt=args.format, which=args.which, limit=args.limit, root=args.runs)
    print(f"exported {r.run_id} ({r.model}) to {r.path} in {r.export_s:.1f} s")
    print(f"onnxruntime vs torch on {r.images} test images: top-1 identical on {r.top1_agree}, "
          f"max probability difference {r.max_prob_diff:.3g}")
    print(f"latency per image: torch {r.torch_ms_per_image:.3f} ms, onnxruntime {r.onnx_ms_per_image:.3f} ms")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    """Push each run; already-pushed runs are reported, not duplicated."""
    from explorer.export.mlflow import MlflowMissingError, push_run, tracking_uri

    try:
        for ref in args.run:
            r = push_run(ref, args.mlflow, experiment=args.experiment, root=getattr(args, "runs", None))
            what = (f"pushed ({r.params} params, {r.metric_points} metric points, run folder as artifacts)"
                    if r.created else "already pushed; not duplicated")
            print(f"{r.run_id} -> MLflow run {r.mlflow_run_id}: {what}")
    except MlflowMissingError as exc:
        raise ValueError(str(exc)) from None
    print(f"tracking URI: {tracking_uri(args.mlflow)}")
    return 0
