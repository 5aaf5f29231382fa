"""Heavy views as background jobs (issue 23, item 7): a real worker process computes robustness curves while
the user leaves the page; a fresh session (another visit, a reload) finds the job and shows its progress from
the start, and the result once it is done, with the "not looked at yet" box gone. The worker is held at its
first progress report by the test hook EXPLORER_TEST_WAIT_AT (explorer.io.fault_point), so the test sees the
job in progress without timing."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from explorer.cli import main
from explorer.views import job_status, start_job
from explorer.views.jobs import job_dir, read_job, wait_job
from explorer.views.kinds import estimate_view
from tests.conftest import page_path
from tests.run_fixtures import make_page_run

INTRO = "growing perturbations"


def results(root, monkeypatch, run_id: str) -> AppTest:
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path("results"), default_timeout=240)
    at.session_state["explorer_run_id"] = run_id
    at.run()
    assert not at.exception, at.exception
    return at


def robustness_infos(at: AppTest) -> list[str]:
    return [i.value for i in at.info if INTRO in i.value]


def test_robustness_runs_in_the_background_and_the_page_follows_it(tmp_path, monkeypatch):
    run = make_page_run(tmp_path, "robust")
    flag = tmp_path / "go-on"
    monkeypatch.setenv("EXPLORER_TEST_WAIT_AT", f"view-job:progress={flag}")
    at = results(tmp_path, monkeypatch, run.name)
    [intro] = robustness_infos(at)
    assert "Estimated **" in intro and "measured: " in intro and "x 41 passes of 260 test images" in intro
    at.button(key="results_robust_go").click().run()
    assert not at.exception
    params = {"run": str(run)}
    job = wait_job("robustness", params, tmp_path, timeout=300, until=lambda j: j.fraction > 0)
    assert job.state == "running" and job.estimate_s > 0 and "images" in job.text
    # the user left and comes back (a new session): the job's progress is shown, not the stale box
    back = results(tmp_path, monkeypatch, run.name)
    assert not robustness_infos(back)
    bars = [p.proto for p in back.get("progress")]
    assert any(b.text.startswith("Robustness curves: ") and 0 < b.value <= 100 for b in bars), bars
    flag.touch()  # let the worker go on
    done = wait_job("robustness", params, tmp_path, timeout=300)
    assert done.state == "done" and done.seconds > 0 and done.fraction == 1.0
    again = results(tmp_path, monkeypatch, run.name)
    assert not robustness_infos(again) and not [p for p in again.get("progress") if "Robustness" in p.proto.text]
    table = next(d.value for d in again.dataframe if "severity 5" in d.value.columns)
    assert len(table) == 8 and table["severity 0"].nunique() == 1  # severity 0: the plain test split for all 8
    assert ((table["severity 5"] >= 0) & (table["severity 5"] <= 1)).all()


def test_a_job_already_running_is_not_started_twice_and_a_dead_worker_reads_as_failed(tmp_path, monkeypatch):
    run = make_page_run(tmp_path, "twice")
    flag = tmp_path / "go-on"
    monkeypatch.setenv("EXPLORER_TEST_WAIT_AT", f"view-job:progress={flag}")
    params = {"run": str(run), "method": "pca"}
    first = start_job("embedding", params, tmp_path, estimate_s=12.0)
    second = start_job("embedding", params, tmp_path)
    assert (second.path, second.started) == (first.path, first.started)  # the same job, found by kind and params
    flag.touch()
    assert wait_job("embedding", params, tmp_path, timeout=300).state == "done"
    # a job.json that says running with no live worker (killed, machine restarted) is a failure, said so
    path = job_dir("robustness", {"run": str(run)}, tmp_path)
    path.mkdir(parents=True)
    (path / "job.json").write_text(json.dumps({"kind": "robustness", "state": "running", "pid": 2**22 + 12345,
                                               "started": 1.0, "fraction": 0.4}))
    dead = read_job(path)
    assert dead.state == "failed" and "worker ended without finishing" in dead.error
    (path / "job.json").write_text("{not json")
    assert job_status("robustness", {"run": str(run)}, tmp_path) is None  # unreadable: as if never started
    with pytest.raises(ValueError, match="unknown view job 'nope'"):
        start_job("nope", {}, tmp_path)


def test_view_estimates_are_measured_on_the_run(tmp_path):
    run = make_page_run(tmp_path, "sizes")
    robust, how = estimate_view("robustness", {"run": str(run)}, tmp_path)
    pca, _ = estimate_view("embedding", {"run": str(run), "method": "pca"}, tmp_path)
    assert robust > pca > 0 and how.startswith("measured: ") and "ms an image on this machine" in how


def test_the_worker_command_reports_a_failure_in_its_job(tmp_path):
    path = job_dir("robustness", {"run": str(tmp_path / "missing")}, tmp_path)
    path.mkdir(parents=True)
    (path / "job.json").write_text(json.dumps({"kind": "robustness", "params": {"run": str(tmp_path / "missing")},
                                               "state": "starting", "started": 1.0}))
    assert main(["view-job", str(path)]) == 1
    failed = read_job(path)
    assert failed.state == "failed" and "missing" in failed.error
