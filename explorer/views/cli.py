"""`python -m explorer view-job DIR`: the worker of a background view job (started by explorer.views.start_job)."""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register `view-job`."""
    p = sub.add_parser("view-job", help="run a background view job (robustness, channels, embedding, label "
                                        "issues) from its job folder; the app starts it")
    p.add_argument("job_dir", help="the job's folder (holding job.json)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from explorer.views.jobs import run_job

    return run_job(args.job_dir)
