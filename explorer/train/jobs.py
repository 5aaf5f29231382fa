"""Background training jobs: a process-wide JobManager starts each job as its own worker process
(`python -m explorer train --run-dir RUN`), one per device at a time. The worker writes its
progress into the run folder; pages poll it. Nothing here touches a UI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from explorer.config import TrainConfig
from explorer.runs import Run, create_run, list_runs, open_run, runs_root


class JobBusyError(RuntimeError):
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
        """The run training on `device` ("cpu" or "cuda:N"), if any."""
        for run in self.active(root):
            dev = run.status.get("device") or _resolved(run.train_config().device)
            if _same_device(dev, device):
                return run
        return None

    def start(self, config: TrainConfig, root: str | os.PathLike | None = None, name: str | None = None,
              tags: list[str] | None = None, sweep: dict | None = None) -> Run:
        """Check the config, create the run and start its worker process; JobBusyError if the device is taken."""
        from explorer.train.loop import precheck

        precheck(config)
        device = _resolved(config.device)
        with self._lock:
            busy = self.busy_on(device, root)
            if busy is not None:
                raise JobBusyError(f"run {busy.run_id} is training on {device}; stop it or wait until it ends")
            run = create_run(config, root, name=name, tags=tags, sweep=sweep)
            self._spawn(run)
        return run

    def resume(self, ref: str | Run, root: str | os.PathLike | None = None) -> Run:
        """Continue an interrupted or stopped run in a new worker (from its last completed epoch)."""
        run = open_run(ref, root)
        if run.status["status"] == "running":
            raise JobBusyError(f"run {run.run_id} is already running")
        device = _resolved(run.train_config().device)
        with self._lock:
            busy = self.busy_on(device, root)
            if busy is not None:
                raise JobBusyError(f"run {busy.run_id} is training on {device}; stop it or wait until it ends")
            run.write_status(status="running", pid=os.getpid(), error=None, phase="starting")
            self._spawn(run, resume=True)
        return run

    def _spawn(self, run: Run, resume: bool = False) -> None:
        cmd = [sys.executable, "-m", "explorer", "train", "--run-dir", str(run.path.resolve()), "--no-progress"]
        if resume:
            cmd.append("--resume")
        log = open(run.path / "worker.log", "ab")  # noqa: SIM115  (handed to the child)
        try:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, cwd=os.getcwd(), env=_worker_env(),
                                    preexec_fn=_lower_priority if hasattr(os, "nice") else None)
        finally:
            log.close()
        run.write_status(pid=proc.pid)
        self._procs[run.run_id] = proc

    def stop(self, ref: str | Run, root: str | os.PathLike | None = None) -> Run:
        """Ask a run to stop: its worker sees the STOP file between steps and ends cleanly."""
        run = open_run(ref, root)
        run.request_stop()
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


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    return env


def _resolved(device: str) -> str:
    from explorer.train.loop import resolve_device

    d = resolve_device(device)
    return f"cuda:{d.index or 0}" if d.type == "cuda" else "cpu"


def _same_device(a: str, b: str) -> bool:
    norm = {"cuda": "cuda:0"}
    return norm.get(a, a) == norm.get(b, b)


__all__ = ["JobBusyError", "JobManager", "runs_root"]
