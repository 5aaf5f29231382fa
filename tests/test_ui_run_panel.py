"""The Train page's run panel at every state a run passes through (and some it should never be in):
no exception, and every progress bar inside [0, 1] (st.progress raises outside it)."""

from __future__ import annotations

import json
import os
import socket
import time

import pytest
from streamlit.testing.v1 import AppTest

from explorer.config import TrainConfig
from explorer.progress import clamp01, epoch_fraction
from explorer.runs import create_run

HOST = socket.gethostname()
ALIVE = {"pid": os.getpid(), "host": HOST, "heartbeat": "now"}  # this test process, beating now: stays running
DEAD_PID = 2**22 + 12345  # above the default pid_max of 4194304: no such process
BASE = {"epochs": 3, "steps": 10, "device": "cpu", "device_label": "cpu (2 threads)"}

STATES: dict[str, dict | None] = {
    "no status yet": None,
    "starting": {"status": "running", "phase": "starting", **ALIVE},
    "loading data": {"status": "running", "phase": "data 3/26", "device": "cpu", **ALIVE},
    "running, epoch 0": {"status": "running", "phase": "train", "epoch": 0, "step": 0, **BASE, **ALIVE},
    "running, first heartbeat": {"status": "running", "phase": "train", "epoch": 1, "step": 1, "eta_s": 40.0,
                                 "images_per_s": 900.0, **BASE, **ALIVE},
    "mid-run": {"status": "running", "phase": "train", "epoch": 2, "step": 5, "eta_s": 12.5, "images_per_s": 1000.0,
                "stage": 0, "stage_name": "main", **BASE, **ALIVE},
    "eval stage": {"status": "running", "phase": "eval", "epoch": 2, "step": 10, **BASE, **ALIVE},
    "after an epoch": {"status": "running", "phase": "train", "epoch": 2, "step": 10, "eta_s": 5.0, **BASE, **ALIVE},
    "testing": {"status": "running", "phase": "test", "epoch": 3, "step": 10, **BASE, **ALIVE},
    "completed": {"status": "completed", "phase": "done", "epoch": 3, "step": 10, "eta_s": 0, "test_acc": 0.95,
                  **BASE, **ALIVE},
    "failed": {"status": "failed", "phase": "failed", "epoch": 1, "step": 4, "error": "NonFiniteLoss: the loss became NaN",
               **BASE, **ALIVE},
    "failed before training": {"status": "failed", "phase": "failed", "error": "no such dataset", **ALIVE},
    "stopped": {"status": "stopped", "phase": "stopped", "epoch": 2, "step": 3, **BASE, **ALIVE},
    "interrupted": {"status": "running", "phase": "train", "epoch": 1, "step": 7, **BASE, "pid": DEAD_PID, "host": HOST},
    "epoch beyond epochs": {"status": "running", "phase": "train", "epoch": 5, "step": 12, **BASE, **ALIVE},
    "negative values": {"status": "running", "phase": "train", "epoch": -2, "step": -3, "epochs": 3, "steps": 10,
                        "eta_s": -5, "images_per_s": -1, **ALIVE},
    "zero steps and epochs": {"status": "running", "phase": "train", "epoch": 1, "step": 1, "epochs": 0, "steps": 0,
                              **ALIVE},
    "not numbers": {"status": "running", "phase": "train", "epoch": "two", "step": None, "epochs": "3", "steps": [],
                    "eta_s": "soon", "images_per_s": "fast", "gpu_mem_mb": "lots", **ALIVE},
    "NaN and infinity": {"status": "running", "phase": "train", "epoch": float("nan"), "step": float("inf"),
                         "epochs": 3, "steps": float("nan"), "eta_s": float("inf"), "images_per_s": float("nan"),
                         **ALIVE},
    "unknown status word": {"status": "paused", "epoch": 1, "step": 2, **BASE},
}


def _panel(run_path: str) -> None:
    """The script under test: the run panel of one run folder."""
    from explorer.runs import open_run
    from explorer.ui.train import render_run

    render_run(open_run(run_path))


def _run_with_status(root, status: dict | None) -> str:
    """A fresh run folder (no history, no metrics) whose status.json is exactly `status` (or absent; a heartbeat
    "now" is the time of writing)."""
    run = create_run(TrainConfig.from_dict({"model": "small_cnn", "epochs": 3, "data": {"name": "letters-builtin",
                                                                                          "size": 20}}), root)
    path = run.path / "status.json"
    if status is None:
        path.unlink()
    else:
        status = {**status, "heartbeat": time.time()} if status.get("heartbeat") == "now" else status
        path.write_text(json.dumps(status), "utf-8")  # NaN/Infinity as Python's json writes them
    return str(run.path)


@pytest.mark.parametrize("state", list(STATES))
def test_run_panel_never_raises_and_bars_stay_in_range(state, tmp_path):
    at = AppTest.from_function(_panel, args=(_run_with_status(tmp_path, STATES[state]),), default_timeout=60).run()
    assert not at.exception, f"{state}: {at.exception[0].message if at.exception else ''}"
    values = [bar.proto.value for bar in at.get("progress")]
    assert all(0 <= v <= 100 for v in values), (state, values)  # the proto holds percent
    assert at.markdown[0].value.count("**") >= 2  # the header line is there


def test_epoch_0_while_running_is_an_empty_bar(tmp_path):
    at = AppTest.from_function(_panel, args=(_run_with_status(tmp_path, STATES["running, epoch 0"]),),
                               default_timeout=60).run()
    assert not at.exception
    bars = at.get("progress")
    assert [b.proto.value for b in bars] == [0, 0]
    assert [b.proto.text for b in bars] == ["epoch 1 of 3 (starting)", "step 0 of 10"]  # never "epoch 0 of 3"


def test_mid_run_bar_counts_the_partial_epoch(tmp_path):
    at = AppTest.from_function(_panel, args=(_run_with_status(tmp_path, STATES["mid-run"]),), default_timeout=60).run()
    assert [b.proto.value for b in at.get("progress")] == [50, 50]  # (1 + 5/10) / 3 = 0.5; step 5 of 10


def test_epoch_fraction_and_clamp():
    assert epoch_fraction({"epoch": 0, "step": 0, "epochs": 3, "steps": 10}) == 0.0
    assert epoch_fraction({"epoch": 2, "step": 5, "epochs": 4, "steps": 10}) == pytest.approx(1.5 / 4)
    assert epoch_fraction({"epoch": 2, "step": 10, "epochs": 4, "steps": 10}) == 0.5
    assert epoch_fraction({"epoch": 3, "step": 10, "epochs": 3, "steps": 10}) == 1.0
    assert epoch_fraction({"epoch": 9, "epochs": 3}) == 1.0
    assert epoch_fraction({"epoch": 1}, epochs=2) == 0.5
    assert epoch_fraction({"epoch": float("nan"), "epochs": 3}) == 0.0
    assert epoch_fraction({"epoch": 1, "epochs": 0}) == 0.0
    assert [clamp01(v) for v in (-0.33, 0.25, 1.7, float("nan"), float("-inf"), None, "x")] == [0, 0.25, 1, 0, 0, 0, 0]
