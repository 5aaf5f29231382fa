"""`python -m explorer doctor`: versions, devices and a tiny real run of every path; exit 1 when one fails."""

from __future__ import annotations

import argparse
import json
import sys


def cmd_doctor(args: argparse.Namespace) -> int:
    """Run the system check and print it (text or JSON); 1 when a user-selectable path fails."""
    from explorer.doctor.core import format_report, run_doctor

    def progress(fraction: float, label: str) -> None:
        if not args.json and label != "done":
            print(f"[{fraction:4.0%}] {label} ...", file=sys.stderr, flush=True)

    report = run_doctor(args.device, model=args.model, compile_timeout=args.compile_timeout, progress=progress)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(format_report(report))
    return 0 if report.ok else 1


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Add the `doctor` command."""
    from explorer.doctor import __doc__ as doc

    p = subparsers.add_parser("doctor", help="check versions, devices and every training/inference path",
                              description=(doc or "").splitlines()[0])
    p.add_argument("--device", action="append", help="check only this device (repeatable: cpu, cuda, cuda:N); "
                   "default: the CPU and every visible GPU")
    p.add_argument("--model", default="small_cnn", help="registry model for the tiny runs (default small_cnn)")
    p.add_argument("--compile-timeout", type=float, default=180.0,
                   help="seconds to wait for the torch.compile check (0 = skip it; default 180)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_doctor)
