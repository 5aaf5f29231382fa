"""The one background-job mechanism of the heavy views: start a worker process (`python -m explorer view-job
DIR`), which writes its progress into DIR/job.json (atomically); any page (any session, after a reload)
finds the job again by its kind and parameters and shows that progress. Nothing here touches a UI."""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.io import atomic_write_json, fault_point, pid_alive, this_program
from explorer.runs import runs_root

JOBS_DIR = ".jobs"  # under the runs root; names starting with "." are never runs
STATES = ("starting", "running", "done", "failed")


@dataclass(frozen=True)
class ViewJob:
    """One view job as its job.json says (read back untrusted)."""

    path: Path
    kind: str
    state: str  # starting | running | done | failed
    fraction: float  # in [0, 1]
    text: str  # what the worker is doing now
    started: float  # epoch seconds
    updated: float
    estimate_s: float | None  # the estimate shown before it started
    seconds: float | None  # how long it took (done)
    error: str | None
    pid: int | None

    @property
    def active(self) -> bool:
        """Starting or running."""
        return self.state in ("starting", "running")

    def elapsed(self, now: float | None = None) -> float:
        """Seconds since it started (its whole time once done)."""
        return self.seconds if self.seconds is not None else max(0.0, (now or time.time()) - self.started)

    def time_left(self, now: float | None = None) -> float | None:
        """Seconds left: from the rate so far once past 5 %, else the estimate less the time elapsed."""
        el = self.elapsed(now)
        if self.fraction >= 0.05:
            return el / self.fraction * (1 - self.fraction)
        return max(0.0, self.estimate_s - el) if self.estimate_s is not None else None


def job_dir(kind: str, params: dict[str, Any], root: str | os.PathLike | None = None) -> Path:
    """The folder of the job of `kind` with `params` (one per kind and parameters)."""
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return runs_root(root) / JOBS_DIR / f"{kind}-{digest}"


def _alive(pid: Any) -> bool:
    return isinstance(pid, int) and not isinstance(pid, bool) and pid > 0 and pid_alive(pid) and this_program(pid)


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) else None


def read_job(path: Path) -> ViewJob | None:
    """The job in folder `path` (None when it has no readable job.json); a job whose worker died is failed."""
    try:
        d = json.loads((path / "job.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(d, dict) or d.get("state") not in STATES:
        return None
    state, error = d["state"], d.get("error") if isinstance(d.get("error"), str) else None
    pid = d.get("pid") if isinstance(d.get("pid"), int) else None
    started = _num(d.get("started")) or 0.0
    if state in ("starting", "running") and not _alive(pid) and time.time() - started > 30:
        state, error = "failed", f"the worker ended without finishing (see {path / 'worker.log'})"
    return ViewJob(path, str(d.get("kind", "")), state, min(1.0, max(0.0, _num(d.get("fraction")) or 0.0)),
                   str(d.get("text") or ""), started, _num(d.get("updated")) or started, _num(d.get("estimate_s")),
                   _num(d.get("seconds")), error, pid)


def job_status(kind: str, params: dict[str, Any], root: str | os.PathLike | None = None) -> ViewJob | None:
    """The job of `kind` with `params` under the runs root, if one was started."""
    return read_job(job_dir(kind, params, root))


def start_job(kind: str, params: dict[str, Any], root: str | os.PathLike | None = None,
              estimate_s: float | None = None) -> ViewJob:
    """Start the view job (or return the one already running with the same kind and parameters)."""
    from explorer.train.jobs import _lower_priority, worker_env
    from explorer.views.kinds import KINDS

    if kind not in KINDS:
        raise ValueError(f"unknown view job {kind!r}; choose from {sorted(KINDS)}")
    path = job_dir(kind, params, root)
    current = read_job(path)
    if current is not None and current.active:
        return current
    path.mkdir(parents=True, exist_ok=True)
    now = time.time()
    atomic_write_json(path / "job.json", {"kind": kind, "params": params, "state": "starting", "fraction": 0.0,
                                          "text": "starting the worker (Python, torch, the model)", "started": now,
                                          "updated": now, "estimate_s": estimate_s, "pid": None})
    log = open(path / "worker.log", "ab")  # noqa: SIM115  (handed to the child)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "explorer", "view-job", str(path.resolve())], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                cwd=os.getcwd(), env=worker_env(),
                                preexec_fn=_lower_priority if hasattr(os, "nice") else None)
    finally:
        log.close()
    _children.append(proc)  # reaped by _reap: no zombie waits for this process to end
    _reap()
    return ViewJob(path, kind, "starting", 0.0, "starting the worker", now, now, estimate_s, None, None, proc.pid)


_children: list[subprocess.Popen] = []


def wait_job(kind: str, params: dict[str, Any], root: str | os.PathLike | None = None, timeout: float = 600.0,
             until: Callable[[ViewJob], bool] | None = None) -> ViewJob | None:
    """Wait until `until(job)` holds (default: the job is no longer starting or running) or `timeout` passes;
    the job as it then stands. job.json, read every 0.2 s, is the signal (the worker may be another process's)."""
    path = job_dir(kind, params, root)
    done = until or (lambda j: not j.active)
    deadline = time.monotonic() + timeout
    while ((job := read_job(path)) is None or not done(job)) and time.monotonic() < deadline:
        time.sleep(0.2)  # polling the worker's job.json with a deadline
        _reap()
    return job


def _reap() -> None:
    for proc in list(_children):
        if proc.poll() is not None:
            _children.remove(proc)


def run_job(path: str | os.PathLike) -> int:
    """The worker: run the job in folder `path`, keeping its job.json up to date; 0 done, 1 failed."""
    from explorer.views.kinds import run_view

    path = Path(path)
    d = json.loads((path / "job.json").read_text())
    started = float(d.get("started") or time.time())
    last = [0.0]

    def write(**fields: Any) -> None:
        d.update(fields, updated=time.time())
        atomic_write_json(path / "job.json", d)

    def progress(fraction: float, text: str) -> None:
        now = time.time()
        if now - last[0] >= 0.5 or fraction >= 1.0:  # at most twice a second
            last[0] = now
            write(state="running", fraction=min(1.0, max(0.0, float(fraction))), text=str(text))
            fault_point("view-job:progress")  # tests hold the worker here to see a job in progress

    write(state="running", pid=os.getpid(), text="loading the model and the test images")
    try:
        run_view(str(d["kind"]), dict(d.get("params") or {}), progress)
    except Exception as exc:  # recorded for the page, never lost
        write(state="failed", error=f"{type(exc).__name__}: {exc}", seconds=time.time() - started)
        return 1
    write(state="done", fraction=1.0, text="done", seconds=time.time() - started)
    return 0
