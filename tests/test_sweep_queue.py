"""The persistent sweep queue: written atomically under the runs folder, read back by a new process,
paused, cancelled, reordered; a running item without a live driver shows as interrupted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from explorer.sweep.queue import Sweep, SweepFileError, create_sweep, list_sweeps, open_sweep, sweeps_root

POINTS = [{"lr": lr, "seed": 0} for lr in (0.01, 0.02, 0.03, 0.04)]


def _sweep(root) -> Sweep:
    return create_sweep({"mode": "grid", "base": {}, "size": len(POINTS)}, POINTS, root, "q")


def test_a_sweep_is_a_folder_of_the_runs_root_and_not_a_run(tmp_path):
    from explorer.runs import list_runs

    s = _sweep(tmp_path)
    assert s.path.parent == sweeps_root(tmp_path) == tmp_path / ".sweeps"
    assert json.loads((s.path / "queue.json").read_text())["items"][2]["point"] == {"lr": 0.03, "seed": 0}
    assert list_runs(tmp_path) == []
    assert open_sweep(s.sweep_id[:12], tmp_path).path == s.path
    assert [x.sweep_id for x in list_sweeps(tmp_path)] == [s.sweep_id]
    with pytest.raises(FileNotFoundError, match="no sweep 'nope'"):
        open_sweep("nope", tmp_path)


def test_pause_cancel_and_reorder(tmp_path):
    s = _sweep(tmp_path)
    s.move(3, -2)
    assert [i["index"] for i in s.items()] == [0, 3, 1, 2]
    s.move(0, 10)
    assert [i["index"] for i in s.items()] == [3, 1, 2, 0]
    s.mark(1, state="completed", run_id="r1")
    with pytest.raises(ValueError, match="item 1 is not pending"):
        s.move(1, 1)
    s.pause()
    assert s.state() == "paused"
    s.pause(False)
    assert s.state() == "waiting"
    s.cancel()
    assert s.state() == "cancelled"
    assert [i["state"] for i in s.items()] == ["cancelled", "completed", "cancelled", "cancelled"]


def test_another_process_sees_the_queue_and_a_dead_drivers_item_is_interrupted(tmp_path):
    s = _sweep(tmp_path)
    code = ("import sys; from explorer.sweep.queue import open_sweep; s = open_sweep(sys.argv[1], sys.argv[2]); "
            "s.claim(); s.mark(0, state='running', run_id='r0'); print(s.driver_alive(), s.items()[0]['state'])")
    out = subprocess.run([sys.executable, "-c", code, s.sweep_id, str(tmp_path)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.stdout.split() == ["True", "running"], out.stderr
    # that process has ended without releasing the queue: its item is interrupted, the queue resumable
    assert not s.driver_alive()
    assert s.items()[0]["state"] == "interrupted" and s.state() == "waiting"
    s.claim()  # a dead driver's claim is taken over; its running item is interrupted (to resume first)
    assert s.driver_alive() and s.items()[0]["state"] == "interrupted"
    s.release()
    assert s.read()["driver"] is None


def test_a_damaged_queue_file_reads_as_its_well_formed_items_and_failed_bad_ones(tmp_path):
    s = _sweep(tmp_path)
    (s.path / "queue.json").write_text(json.dumps({"items": [{"index": 0, "point": {"lr": 0.1}, "state": "pending"},
                                                             "junk", {"index": "1"}, {"index": 2, "point": 5}],
                                                   "paused": False}))
    items = s.items()  # issue 29 item 7: bad items are failed, with the reason, and the queue goes on
    assert [(i["index"], i["state"]) for i in items] == [(0, "pending"), (3, "failed"), (4, "failed"), (2, "failed")]
    assert all("a bad queue item" in i["error"] for i in items[1:])
    (s.path / "queue.json").write_text("[1, 2")
    assert s.state() == "unreadable" and "queue.json: not valid JSON" in s.problem()
    with pytest.raises(SweepFileError):
        s.items()
