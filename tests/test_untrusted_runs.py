"""Issue 20: an imported run is untrusted display data. Import (function and CLI) refuses script,
markdown and formula strings with a clear message, leaves no file behind, makes the data root local
and keeps a future date from becoming the default; CSV and Markdown exports are inert."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from explorer.compare import build_comparison, load_run_data, to_csv, to_markdown
from explorer.runs import export_run_bytes, import_run, list_runs, open_run, runs_root
from explorer.untrusted import csv_cell, md_escape, parse_created, plain_text_problem
from tests.hostile import BEACON, FORMULA, IMG_TAG, LINK, SCRIPT, zip_of_run
from tests.run_fixtures import make_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def source(tmp_path: Path):
    """A small completed run in a separate runs root (the sender's machine)."""
    return make_run(tmp_path / "sender", name="shared", classes=list("ABC"))


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temp folder of this test (and of its subprocesses): an empty folder of its own."""
    d = tmp_path / "system-tmp"
    d.mkdir()
    monkeypatch.setenv("TMPDIR", str(d))
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


def _temp_listing() -> set[str]:
    return set(os.listdir(tempfile.gettempdir()))


@pytest.mark.parametrize("field,value", [
    ("classes", ["A", SCRIPT, "C"]), ("classes", ["A", BEACON, "C"]), ("name", BEACON), ("name", LINK),
    ("name", SCRIPT), ("train.name", FORMULA), ("tags", [IMG_TAG]), ("classes", ["A", "=1+1", "C"]),
])
def test_import_refuses_hostile_display_strings(source, field, value):
    cfg = source.config
    if field == "train.name":
        cfg["train"]["name"] = value
    else:
        cfg[field] = value
    payload = zip_of_run(source.path, config=cfg)
    before_tmp, before_root = _temp_listing(), set(os.listdir(runs_root()) if runs_root().is_dir() else [])
    with pytest.raises(ValueError, match="must be short plain text") as err:
        import_run(payload)
    assert field.split(".")[-1] in str(err.value) or "class" in str(err.value) or "tag" in str(err.value)
    assert _temp_listing() == before_tmp  # nothing left in the system temp folder
    assert set(os.listdir(runs_root())) == before_root  # no staging folder left in the runs root
    assert list_runs() == []


def test_cli_import_refuses_with_a_clear_message_and_no_traceback(source, tmp_path):
    cfg = source.config
    cfg["classes"] = ["A", SCRIPT, "C"]
    zpath = tmp_path / "hostile.zip"
    zpath.write_bytes(zip_of_run(source.path, config=cfg))
    before = _temp_listing()
    proc = subprocess.run([sys.executable, "-m", "explorer", "runs", "import", str(zpath)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env={**os.environ})
    assert proc.returncode == 2, proc.stderr
    assert "must be short plain text" in proc.stderr and "class 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _temp_listing() == before
    assert not any(p.name != ".gitkeep" for p in runs_root().iterdir())


def test_import_makes_data_root_local_and_clamps_future_dates(source, tmp_path):
    older = make_run(name="local-older", classes=list("ABC"))
    foreign = tmp_path / "elsewhere" / "data"
    cfg = source.config
    cfg["train"]["data"]["root"] = str(foreign)
    cfg["created"] = "2999-01-01 00:00:00"
    status = {**source.raw_status, "status": "failed", "error": f"{BEACON} {IMG_TAG}", "notes": [LINK]}
    before = _temp_listing()
    run = import_run(zip_of_run(source.path, config=cfg, status=status))
    assert _temp_listing() == before
    assert run.config["train"]["data"]["root"] is None  # the local data root
    assert run.config["created"] <= parse_created(open_run(older.path).config["created"]) or \
        run.config["created"] < "2999"
    run.test_images()  # rebuilding its data uses the local root: nothing is created elsewhere
    assert not (tmp_path / "elsewhere").exists()


def test_future_created_on_disk_is_not_newest(source):
    a = make_run(name="a", classes=list("ABC"))
    b = make_run(name="b", classes=list("ABC"))
    open_run(b.path).update_config(created="2999-01-01 00:00:00")
    infos = list_runs()
    assert [i.run_id for i in infos][0] == a.run_id  # the future-dated run sorts last
    assert next(i for i in infos if i.run_id == b.run_id).created == ""
    assert parse_created("not a date") == "" and parse_created("2020-01-02 03:04:05") == "2020-01-02 03:04:05"


def test_export_in_memory_round_trips_without_files(source):
    before = _temp_listing()
    name, payload = export_run_bytes(source.path)
    assert name == f"{source.run_id}.zip" and zipfile.is_zipfile(io.BytesIO(payload))
    assert _temp_listing() == before
    assert import_run(payload).config["name"] == "shared"


def test_train_name_is_the_cleaned_name():
    run = make_run(name=FORMULA)
    cfg = run.config
    assert cfg["train"]["name"] == cfg["name"]
    assert plain_text_problem(cfg["name"], 80) is None


def test_comparison_csv_cells_are_inert_and_markdown_has_no_html():
    a = make_run(name="a", classes=list("ABC"))
    b = make_run(name="b", classes=list("ABC"), lr=0.01)
    for run, label in ((a, FORMULA), (b, "-2+3")):  # as a run already on disk (not imported) could be
        cfg = run.config
        cfg["name"] = label
        cfg["train"]["name"] = label
        cfg["classes"] = ["@SUM(A1)", IMG_TAG, "+1"]
        open_run(run.path).update_config(**cfg)
    comp = build_comparison([load_run_data(a.path), load_run_data(b.path)])
    cells = [c for row in csv.reader(io.StringIO(to_csv(comp))) for c in row]
    assert cells, "empty CSV"
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    md = to_markdown(comp)
    assert not re.search(r"(?<!\\)<img", md) and "\\<img" in md
    assert not re.search(r"(?<!\\)\]\(", md)  # no link or image
    assert csv_cell("=1") == "'=1" and csv_cell(3.5) == 3.5 and csv_cell("plain") == "plain"


def test_md_escape_renders_text_only():
    assert md_escape(BEACON) == "\\!\\[x\\](http\\:\u2060//beacon.invalid/track.png)"  # a word joiner: no autolink
    for text in ("see https://x.invalid/a", "www.x.invalid", "me@x.invalid", "HTTP://X.INVALID"):
        shown = md_escape(text).replace("\\", "")  # what the reader sees, less the invisible word joiner
        assert shown.replace("\u2060", "") == text
        assert not re.search(r"(?i)https?://|www\.|\w@\w", shown), shown  # nothing GFM would make a link of
    assert "<" not in md_escape(SCRIPT).replace("\\<", "")
    assert md_escape("L 93.1%") == "L 93.1%" and md_escape("small_cnn") == "small_cnn"
    assert md_escape("line\nbreak") == "line break"
    assert json.loads(json.dumps(md_escape(None))) == ""
