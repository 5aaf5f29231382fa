"""The sweep driver: works a sweep's queue one run at a time through JobManager (so one job per
device, and the device lock), records each run's state in the queue and goes on after a failure.

Grid sweeps take the queue's items in order; Optuna sweeps ask the study for a trial, add it to
the queue, report each epoch's validation accuracy as the run's history grows, and stop (prune)
a trial the pruner gives up on. `start_driver` runs the driver as its own background process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from explorer.config import TrainConfig
from explorer.runs import Run, open_run
from explorer.sweep.grid import point_config, point_text
from explorer.sweep.queue import Sweep, list_sweeps
from explorer.train.jobs import JobBusyError, JobManager

Event = Callable[[str, dict[str, Any]], None]
POLL_S = 1.0  # how often the driver looks at a running job (it waits on the process meanwhile)
DRIVER_FD_ENV = "EXPLORER_SWEEP_DRIVER_FD"  # the driver lock's descriptor, handed to the device's driver
BUSY_WAIT_S = 5.0  # while another job holds the device: look again after this long (or when it ends)


def sweep_tags(sweep: Sweep, point: dict[str, Any]) -> list[str]:
    """Tags of a sweep run: 'sweep-<id>' and one per point value ('lr-0.01')."""
    return [f"sweep-{sweep.sweep_id}"] + [f"{k}-{v:g}" if isinstance(v, float) else f"{k}-{v}" for k, v in point.items()]


def _base(sweep: Sweep) -> TrainConfig:
    return TrainConfig.from_dict(sweep.spec["base"])


class Held(Exception):
    """The sweep was paused or cancelled while its next run waited for the device."""


def _start(sweep: Sweep, manager: JobManager, item: dict[str, Any], cfg: TrainConfig) -> Run:
    """Start (or resume) the item's run; while another job holds the device, wait (Held if the sweep
    is paused or cancelled meanwhile)."""
    while True:
        try:
            if item.get("run_id"):
                return manager.resume(item["run_id"], sweep.root)
            meta = {"id": sweep.sweep_id, "index": item["index"], "point": item["point"]}
            name = f"{sweep.spec.get('name') or sweep.sweep_id} #{item['index']}"
            return manager.start(cfg, sweep.root, name=name, tags=sweep_tags(sweep, item["point"]), sweep=meta)
        except JobBusyError:
            sweep.beat()
            q = sweep.read()
            if q["paused"] or q["cancelled"]:
                raise Held() from None
            _wait_pid(_busy_pid(manager, cfg, sweep.root), BUSY_WAIT_S)


def _busy_pid(manager: JobManager, cfg: TrainConfig, root: Path) -> int | None:
    from explorer.devices import lock_key

    run = manager.busy_on(lock_key(cfg.device), root)
    return int(run.raw_status.get("pid") or 0) if run is not None else None


def _wait_pid(pid: int | None, timeout: float) -> None:
    """Back off up to `timeout` s while another job holds the device: until its process ends when known."""
    import time

    t0 = time.monotonic()
    if not pid:
        time.sleep(timeout)
        return
    while Path(f"/proc/{pid}").exists() and time.monotonic() - t0 < timeout:
        time.sleep(0.2)


def _follow(sweep: Sweep, manager: JobManager, run: Run, on_epoch: Callable[[list[dict]], bool] | None) -> str:
    """Wait for the run's worker; each poll: stop it when the sweep is cancelled or `on_epoch` says prune.

    Returns the run's final state (completed, failed, stopped, interrupted) or 'pruned'.
    """
    import time

    pruned, seen = False, 0
    while True:
        sweep.beat()
        t0 = time.monotonic()
        code = manager.wait(run.run_id, POLL_S)
        if code is None and time.monotonic() - t0 < POLL_S / 2:  # not our worker (a previous driver's)
            _wait_pid(int(run.raw_status.get("pid") or 0), POLL_S)
        if sweep.read()["cancelled"] and not run.stop_requested:
            run.request_stop()
        if on_epoch is not None and not pruned:
            hist = run.history()
            if len(hist) > seen:
                seen = len(hist)
                if on_epoch(hist):
                    pruned = True
                    run.request_stop()
        if code is not None or run.status["status"] != "running":
            manager.wait(run.run_id, 30)  # reap the worker if it is ours
            break
    state = run.status["status"]
    if pruned and state in ("stopped", "completed"):
        return "pruned"
    return state if state in ("completed", "failed", "stopped", "interrupted") else "interrupted"


def _next_item(sweep: Sweep) -> dict[str, Any] | None:
    """The first interrupted or pending item in queue order (an interrupted run resumes first)."""
    items = sweep.items()
    for wanted in ("interrupted", "pending"):
        for item in items:
            if item.get("state") == wanted:
                return item
    return None


def _best_val(run: Run) -> float | None:
    vals = [h["val_acc"] for h in run.history() if isinstance(h.get("val_acc"), int | float)]
    return max(vals) if vals else None


def _adopt(sweep: Sweep, item: dict[str, Any]) -> Run | None:
    """An item's run that needs no new worker: still running (a previous driver's worker), or already ended."""
    if not item.get("run_id"):
        return None
    try:
        run = open_run(item["run_id"], sweep.root)
    except FileNotFoundError:
        return None
    return None if run.status["status"] == "interrupted" else run


def run_item(sweep: Sweep, manager: JobManager, item: dict[str, Any], cfg: TrainConfig, on_event: Event,
             on_epoch: Callable[[list[dict]], bool] | None = None) -> tuple[str, Run | None]:
    """Train one queue item to its end; marks it in the queue; returns (state, run)."""
    index = item["index"]
    try:
        run = _adopt(sweep, item) or _start(sweep, manager, item, cfg)
    except Held:
        return "pending", None
    except (ValueError, KeyError, TypeError, FileNotFoundError, JobBusyError) as exc:
        sweep.mark(index, state="failed", error=str(exc.args[0] if exc.args else exc))
        on_event("item_end", {"index": index, "state": "failed", "error": str(exc)})
        return "failed", None
    sweep.mark(index, state="running", run_id=run.run_id)
    on_event("item_start", {"index": index, "run_id": run.run_id, "point": item["point"]})
    state = _follow(sweep, manager, run, on_epoch)
    error = run.status.get("error") if state == "failed" else None
    sweep.mark(index, state=state, error=error, val_acc=_best_val(run), test_acc=(run.metrics() or {}).get("test_acc"))
    on_event("item_end", {"index": index, "state": state, "run_id": run.run_id, "error": error})
    return state, run


def grid_loop(sweep: Sweep, manager: JobManager, on_event: Event) -> None:
    base = _base(sweep)
    while True:
        sweep.beat()
        q = sweep.read()
        if q["paused"] or q["cancelled"]:
            return
        item = _next_item(sweep)
        if item is None:
            return
        try:
            cfg = point_config(base, item["point"])
        except (ValueError, KeyError, TypeError) as exc:  # a point read back from disk that is no config
            sweep.mark(item["index"], state="failed", error=f"bad point: {exc.args[0] if exc.args else exc}")
            on_event("item_end", {"index": item["index"], "state": "failed", "error": str(exc)})
            continue
        run_item(sweep, manager, item, cfg, on_event)


def sweep_device(sweep: Sweep) -> str:
    """The device key ("cpu", "cuda:0") a sweep's runs train on (its base config's device)."""
    from explorer.devices import lock_key

    return lock_key(str(sweep.spec["base"].get("device") or "auto"))


def driver_lock_name(device: str) -> str:
    """The machine-wide lock held by the one sweep driver of `device`."""
    return f"sweep-driver-{device.replace(':', '-')}"


def requests_dir(device: str) -> Path:
    """The folder of sweeps waiting for `device`'s driver (one small file per sweep, in the machine's lock folder)."""
    from explorer import locks

    return locks.locks_dir() / f"sweep-requests-{device.replace(':', '-')}"


def request_file(sweep: Sweep, device: str) -> Path:
    """The request file of one sweep (by its resolved folder: asking twice is one request)."""
    import hashlib

    return requests_dir(device) / f"{hashlib.sha256(str(sweep.path.resolve()).encode()).hexdigest()[:20]}.json"


def start_driver(sweep: Sweep) -> int:
    """Queue the sweep for its device's ONE driver process and start that driver when none is live (a background
    `python -m explorer sweep drive-device DEVICE`, own session); returns the driver's pid. Waiting sweeps wait
    in that driver's queue (oldest request first), not in a process each."""
    import time

    from explorer import locks
    from explorer.io import atomic_write_json
    from explorer.train.jobs import worker_env

    device = sweep_device(sweep)
    req = request_file(sweep, device)
    req.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not req.exists():
        atomic_write_json(req, {"path": str(sweep.path.resolve()), "at": time.time()})

    def requested(q: dict[str, Any]) -> None:  # so a reboot (which may clear the request) still resumes it
        if not q.get("driver"):
            q["driver"] = {"host": socket.gethostname(), "requested": device, "since": time.time()}
    sweep.update(requested)
    try:  # taken here and handed to the child: two starts at once never make two drivers
        lock = locks.acquire_named(driver_lock_name(device), wait_s=0)
    except locks.DeviceBusyError:
        holder = locks.named_holder(driver_lock_name(device)) or {}
        return int(holder["pid"]) if isinstance(holder.get("pid"), int) else 0
    cmd = [sys.executable, "-m", "explorer", "sweep", "drive-device", device]
    log = open(requests_dir(device).with_suffix(".log"), "ab")  # noqa: SIM115  (handed to the child)
    try:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=os.getcwd(), pass_fds=(lock.fd,),
                                env={**worker_env(), DRIVER_FD_ENV: str(lock.fd)})
        lock.describe(pid=proc.pid, device=device)
    finally:
        log.close()
        lock.release()  # the driver holds its inherited copy until it ends
    return proc.pid


