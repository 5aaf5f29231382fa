"""The runs store: one folder per run under a runs root (default ./runs, env EXPLORER_RUNS).

`Run` is the only code that knows the file names of a run folder (every write atomic: write a
temporary file, then rename): config.json, status.json, history.jsonl, weights_best.safetensors,
weights_last.safetensors, optimizer_last.pt (tensors and plain containers; loaded with
weights_only=True), metrics.json, predictions.npz, STOP. A checkpoint (weights_last, optimizer_last
and, when it improved, weights_best) is one unit: every file records its epoch, the new files are
written whole beside the old ones (*.next.*) before any is renamed into place, and a load picks the
newest epoch whose files agree. A run whose status says "running" but whose process is gone (or
whose heartbeat is stale) is reported as "interrupted". Nothing here unpickles untrusted data.
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import shutil
import socket
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from explorer.io import append_jsonl, atomic_path, atomic_write_json, atomic_write_text, read_jsonl, safe_name
from explorer.untrusted import CREATED_FORMAT, parse_created, run_strings_problems

RUNS_ENV = "EXPLORER_RUNS"
STATUSES = ("running", "completed", "stopped", "failed", "interrupted")
STALE_S = 180.0  # a heartbeat older than this (on another host, or without a pid) means interrupted
ALLOWED_SUFFIXES = (".json", ".jsonl", ".safetensors", ".npz", ".pt")
MAX_IMPORT_BYTES = 8 << 30
STOP_FILE = "STOP"
CONFIG, STATUS, HISTORY, METRICS, PREDICTIONS = "config.json", "status.json", "history.jsonl", "metrics.json", "predictions.npz"
WEIGHTS = {"best": "weights_best.safetensors", "last": "weights_last.safetensors"}
OPTIMIZER = "optimizer_last.pt"
RUN_FILES = {CONFIG, STATUS, HISTORY, METRICS, PREDICTIONS, *WEIGHTS.values(), OPTIMIZER}
VAL_EPOCHS_DIR, VIEWS_DIR = "val_epochs", "inside"  # per-epoch validation predictions; stored inside-views
_VIEW_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,120}")


def runs_root(root: str | os.PathLike | None = None) -> Path:
    """The runs root: `root`, else $EXPLORER_RUNS, else ./runs (relative to the current directory)."""
    return Path(root or os.environ.get(RUNS_ENV) or "runs").expanduser()


def versions() -> dict[str, str]:
    """Versions of the libraries a run depends on."""
    import timm
    import torch
    import torchvision

    import explorer

    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "timm": timm.__version__,
            "explorer": explorer.__version__, "python": platform.python_version()}


def _pid_alive(pid: int) -> bool:
    """True if a process with this pid exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def effective_status(status: dict[str, Any]) -> str:
    """The status to show: "running" becomes "interrupted" when its process is gone or its heartbeat is stale."""
    state = status.get("status", "interrupted")
    if state != "running":
        return state if state in STATUSES else "interrupted"
    pid, host = status.get("pid"), status.get("host")
    if pid and host == socket.gethostname():
        return "running" if _pid_alive(int(pid)) else "interrupted"
    beat = status.get("heartbeat") or 0
    return "running" if time.time() - float(beat) < STALE_S else "interrupted"


def config_classes(config: dict[str, Any]) -> list[str]:
    """Class names recorded in a run's config.json (empty before training has read its data)."""
    return [str(c) for c in config.get("classes") or []]


def config_num_classes(config: dict[str, Any]) -> int:
    """Outputs of a run's model: the config's model record, else its class count, else 26."""
    return int((config.get("model") or {}).get("num_classes") or len(config_classes(config)) or 26)


@dataclass(frozen=True)
class Predictions:
    """Test-set predictions of a run: enough to recompute every metric."""

    y_true: np.ndarray
    y_prob: np.ndarray
    indices: np.ndarray
    classes: list[str]


@dataclass(frozen=True)
class Checkpoint:
    """The state a run resumes from: weights, optimizer and loop state of one completed epoch."""

    epoch: int
    weights: dict[str, Any]  # state_dict of the LettersModel (cpu tensors)
    optimizer: dict[str, Any]
    loop: dict[str, Any]
    history_row: dict[str, Any] | None = None


