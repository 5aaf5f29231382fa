"""The training loop end to end on tiny data: files written, NaN, stop, two stages, resume bookkeeping."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from explorer.config import Stage, TrainConfig
from explorer.runs import open_run
from explorer.train.job import sync_history, train
from explorer.train.loop import validate

TINY = {"name": "letters-builtin", "size": 20, "val_fraction": 0.1}


def tiny(**kw) -> TrainConfig:
    """A tiny quick-CNN config: 520 training images, 1 epoch."""
    base = {"model": "small_cnn", "data": dict(TINY), "epochs": 1, "batch_size": 64, "lr": 0.05}
    return TrainConfig.from_dict({**base, **kw})


def test_run_completes_and_writes_every_file(tmp_path):
    run = train(tiny(epochs=2), root=tmp_path)
    names = {p.name for p in run.path.iterdir()}
    for f in ("config.json", "status.json", "history.jsonl", "weights_best.safetensors", "weights_last.safetensors",
              "optimizer_last.pt", "metrics.json", "predictions.npz"):
        assert f in names, f
    assert not any(n.endswith(".tmp") for n in names)
    st = run.status
    assert st["status"] == "completed" and st["device"] == "cpu"
    cfg = run.config
    assert set(cfg["versions"]) >= {"torch", "torchvision", "timm"}
    assert cfg["train"]["model"] == "small_cnn" and cfg["data"]["counts"]["train"] == 468
    assert len(cfg["classes"]) == 26
    hist = run.history()
    assert [h["epoch"] for h in hist] == [1, 2]
    assert all(h["images_per_s"] > 0 and 0 <= h["val_acc"] <= 1 for h in hist)
    preds = run.predictions()
    assert preds.y_prob.shape == (260, 26) and preds.y_true.dtype == np.int64
    np.testing.assert_allclose(preds.y_prob.sum(1), 1, atol=1e-4)
    assert run.metrics()["test_acc"] == pytest.approx(float((preds.y_prob.argmax(1) == preds.y_true).mean()))
    # The saved weights reproduce the saved predictions; the optimizer state loads without pickle.
    model = run.load_model("best")
    test = run.splits().test
    _, acc, probs = validate(model, test.images, test.labels, torch.device("cpu"))
    np.testing.assert_allclose(probs.numpy(), preds.y_prob, atol=1e-4)
    assert run.load_checkpoint().epoch == 2  # loads without pickle (weights_only)
    assert run.test_images().shape == (260, 28, 28)


def test_nan_loss_fails_with_epoch_and_hint(tmp_path):
    run = train(tiny(lr=1e6, schedule="none", momentum=0.9), root=tmp_path)
    st = run.status
    assert st["status"] == "failed"
    assert "epoch 1" in st["error"] and "learning rate" in st["error"]


def test_stop_flag_stops_and_keeps_weights(tmp_path):
    holder = {}

    def cb(event, info):
        if event == "start":
            holder["run"] = open_run(next(p for p in sorted(tmp_path.iterdir()) if (p / "config.json").is_file()))
        if event == "step" and info["epoch"] == 2 and info["step"] == 2:
            holder["run"].request_stop()

    run = train(tiny(epochs=3), root=tmp_path, callback=cb)
    assert run.status["status"] == "stopped"
    assert [h["epoch"] for h in run.history()] == [1]
    assert run.load_checkpoint().epoch == 1
    assert run.load_model("last") is not None


def test_two_stage_history_shows_both_stages(tmp_path):
    cfg = tiny(head="mlp_dropout", head_hidden=[32, 16], dropout=0.2, optimizer="adam", lr=1e-3, schedule="plateau",
               stages=[Stage("frozen base", 1, 1e-3, "frozen").to_dict(),
                       Stage("last 5", 1, 1e-4, "last_n", 5).to_dict()])
    run = train(cfg, root=tmp_path)
    assert run.status["status"] == "completed"
    hist = run.history()
    assert [h["stage"] for h in hist] == [0, 1]
    assert [h["stage_name"] for h in hist] == ["frozen base", "last 5"]
    assert hist[0]["trainable_params"] < hist[1]["trainable_params"]
    assert hist[1]["lr"] < hist[0]["lr"]
    model = run.load_model()
    assert isinstance(model.net.head[2], torch.nn.Sequential)  # the GAP + 2 dense + dropout head


def test_sync_history_drops_rows_after_the_checkpoint(tmp_path):
    run = train(tiny(epochs=2), root=tmp_path)
    rows = run.history()
    ckpt = run.load_checkpoint()
    assert ckpt.epoch == 2 and ckpt.loop["epoch"] == 2 and ckpt.history_row["epoch"] == 2
    run.save_checkpoint(ckpt.weights, ckpt.optimizer, {**ckpt.loop, "epoch": 1}, rows[0])  # back to epoch 1
    (run.path / "history.jsonl").write_text(json.dumps(rows[1]) + "\n")  # row 1 lost, row 2 beyond ckpt
    sync_history(run)
    assert [h["epoch"] for h in run.history()] == [1]
