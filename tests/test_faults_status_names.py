"""Spoofed or stale status (a heartbeat in the future, pid -1, fields of the wrong type), damaged command
arguments (--runs a file, --config or --out a folder, --scale out of bounds, a zip with a bad CRC) and
names and tags of any script (`Ünïcødé 名前`; `runs tag --remove ../x` removes the tag stored as x)."""

from __future__ import annotations

import json
import os
import socket
import time
import zipfile
from pathlib import Path

import pytest

from explorer.cli import main
from explorer.io import safe_name
from explorer.runs import delete_run, effective_status, export_run, list_runs, open_run, rename_run, tag_run
from explorer.train.jobs import JobManager
from tests.run_fixtures import make_run

HOST = socket.gethostname()


def spoof(run, **fields) -> None:
    """Overwrite status.json with `fields` (as a hostile or crashed writer would leave it)."""
    (run.path / "status.json").write_text(json.dumps({"status": "running", "error": None, **fields}))


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    """The CLI in this process: (exit status, stdout, stderr)."""
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.mark.parametrize("fields", [
    {"pid": os.getpid(), "host": HOST, "heartbeat": time.time() + 10 * 365 * 86400},  # live pid, future beat
    {"pid": -1, "host": HOST, "heartbeat": time.time()},
    {"pid": None, "heartbeat": time.time() + 3600},
    {"pid": "123", "host": HOST, "heartbeat": time.time()},
    {"pid": 2**40, "host": HOST, "heartbeat": time.time()},
], ids=["future-heartbeat", "pid-minus-1", "no-pid-future", "pid-text", "pid-huge"])
def test_spoofed_running_status_is_interrupted_and_manageable(fields, tmp_path, capsys):
    """Such a run shows interrupted, `runs stop` marks it stopped, and it can be deleted."""
    run = make_run(tmp_path, name="spoofed")
    spoof(run, **fields)
    assert effective_status(run.raw_status) == "interrupted"
    assert open_run(run.path).status["status"] == "interrupted"
    rc, out, _ = cli(capsys, "runs", "--runs", str(tmp_path), "stop", run.run_id)
    assert rc == 0 and "no live worker" in out and "stopped" in out
    status = json.loads((run.path / "status.json").read_text())
    assert status["status"] == "stopped" and status["pid"] is None
    assert not run.stop_requested
    delete_run(run.run_id, tmp_path, confirm=True)
    assert not run.path.exists()


def test_live_worker_gets_a_stop_request_and_finished_run_is_left(tmp_path):
    """A running status with this live process gets the STOP file; a completed run keeps its status."""
    live, done = make_run(tmp_path, name="live"), make_run(tmp_path, name="done", seed=1)
    spoof(live, pid=os.getpid(), host=HOST, heartbeat=time.time())
    JobManager().stop(live.run_id, tmp_path)
    JobManager().stop(done.run_id, tmp_path)
    assert live.stop_requested and live.raw_status["status"] == "running"
    assert done.raw_status["status"] == "completed" and not done.stop_requested


@pytest.mark.parametrize("text", ["[]", "{\"status\": \"bogus\"}", "{\"status\": \"running\", \"epoch\": \"x\"}",
                                  "not json", ""])
def test_invalid_status_is_listed_unreadable_but_delete_and_resume_checks_work(text, tmp_path):
    """An invalid status.json: the listing names the file and the reason; the run reads as interrupted."""
    run = make_run(tmp_path, name="bad-status")
    (run.path / "status.json").write_text(text)
    info = next(i for i in list_runs(tmp_path) if i.run_id == run.run_id)
    assert info.status == "unreadable" and str(run.path / "status.json") in info.error
    assert run.status["status"] == "interrupted" and "status.json" in run.status["error"]
    delete_run(run.run_id, tmp_path, confirm=True)
    assert list_runs(tmp_path) == []


def test_bad_arguments_are_one_line_exit_2(tmp_path, capsys):
    """--runs a file, --config a folder, explain --out a folder, --scale 0/-3/5000: one line, exit 2."""
    run = make_run(tmp_path / "runs", name="args")
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = [
        (["runs", "--runs", str(a_file), "list"], "is a file, not a folder"),
        (["train", "--runs", str(a_file), "--epochs", "1", "--size", "20", "--no-progress"], "is a file, not a folder"),
        (["train", "--config", str(tmp_path), "--runs", str(tmp_path / "runs")], "is a folder"),
        (["explain", str(run.path), "test:0", "--out", str(tmp_path)], "is a folder"),
    ] + [(["explain", str(run.path), "test:0", "--out", str(tmp_path / "x.png"), "--scale", s], "--scale must be")
         for s in ("0", "-3", "5000")]
    for argv, words in cases:
        rc, _, err = cli(capsys, *argv)
        assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1 and words in err, (argv, err)
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [run.run_id]  # nothing created


