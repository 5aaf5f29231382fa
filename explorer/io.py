"""Small file helpers shared by every package: atomic writes, disk-full errors, stale temp files, safe names,
and the test-only fault hooks (EXPLORER_TEST_KILL_AT / EXPLORER_TEST_WAIT_AT) that make crash tests deterministic."""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
import signal
import tempfile
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RUNS_ENV = "EXPLORER_RUNS"
DATA_ENV = "EXPLORER_DATA"


def runs_root(root: str | os.PathLike | None = None) -> Path:
    """The runs root: `root`, else $EXPLORER_RUNS, else ./runs (relative to the current directory)."""
    return Path(root or os.environ.get(RUNS_ENV) or "runs").expanduser()


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: `root`, else $EXPLORER_DATA, else ./data (datasets, caches and the user's designs)."""
    return Path(root or os.environ.get(DATA_ENV) or "data").expanduser()


KILL_ENV, WAIT_ENV = "EXPLORER_TEST_KILL_AT", "EXPLORER_TEST_WAIT_AT"
_hits: dict[str, int] = {}
TEMP_SUFFIX = ".tmp"
_STALE = re.compile(r"^\.(?:.+\.)?(?:import|pull|creating|deleting)?-?p(\d+)[.-]")


class DiskFullError(OSError):
    """The disk (or quota) filled up while writing `filename`; nothing half-written was left in its place."""

    def __init__(self, path: str | os.PathLike, what: str = "") -> None:
        self.path = Path(path)
        text = f"disk full while writing {self.path.name} (in {self.path.parent}){what}"
        super().__init__(errno.ENOSPC, text, str(self.path))

    def __str__(self) -> str:
        return str(self.strerror)


def is_disk_full(exc: BaseException) -> bool:
    """True for an OSError that says the disk or the quota is full."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


@contextmanager
def disk_full_guard(path: str | os.PathLike, what: str = "") -> Iterator[None]:
    """Turn a full-disk OSError raised inside the block into a DiskFullError naming `path`."""
    try:
        yield
    except DiskFullError:
        raise
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFullError(path, what) from exc
        raise


def fault_point(name: str) -> None:
    """Test-only hook: EXPLORER_TEST_KILL_AT=name[#n] SIGKILLs this process at the n-th pass (default 1);
    EXPLORER_TEST_WAIT_AT=name=FILE blocks here until FILE exists. Unset (always, outside tests): nothing."""
    kill, wait = os.environ.get(KILL_ENV), os.environ.get(WAIT_ENV)
    if not kill and not wait:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if kill:
        want, _, nth = kill.partition("#")
        if want == name and _hits[name] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
    if wait and wait.partition("=")[0] == name:
        flag = Path(wait.partition("=")[2])
        deadline = time.monotonic() + 300
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.02)  # a test holds this process here until it creates the flag file


def temp_prefix(kind: str) -> str:
    """Prefix of a temporary name that records its writer's pid, so a later reader can clean it once that
    process is gone: ".import-p123-"."""
    return f".{kind}-p{os.getpid()}-"


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists on this host and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


STALE_S = 180.0  # a heartbeat older than this means gone, where the pid cannot be checked (another host)
LIVE_STALE_S = 600.0  # ... and on this host even with a live pid (a reused pid, a hung worker); phases without
# heartbeats (validation, test) of the slowest CPU runs stay under it
FUTURE_SLACK_S = 60.0  # a heartbeat further ahead of this host's clock than this is spoofed or skewed: stale


def process_start(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22), None where the OS does not
    tell: with the pid it names one process, so a reused pid is a different process."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def this_program(pid: int) -> bool:
    """False only when /proc/PID/cmdline shows a process that is not Python (our workers and the app are
    `python -m explorer ...`, the `explorer` script, streamlit or a notebook's Python); True where the OS does not tell."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True
    words = [os.path.basename(a.decode("utf-8", "replace")) for a in argv[:3] if a]
    return not words or any("python" in w or "explorer" in w or "streamlit" in w for w in words)


def is_live(pid: Any, heartbeat: Any, host: Any = None, started: Any = None, stale_s: float | None = None) -> bool:
    """THE liveness rule of a job, run or sweep driver recorded in a file (runs list/stop/delete/resume, the
    page's Stop, sweep drivers, view jobs): live only when its heartbeat is recent (not in the future) AND, on
    this host, its pid is alive and is the process that wrote it (same start time when recorded, a Python
    process where /proc tells). A record of another host is judged by its heartbeat (STALE_S) alone."""
    import socket

    now = time.time()
    beat = float(heartbeat) if isinstance(heartbeat, int | float) and not isinstance(heartbeat, bool) else None
    if beat is None or beat != beat or beat > now + FUTURE_SLACK_S:
        return False
    ok_pid = isinstance(pid, int) and not isinstance(pid, bool) and 0 < pid < 1 << 31
    if not ok_pid or (host is not None and host != socket.gethostname()):
        return now - beat < (stale_s or STALE_S)
    if now - beat >= (stale_s or LIVE_STALE_S) or not pid_alive(pid):
        return False
    if isinstance(started, int) and not isinstance(started, bool):
        now_start = process_start(pid)
        if now_start is not None and now_start != started:
            return False  # the pid was reused by another process
    return this_program(pid)


def ensure_writable_folder(folder: str | os.PathLike) -> Path:
    """Make `folder` (and its parents) and prove a file can be created in it (OSError when not): said before a
    long job writes there, so a read-only folder is not blamed on something else."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".write-probe.{os.getpid()}.tmp"
    os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    probe.unlink()
    return folder


def clean_stale_temp(folder: str | os.PathLike) -> list[Path]:
    """Remove temporary files and folders in `folder` left by a process that is gone (their names record
    its pid: see temp_prefix and atomic_path); returns what was removed. Live writers' files stay."""
    import shutil

    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for p in entries:
        m = _STALE.match(p.name)
        if m is None or pid_alive(int(m.group(1))):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p)
    return removed


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success fsync and rename it over `path`.

    On any error the temporary file is removed and `path` keeps its previous content; a full disk raises
    DiskFullError naming `path`. The temporary name records this pid (cleaned by clean_stale_temp after a kill).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.p{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        with disk_full_guard(path):
            yield tmp_path
            with open(tmp_path, "rb+") as fh:
                os.fsync(fh.fileno())
            fault_point(f"write:{path.name}")
            os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically (write a temporary file, then rename)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write `obj` as pretty JSON to `path` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    """Append one JSON line to `path` atomically: the file is rewritten whole, so a crash
    never leaves a half-written line."""
    path = Path(path)
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old = old[: old.rfind(b"\n") + 1]  # drop a torn last line from an older writer
    line = json.dumps(record, default=_json_default) + "\n"
    atomic_write_bytes(path, old + line.encode("utf-8"))


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSONL file, skipping a torn (unparsable) last line."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


_RESERVED = set('/\\:*?"<>|')  # path separators and the characters Windows refuses in file names
MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; leave room for suffixes


_KEPT = "_.()+"  # besides letters and digits of any script


def _unsafe(ch: str) -> bool:
    """True for a character a name must not hold: anything but letters and digits of any script and `_.()+`
    (so separators, control/format characters, whitespace, markup and formula characters like = & < > @)."""
    return not (ch.isalnum() or ch in _KEPT) or ch in _RESERVED or unicodedata.category(ch)[0] in "CZ"


def safe_name(name: str, default: str = "run", max_len: int = 80) -> str:
    """Turn a user-given name into a safe file name and plain display text: letters and digits of any script
    and `_.()+` are kept (NFC), every other run of characters becomes "-"; no `..`; no leading dot, dash or
    plus (a spreadsheet formula), no trailing dot or dash."""
    text = unicodedata.normalize("NFC", str(name)).strip()
    cleaned = "".join("-" if bad else "".join(g) for bad, g in itertools.groupby(text, key=_unsafe)).strip("-.+")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)[:max_len]
    while len(cleaned.encode("utf-8")) > MAX_NAME_BYTES:
        cleaned = cleaned[:-1]
    return cleaned.strip("-.+") or default


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
