"""One device, one job: an OS file lock per device in the runs root (runs/.locks/cpu.lock, cuda-0.lock).

The worker process that trains holds its device's lock (fcntl.flock) for its whole life; the kernel drops
it when the process ends, however it ends. The CLI, the app's JobManager and every session ask the same
lock, so "is the device busy?" never depends on status files or timing. A JobManager takes the lock itself
and hands the open file to the worker it starts (the lock goes with the inherited descriptor).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCK_DIR = ".locks"
FD_ENV = "EXPLORER_DEVICE_LOCK_FD"  # set by JobManager for its worker: the descriptor holding the lock


class DeviceBusyError(RuntimeError):
    """Another process holds the device's lock (a job is training on it)."""


@dataclass
class DeviceLock:
    """A held device lock: its open descriptor, file and device."""

    fd: int
    path: Path
    device: str

    def describe(self, **holder: Any) -> None:
        """Record who holds the lock (run id, pid) in the lock file, for busy messages."""
        with contextlib.suppress(OSError):  # a full disk: the lock holds all the same, only unnamed
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, json.dumps({"pid": os.getpid(), **holder}).encode(), 0)

    def release(self) -> None:
        """Let go of the lock (closing the descriptor; a child that inherited it keeps it)."""
        with contextlib.suppress(OSError):
            os.close(self.fd)


def lock_path(root: str | os.PathLike, device: str) -> Path:
    """The lock file of `device` ("cpu", "cuda:0") under the runs root."""
    name = device.replace(":", "-") if device != "cuda" else "cuda-0"
    return Path(root) / LOCK_DIR / f"{name}.lock"


def holder(root: str | os.PathLike, device: str) -> dict[str, Any]:
    """What the lock file says about its holder ({} when unknown)."""
    try:
        data = json.loads(lock_path(root, device).read_text("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def busy_message(root: str | os.PathLike, device: str) -> str:
    """One line saying that `device` is busy and with what."""
    who = holder(root, device)
    what = f"run {who['run_id']} (pid {who.get('pid')})" if who.get("run_id") else "another job"
    return f"device {device} is busy: {what} is training on it; stop it or wait until it ends"


def acquire(root: str | os.PathLike, device: str, wait_s: float = 0.5) -> DeviceLock:
    """Take the device's lock, trying for up to `wait_s` (another process's is_busy probe holds it for
    microseconds); DeviceBusyError when a job holds it."""
    path = lock_path(root, device)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return DeviceLock(fd, path, device)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise DeviceBusyError(busy_message(root, device)) from None
            time.sleep(0.01)  # retry a non-blocking lock until the deadline


def inherited(device: str, root: str | os.PathLike) -> DeviceLock | None:
    """The lock a JobManager handed to this worker (FD_ENV), if it is the lock of `device` under `root`."""
    raw = os.environ.pop(FD_ENV, None)
    if not raw:
        return None
    fd = int(raw)
    try:
        same = os.path.samefile(f"/proc/self/fd/{fd}", lock_path(root, device))
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # already ours: a no-op that proves it
    except (OSError, ValueError):
        return None
    return DeviceLock(fd, lock_path(root, device), device) if same else None


def is_busy(root: str | os.PathLike, device: str) -> bool:
    """True when some process holds the device's lock (checked by trying to take it; a probe creates
    nothing: no lock file means no job)."""
    if not lock_path(root, device).exists():
        return False
    try:
        acquire(root, device, wait_s=0).release()
    except DeviceBusyError:
        return True
    return False
