"""Command line: `python -m explorer <command> ...`.

Each feature package owns its sub-commands in a `cli` module exposing
`add_parsers(subparsers)`; this file only collects them, so packages stay independent.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Sub-command providers, in the order `--help` lists them.
PROVIDERS = [
    "explorer.models.cli",
    "explorer.inspect.cli",
    "explorer.data.cli",
    "explorer.train.cli",
    "explorer.evaluate.cli",
    "explorer.explain.cli",
    "explorer.inside.cli",
]


class CliError(Exception):
    """A user error: printed as one clear line, exit status 2, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    """Return the top-level parser with every provider's sub-commands."""
    parser = argparse.ArgumentParser(prog="python -m explorer", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in PROVIDERS:
        importlib.import_module(name).add_parsers(sub)
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
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)