def _pending(name: str) -> str:
    """The name a checkpoint file has while the checkpoint is being written: weights_last.next.safetensors."""
    stem, dot, suffix = name.partition(".")
    return f"{stem}.next{dot}{suffix}"


def _weights_epoch(path: Path) -> int | None:
    """The epoch recorded in a safetensors file's metadata (None: older file without it)."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        epoch = (f.metadata() or {}).get("epoch")
    return int(epoch) if epoch is not None else None


def _save_weights(path: Path, weights: dict[str, Any], epoch: int) -> None:
    from safetensors.torch import save_file

    state = {k: v.detach().to("cpu").contiguous() for k, v in weights.items()}
    with atomic_path(path) as tmp:
        save_file(state, str(tmp), metadata={"format": "pt", "epoch": str(epoch)})


@dataclass(frozen=True)
class RunInfo:
    """One row of the runs list."""

    run_id: str
    name: str
    model: str
    dataset: str
    status: str
    created: str
    epochs_done: int
    epochs: int
    best_val_acc: float | None
    test_acc: float | None
    tags: list[str] = field(default_factory=list)
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for DataFrames)."""
        return dict(self.__dict__)


class Run:
    """A run folder: read its config, status, history, metrics, predictions and weights."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not (self.path / CONFIG).is_file():
            raise FileNotFoundError(f"{self.path} is not a run folder (no config.json)")

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @property
    def run_id(self) -> str:
        """The run's id (its folder name)."""
        return self.path.name

    @property
    def config(self) -> dict[str, Any]:
        """config.json as a dict."""
        return json.loads((self.path / CONFIG).read_text("utf-8"))

    @property
    def classes(self) -> list[str]:
        """The run's class names (config.json; empty before training has read its data)."""
        return config_classes(self.config)

    @property
    def num_classes(self) -> int:
        """Number of classes the run's model outputs (config's model record, else its classes, else 26)."""
        return config_num_classes(self.config)

    @property
    def model_name(self) -> str:
        """The registry model name the run trains."""
        return str(self.config.get("train", {}).get("model", "?"))

    @property
    def dataset(self) -> str:
        """The dataset name the run trains and is tested on."""
        return str((self.config.get("train", {}).get("data") or {}).get("name", "?"))

    def train_config(self) -> Any:
        """The run's TrainConfig."""
        from explorer.config import TrainConfig

        return TrainConfig.from_dict(self.config["train"])

    @property
    def raw_status(self) -> dict[str, Any]:
        """status.json as written (no liveness check)."""
        p = self.path / STATUS
        try:
            return json.loads(p.read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            return {"status": "interrupted", "error": "status.json missing or unreadable"}

    @property
    def status(self) -> dict[str, Any]:
        """status.json with "status" replaced by the effective status (running -> interrupted when dead)."""
        raw = self.raw_status
        return {**raw, "status": effective_status(raw)}

    @property
    def stop_requested(self) -> bool:
        """True when a STOP file asks the worker to stop."""
        return (self.path / STOP_FILE).exists()

    def request_stop(self) -> None:
        """Ask the run's worker to stop cleanly between steps (the STOP file)."""
        (self.path / STOP_FILE).touch()

    def clear_stop(self) -> None:
        """Withdraw a stop request (before a resume)."""
        (self.path / STOP_FILE).unlink(missing_ok=True)

    def history(self) -> list[dict[str, Any]]:
        """Per-epoch records (history.jsonl)."""
        return read_jsonl(self.path / HISTORY)

    def metrics(self) -> dict[str, Any] | None:
        """Final test metrics, or None when the run has not finished testing."""
        p = self.path / METRICS
        return json.loads(p.read_text("utf-8")) if p.is_file() else None

    @property
    def predictions_path(self) -> Path:
        """Where the test predictions are (or will be) saved: for cache keys and messages."""
        return self.path / PREDICTIONS

    def has_predictions(self) -> bool:
        """True when the run has saved test predictions."""
        return self.predictions_path.is_file()

    def predictions(self) -> Predictions | None:
        """Test-set predictions (predictions.npz, loaded without pickle), or None."""
        p = self.predictions_path
        if not p.is_file():
            return None
        with np.load(p, allow_pickle=False) as z:
            return Predictions(z["y_true"].astype(np.int64), z["y_prob"].astype(np.float32),
                               z["indices"].astype(np.int64), self.classes)

    def write_predictions(self, y_true: Any, y_prob: Any, indices: Any) -> Predictions:
        """Save test-set predictions atomically as predictions.npz (the format predictions() reads)."""
        arrays = {"y_true": np.asarray(y_true).astype(np.int64), "y_prob": np.asarray(y_prob).astype(np.float32),
                  "indices": np.asarray(indices).astype(np.int64)}
        with atomic_path(self.predictions_path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        return Predictions(arrays["y_true"], arrays["y_prob"], arrays["indices"], self.classes)

    def weights_path(self, which: str = "best") -> Path:
        """Path of weights_best/last.safetensors (best falls back to last)."""
        if which not in ("best", "last"):
            raise ValueError(f"which must be 'best' or 'last', got {which!r}")
        p = self.path / WEIGHTS[which]
        if not p.is_file() and which == "best":
            p = self.path / WEIGHTS["last"]
        if not p.is_file():
            raise FileNotFoundError(f"run {self.run_id} has no saved weights yet (no completed epoch)")
        return p

    def read_weights(self, which: str = "best", fallback: bool = True) -> dict[str, Any] | None:
        """The state dict in weights_best/last (best falls back to last unless fallback=False; None when
        there is no such file and no fallback)."""
        from safetensors.torch import load_file

        if not fallback and not (self.path / WEIGHTS[which]).is_file():
            return None
        return load_file(str(self.weights_path(which)))

    def load_model(self, which: str = "best", device: str = "cpu") -> Any:
        """The trained LettersModel (eval mode) on `device`, weights from safetensors."""
        from explorer.models import build_from_config

        model, _ = build_from_config(self.train_config(), self.num_classes, load_pretrained=False)
        model.load_state_dict(self.read_weights(which))
        return model.to(device).eval()

    def splits(self) -> Any:
        """The run's data splits, rebuilt from its DataSpec (deterministic)."""
        from explorer.data import DataSpec, make_splits

        return make_splits(DataSpec.from_dict(self.config["train"]["data"]))

    def test_images(self) -> np.ndarray:
        """uint8 (N, 28, 28) test images, in the order of predictions.npz when present."""
        test = self.splits().test
        images = test.images.numpy()
        preds = self.predictions()
        return images[preds.indices] if preds is not None else images

    def info(self) -> RunInfo:
        """Summary row for lists."""
        cfg = self.config
        train = cfg.get("train", {})
        hist = self.history()
        vals = [h.get("val_acc") for h in hist if h.get("val_acc") is not None]
        metrics = self.metrics() or {}
        stages = train.get("stages") or []
        epochs = sum(int(s.get("epochs", 0)) for s in stages) if stages else int(train.get("epochs", 0))
        return RunInfo(
            run_id=self.run_id, name=cfg.get("name") or self.run_id, model=train.get("model", "?"),
            dataset=(train.get("data") or {}).get("name", "?"), status=self.status["status"],
            created=parse_created(cfg.get("created")), epochs_done=len(hist), epochs=epochs,
            best_val_acc=max(vals) if vals else None, test_acc=metrics.get("test_acc"),
            tags=list(cfg.get("tags") or []), path=str(self.path),
        )  # fmt: skip

    # ---- writers (used by the training loop) ---------------------------------------------------
    def write_status(self, **fields: Any) -> dict[str, Any]:
        """Merge `fields` into status.json (atomically) and return the new status."""
        status = {**self.raw_status, **fields, "heartbeat": time.time()}
        atomic_write_json(self.path / STATUS, status)
        return status

    def update_config(self, **fields: Any) -> None:
        """Merge top-level `fields` into config.json (atomically)."""
        atomic_write_json(self.path / CONFIG, {**self.config, **fields})

    def append_history(self, row: dict[str, Any]) -> None:
        """Add one epoch's record to history.jsonl (atomically)."""
        append_jsonl(self.path / HISTORY, row)

    def write_metrics(self, metrics: dict[str, Any]) -> None:
        """Save the final test metrics (metrics.json, atomically)."""
        atomic_write_json(self.path / METRICS, metrics)

    # ---- derived results (explorer.inside): per-epoch validation predictions and stored views ------
    def write_val_epoch(self, epoch: int, y_true: Any, pred: Any, prob: Any) -> None:
        """Save one epoch's validation predictions compactly (atomically): true and predicted class (int16)
        and the predicted class's probability (float16), val_epochs/epoch-NNNN.npz."""
        arrays = {"y_true": np.asarray(y_true).astype(np.int16), "pred": np.asarray(pred).astype(np.int16),
                  "prob": np.asarray(prob).astype(np.float16)}
        with atomic_path(self.path / VAL_EPOCHS_DIR / f"epoch-{int(epoch):04d}.npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)

    def val_epochs(self) -> dict[int, dict[str, np.ndarray]]:
        """Stored validation predictions {epoch: {y_true, pred, prob}} of the epochs in history.jsonl; a file
        that is unreadable or whose arrays disagree in length is left out (never an exception)."""
        folder, out = self.path / VAL_EPOCHS_DIR, {}
        epochs = {int(r["epoch"]) for r in self.history() if isinstance(r.get("epoch"), int | float)}
        for epoch in sorted(epochs):
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
        folder = self.path / VAL_EPOCHS_DIR
        return sum(f.stat().st_size for f in folder.glob("epoch-*.npz")) if folder.is_dir() else 0

    def _view_path(self, name: str) -> Path:
        if not _VIEW_NAME.fullmatch(name):
            raise ValueError(f"bad stored-view name {name!r}: lower-case letters, digits, . _ - only")
        return self.path / VIEWS_DIR / f"{name}.npz"

    def write_view(self, name: str, arrays: dict[str, Any], meta: dict[str, Any]) -> None:
        """Store a computed view (explorer.inside) atomically as inside/<name>.npz: arrays plus JSON meta."""
        payload = {k: np.asarray(v) for k, v in arrays.items()}
        payload["__meta__"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        with atomic_path(self._view_path(name)) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **payload)

    def read_view(self, name: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """A stored view (arrays, meta), or None when it is missing or unreadable (the caller recomputes)."""
        try:
            with np.load(self._view_path(name), allow_pickle=False) as z:
                arrays = {k: np.asarray(z[k]) for k in z.files}
            meta = json.loads(arrays.pop("__meta__").tobytes().decode("utf-8"))
        except Exception:  # missing, truncated, not an npz, pickled, bad JSON: recompute
            return None
        return (arrays, meta) if isinstance(meta, dict) else None

    # ---- checkpoints: one unit of weights_last (+ weights_best) and optimizer_last ------------------
    def has_checkpoint(self) -> bool:
        """True when the run has (possibly half-renamed) resume state on disk."""
        return any((self.path / n).is_file() for n in (OPTIMIZER, _pending(OPTIMIZER)))

    def save_checkpoint(self, weights: dict[str, Any], optimizer: dict[str, Any], loop: dict[str, Any],
                        history_row: dict[str, Any] | None = None, is_best: bool = False) -> None:
        """Save the checkpoint of completed epoch loop["epoch"]: every file is written whole under its
        pending name first, then renamed into place, so a kill at any instant leaves a loadable checkpoint."""
        import torch

        epoch = int(loop["epoch"])
        _save_weights(self.path / _pending(WEIGHTS["last"]), weights, epoch)
        if is_best:
            _save_weights(self.path / _pending(WEIGHTS["best"]), weights, epoch)
        payload = {"epoch": epoch, "optimizer": optimizer, "loop": dict(loop), "history_row": history_row}
        with atomic_path(self.path / _pending(OPTIMIZER)) as tmp:
            torch.save(payload, tmp)
        for name in (WEIGHTS["best"], WEIGHTS["last"], OPTIMIZER):
            if (self.path / _pending(name)).is_file():
                os.replace(self.path / _pending(name), self.path / name)

    def load_checkpoint(self) -> Checkpoint | None:
        """The newest checkpoint whose files record the same epoch (None when there is none); finishes
        the renames of a checkpoint that was whole when its writer died and drops a partial one."""
        import torch
        from safetensors.torch import load_file

        states: dict[str, dict[str, Any]] = {}
        for name in (OPTIMIZER, _pending(OPTIMIZER)):
            if (self.path / name).is_file():
                states[name] = torch.load(self.path / name, map_location="cpu", weights_only=True)
        epochs = {name: int(p.get("epoch", p["loop"]["epoch"])) for name, p in states.items()}
        weights = {name: self._epoch_of(name) for name in (WEIGHTS["last"], _pending(WEIGHTS["last"]))}
        for name in sorted(states, key=lambda n: epochs[n], reverse=True):
            legacy = name == OPTIMIZER and weights[WEIGHTS["last"]] is None  # files from before epochs were recorded
            if epochs[name] in weights.values() or legacy:
                payload = states[name]
                best_epoch = int(payload["loop"].get("best_epoch") or 0)
                self._settle_checkpoint({WEIGHTS["last"]: epochs[name], OPTIMIZER: epochs[name],
                                         WEIGHTS["best"]: best_epoch}, epochs)
                state = load_file(str(self.path / WEIGHTS["last"]))
                return Checkpoint(epochs[name], state, payload["optimizer"], dict(payload["loop"]),
                                  payload.get("history_row"))
        return None

    def _epoch_of(self, name: str) -> int | None | bool:
        """Epoch recorded in a weights file (None: written before epochs were recorded; False: no file)."""
        p = self.path / name
        return _weights_epoch(p) if p.is_file() else False

    def _settle_checkpoint(self, wanted: dict[str, int], optimizer_epochs: dict[str, int]) -> None:
        """Make the final file names hold the wanted epochs: rename pending files of those epochs in, drop others."""
        for name, want in wanted.items():
            pending = _pending(name)
            if not (self.path / pending).is_file():
                continue
            got = optimizer_epochs.get(pending) if name == OPTIMIZER else self._epoch_of(pending)
            if got == want:
                os.replace(self.path / pending, self.path / name)
            else:
                (self.path / pending).unlink()

    def sync_history(self, checkpoint: Checkpoint | None) -> None:
        """On resume: keep history rows up to the checkpoint's epoch and add its row if missing (no
        checkpoint: no history)."""
        if checkpoint is None:
            (self.path / HISTORY).unlink(missing_ok=True)
            return
        rows = [r for r in self.history() if int(r.get("epoch", 0)) <= checkpoint.epoch]
        if not any(int(r.get("epoch", 0)) == checkpoint.epoch for r in rows) and checkpoint.history_row:
            rows.append(dict(checkpoint.history_row))
        atomic_write_text(self.path / HISTORY, "".join(json.dumps(r) + "\n" for r in rows))


def create_run(config: Any, root: str | os.PathLike | None = None, name: str | None = None,
               tags: list[str] | None = None) -> Run:
    """Create a new run folder for a TrainConfig: config.json and status "running" (pid of this process)."""
    root_p = runs_root(root)
    root_p.mkdir(parents=True, exist_ok=True)
    label = name or getattr(config, "name", "") or ""
    base = f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(label or config.model, default='run', max_len=48)}"
    for i in range(1000):
        run_id = base if i == 0 else f"{base}-{i}"
        try:
            (root_p / run_id).mkdir()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover
        raise RuntimeError(f"could not create a run folder under {root_p}")
    path = root_p / run_id
    clean = safe_name(label, default=run_id, max_len=80) if label else ""  # one cleaned name, top level and train
    atomic_write_json(path / CONFIG, {
        "run_id": run_id, "name": clean or run_id,
        "tags": [safe_name(t, default="tag", max_len=40) for t in tags or []],
        "created": time.strftime(CREATED_FORMAT), "train": {**config.to_dict(), "name": clean}, "data": {},
        "model": {"name": config.model}, "classes": [], "versions": versions(),
    })  # fmt: skip
    atomic_write_json(path / STATUS, {
        "status": "running", "error": None, "pid": os.getpid(), "host": socket.gethostname(),
        "heartbeat": time.time(), "epoch": 0, "stage": 0, "phase": "starting",
    })  # fmt: skip
    return Run(path)


def open_run(ref: str | os.PathLike | Run, root: str | os.PathLike | None = None) -> Run:
    """Open a run by id (under the runs root) or by folder path."""
    if isinstance(ref, Run):
        return ref
    p = Path(ref)
    if (p / CONFIG).is_file():
        return Run(p)
    ref_s = str(ref)
    if "/" in ref_s or "\\" in ref_s or ".." in ref_s:
        raise FileNotFoundError(f"no run folder at {ref_s}")
    cand = runs_root(root) / ref_s
    if (cand / CONFIG).is_file():
        return Run(cand)
    matches = [r for r in _run_dirs(root) if r.name.startswith(ref_s)]
    if len(matches) == 1:
        return Run(matches[0])
    hint = f" ({len(matches)} runs start with it)" if matches else ""
    raise FileNotFoundError(f"no run {ref_s!r} under {runs_root(root)}{hint}; see `python -m explorer runs list`")


def _run_dirs(root: str | os.PathLike | None = None) -> list[Path]:
    r = runs_root(root)
    if not r.is_dir():
        return []
    return sorted(p for p in r.iterdir() if p.is_dir() and (p / CONFIG).is_file())


def list_runs(root: str | os.PathLike | None = None) -> list[RunInfo]:
    """Every run under the root, newest first; unreadable folders are skipped."""
    out = []
    for p in _run_dirs(root):
        try:
            out.append(Run(p).info())
        except (OSError, ValueError, KeyError):
            continue
    return sorted(out, key=lambda r: (r.created, r.run_id), reverse=True)


def rename_run(ref: str | Run, new_name: str, root: str | os.PathLike | None = None) -> Run:
    """Set a run's display name (made safe; the folder, i.e. the run id, stays)."""
    run = open_run(ref, root)
    run.update_config(name=safe_name(new_name, default=run.run_id))
    return run


def tag_run(ref: str | Run, add: list[str] | None = None, remove: list[str] | None = None,
            root: str | os.PathLike | None = None) -> Run:
    """Add and/or remove tags of a run."""
    run = open_run(ref, root)
    tags = [t for t in run.config.get("tags", []) if t not in set(remove or [])]
    for t in add or []:
        t = safe_name(t, default="tag", max_len=40)
        if t not in tags:
            tags.append(t)
    run.update_config(tags=tags)
    return run


def delete_run(ref: str | Run, root: str | os.PathLike | None = None, confirm: bool = False) -> None:
    """Delete a run folder; needs confirm=True and refuses a run that is still running."""
    run = open_run(ref, root)
    if not confirm:
        raise ValueError(f"deleting run {run.run_id} needs confirmation (confirm=True / --yes)")
    if run.status["status"] == "running":
        raise ValueError(f"run {run.run_id} is still running; stop it first")
    # Rename first so a half-deleted folder never looks like a run.
    trash = run.path.with_name(f".deleting-{run.run_id}-{os.getpid()}")
    os.replace(run.path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def export_run(ref: str | Run, dest: str | os.PathLike | None = None, root: str | os.PathLike | None = None) -> Path:
    """Write one zip of the run's files (folder <run_id>/ inside); returns its path."""
    run = open_run(ref, root)
    dest_p = Path(dest) if dest else Path(f"{run.run_id}.zip")
    if dest_p.is_dir():
        dest_p = dest_p / f"{run.run_id}.zip"
    with atomic_path(dest_p) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(RUN_FILES):
            f = run.path / name
            if f.is_file():
                zf.write(f, f"{run.run_id}/{name}")
    return dest_p


def _check_member(info: zipfile.ZipInfo) -> tuple[str, str]:
    """Validate one zip member name -> (folder, file name) or raise ValueError."""
    name = info.filename
    if name.startswith(("/", "\\")) or "\\" in name or ":" in name:
        raise ValueError(f"refused: zip member {name!r} has an absolute or Windows path")
    parts = name.split("/")
    if any(p in ("..", ".", "") for p in parts):
        raise ValueError(f"refused: zip member {name!r} has '..', '.' or an empty path part")
    if len(parts) != 2:
        raise ValueError(f"refused: zip member {name!r} is not <run_id>/<file>")
    folder, fname = parts
    if fname not in RUN_FILES or not fname.endswith(ALLOWED_SUFFIXES):
        raise ValueError(f"refused: zip member {name!r} is not a run file ({', '.join(sorted(RUN_FILES))})")
    if safe_name(folder) != folder:
        raise ValueError(f"refused: run folder name {folder!r} is not safe")
    return folder, fname


def _verify_file(path: Path) -> None:
    """Check that an imported file parses as what its name says, without unpickling anything."""
    import torch

    name = path.name
    try:
        if name.endswith(".jsonl"):
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    json.loads(line)
        elif name.endswith(".json"):
            json.loads(path.read_text("utf-8"))
        elif name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:
                for k in z.files:
                    _ = z[k]
        elif name.endswith(".safetensors"):
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as f:
                list(f.keys())
        elif name.endswith(".pt"):
            torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"refused: {name} is not a valid {path.suffix} file ({type(exc).__name__}: {exc})") from exc


def import_run(zip_path: str | os.PathLike | bytes | BinaryIO, root: str | os.PathLike | None = None) -> Run:
    """Import a run zip made by export_run (a path, or its bytes: nothing is written outside the runs
    root); every member is checked (names, sizes, formats, display strings) before anything lands in
    the runs root. The data root becomes the local one. A clashing run id gets a suffix."""
    label = "the upload" if isinstance(zip_path, bytes | bytearray) or hasattr(zip_path, "read") else str(zip_path)
    source: Any = io.BytesIO(zip_path) if isinstance(zip_path, bytes | bytearray) else zip_path
    if not zipfile.is_zipfile(source):
        raise ValueError(f"{label} is not a zip file; choose a run zip made by Export (runs export)")
    with zipfile.ZipFile(source) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            raise ValueError(f"{label} is empty")
        folders = {_check_member(i)[0] for i in infos}
        if len(folders) != 1:
            raise ValueError(f"refused: the zip holds {len(folders)} top-level folders; expected one run")
        if sum(i.file_size for i in infos) > MAX_IMPORT_BYTES:
            raise ValueError("refused: the zip unpacks to more than 8 GiB")
        folder = folders.pop()
        if CONFIG not in {i.filename.split("/")[1] for i in infos}:
            raise ValueError("refused: the zip has no config.json")
        root_p = runs_root(root)
        root_p.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=root_p))
        try:
            for info in infos:
                _, fname = _check_member(info)
                with zf.open(info) as src, open(staging / fname, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                _verify_file(staging / fname)
            run_id = folder
            for i in range(1, 1000):
                if not (root_p / run_id).exists():
                    break
                run_id = f"{folder}-imported-{i}"
            cfg = json.loads((staging / CONFIG).read_text("utf-8"))
            if not isinstance(cfg, dict) or not isinstance(cfg.get("train"), dict):
                raise ValueError("refused: config.json has no 'train' section")
            st = staging / STATUS
            status = json.loads(st.read_text("utf-8")) if st.is_file() else {"status": "interrupted"}
            if not isinstance(status, dict):
                raise ValueError("refused: status.json is not a JSON object")
            problems = run_strings_problems(cfg, status)
            if problems:
                raise ValueError("refused: names, class names, tags and messages must be short plain text: "
                                 + "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else ""))
            cfg["run_id"] = run_id
            if cfg.get("created"):
                cfg["created"] = min(cfg["created"], time.strftime(CREATED_FORMAT))  # not in the future
            if isinstance(cfg["train"].get("data"), dict):
                cfg["train"]["data"]["root"] = None  # the local data root, never a path from elsewhere
            atomic_write_json(staging / CONFIG, cfg)
            status.pop("pid", None)  # a pid from another machine means nothing here
            atomic_write_json(st, status)
            os.replace(staging, root_p / run_id)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Run(root_p / run_id)


def export_run_bytes(ref: str | Run, root: str | os.PathLike | None = None) -> tuple[str, bytes]:
    """The run zip of export_run built in memory (no file left anywhere) -> (file name, bytes)."""
    run = open_run(ref, root)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(RUN_FILES):
            f = run.path / name
            if f.is_file():
                zf.write(f, f"{run.run_id}/{name}")
    return f"{run.run_id}.zip", buf.getvalue()
