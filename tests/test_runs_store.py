"""The runs store: rename, tag, delete, export/import round trip, refused zips, safe names, liveness."""

from __future__ import annotations

import io
import json
import os
import pickle
import zipfile

import pytest

from explorer import runs
from explorer.cli import main
from explorer.config import TrainConfig
from explorer.train.job import train


@pytest.fixture(scope="module")
def done_run(tmp_path_factory):
    """One completed tiny run (1 epoch on 520 images)."""
    root = tmp_path_factory.mktemp("runs")
    cfg = TrainConfig.from_dict({"model": "small_cnn", "data": {"name": "letters-builtin", "size": 20},
                                 "epochs": 1, "batch_size": 64})
    return train(cfg, root=root, name="tiny")


def test_list_show_rename_tag(done_run, capsys):
    root = done_run.path.parent
    [info] = runs.list_runs(root)
    assert (info.model, info.dataset, info.status, info.epochs_done) == ("small_cnn", "letters-builtin", "completed", 1)
    assert info.test_acc is not None
    assert main(["runs", "--runs", str(root), "list"]) == 0
    out = capsys.readouterr().out
    assert done_run.run_id in out and "completed" in out and "small_cnn" in out
    runs.rename_run(done_run.run_id, "../../etc/passwd", root)
    name = runs.open_run(done_run.run_id, root).config["name"]
    assert "/" not in name and ".." not in name
    runs.tag_run(done_run.run_id, add=["baseline", "a/b"], root=root)
    runs.tag_run(done_run.run_id, remove=["baseline"], root=root)
    assert runs.open_run(done_run.run_id, root).config["tags"] == ["a-b"]


def test_export_import_delete_round_trip(done_run, tmp_path):
    root = tmp_path / "other"
    zpath = runs.export_run(done_run, tmp_path / "x.zip")
    with zipfile.ZipFile(zpath) as zf:
        assert {n.split("/")[1] for n in zf.namelist()} >= {"config.json", "weights_best.safetensors", "predictions.npz"}
    imported = runs.import_run(zpath, root)
    assert imported.run_id == done_run.run_id
    again = runs.import_run(zpath, root)
    assert again.run_id != imported.run_id
    assert imported.metrics() == done_run.metrics()
    assert (imported.predictions().y_prob == done_run.predictions().y_prob).all()
    assert imported.load_model() is not None
    with pytest.raises(ValueError, match="confirmation"):
        runs.delete_run(imported.run_id, root)
    runs.delete_run(imported.run_id, root, confirm=True)
    assert not imported.path.exists()
    assert main(["runs", "--runs", str(root), "delete", again.run_id, "--yes"]) == 0
    assert runs.list_runs(root) == []


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/explorer-pwned",))


def test_import_refuses_traversal_and_pickles(tmp_path):
    cfg = json.dumps({"train": {}}).encode()
    bad = [
        {"r/config.json": cfg, "r/../../evil.json": b"{}"},
        {"/abs/config.json": cfg},
        {"r/config.json": cfg, "r/model.pkl": pickle.dumps({"a": 1})},
    ]
    for i, members in enumerate(bad):
        with pytest.raises(ValueError, match="refused"):
            runs.import_run(_zip(tmp_path / f"bad{i}.zip", members), tmp_path / "root")
    buf = io.BytesIO()
    pickle.dump(Evil(), buf)
    with pytest.raises(ValueError, match="refused: optimizer_last.pt"):
        runs.import_run(_zip(tmp_path / "evil.zip", {"r/config.json": cfg, "r/optimizer_last.pt": buf.getvalue()}),
                        tmp_path / "root")
    assert not os.path.exists("/tmp/explorer-pwned")
    assert runs.list_runs(tmp_path / "root") == []


def test_unsafe_names_and_liveness(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_RUNS", str(tmp_path / "envroot"))
    assert runs.runs_root() == tmp_path / "envroot"
    run = runs.create_run(TrainConfig(), name="../../x/..//y")
    assert run.path.parent == tmp_path / "envroot"
    assert ".." not in run.run_id and "/" not in run.run_id
    assert run.status["status"] == "running"  # this process is alive
    run.write_status(pid=2**22 + 12345)  # no such process
    assert run.status["status"] == "interrupted"
    assert runs.list_runs()[0].status == "interrupted"
    with pytest.raises(FileNotFoundError):
        runs.open_run("../etc")
