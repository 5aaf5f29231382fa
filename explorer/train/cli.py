"""`python -m explorer train ...` and `python -m explorer runs list|show|resume|stop|rename|tag|delete|export|import`.

The same entry point runs under `torchrun --nproc_per_node N -m explorer train ...` (DDP; rank 0 writes).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import Field, fields, replace
from pathlib import Path
from typing import Any

from explorer.config import TrainConfig
from explorer.data.spec import Augment


def _progress_callback(enabled: bool) -> Any:
    """A callback drawing a tqdm bar per epoch on stderr (rank 0 only)."""
    if not enabled or int(os.environ.get("RANK", "0")) != 0:
        return None
    from tqdm import tqdm

    bar: dict[str, Any] = {"bar": None}

    def cb(event: str, info: dict[str, Any]) -> None:
        if event == "start":
            print(f"device: {info['device']}; {info['epochs']} epochs x {info['steps']} steps", file=sys.stderr)
            for note in info.get("notes") or []:
                print(f"note: {note}", file=sys.stderr)
        elif event == "epoch_start":
            bar["bar"] = tqdm(total=info["steps"], desc=f"epoch {info['epoch']} [{info['stage_name']}]",
                              unit="step", leave=True, file=sys.stderr, dynamic_ncols=True)
        elif event == "step" and bar["bar"] is not None:
            bar["bar"].update(1)
        elif event == "epoch_end" and bar["bar"] is not None:
            bar["bar"].set_postfix(loss=f"{info['train_loss']:.3f}", val_acc=f"{info['val_acc']:.3f}",
                                   img_s=f"{info['images_per_s']:.0f}")
            bar["bar"].close()
            bar["bar"] = None
        elif event == "done" and bar["bar"] is not None:
            bar["bar"].close()

    return cb


MAX_CONFIG_BYTES = 1 << 20  # --config files above 1 MiB are refused before parsing


def read_config_file(path: str) -> TrainConfig:
    """A TrainConfig from a JSON file given with --config; ValueError naming the file and what is wrong."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"--config {p} is a folder; give a JSON file of training settings (a run's config.json "
                         "holds one under \"train\")")
    try:
        with open(p, "rb") as fh:  # read at most the cap (+1 byte to tell): /dev/zero or a huge file is refused
            raw = fh.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ValueError(f"--config {p} is larger than {MAX_CONFIG_BYTES // 1024} KiB; a training config is a "
                             "small JSON object (a run's config.json holds one under \"train\")")
        data = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"--config {p}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"--config {p} is not a JSON file ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"--config {p} must hold a JSON object of training settings, got {type(data).__name__}")
    try:
        return TrainConfig.from_dict(data)
    except TypeError as exc:
        raise ValueError(f"--config {p}: {exc}") from None


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Start from the recipe (or a JSON config file) and apply the options given on the command line."""
    from explorer.train.recipes import get_recipe

    if args.config:
        cfg = read_config_file(args.config)
    else:
        cfg = get_recipe(args.recipe)
    changes = {f.name: getattr(args, f.name) for f in cli_fields() if getattr(args, f.name) is not None}
    if args.name is not None:
        changes["name"] = args.name
    if args.model and args.model != cfg.model and args.recipe == "quick" and not args.config:
        changes.setdefault("channels_last", True)
    if (args.epochs is not None or args.lr is not None) and cfg.stages and not args.keep_stages:
        changes["stages"] = ()  # explicit epochs/lr on a staged recipe: one stage
    data = {k: v for k, v in (("name", args.data), ("size", args.size), ("val_fraction", args.val_fraction),
                              ("root", args.data_root)) if v is not None}
    changes["data"] = replace(cfg.data, **data)
    if args.augment is not None:
        changes["augment"] = Augment() if args.augment else None
    return cfg.replace(**changes)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a model (or continue the run in --run-dir); prints the run id and the test accuracy."""
    from explorer.train.job import train

    cb = _progress_callback(not args.no_progress)
    outcome: dict[str, Any] = {}
    if args.run_dir:
        run = train(TrainConfig(), run_dir=args.run_dir, resume=args.resume, callback=cb, outcome=outcome)
    else:
        cfg = config_from_args(args)
        from explorer.runs import existing_runs_root
        from explorer.train.estimate import print_estimate

        existing_runs_root(args.runs)  # a --runs that is a file: one line before any estimate or lock

        est = print_estimate(cfg, enabled=not args.no_estimate, root=args.runs)
        run = train(cfg, root=args.runs, callback=cb, name=args.name, tags=args.tag, outcome=outcome,
                    estimate=est.to_dict() if est is not None else None)  # compared with the real time at the end
    if run is None:
        return 0
    state = outcome.get("status") or run.status["status"]  # what this worker did, even if status.json is stuck
    metrics = (run.metrics() or {}) if state == "completed" else {}
    acc = metrics.get("test_acc")
    acc_s = f", test accuracy {acc:.4f}" if acc is not None else ""
    print(f"run {run.run_id}: {state}{acc_s} ({run.path})")
    if state == "failed":
        print(f"error: {outcome.get('error') or run.status.get('error')}", file=sys.stderr)
        return 1
    return 0


