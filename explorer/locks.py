"""One device, one job per machine: an OS file lock per device in one per-user folder of this machine
(locks_dir(): $EXPLORER_LOCKS, else $XDG_RUNTIME_DIR/cnn-explorer/locks, else ~/.cache/cnn-explorer/locks),
whatever the runs root: cpu.lock, cuda-0.lock. A run being trained also holds its own lock there, keyed by its
resolved folder (run-<hash>.lock), so a run reached through a symlinked folder is the same run.

The worker process that trains holds its device's lock (fcntl.flock) for its whole life; the kernel drops
it when the process ends, however it ends. The CLI, the app's JobManager and every session ask the same
lock, so "is the device busy?" never depends on status files or timing. A JobManager takes the lock itself
and hands the open file to the worker it starts (the lock goes with the inherited descriptor).

Lock files are opened with O_NOFOLLOW (a link planted there is refused, never followed) and only a regular file
of this user with one name is ever rewritten (the holder record), after its lock is held.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LOCKS_ENV = "EXPLORER_LOCKS"  # the machine-wide lock folder (tests point it at a temp folder)
FD_ENV = "EXPLORER_DEVICE_LOCK_FD"  # set by JobManager for its worker: the descriptor holding the lock


class DeviceBusyError(RuntimeError):
    """Another process holds the device's lock (a job is training on it), or the run's own lock."""


class LockFileError(OSError):
    """A lock file is a link, not a regular file, or not this user's: refused, never followed or truncated."""


@dataclass
class DeviceLock:
    """A held lock: its open descriptor, file and what it locks (a device name, or "run")."""

    fd: int
    path: Path
    device: str

    def describe(self, **holder: Any) -> None:
        """Record who holds the lock (run id, folder, pid) in the lock file, for busy messages."""
        with contextlib.suppress(OSError):  # a full disk: the lock holds all the same, only unnamed
            _check_ours(self.fd, self.path)
            os.ftruncate(self.fd, 0)
            os.pwrite(self.fd, json.dumps({"pid": os.getpid(), **holder}).encode(), 0)

    def release(self) -> None:
        """Let go of the lock (closing the descriptor; a child that inherited it keeps it)."""
        with contextlib.suppress(OSError):
            os.close(self.fd)


def locks_dir() -> Path:
    """The one lock folder of this machine for this user ($EXPLORER_LOCKS, $XDG_RUNTIME_DIR, ~/.cache)."""
    if os.environ.get(LOCKS_ENV):
        return Path(os.environ[LOCKS_ENV])
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "cnn-explorer" / "locks"
    return Path.home() / ".cache" / "cnn-explorer" / "locks"


def lock_path(device: str) -> Path:
    """The lock file of `device` ("cpu", "cuda:0") in locks_dir()."""
    name = device.replace(":", "-") if device != "cuda" else "cuda-0"
    return locks_dir() / f"{name}.lock"


def run_lock_path(run_dir: str | os.PathLike) -> Path:
    """The lock file of one run, keyed by its resolved folder (a symlinked folder is the same run)."""
    key = hashlib.sha256(str(Path(run_dir).resolve()).encode()).hexdigest()[:24]
    return locks_dir() / f"run-{key}.lock"


def holder(device: str) -> dict[str, Any]:
    """What the device's lock file says about its holder ({} when unknown)."""
    return _read_holder(lock_path(device))


def _read_holder(path: Path) -> dict[str, Any]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return {}
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return {}
        data = json.loads(os.read(fd, 64 * 1024).decode("utf-8", "replace") or "{}")
    except (OSError, ValueError):
        return {}
    finally:
        os.close(fd)
    return data if isinstance(data, dict) else {}


def busy_message(device: str) -> str:
    """One line saying that `device` is busy and with what."""
    who = holder(device)
    what = f"run {who['run_id']} (pid {who.get('pid')})" if who.get("run_id") else "another job"
    return f"device {device} is busy: {what} is training on it; stop it or wait until it ends"


def _check_ours(fd: int, path: Path) -> None:
    """LockFileError unless `fd` is a regular file of this user with one name (never someone else's file)."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_uid != os.getuid():
        raise LockFileError(errno.EPERM, "refused: the lock file is not a plain file of this user (a link, "
                            "a hard link or another user's file); remove it", str(path))


def _open(path: Path) -> int:
    """Open (create) a lock file without following a link; LockFileError for anything but our plain file."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if folder.is_symlink():
        raise LockFileError(errno.ELOOP, "refused: the lock folder is a link; remove it", str(folder))
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK, errno.ENXIO, errno.EISDIR):
            raise LockFileError(exc.errno, "refused: the lock file is a link or not a plain file; remove it",
                                str(path)) from None
        raise
    try:
        _check_ours(fd, path)
    except LockFileError:
        os.close(fd)
        raise
    return fd


def _acquire(path: Path, what: str, busy: Any, wait_s: float) -> DeviceLock:
    fd = _open(path)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return DeviceLock(fd, path, what)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise DeviceBusyError(busy()) from None
            time.sleep(0.01)  # retry a non-blocking lock until the deadline


def acquire(device: str, wait_s: float = 0.5) -> DeviceLock:
    """Take the device's lock, trying for up to `wait_s` (another process's is_busy probe holds it for
    microseconds); DeviceBusyError when a job holds it."""
    return _acquire(lock_path(device), device, lambda: busy_message(device), wait_s)


def acquire_run(run_dir: str | os.PathLike, wait_s: float = 0.5) -> DeviceLock:
    """Take the run's own lock (by its resolved folder); DeviceBusyError when another process trains it."""
    path = run_lock_path(run_dir)

    def busy() -> str:
        who = _read_holder(path)
        return (f"run {Path(run_dir).resolve().name} is already being trained by another process "
                f"(pid {who.get('pid', '?')}); stop it or wait until it ends")
    return _acquire(path, "run", busy, wait_s)


def acquire_named(name: str, wait_s: float = 0.5) -> DeviceLock:
    """Take a named lock of this machine (e.g. one MLflow push per store at a time); DeviceBusyError after wait_s."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
    return _acquire(locks_dir() / f"{safe}.lock", safe, lambda: f"{safe} is held by another process", wait_s)


def named_holder(name: str) -> dict[str, Any] | None:
    """The holder record of a named lock while some process holds it, else None."""
    try:
        acquire_named(name, wait_s=0).release()
    except DeviceBusyError:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80]
        return _read_holder(locks_dir() / f"{safe}.lock")
    except OSError:
        return None
    return None


def inherited(device: str) -> DeviceLock | None:
    """The lock a JobManager handed to this worker (FD_ENV), if it is the lock of `device`."""
    raw = os.environ.pop(FD_ENV, None)
    if not raw:
        return None
    try:
        fd = int(raw)
        same = os.path.samefile(f"/proc/self/fd/{fd}", lock_path(device))
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # already ours: a no-op that proves it
    except (OSError, ValueError):
        return None
    return DeviceLock(fd, lock_path(device), device) if same else None


def is_busy(device: str) -> bool:
    """True when some process holds the device's lock (checked by trying to take it; a probe creates
    nothing: no lock file means no job)."""
    if not lock_path(device).exists():
        return False
    try:
        acquire(device, wait_s=0).release()
    except DeviceBusyError:
        return True
    except OSError:  # a planted link or an unreadable folder: not a job
        return False
    return False
