"""Generated sweep run folders for tests, the bench and screenshots: real run folders written with the
runs store's writers (create_run with the sweep record, append_history, write_metrics, write_status)
and real sweep queues (create_sweep), with made-up accuracies that depend on the settings. No training."""

from __future__ import annotations

import math
import os
import random
from typing import Any

from explorer.config import TrainConfig
from explorer.runs import create_run
from explorer.sweep.grid import Grid
from explorer.sweep.queue import Sweep, create_sweep
from explorer.sweep.runner import sweep_tags

BASE = TrainConfig.from_dict({"model": "small_cnn", "epochs": 3, "data": {"name": "letters-builtin", "size": 20}})


def fake_acc(point: dict[str, Any]) -> float:
    """A test accuracy that peaks at lr 0.03, prefers finetune and batch 64, with seed noise."""
    lr = float(point.get("lr", BASE.lr))
    acc = 0.9 - 0.06 * abs(math.log10(lr / 0.03)) + (0.02 if point.get("transfer") == "finetune" else 0.0)
    acc -= 0.01 if point.get("batch_size", 64) != 64 else 0.0
    return round(min(0.99, acc + random.Random(int(point.get("seed", 0)) * 7919 + int(lr * 1e6)).gauss(0, 0.01)), 4)


def _write_run(root: str | os.PathLike, sweep: Sweep | None, index: int, point: dict[str, Any], status: str) -> str:
    cfg = BASE.replace(**point)
    meta = {"id": sweep.sweep_id, "index": index, "point": point} if sweep else None
    tags = sweep_tags(sweep, point) if sweep else ["manual"]
    run = create_run(cfg, root, name=f"{sweep.spec['name'] if sweep else 'manual'} #{index}", tags=tags, sweep=meta)
    acc = fake_acc(point)
    for e in range(1, cfg.epochs + 1):
        run.append_history({"epoch": e, "stage": 0, "train_loss": 1.0 / e, "train_acc": acc - 0.05 / e,
                            "val_loss": 1.1 / e, "val_acc": acc - 0.03 / e, "lr": cfg.lr, "epoch_time": 2.0,
                            "wall": 0.0, "images_per_s": 400.0})
    if status == "completed":
        run.write_metrics({"test_acc": acc, "test_loss": 1 - acc})
    run.write_status(status=status, pid=None, epoch=cfg.epochs, error="fake failure" if status == "failed" else None)
    return run.run_id


def make_grid_sweep(root: str | os.PathLike, axes: dict[str, list[Any]], seeds: int, name: str) -> Sweep:
    """A finished grid sweep: its queue (every item completed, one failed) and one run folder per point."""
    grid = Grid(axes, seeds)
    points = list(grid.points(0))
    sweep = create_sweep({"mode": "grid", "base": BASE.to_dict(), "grid": grid.to_dict(), "size": grid.size},
                         points, root, name)
    for i, point in enumerate(points):
        status = "failed" if i == 3 else "completed"
        sweep.mark(i, state=status, run_id=_write_run(root, sweep, i, point, status), test_acc=fake_acc(point))
    return sweep


def make_sweep_runs(root: str | os.PathLike, n: int = 200) -> list[Sweep]:
    """About `n` runs: a lr x transfer x batch grid with 5 seeds, an lr x dropout grid with 4 seeds, manual runs."""
    lrs = [0.003, 0.01, 0.03, 0.1, 0.3]
    first = make_grid_sweep(root, {"lr": lrs, "transfer": ["scratch", "finetune"], "batch_size": [64, 128]},
                            max(1, n // 40), "lr-transfer-batch")
    left = max(0, n - first.spec["size"])
    second = make_grid_sweep(root, {"lr": lrs[:4], "dropout": [0.0, 0.3]}, max(1, left * 4 // 5 // 8), "lr-dropout")
    for i in range(max(0, left - second.spec["size"])):
        _write_run(root, None, i, {"lr": lrs[i % 5], "seed": i}, "completed" if i % 7 else "stopped")
    return [first, second]
