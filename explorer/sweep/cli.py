"""`python -m explorer sweep ...`: start a grid or an Optuna sweep, and list, show, run, pause,
resume, cancel or reorder sweep queues.

  explorer sweep --config base.json --grid lr=0.01,0.03,0.1 --grid transfer=frozen,finetune --seeds 3
  explorer sweep --model small_cnn --grid lr=0.001:0.1:5:log --optuna --trials 20
  explorer sweep list | show ID | run ID | pause ID | resume ID | cancel ID | move ID INDEX up|down

Shared by many machines (an Optuna storage; see the README's "More than one machine"):
  explorer sweep --grid lr=0.01,0.03 --grid batch_size=32,64 --storage postgresql://u:p@host/db --name lab1
  explorer sweep work lab1 --storage postgresql://u:p@host/db [--device cuda:1] [--mlflow http://host:5000]
  explorer sweep show lab1 --storage URL | explorer sweep list --storage URL
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from explorer.names import plural

if TYPE_CHECKING:
    from explorer.sweep.queue import Sweep

ACTIONS = ("start", "list", "show", "run", "pause", "resume", "cancel", "move", "work", "drive-device")


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sweep` command."""
    from explorer.train.cli import _add_train_options

    p = subparsers.add_parser("sweep", help="grid or Optuna sweeps over training settings, run from a queue",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", nargs="?", default="start", choices=ACTIONS, help="what to do (default start)")
    p.add_argument("sweep", nargs="?", help="sweep id (or a unique prefix) for show/run/pause/resume/cancel/move")
    p.add_argument("extra", nargs="*", help="move: INDEX up|down")
    p.add_argument("--runs", help="runs root (default $EXPLORER_RUNS or ./runs)")
    p.add_argument("--name", help="sweep name (its runs are named '<name> #<index>')")
    p.add_argument("--grid", action="append", default=[], metavar="NAME=VALUES",
                   help="a setting and its values: a,b,c or lo:hi:n[:log] (repeat for more settings)")
    p.add_argument("--seeds", type=int, default=1, help="grid: seeds per point (base seed, +1, ...)")
    p.add_argument("--optuna", action="store_true", help="an Optuna search (TPE, median pruning) instead of a grid")
    p.add_argument("--trials", type=int, default=20, help="Optuna: number of trials (default 20)")
    p.add_argument("--optuna-seed", type=int, default=0, help="Optuna: sampler seed (default 0)")
    p.add_argument("--yes", action="store_true", help="start a huge grid without asking")
    p.add_argument("--background", action="store_true", help="run the queue in a background process and return")
    p.add_argument("--storage", metavar="URL", help="share the sweep over machines: an Optuna storage "
                   "(postgresql://..., mysql://..., sqlite:///PATH, journal:PATH); `sweep work NAME` takes its trials")
    p.add_argument("--mlflow", metavar="URI", help="work: push each finished run to this MLflow tracking URI")
    p.add_argument("--max-trials", type=int, help="work: take at most this many trials here, then stop")
    _add_train_options(p)
    p.set_defaults(func=cmd_sweep)


def _start(args: argparse.Namespace) -> int:
    from explorer.names import format_duration
    from explorer.sweep import Grid, new_grid_sweep, new_optuna_sweep, parse_grid
    from explorer.sweep.estimate import sweep_seconds
    from explorer.sweep.grid import CONFIRM_POINTS
    from explorer.sweep.optuna_search import parse_space
    from explorer.train.cli import config_from_args

    if not args.grid:
        raise ValueError("give at least one --grid NAME=VALUES, e.g. --grid lr=0.01,0.03,0.1")
    base = config_from_args(args).replace(name="")
    if args.optuna:
        sweep = new_optuna_sweep(base, parse_space(args.grid), args.trials, args.optuna_seed, args.runs,
                                 args.name or "")
    else:
        grid = Grid(parse_grid(args.grid), args.seeds)
        from explorer.sweep.plan import grid_configs

        configs = [c for _, c in grid_configs(base, grid)]
        seconds, notes = sweep_seconds(configs, args.runs)
        print(f"grid: {plural(grid.size, 'run')}, about {format_duration(seconds)} ({'; '.join(notes)})")
        if grid.size > CONFIRM_POINTS and not args.yes and not _ask(grid.size, seconds):
            print("not started")
            return 1
        sweep = new_grid_sweep(base, grid, args.runs, args.name or "", confirmed=True)
    print(f"sweep {sweep.sweep_id} ({sweep.path})")
    return _drive(sweep, args.background)


def _ask(size: int, seconds: float) -> bool:
    from explorer.sweep.plan import confirm_text

    text = confirm_text(size, seconds)
    if not sys.stdin.isatty():
        print(f"{text} Add --yes to start it.", file=sys.stderr)
        return False
    return input(f"{text} Start? [y/N] ").strip().lower() in ("y", "yes")


def _drive(sweep: Sweep, background: bool) -> int:
    from explorer.sweep.drive import run_sweep
    from explorer.sweep.runner import describe, start_driver

    if background:
        print(f"driver started (pid {start_driver(sweep)}); follow it with `python -m explorer sweep show "
              f"{sweep.sweep_id}`")
        return 0
    counts = run_sweep(sweep, on_event=lambda e, i: print(describe(e, i), flush=True))
    return 1 if counts.get("failed") else 0


def _show(sweep: Sweep) -> None:
    from explorer.sweep.grid import point_text

    problem = sweep.problem()
    if problem:
        raise ValueError(f"sweep {sweep.sweep_id} is unreadable: {problem}")
    spec = sweep.spec
    print(f"sweep {sweep.sweep_id} ({spec.get('mode')}, {spec.get('size')} runs): {sweep.state()}")
    for item in sweep.items():
        acc = item.get("val_acc")
        acc_s = f" val {acc:.4f}" if isinstance(acc, float) else ""
        print(f"  [{item['index']:>4}] {item['state']:<11} {point_text(item['point'])}{acc_s} {item.get('run_id') or ''}")


def _shared(args: argparse.Namespace) -> int:
    """The shared-sweep actions: create (start), work, show, list on an Optuna storage."""
    from explorer.sweep import study

    if args.action == "start":
        from explorer.sweep import Grid, parse_grid
        from explorer.sweep.optuna_search import parse_space
        from explorer.train.cli import config_from_args

        if not args.grid:
            raise ValueError("give at least one --grid NAME=VALUES, e.g. --grid lr=0.01,0.03,0.1")
        base = config_from_args(args).replace(name="")
        if args.optuna:
            spec = study.search_spec(base, parse_space(args.grid), args.trials, args.optuna_seed)
        else:
            from explorer.sweep.grid import check_grid

            grid = Grid(parse_grid(args.grid), args.seeds)
            check_grid(base, grid)  # every point can train, before any machine takes one
            spec = study.grid_spec(base, grid)
        study.create_study(args.storage, args.name or "", spec)
        print(f"shared sweep {args.name!r} ({spec['kind']}, {plural(spec['trials'], 'trial')}) in "
              f"{study.safe_url(args.storage)}; on each machine or GPU run:\n"
              f"  explorer sweep work {args.name} --storage URL [--device cuda:N] [--runs DIR]")
        return 0
    if args.action == "list":
        for s in study.list_studies(args.storage):
            print(f"{s['name']:<40} {s['kind'] or 'not an explorer sweep':<22} {plural(s['trials'], 'trial')}")
        return 0
    if not args.sweep:
        raise ValueError(f"`sweep {args.action} NAME --storage URL` needs the shared sweep's name")
    if args.action == "work":
        after = None
        if args.mlflow:
            from explorer.export.mlflow import push_run

            def after(run: object, uri: str = args.mlflow) -> str:
                return f"{uri} ({push_run(run.path, uri).mlflow_run_id})"  # type: ignore[attr-defined]

        p = study.work(args.storage, args.sweep, args.runs, getattr(args, "device", None), after,
                       say=lambda line: print(line, flush=True), max_trials=args.max_trials)
        return 0 if p.finished or args.max_trials else 1
    if args.action == "show":
        st, spec = study.load_study(args.storage, args.sweep)
        p = study.progress(st, spec)
        print(study.progress_text(p))
        for r in p.rows:
            val = f" val {r['val_acc']:.4f}" if isinstance(r["val_acc"], float) else ""
            retry = f" (retry of {r['retry_of']})" if r["retry_of"] is not None else ""
            print(f"  [{r['trial']:>4}] {r['state']:<9} {r['point']}{val} {r['run_id'] or ''} "
                  f"{r['machine'] or ''} {r['device'] or ''}{retry}")
        return 0
    raise ValueError(f"`sweep {args.action}` is for local sweeps; a shared one takes start, work, show and list")


def cmd_sweep(args: argparse.Namespace) -> int:
    """Start a sweep or act on one."""
    from explorer.sweep import list_sweeps, open_sweep

    if args.storage:
        return _shared(args)
    if args.action == "work":
        raise ValueError("`sweep work NAME` takes a shared sweep: add --storage URL (the one it was started with)")
    if args.action == "start":
        return _start(args)
    if args.action == "list":
        for s in list_sweeps(args.runs):
            problem = s.problem()
            if problem:
                print(f"{s.sweep_id:<48} unreadable: {problem}")
                continue
            c = s.counts()
            print(f"{s.sweep_id:<48} {s.spec.get('mode', '?'):<7} {s.state():<10} "
                  f"{c['completed']} done, {c['failed']} failed, {c['running']} running, "
                  f"{c['pending'] + c['interrupted']} to do")
        return 0
    if args.action == "drive-device":  # the one background driver of a device (started by start_driver)
        from explorer.sweep.drive import drive_device

        return drive_device(args.sweep or "cpu")
    if not args.sweep:
        raise ValueError(f"`sweep {args.action}` needs a sweep id; see `python -m explorer sweep list`")
    sweep = open_sweep(args.sweep, args.runs)
    if args.action == "show":
        _show(sweep)
    elif args.action == "run":
        return _drive(sweep, False)
    elif args.action == "pause":
        sweep.pause(True)
    elif args.action == "resume":
        sweep.pause(False)
        return _drive(sweep, args.background)
    elif args.action == "cancel":
        sweep.cancel()
    elif args.action == "move":
        if len(args.extra) != 2 or args.extra[1] not in ("up", "down") or not args.extra[0].isdigit():
            raise ValueError("usage: sweep move ID INDEX up|down")
        sweep.move(int(args.extra[0]), -1 if args.extra[1] == "up" else 1)
    return 0
