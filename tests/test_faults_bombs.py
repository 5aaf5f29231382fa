"""Issue 11 finding 3: every config value is bounded in one place (TrainConfig.validate), applied to the CLI,
every imported config (runs import) and every config read back (Run.train_config, runs resume); zip bombs
through `runs import` are refused from the declared and from the streamed sizes."""

from __future__ import annotations

import json
import re
import struct
import zipfile
from dataclasses import fields
from pathlib import Path

import pytest

from explorer import runs
from explorer.cli import main
from explorer.config import MAX_TEXT, TrainConfig
from explorer.data.spec import MAX_BUILTIN_SIZE, DataSpec
from tests.run_fixtures import make_run

BAD_TRAIN = {  # each: a config a hostile run folder or command line could carry -> the bound it breaks
    "size 10^8": ({"data": {"name": "letters-builtin", "size": 10**8}}, "size must be"),
    "epochs 10^6": ({"epochs": 10**6}, "epochs must be"),
    "batch 10^9": ({"batch_size": 10**9}, "batch_size must be"),
    "25 stages": ({"stages": [{"epochs": 1}] * 25}, "at most 20 stages"),
    "2000 epochs over stages": ({"stages": [{"epochs": 1000}, {"epochs": 1000}]}, "at most 1000 epochs"),
    "huge head": ({"head": "mlp_dropout", "head_hidden": [65536, 65536]}, "head_hidden must be"),
    "deep head": ({"head_hidden": [8] * 100}, "at most 8"),
    "long model name": ({"model": "x" * 5000}, f"at most {MAX_TEXT}"),
    "odd device": ({"device": "cuda:999999"}, "device must be"),
    "string epochs": ({"epochs": "3"}, "epochs must be"),
    "list stages": ({"stages": "abc"}, "wrong type"),
    "train is a list": ([1, 2], "must be a JSON object"),
    "unfreeze 10^9": ({"unfreeze_last_n": 10**9}, "unfreeze_last_n must be"),
    "nan lr": ({"lr": float("nan")}, "lr must be"),
}


def test_every_field_has_bounds():
    for f in fields(TrainConfig):
        meta, kind = f.metadata, str(f.type)
        if kind in ("int", "float") or kind.startswith("tuple[int"):
            assert meta["lo"] is not None and meta["hi"] is not None, f.name
        elif kind == "str":
            assert meta["choices"] or f.name in ("model", "name", "device"), f.name  # those: MAX_TEXT / pattern
    with pytest.raises(ValueError, match="size must be"):
        DataSpec(size=MAX_BUILTIN_SIZE + 1)


@pytest.mark.parametrize("case", list(BAD_TRAIN))
def test_validate_refuses(case):
    train, match = BAD_TRAIN[case]
    with pytest.raises(ValueError, match=match):
        TrainConfig.from_dict(train).validate()


@pytest.mark.parametrize("args, match", [
    (["--size", "100000000"], "size must be"), (["--epochs", "1000000"], "epochs must be"),
    (["--batch-size", "0"], "batch_size must be"), (["--device", "tpu"], "device must be"),
])
def test_cli_refuses_before_creating_a_run(args, match, tmp_path, capsys):
    rc = main(["train", "--runs", str(tmp_path), "--model", "small_cnn", "--no-progress", *args])
    err = capsys.readouterr().err
    assert rc == 2 and match in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def _zip(path: Path, members: dict[str, bytes], level: int = 6) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _config(train: dict | list) -> bytes:
    return json.dumps({"run_id": "r", "name": "r", "tags": [], "train": train}).encode()


@pytest.mark.parametrize("case", list(BAD_TRAIN))
def test_import_refuses_bad_config(case, tmp_path):
    train, match = BAD_TRAIN[case]
    if not isinstance(train, dict):
        train = {"train": train}
    root = tmp_path / "root"
    with pytest.raises(ValueError, match="refused: config.json has an invalid training config"):
        runs.import_run(_zip(tmp_path / "c.zip", {"r/config.json": _config(train)}), root)
    assert [p.name for p in root.iterdir()] == []  # no staging folder left


@pytest.mark.parametrize("case", ["size 10^8", "25 stages", "string epochs"])
def test_read_back_config_is_checked(case, tmp_path, capsys):
    run = make_run(tmp_path)
    cfg = json.loads((run.path / "config.json").read_text())
    cfg["train"].update(BAD_TRAIN[case][0])
    (run.path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"config\.json.*(has an invalid|is not a valid) training config"):
        run.train_config()  # the one reading guard of the run store names the file and the value
    run.write_status(status="interrupted")
    before = (run.path / "status.json").read_bytes()
    assert main(["runs", "--runs", str(tmp_path), "resume", run.run_id, "--no-progress"]) == 2
    assert re.search(r"(invalid|not a valid) training config", capsys.readouterr().err)
    assert (run.path / "status.json").read_bytes() == before


def test_zip_bomb_refused_from_declared_size(tmp_path):
    bomb = _zip(tmp_path / "b.zip", {"r/config.json": _config({}), "r/history.jsonl": b"\n" * (60 << 20)}, level=9)
    assert bomb.stat().st_size < 1 << 20  # under a megabyte that asks for 60 MiB
    with pytest.raises(ValueError, match="history.jsonl would unpack to 60.0 MiB"):
        runs.import_run(bomb, tmp_path / "root")


def test_zip_bomb_refused_from_compression_ratio(tmp_path):
    bomb = _zip(tmp_path / "b.zip", {"r/config.json": _config({}), "r/history.jsonl": b" " * (6 << 20)}, level=9)
    with pytest.raises(ValueError, match="compressed .*x .*a zip bomb"):
        runs.import_run(bomb, tmp_path / "root")


def _lie_about_size(path: Path, member: str, size: int) -> None:
    """Rewrite the declared uncompressed size of `member` in its local and central headers."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        pos = data.find(sig)
        while pos >= 0:
            name_at = pos + (30 if sig == b"PK\x03\x04" else 46)
            if data[name_at:name_at + len(name)] == name:
                data[pos + off:pos + off + 4] = struct.pack("<I", size)
            pos = data.find(sig, pos + 4)
    path.write_bytes(bytes(data))


def test_zip_bomb_refused_from_streamed_size(tmp_path):
    body = b"".join(json.dumps({"epoch": i, "val_acc": i / 7}).encode() + b"\n" for i in range(200_000))
    bomb = _zip(tmp_path / "b.zip", {"r/config.json": _config({}), "r/history.jsonl": body})
    _lie_about_size(bomb, "r/history.jsonl", 1000)  # declares 1000 bytes, streams megabytes
    root = tmp_path / "root"
    with pytest.raises(ValueError, match="history.jsonl in the zip is damaged or lies about its size"):
        runs.import_run(bomb, root)
    assert [p.name for p in root.iterdir()] == []


def test_a_real_run_folder_still_imports(tmp_path):
    run = make_run(tmp_path / "a")
    zpath = runs.export_run(run, tmp_path / "r.zip")
    imported = runs.import_run(zpath, tmp_path / "b")
    assert imported.train_config() == run.train_config()
    assert imported.metrics() == run.metrics()