def _fmt_acc(v: float | None) -> str:
    return f"{v:.4f}" if isinstance(v, float) else "-"


def cmd_runs(args: argparse.Namespace) -> int:
    """Manage the runs store."""
    from explorer import runs

    root = args.runs
    act = args.runs_command
    if act == "list":
        rows = runs.list_runs(root)
        if not rows:
            print(f"no runs under {runs.runs_root(root)}")
            return 0
        from explorer.pin import default_run

        choice = default_run(rows, root)
        if choice.note:
            print(f"note: {choice.note}")
        if choice.run is not None:
            print(f"pages open on: {choice.run.run_id} ({choice.reason})")
        header = f"{'run id':<44} {'model':<16} {'dataset':<16} {'status':<12} {'epochs':>7} {'val acc':>8} {'test acc':>8}"
        print(header)
        for r in rows:
            print(f"{r.run_id:<44} {r.model:<16} {r.dataset:<16} {r.status:<12} {r.epochs_done:>3}/{r.epochs:<3} "
                  f"{_fmt_acc(r.best_val_acc):>8} {_fmt_acc(r.test_acc):>8}")
            if r.error:
                print(f"    unreadable: {r.error}")
        return 0
    if act == "show":
        run = runs.open_run(args.run, root)
        print(json.dumps({"info": run.info().to_dict(), "status": run.status, "metrics": run.metrics(),
                          "config": run.config}, indent=2, default=str))
        return 0
    if act == "resume":
        run = runs.open_run(args.run, root)
        if run.status["status"] == "running":
            raise ValueError(f"run {run.run_id} is still running")
        args.run_dir, args.resume = str(run.path), True
        return cmd_train(args)
    if act == "stop":
        from explorer.train.jobs import JobManager

        run = JobManager().stop(args.run, root)
        state = run.status["status"]
        print(f"asked run {run.run_id} to stop" if state == "running" and run.stop_requested
              else f"run {run.run_id} has no live worker; it is {state}")
        return 0
    if act == "rename":
        run = runs.rename_run(args.run, args.new_name, root)
        print(f"run {run.run_id} is now named {run.record.name!r}")
        return 0
    if act == "tag":
        run = runs.tag_run(args.run, add=args.add, remove=args.remove, root=root)
        print(f"run {run.run_id} tags: {', '.join(run.record.tags) or '(none)'}")
        return 0
    if act == "delete":
        runs.delete_run(args.run, root, confirm=args.yes)
        print(f"deleted run {args.run}")
        return 0
    if act == "export":
        path = runs.export_run(args.run, args.output, root, force=args.force)
        print(f"exported to {path}")
        return 0
    if act == "import":
        run = runs.import_run(args.zip, root)
        print(f"imported run {run.run_id} into {run.path}")
        return 0
    if act == "pin":
        return _cmd_pin(args, root)
    raise ValueError(f"unknown runs command {act!r}")  # pragma: no cover


def _cmd_pin(args: argparse.Namespace, root: str | None) -> int:
    """`runs pin RUN | --tag T | --clear`: set or clear the run the pages open on."""
    from explorer import pin

    if args.clear:
        if args.run or args.tag:
            raise ValueError("--clear takes no run and no --tag")
        print("pin cleared: pages open on the best completed run" if pin.clear_pin(root) else "nothing was pinned")
        return 0
    if not args.run and not args.tag:
        raise ValueError("give a run id, --tag TAG or --clear (see `explorer runs pin --help`)")
    chosen = pin.set_pin(root, run=args.run, tag=args.tag)
    print(f"pinned {chosen.describe()}: every page opens on it")
    return 0


def cli_fields() -> list[Field]:
    """The TrainConfig fields offered as `--<field-name>` options (their metadata gives help and choices)."""
    return [f for f in fields(TrainConfig) if f.metadata.get("cli")]


