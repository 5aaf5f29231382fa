"""Fixture runs for tests: a real run folder (explorer.runs.create_run) with untrained weights,
a short history, test predictions and metrics -- no training needed."""

from __future__ import annotations

import os

import numpy as np
import torch

from explorer.config import TrainConfig
from explorer.io import atomic_write_json
from explorer.runs import Run, create_run

LETTERS = [chr(65 + i) for i in range(26)]


def make_run(root: str | os.PathLike | None = None, model: str = "small_cnn", classes: list[str] | None = None,
             name: str = "", seed: int = 0, epochs: int = 2, lr: float = 0.05, dataset: str = "letters-builtin",
             y_true: np.ndarray | None = None, y_prob: np.ndarray | None = None, weights: bool = True) -> Run:
    """A completed run of `model` with untrained weights, `epochs` history rows and test predictions."""
    from safetensors.torch import save_file

    from explorer.train.model import prepare_model

    classes = list(classes or LETTERS)
    k = len(classes)
    cfg = TrainConfig.from_dict({"model": model, "epochs": epochs, "lr": lr, "seed": seed,
                                 "data": {"name": dataset, "size": 20}})
    run = create_run(cfg, root, name=name or None)
    torch.manual_seed(seed)
    net, _ = prepare_model(cfg, k, load_pretrained=False)
    run.update_config(classes=classes, model={"name": model, "num_classes": k, "input_size": [1, 28, 28],
                                              "params": sum(p.numel() for p in net.parameters())})
    if weights:
        state = {n: t.contiguous() for n, t in net.state_dict().items()}
        save_file(state, str(run.path / "weights_best.safetensors"))
        save_file(state, str(run.path / "weights_last.safetensors"))
    rng = np.random.default_rng(seed)
    wall = 1_700_000_000.0
    rows = []
    for e in range(1, epochs + 1):
        wall += 10.0 + seed
        rows.append({"epoch": e, "stage": 0, "train_loss": 2.0 / e, "train_acc": 0.3 + 0.1 * e + 0.01 * seed,
                     "val_loss": 2.2 / e, "val_acc": 0.25 + 0.1 * e + 0.01 * seed, "lr": lr, "epoch_time": 10.0 + seed,
                     "wall": wall, "images_per_s": 500.0})
    (run.path / "history.jsonl").write_text("".join(__import__("json").dumps(r) + "\n" for r in rows))
    if y_true is None:
        y_true = np.repeat(np.arange(k), 4)
    if y_prob is None:
        logits = rng.normal(size=(len(y_true), k))
        logits[np.arange(len(y_true)), y_true] += 1.5
        y_prob = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    y_true = np.asarray(y_true, dtype=np.int64)
    y_prob = np.asarray(y_prob, dtype=np.float32)
    np.savez(run.path / "predictions.npz", y_true=y_true, y_prob=y_prob, indices=np.arange(len(y_true)))
    acc = float((y_prob.argmax(1) == y_true).mean())
    atomic_write_json(run.path / "metrics.json", {"test_acc": acc, "test_loss": 1.0, "test_size": len(y_true),
                                                 "best_epoch": epochs, "train_time_s": epochs * (10.0 + seed),
                                                 "wall_time_s": epochs * (10.0 + seed) + 1})
    run.write_status(status="completed", phase="done", epoch=epochs)
    return run
