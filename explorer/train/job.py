"""A training job end to end: the device's lock (and the run's own), create or reopen the run folder (rank 0),
fit (explorer.train.loop), the outcome. `train` is what the CLI, the JobManager's worker and sweeps call."""

from __future__ import annotations

import os
import socket
from typing import Any

from explorer.config import TrainConfig
from explorer.devices import lock_key
from explorer.io import fault_point
from explorer.runs import Run
from explorer.train.loop import Callback, fit, precheck

__all__ = ["sync_history", "train"]


def sync_history(run: Run) -> None:
    """On resume: keep history rows up to the checkpoint's epoch, add the checkpoint's row if missing."""
    run.sync_history(run.load_checkpoint())


def train(cfg: TrainConfig, root: str | os.PathLike | None = None, run_dir: str | os.PathLike | None = None,
          resume: bool = False, callback: Callback | None = None, name: str | None = None,
          tags: list[str] | None = None, outcome: dict[str, Any] | None = None,
          estimate: dict[str, Any] | None = None, sweep: dict[str, Any] | None = None) -> Run | None:
    """Run a training job end to end under its device's lock: create (or reopen) the run folder on rank 0
    and fit. Returns the Run (None on non-zero DDP ranks); `outcome` receives {"status", "error"} even when
    status.json could not be written. ValueError for a config refused before start, DeviceBusyError when
    another job holds the device: in both cases nothing is created or changed."""
    from explorer import locks
    from explorer.runs import create_run, existing_runs_root, open_run

    is_main = int(os.environ.get("RANK", "0")) == 0
    run = open_run(run_dir) if run_dir is not None else None
    cfg = run.train_config() if run is not None else precheck(cfg)
    lock = run_lock = None
    if is_main:
        if run is None:
            existing_runs_root(root)  # a runs root that is a file: one clear line before anything is taken
        device = lock_key(cfg.device)
        lock = locks.inherited(device) or locks.acquire(device)
    try:
        if lock is not None and run is not None:
            run_lock = locks.acquire_run(run.path)  # one trainer per run, however its folder was reached
            run_lock.describe(run_id=run.run_id, path=str(run.path.resolve()))
            lock.describe(run_id=run.run_id, path=str(run.path.resolve()), device=lock.device)
        fault_point("lock:held")
        prior: dict[str, Any] | None = None
        if run is None:
            run = create_run(cfg, root, name=name, tags=tags, estimate=estimate, sweep=sweep) if is_main else None
            if lock is not None and run is not None:
                lock.describe(run_id=run.run_id, path=str(run.path.resolve()), device=lock.device)
        elif is_main:
            prior, resume = _reopen(run, resume)
        result = fit(cfg, run, resume=resume, callback=_outcome_callback(callback, outcome))
        if prior is not None and prior.get("status") == "completed" and result != "completed":
            run.write_status(**prior)  # a failed resume leaves a finished run as it was
    finally:
        for held in (run_lock, lock):
            if held is not None:
                held.release()
    return run if is_main else None


def _reopen(run: Run, resume: bool) -> tuple[dict[str, Any], bool]:
    """Before a worker trains an existing run: clean what a killed writer left, check the checkpoint loads
    (ValueError, status untouched), then mark the run running. Returns (status before, resume)."""
    from explorer.io import clean_stale_temp

    clean_stale_temp(run.path)
    run.check_resumable()  # config, history, weights and optimizer readable and fitting: else nothing changes
    prior = run.raw_status
    run.clear_stop()
    if resume or run.has_checkpoint():
        try:
            ckpt = run.load_checkpoint()
        except Exception as exc:  # damaged files: the message names the run; nothing is changed
            raise ValueError(f"cannot resume run {run.run_id}: its checkpoint cannot be read "
                             f"({type(exc).__name__}: {exc}); the run was left as it was") from exc
        resume = True
        run.sync_history(ckpt)
    run.write_status(status="running", pid=os.getpid(), host=socket.gethostname(), error=None, phase="starting")
    return prior, resume


def _outcome_callback(callback: Callback | None, outcome: dict[str, Any] | None) -> Callback | None:
    """Wrap `callback` so that the "done" event's status and error land in `outcome`."""
    if outcome is None:
        return callback

    def cb(event: str, info: dict[str, Any]) -> None:
        if event == "done":
            outcome.update(status=info.get("status"), error=info.get("error"))
        if callback is not None:
            callback(event, info)

    return cb