def _add_field_option(p: argparse.ArgumentParser, f: Field) -> None:
    """One option from a config field: --field-name (plus a former spelling), type, choices and bounds in the help."""
    meta, kind = f.metadata, str(f.type)
    flags = [f"--{f.name.replace('_', '-')}"] + ([meta["alias"]] if meta.get("alias") else [])
    bounds = ""
    if meta.get("lo") is not None:
        lb, rb = "(" if meta["lo_open"] else "[", ")" if meta["hi_open"] else "]"
        bounds = f" {lb}{meta['lo']:g}, {meta['hi']:g}{rb}"
    helptext = f"{meta['help']}{bounds} (default: the recipe's)"
    if kind == "bool":
        p.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=helptext)
    elif meta.get("choices"):
        p.add_argument(*flags, dest=f.name, choices=list(meta["choices"]), help=helptext)
    else:
        p.add_argument(*flags, dest=f.name, type={"int": int, "float": float}.get(kind, str), help=helptext)


def _add_train_options(p: argparse.ArgumentParser) -> None:
    from explorer.train.recipes import RECIPES

    p.add_argument("--recipe", default="quick", choices=list(RECIPES), help="preset to start from (default quick)")
    p.add_argument("--config", help="a TrainConfig JSON file to start from instead of a recipe")
    p.add_argument("--data", help="dataset name (DataSpec.name; default letters-builtin)")
    p.add_argument("--size", type=int, help="letters-builtin: training images per class (DataSpec.size)")
    p.add_argument("--val-fraction", type=float, help="validation fraction of the train split (DataSpec.val_fraction)")
    p.add_argument("--data-root", help="data folder (DataSpec.root; default $EXPLORER_DATA or ./data)")
    for f in cli_fields():
        _add_field_option(p, f)
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="batch augmentation (Augment() defaults: rotate/zoom/shift)")
    p.add_argument("--keep-stages", action="store_true", help="keep a staged recipe's stages despite --epochs/--lr")


def add_parsers(subparsers: argparse._SubParsersAction) -> dict[str, argparse._SubParsersAction]:
    """Add the `train` and `runs` commands; returns {"runs": its actions} for other packages' actions."""
    t = subparsers.add_parser("train", help="train a model into the runs store",
                              description="Train a registry model on letters; writes a run folder.")
    _add_train_options(t)
    t.add_argument("--runs", help="runs root (default $EXPLORER_RUNS or ./runs)")
    t.add_argument("--name", help="run name (made safe)")
    t.add_argument("--tag", action="append", help="tag (repeatable)")
    t.add_argument("--run-dir", help="train the run already in this folder (its config.json); resumes if it has a checkpoint")
    t.add_argument("--resume", action="store_true", help="with --run-dir: resume from the last completed epoch")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--no-estimate", action="store_true", help="skip the seconds-per-epoch estimate before the run")
    t.set_defaults(func=cmd_train)

    r = subparsers.add_parser("runs", help="list, show, resume, stop, rename, tag, delete, export, import runs")
    r.add_argument("--runs", help="runs root (default $EXPLORER_RUNS or ./runs)")
    sub = r.add_subparsers(dest="runs_command", metavar="ACTION")
    sub.required = True
    sub.add_parser("list", help="id, model, dataset, status and accuracy of every run")
    for name, helptext in (("show", "config, status and metrics of a run"), ("stop", "ask a running run to stop")):
        sp = sub.add_parser(name, help=helptext)
        sp.add_argument("run")
    rs = sub.add_parser("resume", help="continue an interrupted or stopped run from its last completed epoch")
    rs.add_argument("run")
    rs.add_argument("--no-progress", action="store_true")
    rn = sub.add_parser("rename", help="set a run's display name")
    rn.add_argument("run")
    rn.add_argument("new_name")
    tg = sub.add_parser("tag", help="add/remove tags")
    tg.add_argument("run")
    tg.add_argument("add", nargs="*")
    tg.add_argument("--remove", action="append", default=[])
    dl = sub.add_parser("delete", help="delete a run (needs --yes)")
    dl.add_argument("run")
    dl.add_argument("--yes", action="store_true", help="confirm the deletion")
    ex = sub.add_parser("export", help="write a run as one zip")
    ex.add_argument("run")
    ex.add_argument("-o", "--output", help="zip path or folder (default ./<run_id>.zip)")
    ex.add_argument("--force", action="store_true", help="replace an existing zip file")
    im = sub.add_parser("import", help="import a run zip (validated; nothing is unpickled)")
    im.add_argument("zip")
    pn = sub.add_parser("pin", help="the run every page opens on: a run, or the best run of a tag (--tag); --clear",
                        description="Pin the run the app's pages open on (stored in the runs folder as .pin.json). "
                                    "Without a pin they open on the best completed run.")
    pn.add_argument("run", nargs="?", help="run id (or a unique prefix)")
    pn.add_argument("--tag", help="pin the best completed run carrying this tag (it follows as runs are added)")
    pn.add_argument("--clear", action="store_true", help="remove the pin")
    r.set_defaults(func=cmd_runs)
    return {"runs": sub}
