"""Derived results of a run: the ONE keyed store for everything recomputable from a run's files.

Each result has a name and is stored with the key it was computed under (settings, the weights stamp, a
version): a read under another key, or of a missing, damaged or foreign file, is a miss (None) and the caller
recomputes. JSON values live in cache/<name>.json ({"key", "value"}), arrays in inside/<name>.npz (the arrays
plus "__meta__": {"key", "meta"}); the training loop's per-epoch validation predictions in val_epochs/.
Nothing here unpickles: npz files are read with allow_pickle=False.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from explorer.io import atomic_path, atomic_write_json
from explorer.runs.layout import CACHE_DIR, VAL_EPOCHS_DIR, VIEWS_DIR

__all__ = ["Derived"]

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,120}")
Arrays = dict[str, np.ndarray]


def _plain(key: Any) -> Any:
    """The key as JSON reads it back (tuples become lists), so a stored key compares equal to a fresh one."""
    return json.loads(json.dumps(key))


def _checked_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"bad derived-result name {name!r}: lower-case letters, digits, . _ - only")
    return name


class Derived:
    """The derived results of the run folder `folder` (Run.derived)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    # ---- JSON values --------------------------------------------------------------------------------
    def read(self, name: str, key: Any) -> Any | None:
        """The JSON value stored as `name` under exactly `key`, else None."""
        try:
            data = json.loads((self.folder / CACHE_DIR / f"{_checked_name(name)}.json").read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != _plain(key):
            return None
        return data.get("value")

    def write(self, name: str, key: Any, value: Any) -> None:
        """Store a JSON value as `name` under `key` (atomically)."""
        path = self.folder / CACHE_DIR / f"{_checked_name(name)}.json"
        path.parent.mkdir(exist_ok=True)
        atomic_write_json(path, {"key": key, "value": value})

    # ---- arrays -------------------------------------------------------------------------------------
    def read_arrays(self, name: str, key: Any) -> tuple[Arrays, dict[str, Any]] | None:
        """(arrays, meta) stored as `name` under exactly `key`, else None (the caller checks the arrays' shapes)."""
        try:
            with np.load(self.folder / VIEWS_DIR / f"{_checked_name(name)}.npz", allow_pickle=False) as z:
                arrays = {k: np.asarray(z[k]) for k in z.files}
            stored = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
        except Exception:  # missing, truncated, not an npz, pickled, bad JSON: recompute
            return None
        if not isinstance(stored, dict) or stored.get("key") != _plain(key) or not isinstance(stored.get("meta"), dict):
            return None
        return arrays, stored["meta"]

    def write_arrays(self, name: str, key: Any, arrays: dict[str, Any], meta: dict[str, Any] | None = None) -> None:
        """Store arrays (and JSON `meta` that describes them) as `name` under `key`, atomically."""
        payload = {k: np.asarray(v) for k, v in arrays.items()}
        payload["__meta__"] = np.frombuffer(json.dumps({"key": key, "meta": meta or {}}).encode("utf-8"), np.uint8)
        with atomic_path(self.folder / VIEWS_DIR / f"{_checked_name(name)}.npz") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **payload)

    # ---- per-epoch validation predictions (written by the training loop) ----------------------------
    def write_val_epoch(self, epoch: int, y_true: Any, pred: Any, prob: Any) -> None:
        """Save one epoch's validation predictions compactly (atomically): true and predicted class (int16)
        and the predicted class's probability (float16), val_epochs/epoch-NNNN.npz."""
        arrays = {"y_true": np.asarray(y_true).astype(np.int16), "pred": np.asarray(pred).astype(np.int16),
                  "prob": np.asarray(prob).astype(np.float16)}
        with atomic_path(self.folder / VAL_EPOCHS_DIR / f"epoch-{int(epoch):04d}.npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    def val_epochs(self, epochs: Iterable[int]) -> dict[int, Arrays]:
        """Stored validation predictions {epoch: {y_true, pred, prob}} of `epochs` (the run's history); a file
        that is unreadable or whose arrays disagree in length is left out (never an exception)."""
        folder, out = self.folder / VAL_EPOCHS_DIR, {}
        for epoch in sorted(set(epochs)):
            try:
                with np.load(folder / f"epoch-{epoch:04d}.npz", allow_pickle=False) as z:
                    arrays = {k: np.asarray(z[k]) for k in ("y_true", "pred", "prob")}
            except Exception:  # missing, truncated, not an npz, wrong keys: that epoch has no stored predictions
                continue
            n = len(arrays["y_true"])
            if all(a.ndim == 1 and len(a) == n for a in arrays.values()):
                out[epoch] = {"y_true": arrays["y_true"].astype(np.int64), "pred": arrays["pred"].astype(np.int64),
                              "prob": arrays["prob"].astype(np.float32)}
        return out

    def val_epochs_bytes(self) -> int:
        """Bytes on disk of the stored per-epoch validation predictions."""
        folder = self.folder / VAL_EPOCHS_DIR
        return sum(f.stat().st_size for f in folder.glob("epoch-*.npz")) if folder.is_dir() else 0
