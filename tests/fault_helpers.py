"""Shared helpers of the fault suite (tests/test_faults_*.py): worker subprocesses with fault hooks, waits
on files and processes with deadlines (never sleeps as synchronisation), tiny training configs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--model", "small_cnn", "--size", "10", "--batch-size", "32", "--device", "cpu", "--no-progress",
        "--schedule", "cosine", "--lr", "0.02"]


def worker_env(**extra: str) -> dict[str, str]:
    """Environment of a worker subprocess: one thread (bitwise-reproducible CPU maths), the project importable."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    for key in ("EXPLORER_TEST_KILL_AT", "EXPLORER_TEST_WAIT_AT", "EXPLORER_DEVICE_LOCK_FD"):
        env.pop(key, None)
    env.update(extra)
    return env


def explorer_proc(args: list[str], **extra: str) -> subprocess.Popen:
    """Start `python -m explorer ARGS` with captured output."""
    return subprocess.Popen([sys.executable, "-m", "explorer", *args], cwd=ROOT, env=worker_env(**extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_explorer(args: list[str], timeout: float = 300, **extra: str) -> subprocess.CompletedProcess:
    """Run `python -m explorer ARGS` to its end (a deadline, not a sleep)."""
    return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=ROOT, env=worker_env(**extra),
                          capture_output=True, text=True, timeout=timeout)


def wait_for(pred: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `pred` until true or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)  # polling with a deadline, not a sleep as synchronisation
    raise AssertionError(f"timed out waiting for {what}")


def dead_pid() -> int:
    """The pid of a process that has ended (for stale temp names)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(30)
    return proc.pid


def one_run(root: Path) -> Path:
    """The single run folder under `root` (fails when there are none or several)."""
    runs = [p for p in root.iterdir() if p.is_dir() and (p / "config.json").is_file()]
    assert len(runs) == 1, runs
    return runs[0]
