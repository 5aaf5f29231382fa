"""ONNX export verified by onnxruntime, and MLflow push to a real local store."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch import nn

from explorer.cli import main
from explorer.export.onnx import ExportError, export_onnx, export_onnx_file, onnx_probabilities, onnx_session
from tests.run_fixtures import make_run


def test_export_run_agrees_with_torch_and_writes_card(tmp_path, capsys):
    run = make_run(tmp_path / "runs")
    out = tmp_path / "out"
    assert main(["export", run.run_id, "--runs", str(tmp_path / "runs"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "max probability difference" in printed
    report = json.loads((out / "export.json").read_text())
    assert report["top1_agree"] == report["images"] == 104 and report["max_prob_diff"] < 1e-4
    card = (out / "MODEL_CARD.md").read_text()
    assert "A B C D" in card and "ort.InferenceSession" in card and "test_acc" in card
    # the exported model takes (N,1,28,28) in [0,1] and gives probabilities equal to torch's
    x = (run.test_images()[:7].astype(np.float32) / 255)[:, None]
    p = onnx_probabilities(onnx_session(out / "model.onnx"), x)
    from explorer.models.inference import probabilities
    from explorer.run_models import load_run_model

    np.testing.assert_allclose(p, probabilities(load_run_model(run), x), atol=1e-5)
    assert p.shape == (7, 26)


@torch.library.custom_op("s16test::twice", mutates_args=())
def _twice(x: torch.Tensor) -> torch.Tensor:
    return x * 2


@_twice.register_fake
def _(x: torch.Tensor) -> torch.Tensor:
    return torch.empty_like(x)


class _Unexportable(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _twice(x).flatten(1)[:, :26]


def test_unexportable_op_is_named(tmp_path):
    with pytest.raises(ExportError, match="cannot export .*ONNX.*s16test") as info:
        export_onnx_file(_Unexportable(), tmp_path / "m.onnx")
    assert "Traceback" not in str(info.value)


def test_export_errors_are_clear(tmp_path):
    run = make_run(tmp_path / "runs")
    with pytest.raises(ExportError, match="only format is onnx"):
        export_onnx(run, tmp_path / "o", fmt="tflite")
    assert main(["export", "nope", "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "o")]) == 2


def test_push_logs_params_metrics_artifacts_once(tmp_path, capsys):
    mlflow = pytest.importorskip("mlflow", reason="mlflow not installed (optional extra: pip install mlflow)")
    from explorer.export.mlflow import RUN_ID_TAG, push_run, tracking_uri

    run = make_run(tmp_path / "runs", epochs=3)
    store = str(tmp_path / "ml")
    first = push_run(run, store)
    second = push_run(run, store)
    assert first.created and not second.created and second.mlflow_run_id == first.mlflow_run_id
    client = mlflow.tracking.MlflowClient(tracking_uri(store))
    exp = client.get_experiment_by_name("cnn-explorer")
    runs = client.search_runs([exp.experiment_id])
    assert len(runs) == 1 and runs[0].data.tags[RUN_ID_TAG] == run.run_id
    params = runs[0].data.params
    assert params["train.model"] == "small_cnn" and params["train.epochs"] == "3"
    hist = client.get_metric_history(first.mlflow_run_id, "val_acc")
    assert [m.step for m in hist] == [1, 2, 3]
    assert [m.value for m in hist] == pytest.approx([h["val_acc"] for h in run.history()])
    assert runs[0].data.metrics["test_acc"] == pytest.approx(run.metrics()["test_acc"])
    names = {f.path for f in client.list_artifacts(first.mlflow_run_id, "run")}
    assert {"run/config.json", "run/history.jsonl", "run/weights_best.safetensors"} <= names
    assert main(["runs", "--runs", str(tmp_path / "runs"), "push", run.run_id, "--mlflow", store]) == 0
    assert "already pushed" in capsys.readouterr().out
