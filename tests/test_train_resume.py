"""A worker killed with SIGKILL mid-epoch shows as interrupted and resumes from its last completed epoch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from explorer.config import TrainConfig
from explorer.runs import create_run, list_runs, open_run
from explorer.train.job import train

ROOT = Path(__file__).resolve().parents[1]


def _poll(pred, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.02)  # polling a file with a deadline, not a sleep as synchronisation
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_then_resume(tmp_path):
    cfg = TrainConfig.from_dict({"model": "small_cnn", "data": {"name": "letters-builtin", "size": 10},
                                 "epochs": 4, "batch_size": 32, "lr": 0.02, "schedule": "cosine"})
    run = create_run(cfg, tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "train", "--run-dir", str(run.path), "--no-progress"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _poll(lambda: len(run.history()) >= 1, 120, "the first epoch")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = len(run.history())
    assert 1 <= done < 4
    [info] = list_runs(tmp_path)
    assert info.status == "interrupted"
    first_rows = run.history()
    resumed = train(cfg, run_dir=run.path, resume=True)
    assert resumed.status["status"] == "completed"
    hist = open_run(run.path).history()
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4]
    kept = [h for h in first_rows if h["epoch"] <= hist[0]["epoch"]]
    assert hist[0]["wall"] == kept[0]["wall"]  # completed epochs were not trained again
    assert "resumed after epoch" in " ".join(open_run(run.path).config["notes"])
