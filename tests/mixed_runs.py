"""A realistic mixed runs folder, as a user's looks after a few days: the quick run from Home (its config
leaves the images per class to the default), a LeNet-5 run on another data size, a stopped run, a failed
run, a finished grid sweep of three runs on yet another data size (with its .sweeps queue), and a run
that came in through Import. Every file is written by the runs store's own writers (create_run,
save_checkpoint, append_history, derived.write_val_epoch, write_predictions, write_metrics, write_status,
create_sweep, export_run_bytes + import_run); the weights are untrained, the predictions planted on the
real test labels (the built-in test split's image i has class i % 26), so no training is needed and
every page has something to show. The newest runs are the sweep's, with low accuracies: a page that
opens on "the newest run" opens on a poor one; the best run (by test accuracy, with weights) is LeNet-5.

    from tests.mixed_runs import make_mixed_runs
    runs = make_mixed_runs(Path("/tmp/mixed"))   # {"quick": Path, ..., "sweep_queue": Path}

The folder is built once per process and copied on later calls (a few seconds the first time)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from explorer.config import TrainConfig
from explorer.runs import Run, create_run, export_run_bytes, import_run
from explorer.sweep.grid import Grid
from explorer.sweep.queue import create_sweep
from explorer.sweep.runner import sweep_tags
from explorer.train.recipes import get_recipe
from tests.run_fixtures import LETTERS, save_untrained_weights

# created times: oldest first, the sweep's runs newest
T0 = "2026-11-20 09:{:02d}:00"
SIZES = {"lenet5": 20, "sweep": 40}  # images per class (the quick run leaves it to the default, 1,000)
SWEEP_LRS = (0.01, 0.03, 0.1)
SWEEP_ACC = (0.31, 0.40, 0.23)  # the newest sweep run is the worst
RUN_KEYS = ("quick", "lenet5", "imported", "stopped", "failed", "sweep_0", "sweep_1", "sweep_2")
_CACHE: Path | None = None


def planted(n: int, acc: float, seed: int, k: int = 26) -> tuple[np.ndarray, np.ndarray]:
    """(y_true, y_prob) for the first n test images: class i % k, right on round(acc x n) seeded images."""
    rng = np.random.default_rng(seed)
    y_true = np.arange(n) % k
    pred = y_true.copy()
    wrong = rng.choice(n, size=n - round(acc * n), replace=False)
    pred[wrong] = (y_true[wrong] + rng.integers(1, k, size=len(wrong))) % k
    prob = rng.dirichlet(np.full(k, 0.3), size=n).astype(np.float32) * 0.3
    prob[np.arange(n), pred] += 0.7
    return y_true, (prob / prob.sum(1, keepdims=True)).astype(np.float32)


def _write(run: Run, cfg: TrainConfig, minute: int, epochs_done: int, status: str, acc: float | None,
           test_n: int = 260, seed: int = 0, weights: bool = True, error: str | None = None) -> Run:
    """A run's files as the loop leaves them: config (classes, model), history, per-epoch validation
    predictions, checkpoint, test predictions and metrics when it completed, then its status."""
    run.update_config(created=T0.format(minute), classes=LETTERS, model={"name": cfg.model, "num_classes": 26,
                                                                        "input_size": [1, 28, 28]})
    if weights and epochs_done:
        save_untrained_weights(run, cfg, 26, epochs_done, seed)
    val_acc = acc if acc is not None else 0.3
    for e in range(1, epochs_done + 1):
        frac = e / max(epochs_done, 1)
        run.append_history({"epoch": e, "stage": 0, "train_loss": 2.5 - 1.5 * frac, "train_acc": val_acc * frac + 0.02,
                            "val_loss": 2.6 - 1.4 * frac, "val_acc": val_acc * frac, "lr": cfg.lr,
                            "epoch_time": 12.0 + seed, "wall": 1_763_629_200.0 + 60 * minute + 12 * e,
                            "images_per_s": 450.0})
        y_val, p_val = planted(52, val_acc * frac, seed + e)
        run.derived.write_val_epoch(e, y_val, p_val.argmax(1), p_val.max(1))
    if status == "completed" and acc is not None:
        y_true, y_prob = planted(test_n, acc, seed)
        preds = run.write_predictions(y_true, y_prob, np.arange(test_n))
        got = float((preds.y_prob.argmax(1) == preds.y_true).mean())
        run.write_metrics({"test_acc": got, "test_loss": 1.0 - got, "test_size": test_n, "best_epoch": epochs_done,
                           "train_time_s": epochs_done * (12.0 + seed), "device": "cpu (2 threads)"})
    run.write_status(status=status, pid=None, epoch=epochs_done, epochs=cfg.total_epochs, phase="done",
                     error=error, device="cpu", device_label="cpu (2 threads)")
    return run


def _data(size: int | None) -> dict:
    return {"name": "letters-builtin", "size": size}


def _build(root: Path) -> None:
    """Write every run and the sweep queue under `root` (see the module docstring)."""
    root.mkdir(parents=True, exist_ok=True)
    quick = get_recipe("quick")  # as Home's "Train the quick model" writes it: images per class left to the default
    _write(create_run(quick, root, name="quick"), quick, 0, 3, "completed", 0.62, test_n=104, seed=1)
    lenet = TrainConfig.from_dict({"model": "lenet5", "epochs": 2, "lr": 0.01, "batch_size": 64,
                                   "data": _data(SIZES["lenet5"])})
    _write(create_run(lenet, root, name="lenet5-20", tags=["class-a"]), lenet, 1, 2, "completed", 0.965, seed=2)
    with tempfile.TemporaryDirectory(prefix="mixed-export-") as other:  # a colleague's run, exported and imported
        keras = TrainConfig.from_dict({"model": "lenet_keras", "epochs": 2, "optimizer": "adam", "lr": 0.001,
                                       "schedule": "none", "data": _data(SIZES["lenet5"])})
        made = _write(create_run(keras, other, name="colleague", tags=["class-a"]), keras, 2, 2, "completed", 0.81,
                      seed=3)
        _, data = export_run_bytes(made)
    import_run(data, root)
    stopped = TrainConfig.from_dict({"model": "small_cnn", "epochs": 3, "data": _data(SIZES["lenet5"])})
    _write(create_run(stopped, root, name="stopped-early"), stopped, 3, 1, "stopped", None, seed=4)
    failed = TrainConfig.from_dict({"model": "lenet_keras", "epochs": 2, "lr": 5.0, "schedule": "none",
                                    "data": _data(SIZES["lenet5"])})
    _write(create_run(failed, root, name="too-high-lr"), failed, 4, 0, "failed", None, seed=5, weights=False,
           error="loss is NaN at epoch 1, step 3 (lr 5): lower the learning rate")
    base = TrainConfig.from_dict({"model": "small_cnn", "epochs": 2, "data": _data(SIZES["sweep"])})
    grid = Grid({"lr": list(SWEEP_LRS)}, 1)
    points = list(grid.points(base.seed))
    sweep = create_sweep({"mode": "grid", "base": base.to_dict(), "grid": grid.to_dict(), "size": grid.size},
                         points, root, "lr-sweep")
    for i, (point, acc) in enumerate(zip(points, SWEEP_ACC, strict=True)):
        cfg = base.replace(**point)
        run = create_run(cfg, root, name=f"lr-sweep #{i}", tags=sweep_tags(sweep, point),
                         sweep={"id": sweep.sweep_id, "index": i, "point": point})
        _write(run, cfg, 5 + i, 2, "completed", acc, seed=10 + i)
        sweep.mark(i, state="completed", run_id=run.run_id, test_acc=run.metrics()["test_acc"],
                   val_acc=run.history()[-1]["val_acc"])


def _index(root: Path) -> dict[str, Path]:
    """Role -> run folder (and "sweep_queue" -> the sweep's queue folder)."""
    runs = {}
    for p in sorted(root.iterdir()):
        if p.name.startswith(".") or not (p / "config.json").is_file():
            continue
        cfg = Run(p).config
        name, sweep = str(cfg.get("name") or ""), cfg.get("sweep") or {}
        key = {"quick": "quick", "lenet5-20": "lenet5", "colleague": "imported", "stopped-early": "stopped",
               "too-high-lr": "failed"}.get(name) or (f"sweep_{sweep['index']}" if sweep else p.name)
        runs[key] = p
    (queue,) = [p for p in (root / ".sweeps").iterdir() if p.is_dir()]
    return {**{k: runs[k] for k in RUN_KEYS}, "sweep_queue": queue}


def make_mixed_runs(root: Path) -> dict[str, Path]:
    """Fill `root` (a runs folder; created if missing, best empty) with the mixed runs; returns their folders by
    role: quick, lenet5 (the best), imported, stopped, failed, sweep_0..sweep_2 (sweep_2 the newest and
    worst), and sweep_queue (the sweep's queue folder under .sweeps)."""
    global _CACHE
    root = Path(root)
    if _CACHE is None or not _CACHE.is_dir():
        built = Path(tempfile.mkdtemp(prefix="mixed-runs-"))
        _build(built)
        _CACHE = built
    root.mkdir(parents=True, exist_ok=True)
    for p in _CACHE.iterdir():
        if p.name == ".locks":
            continue
        (shutil.copytree if p.is_dir() else shutil.copy2)(p, root / p.name)
    return _index(root)
