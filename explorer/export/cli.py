"""`python -m explorer export RUN --format onnx --out DIR`, `python -m explorer runs push RUN... --mlflow URI` and
`python -m explorer runs pull --mlflow URI`."""

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
    """Add `push` and `pull` to the `runs` command's actions (explorer.train.cli owns `runs`)."""
    if "runs" not in groups:
        raise RuntimeError("`runs push` needs the `runs` command (explorer.train.cli) registered first")
    p = groups["runs"].add_parser("push", help="log runs to an MLflow tracking server (optional extra: pip install mlflow)")
    p.add_argument("run", nargs="+", help="run ids or folders")
    p.add_argument("--mlflow", default=None, help="tracking URI or folder (default ./mlruns)")
    p.add_argument("--experiment", default="cnn-explorer", help="MLflow experiment name (default cnn-explorer)")
    p.set_defaults(func=cmd_push)
    pl = groups["runs"].add_parser("pull", help="bring runs pushed to MLflow back into the runs folder (checked like "
                                                "an import; runs already here are kept)")
    pl.add_argument("--mlflow", default=None, help="tracking URI or folder (default ./mlruns)")
    pl.add_argument("--experiment", default=None, help="MLflow experiment name (default cnn-explorer)")
    pl.add_argument("--filter", default=None, help="MLflow search filter, e.g. \"metrics.test_acc > 0.9\" or "
                                                   "\"tags.`explorer.tag.best` = '1'\"")
    pl.add_argument("--run", action="extend", nargs="+", default=[], metavar="MLFLOW_RUN_ID",
                    help="pull these MLflow runs (ids); instead of --experiment/--filter")
    pl.set_defaults(func=cmd_pull)


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


def cmd_pull(args: argparse.Namespace) -> int:
    """Pull runs and print one line per MLflow run; exit 2 when any was refused."""
    import sys

    from explorer.export.mlflow import MlflowMissingError, shown_uri
    from explorer.export.mlflow_pull import pull_runs

    if args.run and (args.experiment or args.filter):
        raise ValueError("give --run, or --experiment/--filter, not both")
    try:
        results = pull_runs(args.mlflow, args.experiment, args.filter, args.run, root=getattr(args, "runs", None))
    except MlflowMissingError as exc:
        raise ValueError(str(exc)) from None
    counts: dict[str, int] = {}
    for r in results:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
        if r.outcome == "pulled":
            print(f"MLflow run {r.mlflow_run_id} -> {r.run_id}: pulled into {r.detail}")
        elif r.outcome == "already here":
            print(f"MLflow run {r.mlflow_run_id} -> {r.run_id}: already here; not overwritten")
        elif r.outcome == "refused":
            print(f"error: MLflow run {r.mlflow_run_id}{' (' + r.run_id + ')' if r.run_id else ''} refused: "
                  f"{r.detail}", file=sys.stderr)
    where = args.mlflow or "./mlruns"
    where = where if "://" not in where else shown_uri(where)  # never a password
    summary = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("pulled", "already here", "refused"))
    other = f" ({counts['not ours']} MLflow runs without the explorer.run_id tag left alone)" if counts.get("not ours") else ""
    print(f"{summary} from {where}{other}" if results else f"no runs matched at {where}")
    return 2 if counts.get("refused") else 0
