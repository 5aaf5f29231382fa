"""Sweeps that really train (tiny runs: small_cnn, 10 letters per class, 1 epoch): a 2x2x2 grid
completes with each run holding its point; killing the driver and the worker mid-sweep leaves the
finished runs intact, the running one interrupted and the queue resumable; a seeded Optuna search."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from explorer.config import TrainConfig
from explorer.runs import open_run
from explorer.sweep import Grid, new_grid_sweep, new_optuna_sweep, parse_grid
from explorer.sweep.drive import run_sweep
from explorer.sweep.optuna_search import distributions, parse_space

pytestmark = pytest.mark.slow  # real worker processes: about 30 s a run on 2 busy cores

BASE = TrainConfig.from_dict({"model": "small_cnn", "epochs": 1, "batch_size": 32, "device": "cpu",
                              "data": {"name": "letters-builtin", "size": 10}})


def _check_runs(sweep, root) -> None:
    for item in sweep.items():
        run = open_run(item["run_id"], root)
        assert run.config["sweep"] == {"id": sweep.sweep_id, "index": item["index"], "point": item["point"]}
        train = run.config["train"]
        assert {k: train[k] for k in item["point"]} == item["point"]
        assert f"sweep-{sweep.sweep_id}" in run.config["tags"]


def test_a_2x2x2_grid_completes_and_each_run_holds_its_point(tmp_path):
    sweep = new_grid_sweep(BASE, Grid(parse_grid(["lr=0.01,0.05", "batch_size=16,32"]), seeds=2), tmp_path)
    events = []
    counts = run_sweep(sweep, on_event=lambda e, i: events.append(e))
    assert counts["completed"] == 8, sweep.items()
    assert events.count("item_start") == 8 and sweep.state() == "done"
    _check_runs(sweep, tmp_path)
    assert {open_run(i["run_id"], tmp_path).status["status"] for i in sweep.items()} == {"completed"}
    assert {json.dumps(i["point"], sort_keys=True) for i in sweep.items()} == {
        json.dumps({"lr": lr, "batch_size": b, "seed": s}, sort_keys=True)
        for lr in (0.01, 0.05) for b in (16, 32) for s in (0, 1)}


def _wait_for(check, timeout: float, what: str):
    """Poll `check()` until it returns something truthy (the queue file is what we wait on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_killing_the_sweep_mid_way_keeps_finished_runs_and_the_queue_resumes(tmp_path):
    sweep = new_grid_sweep(BASE, Grid(parse_grid(["lr=0.01,0.02,0.03"])), tmp_path)
    driver = subprocess.Popen([sys.executable, "-m", "explorer", "sweep", "run", sweep.sweep_id, "--runs",
                               str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        second = _wait_for(lambda: sweep.read()["items"][1].get("run_id"), 300, "the second run to start")
        worker = open_run(second, tmp_path).raw_status["pid"]
        driver.kill()
        driver.wait(30)
        os.kill(int(worker), signal.SIGKILL)
    finally:
        if driver.poll() is None:
            driver.kill()
    first = open_run(sweep.items()[0]["run_id"], tmp_path)
    assert first.status["status"] == "completed" and first.metrics()["test_acc"] is not None
    _wait_for(lambda: open_run(second, tmp_path).status["status"] == "interrupted", 30, "the worker to die")
    assert [i["state"] for i in sweep.items()] == ["completed", "interrupted", "pending"]
    assert sweep.state() == "waiting"
    counts = run_sweep(sweep)  # resume: the interrupted run continues in its own folder, then the rest
    assert counts["completed"] == 3 and sweep.items()[1]["run_id"] == second
    assert open_run(second, tmp_path).status["status"] == "completed"
    _check_runs(sweep, tmp_path)


def test_an_optuna_search_runs_with_a_fixed_seed(tmp_path):
    import optuna

    space = parse_space(["lr=0.001:0.1:3:log", "batch_size=16,32"])
    sweep = new_optuna_sweep(BASE, space, trials=3, seed=7, root=tmp_path)
    counts = run_sweep(sweep)
    assert counts["completed"] + counts["pruned"] == 3, sweep.items()
    _check_runs(sweep, tmp_path)
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=7, n_startup_trials=5), direction="maximize")
    expected = [study.ask(distributions(space)).params for _ in range(3)]
    assert [{k: v for k, v in i["point"].items() if k != "seed"} for i in sweep.items()] == expected
    assert all(isinstance(i.get("val_acc"), float) for i in sweep.items())


def test_a_crashed_trial_is_marked_and_the_queue_goes_on(tmp_path):
    # a data root under a plain file: every worker fails after its start, building the letters there
    (tmp_path / "not-a-folder").write_text("a file where the letters' folder should be")
    data = {**BASE.data.to_dict(), "root": str(tmp_path / "not-a-folder" / "data")}
    base = BASE.replace(data=BASE.data.__class__.from_dict(data))
    sweep = new_grid_sweep(base, Grid(parse_grid(["lr=0.01,0.02"])), tmp_path)
    counts = run_sweep(sweep)
    assert counts["failed"] == 2 and sweep.state() == "done"
    for item in sweep.items():
        assert item["run_id"] and "not-a-folder" in item["error"]
        assert open_run(item["run_id"], tmp_path).status["status"] == "failed"


def test_a_new_driver_adopts_the_run_a_killed_driver_left_training(tmp_path):
    sweep = new_grid_sweep(BASE, Grid(parse_grid(["lr=0.01,0.02"])), tmp_path)
    driver = subprocess.Popen([sys.executable, "-m", "explorer", "sweep", "run", sweep.sweep_id, "--runs",
                               str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        first = _wait_for(lambda: sweep.read()["items"][0].get("run_id"), 300, "the first run to start")
    finally:
        driver.kill()
        driver.wait(30)
    # the worker (its own session) trains on; the next driver follows it instead of starting it again
    counts = run_sweep(sweep)
    assert counts["completed"] == 2 and sweep.items()[0]["run_id"] == first
    run = open_run(first, tmp_path)
    assert run.status["status"] == "completed" and len(run.history()) == 1
    assert len(list(tmp_path.glob("2*"))) == 2  # no third run folder
