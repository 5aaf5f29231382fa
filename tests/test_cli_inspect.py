"""`python -m explorer models` and `python -m explorer inspect`, run as a user would."""

import json
import subprocess
import sys
from pathlib import Path

from explorer.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *args):
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_python_m_explorer_models_lists_the_registry():
    r = subprocess.run([sys.executable, "-m", "explorer", "models"], cwd=ROOT, capture_output=True, text=True,
                       timeout=180)
    assert r.returncode == 0, r.stderr
    assert "resnet18" in r.stdout and "lenet5" in r.stdout and "efficientnet_b7" in r.stdout


def test_inspect_json_fields(capsys):
    code, out, _ = run(capsys, "inspect", "lenet_keras", "--input-size", "1,28,28", "--num-classes", "10", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["params"] == data["trainable_params"] == 44426
    assert data["flops"] == 2 * data["macs"]
    assert {"name", "type", "output_shape", "params", "macs"} <= set(data["layers"][0])
    assert data["layers"][0]["output_shape"] == [1, 6, 24, 24]


def test_inspect_table_and_depth(capsys):
    code, out, _ = run(capsys, "inspect", "resnet18", "--depth", "1")
    assert code == 0
    assert "layer4" in out and "11,689,512" in out and "layer4.0" not in out


def test_inspect_letters(capsys):
    code, out, _ = run(capsys, "inspect", "densenet121", "--letters", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["input_size"] == [1, 28, 28] and data["output_shape"] == [1, 26]


def test_inspect_errors_are_one_clear_line(capsys):
    code, _, err = run(capsys, "inspect", "resnt18")
    assert code == 2 and "Did you mean: resnet18" in err
    code, _, err = run(capsys, "inspect", "alexnet", "--input-size", "3,32,32")
    assert code == 2 and "features.12 (MaxPool2d)" in err
    code, _, err = run(capsys, "inspect", "vgg16", "--input-size", "3,a,5")
    assert code == 2 and "not a number" in err


def test_inspect_zero_classes_is_an_error(capsys):
    code, _, err = run(capsys, "inspect", "lenet_keras", "--input-size", "1,28,28", "--num-classes", "0")
    assert code == 2 and "num_classes must be a positive whole number" in err


def test_inspect_efficientnet_b7_table(capsys):
    code, out, _ = run(capsys, "inspect", "efficientnet_b7", "--depth", "2")
    assert code == 0 and "66,347,960" in out and "global" in out
