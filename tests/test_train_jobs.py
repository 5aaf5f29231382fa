"""The JobManager: a worker process per job, one job per device, stop via the STOP file."""

from __future__ import annotations

import time

import pytest

from explorer.config import TrainConfig
from explorer.train.jobs import JobBusyError, JobManager


def test_one_job_per_device_and_stop(tmp_path):
    cfg = TrainConfig.from_dict({"model": "small_cnn", "data": {"name": "letters-builtin", "size": 20},
                                 "epochs": 40, "batch_size": 32})
    jobs = JobManager()
    run = jobs.start(cfg, tmp_path)
    try:
        assert run.status["status"] == "running"
        with pytest.raises(JobBusyError, match=run.run_id):
            jobs.start(cfg, tmp_path)
        deadline = time.monotonic() + 120
        while run.raw_status.get("phase") in (None, "starting") or str(run.raw_status.get("phase")).startswith("data"):
            assert time.monotonic() < deadline, "worker never started training"
            time.sleep(0.05)  # polling the status file with a deadline
        jobs.stop(run.run_id, tmp_path)
        assert jobs.wait(run.run_id, timeout=120) == 0
    finally:
        run.request_stop()
        jobs.wait(run.run_id, timeout=60)
    assert run.status["status"] == "stopped"
    assert [r.run_id for r in jobs.active(tmp_path)] == []
