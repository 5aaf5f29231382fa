"""Background training jobs: a process-wide JobManager starts each job as its own worker process
(`python -m explorer train --run-dir RUN`), one per device at a time: the manager takes the device's OS
lock (explorer.locks, shared with the CLI and every other session) and hands it to the worker, which holds
it for its whole life. The worker writes its progress into the run folder; pages poll it. Nothing here
touches a UI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from explorer import locks
from explorer.config import TrainConfig
from explorer.devices import lock_key
from explorer.io import process_start
from explorer.runs import Run, create_run, list_runs, open_run, runs_root


class JobBusyError(locks.DeviceBusyError):
    """A job is already training on the device asked for."""


class JobManager:
    """Start, follow and stop training jobs. Keep one per process (e.g. in st.cache_resource)."""

    def __init__(self) -> None:
        self._procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.RLock()

    def _reap(self) -> None:
        for run_id, proc in list(self._procs.items()):
            if proc.poll() is not None:
                del self._procs[run_id]

    def active(self, root: str | os.PathLike | None = None) -> list[Run]:
        """Runs under `root` that are training right now (by their status and a live process)."""
        with self._lock:
            self._reap()
        out = []
        for info in list_runs(root):
            if info.status == "running":
                try:
                    out.append(open_run(info.path))
                except FileNotFoundError:
                    continue
        return out

    def busy_on(self, device: str, root: str | os.PathLike | None = None) -> Run | None:
        """The run training on `device` ("cpu" or "cuda:N") by the device's lock, if any (the lock's holder
        record names it; a Run of the root's runs when that record is missing)."""
        device = lock_key(device, check=False)
        if not locks.is_busy(device):
            return None
        who = locks.holder(device)
        run_id, path = who.get("run_id"), who.get("path")
        try:
            if isinstance(path, str) and path:
                return open_run(path)  # the lock is the machine's: its run may be in another runs root
            return open_run(str(run_id), root) if run_id else (self.active(root) or [None])[0]
        except (FileNotFoundError, ValueError):
            return None

    def _device_lock(self, device: str) -> locks.DeviceLock:
        """Take the device's lock for a worker about to start; JobBusyError with the reason when it is taken."""
        try:
            return locks.acquire(device)
        except locks.DeviceBusyError as exc:
            raise JobBusyError(str(exc)) from None

    def start(self, config: TrainConfig, root: str | os.PathLike | None = None, name: str | None = None,
              tags: list[str] | None = None, sweep: dict | None = None, estimate: dict | None = None) -> Run:
        """Check the config, create the run (recording `estimate`, the time shown before it started) and start
        its worker process; JobBusyError if the device is taken."""
        from explorer.train.loop import precheck

        precheck(config)
        device = lock_key(config.device)
        with self._lock:
            lock = self._device_lock(device)
            try:
                run = create_run(config, root, name=name, tags=tags, sweep=sweep, estimate=estimate)
                self._spawn(run, lock)
            finally:
                lock.release()  # the worker holds its inherited copy until it ends
        return run

    def resume(self, ref: str | Run, root: str | os.PathLike | None = None) -> Run:
        """Continue an interrupted or stopped run in a new worker (from its last completed epoch)."""
        run = open_run(ref, root)
        if run.status["status"] == "running":
            raise JobBusyError(f"run {run.run_id} is already running")
        device = lock_key(run.record.train.device)
        with self._lock:
            lock = self._device_lock(device)
            try:
                self._spawn(run, lock, resume=True)
            finally:
                lock.release()
        return run

    def _spawn(self, run: Run, lock: locks.DeviceLock, resume: bool = False) -> None:
        """Start the worker process of `run`, handing it the held device lock (its descriptor is inherited)."""
        cmd = [sys.executable, "-m", "explorer", "train", "--run-dir", str(run.path.resolve()), "--no-progress"]
        if resume:
            cmd.append("--resume")
        lock.describe(run_id=run.run_id, path=str(run.path.resolve()), device=lock.device)
        env = {**worker_env(), locks.FD_ENV: str(lock.fd)}
        log = open(run.path / "worker.log", "ab")  # noqa: SIM115  (handed to the child)
        try:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, cwd=os.getcwd(), env=env, pass_fds=(lock.fd,),
                                    preexec_fn=_lower_priority if hasattr(os, "nice") else None)
        finally:
            log.close()
        if not resume:
            run.write_status(pid=proc.pid, pid_start=process_start(proc.pid))
        self._procs[run.run_id] = proc

    def stop(self, ref: str | Run, root: str | os.PathLike | None = None) -> Run:
        """Ask a run to stop: a live worker sees the STOP file between steps and ends cleanly; a run whose
        status says running but has no live worker (dead, stale, spoofed or unreadable status) is marked
        stopped at once; a finished run is left as it is."""
        run = open_run(ref, root)
        raw = run.raw_status
        if run.status["status"] == "running":
            run.request_stop()
        elif raw.get("status") in ("running", "interrupted"):
            run.write_status(status="stopped", pid=None, phase="stopped", error=raw.get("error"))
        return run

    def wait(self, run_id: str, timeout: float | None = None) -> int | None:
        """Wait for a worker started by this manager; its exit code (None if unknown or timed out)."""
        proc = self._procs.get(run_id)
        if proc is None:
            return None
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def _lower_priority() -> None:
    """Run the worker at a lower CPU priority: it still uses every idle core, but the app's
    page switches and reruns come first on a machine with few cores."""
    os.nice(10)


def worker_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    return env


__all__ = ["JobBusyError", "JobManager", "runs_root"]
