"""The one builder of fixture runs for tests: real run folders written with the runs store's own
writers (create_run, save_checkpoint, append_history, write_predictions, write_metrics), with
untrained weights and no training. `make_run` gives random-ish predictions on any classes;
`make_page_run` gives predictions on the real test split with a planted confusion."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from explorer.config import TrainConfig
from explorer.models import build_from_config
from explorer.runs import Run, create_run

LETTERS = [chr(65 + i) for i in range(26)]
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


def save_untrained_weights(run: Run, cfg: TrainConfig, num_classes: int, epoch: int, seed: int = 0) -> int:
    """A checkpoint of the untrained model (seeded) as the run's best and last weights; returns its parameter count."""
    torch.manual_seed(seed)
    net, _ = build_from_config(cfg, num_classes, load_pretrained=False)
    run.save_checkpoint(net.state_dict(), {}, {"epoch": epoch, "stage": 0, "best_epoch": epoch}, is_best=True)
    return sum(p.numel() for p in net.parameters())


def make_run(root: str | os.PathLike | None = None, model: str = "small_cnn", classes: list[str] | None = None,
             name: str = "", seed: int = 0, epochs: int = 2, lr: float = 0.05, dataset: str = "letters-builtin",
             y_true: np.ndarray | None = None, y_prob: np.ndarray | None = None, weights: bool = True) -> Run:
    """A completed run of `model` with untrained weights, `epochs` history rows and test predictions."""
    classes = list(classes or LETTERS)
    k = len(classes)
    cfg = TrainConfig.from_dict({"model": model, "epochs": epochs, "lr": lr, "seed": seed,
                                 "data": {"name": dataset, "size": 20}})
    run = create_run(cfg, root, name=name or None)
    torch.manual_seed(seed)
    params = sum(p.numel() for p in build_from_config(cfg, k, load_pretrained=False)[0].parameters())
    run.update_config(classes=classes, model={"name": model, "num_classes": k, "input_size": [1, 28, 28],
                                              "params": params})
    if weights:
        save_untrained_weights(run, cfg, k, epochs, seed)
    wall = 1_700_000_000.0
    for e in range(1, epochs + 1):
        wall += 10.0 + seed
        run.append_history({"epoch": e, "stage": 0, "train_loss": 2.0 / e, "train_acc": 0.3 + 0.1 * e + 0.01 * seed,
                            "val_loss": 2.2 / e, "val_acc": 0.25 + 0.1 * e + 0.01 * seed, "lr": lr,
                            "epoch_time": 10.0 + seed, "wall": wall, "images_per_s": 500.0})
    if y_true is None:
        y_true = np.repeat(np.arange(k), 4)
    if y_prob is None:
        logits = np.random.default_rng(seed).normal(size=(len(y_true), k))
        logits[np.arange(len(y_true)), y_true] += 1.5
        y_prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    preds = run.write_predictions(y_true, y_prob, np.arange(len(y_true)))
    acc = float((preds.y_prob.argmax(1) == preds.y_true).mean())
    run.write_metrics({"test_acc": acc, "test_loss": 1.0, "test_size": len(preds.y_true), "best_epoch": epochs,
                       "train_time_s": epochs * (10.0 + seed), "wall_time_s": epochs * (10.0 + seed) + 1})
    run.write_status(status="completed", phase="done", epoch=epochs)
    return run


def make_page_run(root: str | Path, name: str, model: str = "small_cnn", predictions: bool = True,
                  weights: str = "ok", status: str = "completed") -> Path:
    """A run folder on the real DATA split: config, status, 3 epochs of history, weights ("ok", "corrupt",
    "none"), and (if ``predictions``) test predictions with the planted confusion and metrics."""
    from explorer.data import DataSpec, make_splits

    cfg = TrainConfig(model=model, data=DATA, name=name, epochs=3)
    run = create_run(cfg, root=root)
    splits = make_splits(DataSpec.from_dict(DATA))
    run.update_config(classes=splits.classes, model={"name": model, "num_classes": 26})
    if weights in ("ok", "corrupt"):
        save_untrained_weights(run, cfg, 26, epoch=3)
    if weights == "corrupt":  # a truncated safetensors header
        run.weights_path("best").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": trunc")
    for epoch in range(1, 4):
        run.append_history({
            "epoch": epoch, "stage": 0, "train_loss": 2.0 / epoch, "train_acc": 0.3 * epoch, "val_loss": 2.2 / epoch,
            "val_acc": 0.28 * epoch, "lr": 0.05 / epoch, "epoch_time": 1.5, "wall": 0.0, "images_per_s": 100.0})
    if predictions:
        labels = splits.test.labels.numpy().astype(np.int64)
        run.write_predictions(labels, planted_predictions(labels, splits.classes), np.arange(len(labels)))
        run.write_metrics({"test_acc": 251 / 260, "test_size": len(labels), "train_time_s": 125.0,
                           "device": "cpu (2 threads)"})
    run.write_status(status=status, pid=None)
    return run.path