def test_zip_with_bad_crc_is_refused(tmp_path, capsys):
    """A zip whose member fails its CRC: one line naming the zip and the member, nothing imported."""
    run = make_run(tmp_path / "a", name="crc")
    z = export_run(run, tmp_path / "run.zip")
    data = bytearray(z.read_bytes())
    with zipfile.ZipFile(z) as zf:
        info = zf.getinfo(f"{run.run_id}/history.jsonl")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + 5] ^= 0xFF  # flip bits inside the compressed history
    z.write_bytes(bytes(data))
    rc, _, err = cli(capsys, "runs", "--runs", str(tmp_path / "b"), "import", str(z))
    assert rc == 2 and "damaged" in err and "history.jsonl" in err and err.count("\n") == 1, err
    assert not any(p.name.startswith(".import-") or (p / "config.json").exists()
                   for p in (tmp_path / "b").iterdir())


@pytest.mark.parametrize(("given", "stored"), [
    ("Ünïcødé 名前", "Ünïcødé-名前"), ("../x", "x"), ("a/b\\c", "a-b-c"), ("tab\there\x00", "tab-here"),
    ("..", "run"), ("Ελληνικά_ок-1.2", "Ελληνικά_ок-1.2"), ("e\u0301", "\u00e9"),
])
def test_safe_name_keeps_any_script(given, stored):
    """Letters of any script stay (NFC); separators and control characters are refused."""
    assert safe_name(given) == stored


def test_unicode_names_tags_and_tag_remove_cleaned_like_add(tmp_path, capsys):
    """A Unicode run name and tag stay readable; `--remove ../x` removes the tag stored as x."""
    run = make_run(tmp_path, name="Ünïcødé 名前")
    assert run.config["name"] == "Ünïcødé-名前" and "Ünïcødé-名前" in run.run_id
    rename_run(run.run_id, "Nom été 2", tmp_path)
    tag_run(run.run_id, add=["../x", "日本語 タグ"], root=tmp_path)
    assert open_run(run.path).config["tags"] == ["x", "日本語-タグ"]
    assert open_run(run.path).config["name"] == "Nom-été-2"
    rc, out, _ = cli(capsys, "runs", "--runs", str(tmp_path), "tag", run.run_id, "--remove", "../x")
    assert rc == 0 and open_run(run.path).config["tags"] == ["日本語-タグ"]
    rc, out, _ = cli(capsys, "runs", "--runs", str(tmp_path), "list")
    assert rc == 0 and run.run_id in out
    assert Path(export_run(run, tmp_path / "u.zip")).is_file()


def _pages(run, fields):
    """Spoof the run's status; Home and Train in AppTest (no exception; Home says no job runs)."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import page_path

    spoof(run, **fields)
    home = AppTest.from_file(page_path("home"), default_timeout=120).run()
    assert not home.exception, home.exception
    assert next(m for m in home.metric if m.label == "Job running").value == "none"
    train = AppTest.from_file(page_path("train"), default_timeout=180).run()
    assert not train.exception, train.exception
    assert not any("busy" in w.value or "One job per device" in w.value for w in train.warning)
    return train


def test_pages_show_a_run_with_a_future_heartbeat_as_interrupted_and_resumable():
    """A live pid with a heartbeat ten years ahead: Train offers Resume for it (not Stop), Start is free."""
    run = make_run(name="spoofed")  # in the test's EXPLORER_RUNS, as the pages read it
    train = _pages(run, {"pid": os.getpid(), "host": HOST, "heartbeat": time.time() + 10 * 365 * 86400})
    keys = {b.key for b in train.button}
    assert f"resume_{run.run_id}" in keys and f"stop_{run.run_id}" not in keys


def test_pages_list_a_run_with_pid_minus_1_and_delete_it():
    """pid -1 is not a valid status: the run is listed (unreadable, with the reason) and deleted from the page."""
    run = make_run(name="spoofed")
    train = _pages(run, {"pid": -1, "host": HOST, "heartbeat": time.time()})
    assert len(train.selectbox(key="manage_run").options) == 1  # listed (by date: its status cannot be read)
    train.selectbox(key="manage_run").set_value(run.run_id).run()
    train.checkbox(key=f"manage_sure_{run.run_id}").check().run()
    next(b for b in train.button if b.label == "Delete").click().run()
    assert not train.exception, train.exception
    assert not run.path.exists()
