"""`explorer learn RUN_OR_MODEL --input test:0 --layer NAME --unit C,Y,X [--json]`: the breakdown of a trained run's
unit and an untrained model's, the JSON with the check, and one line with exit status 2 for every bad choice
(a unit outside the map, a layer without spatial output, a run without weights, an unknown model or input);
the overview folds repeated blocks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from explorer.cli import main
from explorer.learn import follow, open_network, overview_rows, trace
from tests.run_fixtures import make_run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("learn_runs")
    ok = make_run(root, name="learn-ok")
    bare = make_run(root, name="learn-bare", weights=False)
    return root, ok, bare


def test_a_runs_unit_step_by_step_and_as_json(runs, capsys, monkeypatch):
    root, ok, _ = runs
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    assert main(["learn", ok.run_id, "--input", "test:0", "--layer", "net.features.2", "--unit", "3,10,12"]) == 0
    out = capsys.readouterr().out
    assert "layer net.features.2 (ReLU) · channel 3, row 10, column 12 of 24×28×28" in out
    assert "1. Convolution net.features.0: 5×5, stride 1, padding 2" in out and "2. BatchNorm net.features.1" in out
    assert "equal within 0.0001" in out
    assert main(["learn", str(ok.path), "--layer", "features.2", "--unit", "3,10,12", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["equal"] is True and data["trained"] is True and data["unit"] == [3, 10, 12]
    assert [s["kind"] for s in data["steps"]] == ["conv", "bn", "activation"]
    # the same number as the model's own activation, computed here without explorer.learn
    net = open_network(str(ok.path))
    x = torch.as_tensor(ok.test_images()[0], dtype=torch.float32)[None, None] / 255.0
    with torch.inference_mode():
        act = net.model.net.features[:3](net.model.adapter(x))[0, 3, 10, 12].item()
    assert data["model_value"] == pytest.approx(act, abs=1e-6)
    assert data["value"] == pytest.approx(act, abs=1e-4)


def test_the_output_layer_prints_the_softmax(runs, capsys, monkeypatch):
    root, ok, _ = runs
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    assert main(["learn", ok.run_id, "--layer", "net.head.2", "--unit", "0", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["softmax"]["sum"] == pytest.approx(1.0, abs=1e-9) and len(data["softmax"]["probabilities"]) == 26
    assert main(["learn", ok.run_id, "--layer", "net.head.2", "--unit", "0"]) == 0
    assert "Σ p = 1.000000 over 26 classes" in capsys.readouterr().out


def test_an_untrained_model_by_name_and_its_layer_list(capsys):
    assert main(["learn", "lenet5", "--input", "example:A", "--layer", "c3", "--unit", "2,4,4"]) == 0
    out = capsys.readouterr().out
    assert "LeNet-5" in out and "(untrained, seed 0)" in out and "example letter A" in out
    assert main(["learn", "lenet5", "--input", "example:A", "--list-layers"]) == 0
    assert "net.c3" in capsys.readouterr().out


@pytest.mark.parametrize("args,message", [
    (["--layer", "net.features.0", "--unit", "0,40,1"], "row 40 is outside layer net.features.0's output 24×28×28"),
    (["--layer", "net.head.2", "--unit", "0,1,1"], "has no spatial output: it outputs 26 numbers"),
    (["--layer", "net.features.0", "--unit", "a,b"], "--unit must be C,Y,X"),
    (["--input", "test:999"], "test image 999 is out of range"),
    (["--input", "example:Z"], "no example letter 'Z'"),
])
def test_bad_choices_exit_2_with_one_line(runs, capsys, monkeypatch, args, message):
    root, ok, _ = runs
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    assert main(["learn", ok.run_id, *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_run_without_weights_and_an_unknown_name(runs, capsys, monkeypatch):
    root, _, bare = runs
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    assert main(["learn", bare.run_id]) == 2
    assert "has no saved weights yet (no completed epoch)" in capsys.readouterr().err
    assert main(["learn", "resnet-19"]) == 2
    assert "neither a saved run" in capsys.readouterr().err


def test_help_imports_no_torch():
    code = "import sys; import explorer.learn.cli; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_overview_folds_repeated_blocks():
    rows = overview_rows(trace(open_network("resnet18").model, torch.zeros(1, 1, 28, 28)))
    labels = [r.label for r in rows]
    assert [lab for lab in labels if "×" in lab] == [f"net.layer{i}: BasicBlock × 2" for i in (1, 2, 3, 4)]
    assert labels[:2] == ["input (after the letters adapter)", "net.conv1"] and labels[-1] == "net.fc"
    layer1 = rows[labels.index("net.layer1: BasicBlock × 2")]
    assert [c.name for c in layer1.children] == ["net.layer1.0", "net.layer1.1"] and layer1.layer == "net.layer1.1"
    dense = overview_rows(trace(open_network("densenet121").model, torch.zeros(1, 1, 28, 28)))
    assert len(dense) <= 16 and sum(r.count for r in dense) >= 121  # 121 layers readable in a few rows
    block = next(r for r in dense if r.name == "net.features.denseblock3")
    assert block.label == "net.features.denseblock3: _DenseLayer × 24" and len(block.children) == 24
    mobile = overview_rows(trace(open_network("mobilenet_v2").model, torch.zeros(1, 1, 28, 28)))
    assert any(r.label == "net.features.1 … net.features.17: InvertedResidual × 17" for r in mobile)


def test_follow_is_the_same_for_every_row_of_the_overview():
    tr = trace(open_network("small_cnn").model, torch.zeros(1, 1, 28, 28))
    for row in overview_rows(tr):
        lay = tr.layers[row.layer]
        unit = (0, 0, 0) if lay.spatial else (0,)
        assert follow(tr, row.layer, unit).ok
