"""Issue 29: faults on the newer surfaces. Delete only runs of the store (1), every output flag guarded like
`runs export` (2), device lock files that follow no link and truncate nothing (3), one lock per device per
machine (4), liveness = a live pid of this program with a recent heartbeat (5), damaged sweep and queue files
(6, 7), the smaller ones (10), MLflow pushes (8) and the server's Host check (9). Real files, real processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import torch

from explorer import locks
from explorer.cli import main
from explorer.io import pid_alive, process_start
from explorer.runs import delete_run, list_runs, open_run
from explorer.sweep.queue import create_sweep
from explorer.sweep.runner import orphaned
from tests.fault_helpers import TINY, explorer_proc, wait_for
from tests.run_fixtures import make_run

HOST = socket.gethostname()

# ---- 1: `runs delete` deletes only runs of the store -------------------------------------------------------


def test_delete_refuses_what_is_not_a_run_of_the_store(tmp_path, capsys):
    root = tmp_path / "runs"
    run = make_run(root, name="keep")
    project = tmp_path / "project"  # a user's project: a config.json and sources, outside the runs root
    (project / "src").mkdir(parents=True)
    (project / "config.json").write_text("{}")
    (project / "src" / "main.py").write_text("print('precious')\n")
    inside = root / "project2"  # under the root, but it holds what a run never holds
    (inside / "src").mkdir(parents=True)
    (inside / "config.json").write_text(json.dumps({"run_id": "project2"}))
    (inside / "status.json").write_text(json.dumps({"status": "completed"}))
    for target, why in ((project, "is not a run of the runs folder"), (inside, "which a run folder never holds")):
        assert main(["runs", "--runs", str(root), "delete", str(target), "--yes"]) == 2
        err = capsys.readouterr().err
        assert why in err and "Traceback" not in err, err
        assert (target / "src").is_dir() and (target / "config.json").is_file()
    link = root / "alias"
    link.symlink_to(run.path)
    assert main(["runs", "--runs", str(root), "delete", str(link), "--yes"]) == 2
    assert "is a link" in capsys.readouterr().err and run.path.is_dir()
    assert main(["runs", "--runs", str(root), "delete", str(run.path), "--yes"]) == 0  # a real run, by its folder
    assert not run.path.exists() and [i.run_id for i in list_runs(root)] == ["project2"]


# ---- 2: every output flag is checked like `runs export` ----------------------------------------------------


def test_output_flags_never_write_over_run_files(tmp_path, capsys):
    root = tmp_path / "runs"
    a, b = make_run(root, name="a"), make_run(root, name="b", seed=1)
    before = {p.name: p.read_bytes() for p in b.path.iterdir() if p.is_file()}
    cases = [
        ["trust", str(a.path), "--images", "2", "--sanity-images", "1", "--out", str(b.path / "config.json")],
        ["disagree", str(a.path), str(a.path), "--out", str(b.path / "status.json")],
        ["explain", str(a.path), "test:0", "--out", str(b.path / "weights_best.safetensors")],
        ["robustness", str(a.path), "--out", str(b.path / "history.jsonl")],
        ["embed", str(a.path), "--out", str(b.path / "cache" / "map.png")],
        ["inside", str(a.path), "--layer", "net.features.0", "--out", str(b.path)],
        ["export", str(a.path), "--out", str(b.path / "onnx")],
        ["label-issues", "letters-builtin", "--out", str(b.path / "metrics.json")],
        ["evaluate", str(a.path), "--out", str(b.path)],
    ]
    for args in cases:
        assert main([*args, "--force"]) == 2, args
        err = capsys.readouterr().err
        assert "inside the run folder" in err and "Traceback" not in err, (args, err)
    assert {p.name: p.read_bytes() for p in b.path.iterdir() if p.is_file()} == before
    assert not (b.path / "onnx").exists()
    # an existing file is replaced only with --force
    out = tmp_path / "pairs.csv"
    out.write_text("keep me")
    assert main(["disagree", str(a.path), str(b.path), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err and out.read_text() == "keep me"
    assert main(["disagree", str(a.path), str(b.path), "--out", str(out), "--force"]) == 0
    assert out.read_text().startswith("index,true")
    # evaluate's own folder inside the run is its output, rewritten by every evaluate
    assert main(["evaluate", str(a.path), "--no-figures"]) == 0
    assert main(["evaluate", str(a.path), "--no-figures"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("flag", ["--out"])
def test_folder_outputs_keep_an_earlier_export(tmp_path, capsys, flag):
    run = make_run(tmp_path / "runs", name="x")
    out = tmp_path / "onnx"
    out.mkdir()
    (out / "model.onnx").write_bytes(b"earlier export")
    assert main(["export", str(run.path), flag, str(out)]) == 2
    assert "already holds model.onnx" in capsys.readouterr().err
    assert (out / "model.onnx").read_bytes() == b"earlier export"
    Path(tmp_path / "afile").write_text("x")
    assert main(["inside", str(run.path), "--layer", "net.features.0", flag, str(tmp_path / "afile")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


# ---- 3: lock files follow no link and truncate nothing that is not theirs -----------------------------------


def test_a_link_or_hard_link_at_the_lock_file_is_refused_and_the_target_kept(tmp_path, capsys):
    victim = tmp_path / "precious.txt"
    victim.write_text("do not touch")
    lock = locks.lock_path("cpu")
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.symlink_to(victim)
    with pytest.raises(locks.LockFileError, match="is a link"):
        locks.acquire("cpu")
    assert main(["train", "--runs", str(tmp_path / "runs"), *TINY, "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "lock file" in err and "Traceback" not in err and victim.read_text() == "do not touch"
    assert not locks.is_busy("cpu")
    lock.unlink()
    os.link(victim, lock)  # a hard link: the same inode under two names, not the lock's own file
    with pytest.raises(locks.LockFileError, match="not a plain file of this user"):
        locks.acquire("cpu").describe(run_id="x")
    assert victim.read_text() == "do not touch"


# ---- 4: one lock per device per machine; a run's own lock on its resolved folder -----------------------------


def test_one_device_lock_whatever_the_runs_root_and_one_trainer_per_run(tmp_path, capsys):
    held = locks.acquire("cpu")  # a job training from another runs root (./runs of another folder)
    held.describe(run_id="elsewhere", path=str(tmp_path / "other" / "elsewhere"))
    try:
        assert main(["train", "--runs", str(tmp_path / "runs_b"), *TINY, "--epochs", "1"]) == 2
        assert "device cpu is busy: run elsewhere" in capsys.readouterr().err
        assert not (tmp_path / "runs_b").exists() or list_runs(tmp_path / "runs_b") == []
    finally:
        held.release()
    run = make_run(tmp_path / "runs", name="one", epochs=1)
    alias = tmp_path / "alias"
    alias.symlink_to(run.path, target_is_directory=True)
    trainer = locks.acquire_run(alias)  # a trainer that reached the run through the link
    try:
        assert locks.run_lock_path(alias) == locks.run_lock_path(run.path)
        assert main(["runs", "--runs", str(tmp_path / "runs"), "resume", str(run.path), "--no-progress"]) == 2
        assert "already being trained by another process" in capsys.readouterr().err
    finally:
        trainer.release()


# ---- 5: live = a live pid of the process that wrote it AND a recent heartbeat --------------------------------


def _spoof_running(run, **fields) -> None:
    (run.path / "status.json").write_text(json.dumps({"status": "running", "error": None, "host": HOST, **fields}))


def test_a_reused_pid_or_an_old_heartbeat_is_not_a_live_run(tmp_path, capsys):
    root = tmp_path / "runs"
    other = subprocess.Popen(["sleep", "60"])  # a live process that is not this program
    try:
        cases = {"pid-1-7-days": {"pid": 1, "heartbeat": time.time() - 7 * 86400},
                 "live-pid-old-beat": {"pid": os.getpid(), "heartbeat": time.time() - 3 * 3600},
                 "not-this-program": {"pid": other.pid, "heartbeat": time.time()},
                 "reused-pid": {"pid": os.getpid(), "pid_start": (process_start(os.getpid()) or 0) + 1,
                                "heartbeat": time.time()}}
        runs = {}
        for name, fields in cases.items():
            runs[name] = make_run(root, name=name, seed=len(runs))
            _spoof_running(runs[name], **fields)
        assert {i.name: i.status for i in list_runs(root)} == dict.fromkeys(cases, "interrupted")
        for name, run in runs.items():
            assert main(["runs", "--runs", str(root), "stop", run.run_id]) == 0
            assert "no live worker" in capsys.readouterr().out, name
            assert json.loads((run.path / "status.json").read_text())["status"] == "stopped" and not run.stop_requested
        delete_run(runs["pid-1-7-days"].run_id, root, confirm=True)
        live = make_run(root, name="live", seed=9)  # the process that wrote it, beating now: running
        _spoof_running(live, pid=os.getpid(), pid_start=process_start(os.getpid()), heartbeat=time.time())
        assert open_run(live.path).status["status"] == "running"
        with pytest.raises(ValueError, match="still running"):
            delete_run(live.run_id, root, confirm=True)
    finally:
        other.kill()
        other.wait(30)


def test_a_sweep_whose_driver_pid_is_30_days_old_can_be_run(tmp_path):
    sweep = create_sweep({"mode": "grid", "base": {"model": "small_cnn"}}, [{"lr": 0.01}], tmp_path / "runs", "old")
    old = time.time() - 30 * 86400
    sweep.update(lambda q: q.__setitem__("driver", {"pid": 1, "host": HOST, "since": old}))
    (sweep.path / "driver.beat").touch()
    os.utime(sweep.path / "driver.beat", (old, old))
    assert not sweep.driver_alive() and sweep.state() == "waiting" and orphaned(sweep)
    sweep.claim()  # not "already being run by process 1"
    assert sweep.read()["driver"]["pid"] == os.getpid() and sweep.driver_alive() and sweep.state() == "running"
    sweep.release()


# ---- 6: a damaged sweep.json is listed as unreadable; the rest works ----------------------------------------

BAD_SPECS = {"list": "[1, 2]", "truncated": '{"mode": "grid", "base": {"mod', "trials": '{"mode": "optuna", "trials": "many"}'}


def _grid(root: Path, name: str, points: list[dict] | None = None):
    return create_sweep({"mode": "grid", "base": {"model": "small_cnn", "epochs": 1}, "size": 1},
                        points or [{"lr": 0.01}], root, name)


def test_damaged_sweep_files_are_named_and_the_rest_works(tmp_path, capsys):
    root = Path(os.environ["EXPLORER_RUNS"])
    good = _grid(root, "good")
    bad = {}
    for name, text in BAD_SPECS.items():
        bad[name] = _grid(root, name)
        (bad[name].path / "sweep.json").write_text(text)
    assert main(["sweep", "list", "--runs", str(root)]) == 0
    out = capsys.readouterr().out
    assert good.sweep_id in out and out.count("unreadable: ") == 3 and out.count("sweep.json: ") == 3
    assert '"trials" must be a whole number' in out and "not valid JSON" in out and "JSON object" in out
    assert main(["sweep", "show", good.sweep_id, "--runs", str(root)]) == 0
    assert main(["sweep", "show", bad["trials"].sweep_id, "--runs", str(root)]) == 2
    err = capsys.readouterr().err
    assert "sweep.json" in err and "Traceback" not in err
    from streamlit.testing.v1 import AppTest

    from tests.conftest import page_path

    at = AppTest.from_file(page_path("train"), default_timeout=300).run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.warning if "is unreadable" in w.value]
    assert len(warnings) == 3 and all("sweep.json" in w for w in warnings)
    labels = [e.label for e in at.expander]  # the sections below the sweeps are there
    assert any(x.startswith("Manage runs") for x in labels) and any(x.startswith("System check") for x in labels)


# ---- 7: queue.json is validated on read; a file that failed to parse is never rewritten -----------------------


def test_a_truncated_queue_is_never_rewritten_and_bad_items_fail_with_a_reason(tmp_path, capsys):
    root = Path(os.environ["EXPLORER_RUNS"])
    sweep = _grid(root, "q", [{"lr": 0.01}, {"lr": 0.02}, {"lr": 0.03}, {"lr": 0.04}])
    full = (sweep.path / "queue.json").read_bytes()
    (sweep.path / "queue.json").write_bytes(full[: len(full) // 2])
    truncated = (sweep.path / "queue.json").read_bytes()
    assert sweep.state() == "unreadable" and "queue.json" in (sweep.problem() or "")
    for action in ("show", "pause", "resume", "cancel", "run"):
        assert main(["sweep", action, sweep.sweep_id, "--runs", str(root)]) == 2, action
        err = capsys.readouterr().err
        assert "queue.json: not valid JSON" in err and "Traceback" not in err, (action, err)
        assert (sweep.path / "queue.json").read_bytes() == truncated, action
    items = [{"index": "x", "point": {"lr": 0.01}, "state": "pending"},
             {"index": 1, "point": {"lr": [1]}, "state": "pending"},
             {"index": 2, "point": {"lr": "fast"}, "state": "pending", "run_id": None},
             {"index": 3, "point": {"lr": 0.03}, "state": "completed", "run_id": "r3"}, 7]
    (sweep.path / "queue.json").write_text(json.dumps({"items": items, "paused": False, "cancelled": False}))
    states = {i["index"]: (i["state"], i.get("error") or "") for i in sweep.items()}
    assert states[1][0] == "failed" and "must be a number" in states[1][1]
    assert sum("index" in e for s, e in states.values() if s == "failed") == 1 and len(states) == 5
    assert main(["sweep", "run", sweep.sweep_id, "--runs", str(root)]) == 1  # goes on: item 2 fails, then done
    out = capsys.readouterr()
    assert "Traceback" not in out.err and "[2] failed" in out.out and "sweep done" in out.out
    assert sweep.state() == "done" and sweep.counts()["completed"] == 1


# ---- 10: the smaller ones --------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["foo", "cuda"])
def test_bad_devices_are_one_line_in_inside_embed_and_robustness(device, tmp_path, capsys):
    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a GPU: 'cuda' is a valid device here")
    run = make_run(tmp_path / "runs", name="d")
    for args in (["inside", str(run.path), "--layer", "net.features.0", "--out", str(tmp_path / "ch")],
                 ["embed", str(run.path), "--out", str(tmp_path / "m.png")],
                 ["robustness", str(run.path), "--out", str(tmp_path / "c.csv")]):
        assert main([*args, "--device", device]) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert ("unknown device 'foo'" if device == "foo" else "there is no GPU here") in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the run can resume here")
def test_resuming_an_imported_cuda_run_on_a_cpu_machine_is_refused_in_the_panel():
    from streamlit.testing.v1 import AppTest

    from tests.conftest import page_path

    run = make_run(Path(os.environ["EXPLORER_RUNS"]), name="from-a-gpu")
    cfg = json.loads((run.path / "config.json").read_text())
    cfg["train"]["device"] = "cuda"
    (run.path / "config.json").write_text(json.dumps(cfg))
    run.write_status(status="interrupted", pid=None)
    at = AppTest.from_file(page_path("train"), default_timeout=300).run()
    assert not at.exception, at.exception
    at.button(key=f"resume_{run.run_id}").click().run()
    assert not at.exception, at.exception
    assert any("Cannot resume" in e.value and "no GPU here" in e.value for e in at.error), [e.value for e in at.error]
    assert run.raw_status["status"] == "interrupted"


def test_small_refusals_config_cap_empty_grid_sanity_images_grid_cap_and_onnx_folder(tmp_path, capsys):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 << 20))
    assert main(["train", "--runs", str(tmp_path / "runs"), "--config", str(big)]) == 2
    assert "larger than 1024 KiB" in capsys.readouterr().err
    assert main(["train", "--runs", str(tmp_path / "runs"), "--config", "/dev/zero"]) == 2  # never read whole
    assert "larger than" in capsys.readouterr().err
    assert main(["sweep", "--runs", str(tmp_path / "runs"), "--model", "small_cnn", "--grid", "lr=,"]) == 2
    assert "lr=,: no values" in capsys.readouterr().err and not (tmp_path / "runs" / ".sweeps").exists()
    t0 = time.monotonic()
    assert main(["sweep", "--runs", str(tmp_path / "runs"), "--model", "small_cnn", "--grid", "lr=0.001:0.1:1000",
                 "--grid", "momentum=0.1:0.9:100", "--yes"]) == 2
    assert "at most 10,000 in one sweep" in capsys.readouterr().err and time.monotonic() - t0 < 10
    run = make_run(tmp_path / "runs", name="t")
    assert main(["trust", str(run.path), "--images", "2", "--sanity-images", "0"]) == 2
    assert "--sanity-images must be 1 or more" in capsys.readouterr().err
    assert main(["export", str(run.path), "--out", "/proc/self/onnx-out"]) == 2
    err = capsys.readouterr().err
    assert "cannot write into /proc/self/onnx-out" in err and "ONNX translation" not in err


def test_a_100000_row_history_is_drawn_with_a_bounded_number_of_points(tmp_path):
    from explorer.charts.curves import MAX_DRAWN_EPOCHS, history_frame

    rows = [{"epoch": e, "stage": int(e > 50_000), "train_loss": 1 / e, "val_loss": 1 / e, "train_acc": 0.5,
             "val_acc": 0.5, "lr": 0.01, "epoch_time": 0.1} for e in range(1, 100_001)]
    t0 = time.monotonic()
    frame = history_frame(rows)
    assert time.monotonic() - t0 < 10
    epochs = sorted(set(frame["epoch"]))
    assert len(epochs) <= MAX_DRAWN_EPOCHS and epochs[0] == 1 and epochs[-1] == 100_000 and 50_001 in epochs


# ---- 8: MLflow pushes: bounded, one line per failure, one MLflow run per explorer run --------------------------


def test_mlflow_unreachable_and_unopenable_stores_are_one_line(tmp_path, capsys):
    from explorer.export.mlflow import CONNECT_TIMEOUT_S

    run = make_run(tmp_path / "runs", name="m")
    t0 = time.monotonic()
    assert main(["runs", "--runs", str(tmp_path / "runs"), "push", run.run_id, "--mlflow", "http://127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert time.monotonic() - t0 < CONNECT_TIMEOUT_S + 5
    assert err.count("\n") == 1 and "cannot reach the MLflow server http://127.0.0.1:1 within 5 s" in err
    store = tmp_path / "store"
    (store / "mlflow.db").mkdir(parents=True)  # a store that cannot be opened (as a read-only folder)
    assert main(["runs", "--runs", str(tmp_path / "runs"), "push", run.run_id, "--mlflow", str(store)]) == 2
    err = capsys.readouterr().err
    assert "cannot open the MLflow store" in err and err.count("\n") == 1, err
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "mlflow.db").write_bytes(b"not a database " * 100)  # what the store library itself fails on
    assert main(["runs", "--runs", str(tmp_path / "runs"), "push", run.run_id, "--mlflow", str(garbage)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: MLflow push of") and err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.slow
def test_two_first_pushes_at_once_make_one_mlflow_run_each(tmp_path):
    import mlflow

    from explorer.export.mlflow import RUN_ID_TAG, tracking_uri

    root, store = tmp_path / "runs", tmp_path / "mlruns"
    a, b = make_run(root, name="a"), make_run(root, name="b", seed=1)
    procs = [explorer_proc(["runs", "--runs", str(root), "push", a.run_id, "--mlflow", str(store)]),
             explorer_proc(["runs", "--runs", str(root), "push", a.run_id, b.run_id, "--mlflow", str(store)])]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    client = mlflow.tracking.MlflowClient(tracking_uri(str(store)))
    exp = client.get_experiment_by_name("cnn-explorer")
    for run in (a, b):
        found = client.search_runs([exp.experiment_id], filter_string=f"tags.`{RUN_ID_TAG}` = '{run.run_id}'")
        assert len(found) == 1, (run.run_id, outs)


# ---- 9: the server refuses a Host that is not its own (DNS rebinding) ----------------------------------------


def _status_line(url: str, host: str, path: str = "/", websocket: bool = False) -> str:
    """The first response line of a raw request to the server with a forged (or true) Host header."""
    port = int(url.rsplit(":", 1)[1])
    extra = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: streamlit\r\n") if websocket else "Connection: close\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n{extra}\r\n".encode())
        return s.recv(4096).decode("latin-1").split("\r\n")[0]


@pytest.mark.slow
def test_the_server_refuses_a_forged_host_over_http_and_websocket(tmp_path):
    from tests.browser.conftest import streamlit_server

    with streamlit_server(tmp_path / "runs", tmp_path / "data", log_name="host-check.log") as url:
        port = url.rsplit(":", 1)[1]
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
            assert " 200 " in _status_line(url, host) + " ", host
            assert " 101 " in _status_line(url, host, "/_stcore/stream", websocket=True), host
        for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", f"10.0.0.1:{port}"):
            assert " 403 " in _status_line(url, host), host
            assert " 403 " in _status_line(url, host, "/_stcore/stream", websocket=True), host
            assert " 403 " in _status_line(url, host, "/_stcore/health"), host


def test_host_rules_follow_the_address_the_server_was_started_for(monkeypatch):
    from explorer.ui.server import host_allowed

    monkeypatch.delenv("EXPLORER_ALLOWED_HOSTS", raising=False)
    assert host_allowed("LOCALHOST:8501", "localhost") and host_allowed("[::1]:8501", "127.0.0.1")
    assert not host_allowed("evil.example:8501", "localhost") and not host_allowed(None, "localhost")
    assert host_allowed("192.168.1.5:8501", "192.168.1.5") and not host_allowed("192.168.1.6:8501", "192.168.1.5")
    assert host_allowed("192.168.1.6:8501", "0.0.0.0") and not host_allowed("evil.example", "0.0.0.0")
    monkeypatch.setenv("EXPLORER_ALLOWED_HOSTS", "explorer.lab.example")
    assert host_allowed("explorer.lab.example:443", "localhost")


@pytest.mark.slow
def test_one_sweep_driver_per_device_works_every_waiting_sweep(tmp_path):
    from explorer.sweep.runner import start_driver

    root = Path(os.environ["EXPLORER_RUNS"])
    sweeps = [create_sweep({"mode": "grid", "base": {"model": "small_cnn", "device": "cpu"}, "size": 2},
                           [{"lr": "fast"}, {"lr": "slow"}], root, f"s{i}") for i in range(3)]  # points that fail at once
    pids = {start_driver(s) for s in sweeps}
    assert len(pids) == 1 and 0 not in pids  # the second and third waited in the first one's queue
    wait_for(lambda: all(s.state() == "done" for s in sweeps), 180, "the one driver to work the three sweeps")
    pid = pids.pop()
    for s in sweeps:
        assert f"(pid {pid})" in (s.path / "driver.log").read_text() and s.counts()["failed"] == 2
    wait_for(lambda: not pid_alive(pid) or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z", 60,
             "the driver to end when no sweep is left")


def test_a_100000_row_history_is_listed_unreadable_and_evaluate_still_works(tmp_path, capsys):
    root = tmp_path / "runs"
    run = make_run(root, name="long", epochs=1)
    row = json.dumps({"epoch": 1, "stage": 0, "train_loss": 1.0, "val_loss": 1.0, "train_acc": 0.5, "val_acc": 0.5})
    (run.path / "history.jsonl").write_text((row + "\n") * 100_000)
    [info] = list_runs(root)
    assert info.status == "unreadable" and "100,000 rows, more than the 1,000 epochs" in info.error
    t0 = time.monotonic()
    assert main(["evaluate", str(run.path), "--out", str(tmp_path / "ev")]) == 0  # the figures, without the curves
    assert time.monotonic() - t0 < 120 and (tmp_path / "ev" / "report.json").is_file()
    capsys.readouterr()
