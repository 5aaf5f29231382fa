"""A sweep queue survives an app restart or a reboot and goes on by itself: a queue whose driver on this host
died with work left is orphaned and resume_orphaned starts a driver for it (the Train and Home pages call it
once per server process); a paused, cancelled or finished queue, or another host's, is left alone."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from explorer.sweep import Grid, new_grid_sweep, parse_grid
from explorer.sweep.queue import create_sweep
from explorer.sweep.runner import orphaned, resume_orphaned
from tests.test_sweep_run import BASE


def _dead_pid() -> int:
    """The pid of a process that has ended (as after a reboot)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _cut(sweep, host: str | None = None) -> None:
    """The queue as a killed driver leaves it: its record, its item running."""
    record = {"pid": _dead_pid(), "host": host or socket.gethostname(), "since": time.time()}
    sweep.update(lambda q: q.__setitem__("driver", record))
    sweep.mark(0, state="running")  # killed before its run folder was made


def test_only_a_queue_cut_on_this_host_with_work_left_is_orphaned(tmp_path):
    points = [{"lr": 0.01, "seed": 0}, {"lr": 0.02, "seed": 0}]
    fresh = create_sweep({"mode": "grid", "base": {}, "size": 2}, points, tmp_path, "fresh")
    assert not orphaned(fresh)  # never driven: it waits for Start
    cut = create_sweep({"mode": "grid", "base": {}, "size": 2}, points, tmp_path, "cut")
    _cut(cut)
    assert orphaned(cut) and cut.items()[0]["state"] == "interrupted"
    cut.pause()
    assert not orphaned(cut)  # the user paused it: Resume is theirs to press
    cut.pause(False)
    cut.cancel()
    assert not orphaned(cut)
    elsewhere = create_sweep({"mode": "grid", "base": {}, "size": 2}, points, tmp_path, "elsewhere")
    _cut(elsewhere, host="another-machine")
    assert not orphaned(elsewhere)  # a shared folder: that host's driver may be alive
    assert resume_orphaned(tmp_path) == []


@pytest.mark.slow
def test_resume_orphaned_finishes_the_cut_queue(tmp_path):
    sweep = new_grid_sweep(BASE, Grid(parse_grid(["lr=0.05"]), seeds=1), tmp_path)
    _cut(sweep)
    assert resume_orphaned(tmp_path) == [sweep.sweep_id]
    deadline = time.monotonic() + 300
    while sweep.state() != "done" and time.monotonic() < deadline:
        time.sleep(0.2)  # polling the queue file with a deadline, not a sleep as synchronisation
    assert sweep.state() == "done", sweep.items()
    [item] = sweep.items()
    assert item["state"] == "completed" and item["run_id"]
    assert resume_orphaned(tmp_path) == []
