"""`python -m explorer models`: list the registry."""

from __future__ import annotations

import argparse
import json

from explorer.models.registry import list_cards


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the `models` command."""
    p = sub.add_parser("models", help="list the model registry")
    p.add_argument("--family", help="only this family (e.g. ResNet)")
    p.add_argument("--json", action="store_true", help="print the cards as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print one line per registered network (or every card as JSON)."""
    cards = [c for c in list_cards() if not args.family or c.family.lower() == args.family.lower()]
    if args.family and not cards:
        families = sorted({c.family for c in list_cards()})
        raise ValueError(f"no family {args.family!r}; families are: {', '.join(families)}")
    if args.json:
        print(json.dumps([c.to_dict() for c in cards], indent=2))
        return 0
    print(f"{'name':22s} {'family':12s} {'year':>4s}  {'source':11s} {'input':>9s}  {'top-1':>6s}  letters")
    for c in cards:
        top1 = f"{c.top1:.1f}" if c.top1 is not None else "-"
        size = "x".join(map(str, c.input_size))
        print(f"{c.name:22s} {c.family:12s} {c.year:>4d}  {c.source:11s} {size:>9s}  {top1:>6s}  {c.letters.policy}")
    return 0
