"""Command line: `explorer <command> ...` (or `python -m explorer <command> ...`).

Each feature package owns its sub-commands in a `cli` module exposing `add_parsers(subparsers)`; this file
only collects them, so packages stay independent. A command that other packages extend with actions of
their own (`runs`: `runs push` is explorer.export's) is returned by its owner's add_parsers as
{command: its sub-command group}; a provider's `extend_parsers(groups)` adds to those groups once every
command is registered. No provider reaches into argparse's private state.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from explorer.io import DiskFullError
from explorer.locks import DeviceBusyError

# Sub-command providers, in the order `--help` lists them.
PROVIDERS = [
    "explorer.models.cli",
    "explorer.inspect.cli",
    "explorer.inspect.profile_cli",
    "explorer.inspect.design_cli",
    "explorer.data.cli",
    "explorer.train.cli",
    "explorer.sweep.cli",
    "explorer.evaluate.cli",
    "explorer.predict.cli",
    "explorer.explain.cli",
    "explorer.doctor.cli",
    "explorer.export.cli",
    "explorer.trust.cli",
    "explorer.inside.cli",
    "explorer.learn.cli",
    "explorer.views.cli",
]


class CliError(Exception):
    """A user error: printed as one clear line, exit status 2, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every provider's sub-commands."""
    prog = "explorer" if Path(sys.argv[0]).name == "explorer" else "python -m explorer"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    modules = [importlib.import_module(name) for name in PROVIDERS]
    groups: dict[str, argparse._SubParsersAction] = {}
    for module in modules:
        groups |= module.add_parsers(sub) or {}
    for module in modules:
        if hasattr(module, "extend_parsers"):
            module.extend_parsers(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except (CliError, ValueError, FileNotFoundError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        print(f"error: {msg}", file=sys.stderr)
        return 2
    except DiskFullError as exc:  # the environment, not the user: exit 1, one line
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DeviceBusyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path that is a folder, a file, unreadable, or a full disk
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
