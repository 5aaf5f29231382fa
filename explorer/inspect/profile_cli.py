"""`python -m explorer profile NAME`: measured per-layer latency of a registry network."""

from __future__ import annotations

import argparse
import json


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the `profile` command."""
    p = sub.add_parser("profile", help="measured per-layer forward/backward time of a network")
    p.add_argument("name", help="registry name (see `python -m explorer models`)")
    p.add_argument("--input-size", help="C,H,W (default: the model's reference size; 1,28,28 with --letters)")
    p.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--backward", action="store_true", help="also time each layer's backward pass")
    p.add_argument("--repeats", type=int, default=10, help="timed passes (median and quartiles; default 10)")
    p.add_argument("--warmup", type=int, default=2, help="untimed passes first (default 2)")
    p.add_argument("--budget", type=float, default=3.0,
                   help="seconds of timed passes: fewer repeats (at least 3) for slow nets; 0 = no cap")
    p.add_argument("--letters", action="store_true", help="the letters model: adapter + net, 1x28x28, 26 classes")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's)")
    p.add_argument("--json", action="store_true", help="print the profile as JSON")
    p.add_argument("--no-save", action="store_true", help="do not cache it for Compare architectures")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Profile, print, cache."""
    import torch

    from explorer.inspect.profile import profile_model, save_profile

    if args.threads is not None:
        if args.threads < 1:
            raise ValueError("--threads must be 1 or more")
        torch.set_num_threads(args.threads)
    prof = profile_model(args.name, args.input_size, device=args.device, batch_size=args.batch_size,
                         warmup=args.warmup, repeats=args.repeats, backward=args.backward,
                         num_classes=26 if args.letters else 1000, letters=args.letters,
                         budget_s=args.budget or None)
    print(json.dumps(prof.to_json(), indent=1) if args.json else prof.to_text())
    if not args.no_save:
        path = save_profile(prof)
        if not args.json:
            print(f"saved to {path}")
    return 0
