"""Work a sweep's queue: the grid loop (explorer.sweep.runner) or the Optuna loop (explorer.sweep.optuna_search).

Its own module so that the Optuna loop, which runs items through the runner, and the runner never import
each other.
"""

from __future__ import annotations

from explorer.sweep.optuna_search import optuna_loop
from explorer.sweep.queue import Sweep
from explorer.sweep.runner import Event, grid_loop
from explorer.train.jobs import JobManager


def run_sweep(sweep: Sweep, manager: JobManager | None = None, on_event: Event | None = None) -> dict[str, int]:
    """Work the queue until it is done, paused or cancelled; returns the counts per state."""
    manager = manager or JobManager()
    on_event = on_event or (lambda event, info: None)
    sweep.claim()
    try:
        if sweep.spec.get("mode") == "optuna":
            optuna_loop(sweep, manager, on_event)
        else:
            grid_loop(sweep, manager, on_event)
    finally:
        sweep.release()
    counts = sweep.counts()
    on_event("done", {"counts": counts})
    return counts
