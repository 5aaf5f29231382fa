"""Sweeps shared over machines on a real PostgreSQL server (started by the test, 127.0.0.1): two worker processes
with separate runs folders finish a 2x2 grid, every point completed exactly once, one worker SIGKILLed in its
second trial and that point retried through Optuna's heartbeat; a shared TPE search on sqlite; bad URLs, an
unreachable server, a wrong password, a study of another kind: one clear line, exit 2, local runs untouched."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest

from explorer.cli import main
from explorer.runs import list_runs, open_run
from tests.fault_helpers import ROOT, worker_env
from tests.servers import PG_PASSWORD, free_port, postgres

pytestmark = pytest.mark.slow  # real worker processes and a database server

TINY = ["--model", "small_cnn", "--size", "10", "--batch-size", "32", "--device", "cpu", "--epochs", "2"]
FAST_HEARTBEAT = {"EXPLORER_STUDY_HEARTBEAT_S": "1", "EXPLORER_STUDY_GRACE_S": "4"}


@pytest.fixture(scope="module")
def pg_url():
    with postgres() as url:
        yield url


def _worker(name: str, url: str, runs, data, **extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "explorer", "sweep", "work", name, "--storage", url, "--runs",
                             str(runs)], cwd=ROOT, env=worker_env(EXPLORER_DATA=str(data), **FAST_HEARTBEAT, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _trials(url: str, name: str):
    import optuna

    return optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)


def test_two_workers_finish_a_grid_and_a_killed_workers_point_is_retried(pg_url, tmp_path):
    data = tmp_path / "data"
    assert main(["sweep", *TINY, "--grid", "lr=0.01,0.02", "--grid", "batch_size=16,32", "--storage", pg_url,
                 "--name", "grid22"]) == 0
    # worker A dies (SIGKILL) after epoch 1 of its second trial; B works on, waits for A's last trial to go
    # stale (no heartbeat for 4 s), and trains the retried copy
    # two machines: each its own runs folder and its own machine-wide device locks
    a = _worker("grid22", pg_url, tmp_path / "runs-a", data, EXPLORER_TEST_KILL_AT="history@1#2",
                EXPLORER_LOCKS=str(tmp_path / "locks-a"))
    b = _worker("grid22", pg_url, tmp_path / "runs-b", data, EXPLORER_LOCKS=str(tmp_path / "locks-b"))
    out_a, out_b = a.communicate(timeout=900), b.communicate(timeout=900)
    assert a.returncode == -9, out_a[1][-2000:]
    assert b.returncode == 0, out_b[1][-2000:]
    trials = _trials(pg_url, "grid22")
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert Counter(t.params["point"] for t in complete) == {0: 1, 1: 1, 2: 1, 3: 1}  # every point once
    [failed] = [t for t in trials if t.state.name == "FAIL"]  # A's second trial, failed by the heartbeat
    [retry] = [t for t in complete if t.system_attrs.get("failed_trial") == failed.number]
    assert retry.params["point"] == failed.params["point"] and retry.user_attrs["run_id"]
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
    for t in complete:
        assert {"run_id", "machine", "device"} <= set(t.user_attrs) and t.user_attrs["device"].startswith("cpu")
    done_a = [r for r in list_runs(tmp_path / "runs-a") if r.status == "completed"]
    done_b = [r for r in list_runs(tmp_path / "runs-b") if r.status == "completed"]
    assert len(done_a) == 1 and len(done_b) == 3  # both workers trained; 4 completed runs in all
    for info in done_a + done_b:
        sweep = open_run(info.path).config["sweep"]
        assert sweep["id"] == "grid22" and "s3cret" not in sweep["storage"] and sweep["trial"] in {
            t.number for t in complete}
    shown = subprocess.run([sys.executable, "-m", "explorer", "sweep", "show", "grid22", "--storage", pg_url],
                           cwd=ROOT, env=worker_env(), capture_output=True, text=True, timeout=120)
    assert "grid: 4 of 4 done, 0 running, 0 waiting, 1 failed (1 retried)" in shown.stdout, shown.stderr
    assert f"(retry of {failed.number})" in shown.stdout


def test_a_shared_search_is_seeded_tpe_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'study.db'}"
    args = ["sweep", *TINY, "--epochs", "1", "--grid", "lr=0.005:0.05:5:log", "--optuna", "--trials", "2",
            "--storage", url, "--name", "search"]
    assert main(args) == 0
    assert main(["sweep", "work", "search", "--storage", url, "--runs", str(tmp_path / "runs")]) == 0
    trials = _trials(url, "search")
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE"]
    assert all(0.005 <= t.params["lr"] <= 0.05 for t in trials)
    assert main(args) == 0  # the same command on another machine joins the study (same spec)


def _refused(capsys, args: list[str], words: str) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and words in lines[0], err
    assert "Traceback" not in err


def test_bad_storages_and_studies_get_one_line(pg_url, tmp_path, capsys):
    runs = tmp_path / "runs"
    grid = ["sweep", *TINY, "--grid", "lr=0.01,0.02"]
    _refused(capsys, [*grid, "--storage", "redis://127.0.0.1/0", "--name", "x"], "unsupported storage URL")
    _refused(capsys, [*grid, "--storage", f"postgresql://explorer:x@127.0.0.1:{free_port()}/sweeps", "--name",
                      "x"], "cannot open the study storage")
    wrong = pg_url.replace(PG_PASSWORD, "wrong-password")
    _refused(capsys, [*grid, "--storage", wrong, "--name", "x"], "password authentication failed")
    assert PG_PASSWORD not in capsys.readouterr().err
    assert main([*grid, "--storage", pg_url, "--name", "kinds"]) == 0
    _refused(capsys, ["sweep", *TINY, "--grid", "lr=0.01:0.1:3", "--optuna", "--storage", pg_url, "--name", "kinds"],
             "already holds another sweep (grid")
    _refused(capsys, ["sweep", "work", "nope", "--storage", pg_url, "--runs", str(runs)], "no study 'nope'")
    import optuna

    optuna.create_study(study_name="foreign", storage=pg_url)
    _refused(capsys, ["sweep", "work", "foreign", "--storage", pg_url, "--runs", str(runs)],
             "is not an explorer sweep")
    _refused(capsys, ["sweep", "work", "kinds", "--runs", str(runs)], "add --storage URL")
    _refused(capsys, ["sweep", "work", "kinds", "--storage", pg_url, "--runs", str(runs), "--device", "cuda:7"],
             "cuda")
    assert not runs.exists() or not any(runs.iterdir())  # nothing local was made or changed
