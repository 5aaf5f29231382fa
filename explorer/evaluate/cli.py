"""`python -m explorer evaluate RUN [--out DIR]`: print a run's report and write its figures."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.devices import DEVICE_HELP

if TYPE_CHECKING:
    from explorer.metrics import Evaluation


def format_report(ev: Evaluation, title: str = "") -> str:
    """Return the plain-text report: headline metrics, per-class table, confused pairs."""
    r = ev.report
    lines = [title] if title else []
    lines += [
        f"test images        {r.n}",
        f"accuracy           {r.accuracy:.4f}",
        f"precision  macro {r.precision_macro:.4f}   weighted {r.precision_weighted:.4f}",
        f"recall     macro {r.recall_macro:.4f}   weighted {r.recall_weighted:.4f}",
        f"F1         macro {r.f1_macro:.4f}   weighted {r.f1_weighted:.4f}",
        "top-k accuracy     " + "   ".join(f"top-{k} {v:.4f}" for k, v in sorted(r.top_k.items())),
        f"ROC AUC            micro {ev.roc.area['micro']:.4f}   macro {ev.roc.area['macro']:.4f}",
        f"calibration        ECE {ev.calibration.ece:.4f} ({ev.calibration.n_bins} bins)",
        "",
        "per-class report",
    ]
    table = r.per_class.copy()
    table["precision"] = table["precision"].map("{:.4f}".format)
    table["recall"] = table["recall"].map("{:.4f}".format)
    table["f1"] = table["f1"].map("{:.4f}".format)
    lines.append(table.to_string(index=False))
    if len(ev.pairs):
        lines += ["", "most confused pairs (a->b, b->a)"]
        lines += [f"  {p.pair:<6} {p.a_as_b:>5} {p.b_as_a:>5}  total {p.total}" for p in ev.pairs.itertuples()]
    for note in r.notes + ev.roc.notes + ev.pr.notes:
        lines.append(f"note: {note}")
    return "\n".join(lines)


def _run_folder(run: Any) -> Path:
    """Return a run's folder (the runs store names it .path, .folder or .dir)."""
    for attr in ("path", "folder", "dir", "root"):
        value = getattr(run, attr, None)
        if value is not None:
            return Path(value)
    raise ValueError("cannot tell where this run's folder is; pass --out DIR")


def _run_id(run: Any) -> str:
    """Return a run's id for messages."""
    cfg = getattr(run, "config", None) or {}
    return str(getattr(run, "run_id", None) or cfg.get("run_id") or "run")


def load_evaluation(run: Any, predict: bool = False, recompute: bool = False, device: str | None = None) -> Evaluation:
    """Return the Evaluation of a run's saved predictions; ValueError says what is missing.

    With ``predict`` a run without predictions is evaluated now (its model over its test split, saved);
    with ``recompute`` the predictions are made again on ``device`` and evaluated without being saved.
    """
    from explorer.metrics import evaluate_all

    preds = None if recompute else run.predictions()
    if preds is None and (predict or recompute):
        from explorer.evaluate.run import predict_run

        preds = predict_run(run, save=not recompute, device=device)
    if preds is None:
        status = getattr(run, "status", None)
        state = status.get("status") if isinstance(status, dict) else getattr(status, "status", status)
        raise ValueError(
            f"run {_run_id(run)} has no saved predictions (predictions.npz; run status: {state or 'unknown'}); "
            "it failed or stopped before testing. Evaluate it now with --predict (uses its saved weights)."
        )
    return evaluate_all(preds.y_true, preds.y_prob, list(preds.classes))


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Print the report of run RUN and write its figures (PNG and HTML) and tables."""
    from explorer.devices import device_label, resolve_device
    from explorer.runs import check_output, open_run

    device = resolve_device(args.device)
    run = open_run(args.run)
    own = _run_folder(run) / "evaluation"  # its own folder inside the run: rewritten by every evaluate
    out = check_output(args.out or own, args.force, folder=True, writes=("report.json", "per_class.csv"), allow=own)
    ev = load_evaluation(run, predict=args.predict, recompute=args.recompute, device=str(device))
    where = f" (predictions recomputed on {device_label(device)}, not saved)" if args.recompute else ""
    print(format_report(ev, title=f"run {_run_id(run)}{where}"))
    if not args.no_figures:
        from explorer.evaluate.figures import write_figures, write_tables

        try:
            history = list(run.history())
        except (FileNotFoundError, ValueError):
            history = []
        written = write_tables(ev, out) + write_figures(ev, out, history)
        print(f"\nwrote {len(written)} files to {out}")
    return 0


def seed_table_text(rows: list[tuple[str, Any]]) -> str:
    """Return the seed result table beside the given (label, MetricsReport) rows, as text."""
    import pandas as pd

    from explorer.metrics import seed_result_table

    df = seed_result_table(rows)
    with pd.option_context("display.float_format", "{:.2f}".format):
        return df.drop(columns=["run_id"]).to_string(index=False)


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the `evaluate` command."""
    p = subparsers.add_parser(
        "evaluate",
        help="report and figures of a run's test predictions",
        description="Print accuracy, macro and weighted precision/recall/F1, top-k and the per-class "
        "table of a run's saved test predictions; write figures (PNG and HTML) and tables.",
    )
    p.add_argument("run", metavar="RUN", help="run id or run folder")
    p.add_argument("--out", metavar="DIR", help="folder for figures and tables (default RUN/evaluation)")
    p.add_argument("--no-figures", action="store_true", help="only print the report")
    p.add_argument("--force", action="store_true", help="replace the figures and tables of an earlier --out")
    p.add_argument("--predict", action="store_true",
                   help="if the run has no saved predictions, compute them now from its saved weights")
    p.add_argument("--recompute", action="store_true",
                   help="compute the predictions again from the saved weights (on --device) and evaluate those "
                        "instead of the saved ones; nothing in the run is changed")
    p.add_argument("--device", default="cpu", help=f"where --predict/--recompute run the model: {DEVICE_HELP} (default cpu)")
    p.set_defaults(func=cmd_evaluate)
