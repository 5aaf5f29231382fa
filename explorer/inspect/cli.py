"""`python -m explorer inspect NAME`: the per-layer table or JSON of a registry network."""

from __future__ import annotations

import argparse
import json


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the `inspect` command."""
    p = sub.add_parser("inspect", help="per-layer shapes, parameters, MACs/FLOPs of a network")
    p.add_argument("name", help="registry name (see `python -m explorer models`)")
    p.add_argument("--input-size", help="C,H,W (default: the model's reference size)")
    p.add_argument("--num-classes", type=int, default=None, help="output classes (default 1000; 26 with --letters)")
    p.add_argument("--letters", action="store_true", help="the letters model: 1x28x28 input, 26 classes")
    p.add_argument("--depth", type=int, default=None, help="collapse modules deeper than this (default: every leaf)")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print JSON: totals and a `layers` list")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Summarise and print."""
    from explorer.inspect.summary import parse_input_size, summarize
    from explorer.models import build_letters_model, get_card

    card = get_card(args.name)
    if args.depth is not None and args.depth < 0:
        raise ValueError("--depth must be 0 or more")
    if args.letters:
        import torch

        with torch.device("meta"):
            model = build_letters_model(card.name, num_classes=26 if args.num_classes is None else args.num_classes)
        size = parse_input_size(args.input_size or (1, 28, 28))
        summary = summarize(model, size, batch_size=args.batch_size)
    else:
        size = parse_input_size(args.input_size) if args.input_size else card.input_size
        classes = 1000 if args.num_classes is None else args.num_classes
        summary = summarize(card.name, size, batch_size=args.batch_size, num_classes=classes)
    if args.json:
        print(json.dumps(summary.to_json(args.depth), indent=1))
    else:
        print(summary.to_text(args.depth))
    return 0