def orphaned(sweep: Sweep) -> bool:
    """True for a queue whose driver on this host died mid-work (a crash, a kill, a reboot): its record is
    still there, its process is gone, and work is left that nobody paused or cancelled."""
    driver = sweep.read().get("driver") or {}  # "waiting" below already means no live driver works it
    return (bool(driver.get("pid") or driver.get("requested")) and driver.get("host") == socket.gethostname()
            and sweep.state() == "waiting")


def resume_orphaned(root: str | os.PathLike | None = None) -> list[str]:
    """Start a driver for every orphaned queue in the runs folder (the queue goes on after an app restart or a
    reboot; its interrupted run resumes first); the ids of the sweeps resumed."""
    resumed = []
    for sweep in list_sweeps(root):
        try:
            if orphaned(sweep):
                start_driver(sweep)
                resumed.append(sweep.sweep_id)
        except (OSError, ValueError):  # an unreadable queue is shown (with its reason) by the page, not resumed
            continue
    return resumed


def describe(event: str, info: dict[str, Any]) -> str:
    """One line for an event of run_sweep (the CLI prints these)."""
    if event == "item_start":
        return f"[{info['index']}] started {info['run_id']} ({point_text(info['point'])})"
    if event == "item_end":
        err = f": {info['error']}" if info.get("error") else ""
        return f"[{info['index']}] {info['state']}{err}"
    return f"sweep done: {', '.join(f'{k} {v}' for k, v in info['counts'].items() if v)}"


__all__ = ["describe", "open_run", "orphaned", "resume_orphaned", "run_item", "start_driver", "sweep_tags"]
