"""Issue 11 findings 7 and 8: failures have no side effects (a failed resume keeps a finished run's status,
`--device cuda` without a GPU creates nothing, export never overwrites or writes into a run, stale temp
files are cleaned) and one device runs one job, by an OS lock shared by the CLI, the JobManager and every
session (parallel starts: exactly one trains, the others get a clear busy message)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from explorer import locks
from explorer.cli import main
from explorer.config import TrainConfig
from explorer.runs import list_runs, open_run
from explorer.train.jobs import JobBusyError, JobManager
from tests.fault_helpers import TINY, dead_pid, explorer_proc, one_run, wait_for, worker_env
from tests.run_fixtures import make_run

# ---- finding 7: side effects of failures ----------------------------------------------------------

@pytest.mark.parametrize("damaged", ["optimizer_last.pt", "weights_last.safetensors", "weights_best.safetensors"])
def test_failed_resume_keeps_a_completed_run_as_it_was(damaged, tmp_path, capsys):
    run = make_run(tmp_path)
    (run.path / damaged).write_bytes(b"garbage, not a checkpoint")
    before = (run.path / "status.json").read_bytes()
    rc = main(["runs", "--runs", str(tmp_path), "resume", run.run_id, "--no-progress"])
    err = capsys.readouterr().err
    assert rc in (1, 2) and "Traceback" not in err
    assert json.loads((run.path / "status.json").read_bytes())["status"] == "completed"
    if rc == 2:  # refused before it started: not even the heartbeat moved
        assert (run.path / "status.json").read_bytes() == before
    assert open_run(run.path).metrics() == run.metrics()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: 'cuda' is a valid device here")
def test_cuda_without_gpu_is_refused_before_a_run_exists(tmp_path, capsys):
    rc = main(["train", "--runs", str(tmp_path / "runs"), *TINY[:-2], "--device", "cuda", "--epochs", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "there is no GPU here" in err and "'cpu'" in err
    assert not (tmp_path / "runs").exists() or list_runs(tmp_path / "runs") == []
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_export_refuses_to_overwrite_and_to_write_into_a_run(tmp_path, capsys):
    root = tmp_path / "runs"
    a, b = make_run(root, name="a"), make_run(root, name="b", seed=1)
    target = tmp_path / "a.zip"
    target.write_bytes(b"keep me")
    assert main(["runs", "--runs", str(root), "export", a.run_id, "-o", str(target)]) == 2
    assert "already exists" in capsys.readouterr().err and target.read_bytes() == b"keep me"
    assert main(["runs", "--runs", str(root), "export", a.run_id, "-o", str(target), "--force"]) == 0
    assert target.read_bytes()[:2] == b"PK"
    b_config = (b.path / "config.json").read_bytes()
    for dest in (b.path / "config.json", b.path / "x.zip", b.path):
        assert main(["runs", "--runs", str(root), "export", a.run_id, "-o", str(dest), "--force"]) == 2
        assert "inside the run folder" in capsys.readouterr().err
    assert (b.path / "config.json").read_bytes() == b_config
    assert sorted(p.name for p in b.path.iterdir()) == sorted(p.name for p in a.path.iterdir())


def test_stale_temp_files_are_cleaned_and_live_ones_kept(tmp_path):
    run = make_run(tmp_path)
    gone, alive = dead_pid(), os.getpid()
    stale = [run.path / f".status.json.p{gone}.abc.tmp", tmp_path / f".import-p{gone}-xyz",
             tmp_path / f".creating-p{gone}-q", tmp_path / f".deleting-p{gone}-{run.run_id}"]
    live = [run.path / f".status.json.p{alive}.abc.tmp", tmp_path / f".import-p{alive}-xyz"]
    for p in stale + live:
        if "import" in p.name or "creating" in p.name or "deleting" in p.name:
            p.mkdir()
            (p / "config.json").write_text("{}")
        else:
            p.write_text("{}")
    assert [i.run_id for i in list_runs(tmp_path)] == [run.run_id]
    assert [p for p in stale if p.exists()] == []
    assert all(p.exists() for p in live)


# ---- finding 8: one device, one job, by an OS lock ----------------------------------------------------

def _interrupted_run(root: Path, name: str) -> str:
    run = make_run(root, name=name, weights=False, epochs=1)  # no checkpoint: a resume trains it whole
    run.write_status(status="interrupted")
    return run.run_id


def test_cli_and_job_manager_see_a_held_lock(tmp_path, capsys):
    root = tmp_path / "runs"
    rid = _interrupted_run(root, "r")
    held = locks.acquire("cpu")
    try:
        held.describe(run_id="someone-else")
        before = sorted(p.name for p in root.iterdir())
        with pytest.raises(JobBusyError, match="device cpu is busy: run someone-else"):
            JobManager().start(TrainConfig(model="small_cnn", device="cpu"), root)
        assert JobManager().busy_on("cpu", root) is None  # the holder names no run of this root: no crash
        assert main(["train", "--runs", str(root), *TINY, "--epochs", "1"]) == 2
        assert "device cpu is busy" in capsys.readouterr().err
        status = (root / rid / "status.json").read_bytes()
        assert main(["runs", "--runs", str(root), "resume", rid, "--no-progress"]) == 2
        assert "device cpu is busy" in capsys.readouterr().err
        assert (root / rid / "status.json").read_bytes() == status
        assert sorted(p.name for p in root.iterdir()) == before  # nothing created
    finally:
        held.release()
    assert not locks.is_busy("cpu")


def test_three_parallel_starts_one_trains(tmp_path):
    root = tmp_path / "runs"
    ids = [_interrupted_run(root, f"r{i}") for i in range(3)]
    flag = tmp_path / "go"
    # the winner holds its lock at "lock:held" until the flag exists: the race is decided by the lock alone
    procs = [explorer_proc(["runs", "--runs", str(root), "resume", rid, "--no-progress"],
                           EXPLORER_TEST_WAIT_AT=f"lock:held={flag}") for rid in ids]
    try:
        wait_for(lambda: sum(p.poll() is not None for p in procs) == 2, 240, "two of three starts to be refused")
        losers = [p for p in procs if p.poll() is not None]
        for p in losers:
            out, err = p.communicate(timeout=30)
            assert p.returncode == 2 and "device cpu is busy: run " in err and "Traceback" not in err, err
        [winner] = [p for p in procs if p.poll() is None]
        assert locks.is_busy("cpu")
        flag.touch()
        out, err = winner.communicate(timeout=300)
        assert winner.returncode == 0, err
    finally:
        flag.touch()
        for p in procs:
            if p.poll() is None:
                p.kill()
    statuses = sorted(open_run(root / rid).status["status"] for rid in ids)
    assert statuses == ["completed", "interrupted", "interrupted"]
    assert not locks.is_busy("cpu")


def test_job_manager_hands_its_lock_to_the_worker(tmp_path, monkeypatch, capsys):
    root = tmp_path / "runs"
    flag = tmp_path / "go"
    for key, value in worker_env(EXPLORER_TEST_WAIT_AT=f"lock:held={flag}").items():
        monkeypatch.setenv(key, value)
    jm = JobManager()
    cfg = TrainConfig.from_dict({"model": "small_cnn", "device": "cpu", "epochs": 1, "batch_size": 32,
                                 "data": {"name": "letters-builtin", "size": 10}})
    run = jm.start(cfg, root)
    try:
        assert locks.is_busy("cpu")  # held by the worker from the first instant (inherited descriptor)
        assert jm.busy_on("cpu", root).run_id == run.run_id
        with pytest.raises(JobBusyError):
            jm.start(cfg, root)
        assert main(["train", "--runs", str(root), *TINY, "--epochs", "1"]) == 2
        assert "busy" in capsys.readouterr().err
    finally:
        flag.touch()
    assert jm.wait(run.run_id, timeout=300) == 0
    assert open_run(run.path).status["status"] == "completed"
    assert one_run(root) == run.path.resolve() or one_run(root) == run.path
    assert not locks.is_busy("cpu")
