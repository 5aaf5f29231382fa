"""Work a sweep's queue: the grid loop (explorer.sweep.runner) or the Optuna loop (explorer.sweep.optuna_search).

Its own module so that the Optuna loop, which runs items through the runner, and the runner never import
each other.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from explorer.sweep.optuna_search import optuna_loop
from explorer.sweep.queue import Sweep
from explorer.sweep.runner import DRIVER_FD_ENV, Event, describe, driver_lock_name, grid_loop, requests_dir
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


def _oldest_request(device: str) -> tuple[Path, str] | None:
    """(request file, sweep folder) of the sweep that has waited longest for `device`'s driver."""
    import json

    folder = requests_dir(device)
    try:
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return None
    for f in files:
        try:
            path = json.loads(f.read_text("utf-8"))["path"]
            return f, str(path)
        except (OSError, ValueError, KeyError, TypeError):
            f.unlink(missing_ok=True)  # a damaged request: dropped
    return None


def _inherited_lock(name: str) -> Any:
    """The driver lock start_driver took and handed to this process (DRIVER_FD_ENV), if it is that lock."""
    import fcntl

    from explorer import locks

    raw = os.environ.pop(DRIVER_FD_ENV, None)
    if not raw:
        return None
    try:
        fd = int(raw)
        path = locks.locks_dir() / f"{name}.lock"
        if not os.path.samefile(f"/proc/self/fd/{fd}", path):
            return None
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # already ours: a no-op that proves it
    except (OSError, ValueError):
        return None
    return locks.DeviceLock(fd, path, name)


def drive_device(device: str) -> int:
    """The ONE sweep driver of `device` on this machine: work the waiting sweeps one after the other (oldest
    request first) through one JobManager, then end. A second driver of the device ends at once."""
    import time

    from explorer import locks

    name = driver_lock_name(device)
    lock = _inherited_lock(name)
    if lock is None:
        try:
            lock = locks.acquire_named(name, wait_s=2)
        except locks.DeviceBusyError:
            return 0  # another driver of this device works the requests
    manager = JobManager()
    while True:
        lock.describe(device=device)
        got = _oldest_request(device)
        if got is None:
            lock.release()  # then look once more: a request written meanwhile found the lock still held
            if _oldest_request(device) is None:
                return 0
            try:
                lock = locks.acquire_named(name, wait_s=0)
            except locks.DeviceBusyError:
                return 0
            continue
        req, path = got
        try:
            sweep = Sweep(path)
            with open(sweep.path / "driver.log", "a", encoding="utf-8") as log:
                log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} driven by the {device} sweep driver (pid {os.getpid()})\n")
                log.flush()
                run_sweep(sweep, manager, on_event=lambda e, i, log=log: (log.write(describe(e, i) + "\n"), log.flush()))
        except (OSError, ValueError) as exc:  # a sweep gone, damaged or claimed by another driver: the next one
            print(f"{path}: {exc}", flush=True)
        finally:
            req.unlink(missing_ok=True)
