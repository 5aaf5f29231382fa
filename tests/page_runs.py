"""Run folders for the page tests, made with the runs store but without the training loop:
untrained weights, a hand-made history, and predictions with a planted confusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

DATA = {"name": "letters-builtin", "root": None, "size": 20, "seed": 0, "val_fraction": 0.2, "gen_seed": 0}
# planted mistakes: (true, predicted, how many) -> G↔Q is the most confused pair (6), then I↔L (3)
PLANTED = (("G", "Q", 4), ("Q", "G", 2), ("I", "L", 3))
P_RIGHT, P_WRONG = 0.9, 0.6  # top probability of the correct / the wrong predictions


def planted_predictions(labels: np.ndarray, classes: list[str]) -> np.ndarray:
    """y_prob (N, K): correct with p=0.9 except the PLANTED mistakes (p=0.6 on the wrong class, 0.3 on the true)."""
    n, k = len(labels), len(classes)
    pred = labels.copy()
    for true, wrong, count in PLANTED:
        where = np.flatnonzero(labels == classes.index(true))[:count]
        pred[where] = classes.index(wrong)
    prob = np.full((n, k), (1 - P_RIGHT) / (k - 1))
    prob[np.arange(n), labels] = P_RIGHT
    bad = pred != labels
    prob[bad] = (1 - P_WRONG - 0.3) / (k - 2)
    prob[np.flatnonzero(bad), pred[bad]] = P_WRONG
    prob[np.flatnonzero(bad), labels[bad]] = 0.3
    return prob.astype(np.float32)


def make_run(root: str | Path, name: str, model: str = "small_cnn", predictions: bool = True,
             weights: str = "ok", status: str = "completed") -> Path:
    """A run folder: config, status, 3 epochs of history, metrics, weights ("ok", "corrupt", "none"),
    and (if ``predictions``) a predictions.npz with the planted confusion."""
    from safetensors.torch import save_file

    from explorer.config import TrainConfig
    from explorer.data import DataSpec, make_splits
    from explorer.io import append_jsonl, atomic_write_json
    from explorer.runs import create_run
    from explorer.train.model import prepare_model

    cfg = TrainConfig(model=model, data=DATA, name=name, epochs=3)
    run = create_run(cfg, root=root)
    splits = make_splits(DataSpec.from_dict(DATA))
    run.update_config(classes=splits.classes, model={"name": model, "num_classes": 26})
    if weights == "ok":
        torch.manual_seed(0)
        net, _ = prepare_model(cfg, 26, load_pretrained=False)
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(run.path / "weights_best.safetensors"))
    elif weights == "corrupt":
        (run.path / "weights_best.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": trunc")
    for epoch in range(1, 4):
        append_jsonl(run.path / "history.jsonl", {
            "epoch": epoch, "stage": 0, "train_loss": 2.0 / epoch, "train_acc": 0.3 * epoch, "val_loss": 2.2 / epoch,
            "val_acc": 0.28 * epoch, "lr": 0.05 / epoch, "epoch_time": 1.5, "wall": 0.0, "images_per_s": 100.0})
    if predictions:
        labels = splits.test.labels.numpy().astype(np.int64)
        np.savez(run.path / "predictions.npz", y_true=labels, y_prob=planted_predictions(labels, splits.classes),
                 indices=np.arange(len(labels), dtype=np.int64))
        atomic_write_json(run.path / "metrics.json", {"test_acc": 251 / 260, "test_size": len(labels),
                                                      "train_time_s": 125.0, "device": "cpu (2 threads)"})
    run.write_status(status=status, pid=None)
    return run.path
