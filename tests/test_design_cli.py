"""`explorer design ...`: new from a starter, check prints the formula per layer, list, export/import, delete,
and clear one-line refusals (exit 2) for a bad name or file."""

from __future__ import annotations

import json

from explorer.cli import main


def test_design_commands_end_to_end(tmp_path, capsys):
    assert main(["design", "new", "course", "--from", "course-cnn"]) == 0
    assert main(["design", "check", "course", "--classes", "10"]) == 0
    out = capsys.readouterr().out
    assert "W_out = (28 − 5 + 2(2))/1 + 1 = 28" in out and "W_out = (14 − 2)/2 + 1 = 7" in out
    assert "7×7×32" in out and "total: 29,034 parameters" in out
    assert main(["design", "new", "blank"]) == 0
    assert main(["design", "check", "blank"]) == 1
    assert "not built: the classifier" in capsys.readouterr().out
    assert main(["design", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["name"], d["ok"]) for d in listed["designs"]] == [("blank", False), ("course", True)]
    dest = tmp_path / "c.json"
    assert main(["design", "export", "course", str(dest)]) == 0
    assert main(["design", "delete", "course"]) == 0
    assert main(["design", "import", str(dest), "--name", "again"]) == 0
    capsys.readouterr()
    assert main(["design", "check", str(dest), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["layers"]
    assert [r["output"] for r in rows if r["kind"] in ("conv", "maxpool")] == ["28×28×16", "14×14×16", "14×14×32",
                                                                                 "7×7×32"]
    assert main(["design", "show", "again"]) == 0
    assert json.loads(capsys.readouterr().out)["name"] == "again"


def test_design_refusals_are_one_line(tmp_path, capsys):
    assert main(["design", "new", "../x"]) == 2
    assert "not a plain name" in capsys.readouterr().err
    bad = tmp_path / "evil.json"
    bad.write_text(json.dumps({"name": "evil", "layers": [{"type": "eval", "code": "import os"}]}))
    assert main(["design", "import", str(bad)]) == 2
    assert "layer 1: unknown layer type 'eval'" in capsys.readouterr().err
    assert main(["design", "check", "nope"]) == 2
