"""The file names of a run folder: the one place that knows what a run folder holds.

A run folder `<runs root>/<run_id>/` holds config.json, status.json, history.jsonl, weights_best/last.safetensors,
optimizer_last.pt, metrics.json, predictions.npz, design.json (a design:NAME model's design), STOP (a stop
request), worker.log, and the folders of derived results (cache/, inside/, val_epochs/) and evaluate's default
output (evaluation/). A checkpoint file being written has its pending name (weights_last.next.safetensors).
"""

from __future__ import annotations

from pathlib import Path

STATUSES = ("running", "completed", "stopped", "failed", "interrupted")
CONFIG, STATUS, HISTORY, METRICS, PREDICTIONS = "config.json", "status.json", "history.jsonl", "metrics.json", "predictions.npz"
WEIGHTS = {"best": "weights_best.safetensors", "last": "weights_last.safetensors"}
OPTIMIZER = "optimizer_last.pt"
DESIGN = "design.json"  # the design a run of a design:NAME model trained (explorer.design), kept with the run
STOP_FILE = "STOP"
RUN_FILES = {CONFIG, STATUS, HISTORY, METRICS, PREDICTIONS, *WEIGHTS.values(), OPTIMIZER, DESIGN}
CACHE_DIR = "cache"  # derived JSON results (trust figures, ...): cache/<name>.json, {"key": ..., "value": ...}
VAL_EPOCHS_DIR, VIEWS_DIR = "val_epochs", "inside"  # per-epoch validation predictions; stored derived arrays
RUN_DIRS = {CACHE_DIR, VAL_EPOCHS_DIR, VIEWS_DIR, "evaluation"}  # folders a run folder may hold (evaluate's default)
RUN_EXTRA = {STOP_FILE, "worker.log"}  # files a run folder may hold besides RUN_FILES


def pending(name: str) -> str:
    """The name a checkpoint file has while the checkpoint is being written: weights_last.next.safetensors."""
    stem, dot, suffix = name.partition(".")
    return f"{stem}.next{dot}{suffix}"


def is_run_folder(path: Path) -> bool:
    """A folder holding config.json and status.json."""
    return (path / CONFIG).is_file() and (path / STATUS).is_file()


def is_run_entry(p: Path) -> bool:
    """True for what the store itself puts into a run folder (its files, pending checkpoint files, temp files)."""
    name = p.name
    if p.is_symlink():
        return False
    if name.startswith("."):  # atomic writers' temporary files
        return p.is_file()
    if p.is_dir():
        return name in RUN_DIRS
    return name in RUN_FILES or name in RUN_EXTRA or name in {pending(n) for n in RUN_FILES}
