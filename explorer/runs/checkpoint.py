"""The checkpoint protocol of a run: one unit of weights_last (+ weights_best when the epoch improved) and
optimizer_last.pt. Every file records its epoch (safetensors metadata "epoch", the .pt payload's "epoch");
save writes every file whole under its pending name (weights_last.next.safetensors, ...) before any is renamed
into place; load takes the newest epoch whose weights and optimizer files agree, renames in the rest of a
checkpoint that was whole when its writer died and drops a partial one (settle). A kill at any instant resumes
exactly. optimizer_last.pt holds tensors and plain containers only and is loaded with weights_only=True.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.io import atomic_path, atomic_write_text, fault_point
from explorer.runs.checks import OPTIMIZER_ADVICE, RunFileError, is_int
from explorer.runs.layout import HISTORY, OPTIMIZER, WEIGHTS, pending

__all__ = ["Checkpoint", "check_files", "has_checkpoint", "load_checkpoint", "read_weights_file", "save_checkpoint",
           "sync_history"]


@dataclass(frozen=True)
class Checkpoint:
    """The state a run resumes from: weights, optimizer and loop state of one completed epoch."""

    epoch: int
    weights: dict[str, Any]  # state_dict of the LettersModel (cpu tensors)
    optimizer: dict[str, Any]
    loop: dict[str, Any]
    history_row: dict[str, Any] | None = None




def _load_optimizer_file(path: Path) -> dict[str, Any]:
    """Load optimizer_last.pt (tensors and plain containers only; nothing else is unpickled); RunFileError
    naming the file when it is damaged, foreign or holds any other object."""
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError (a foreign object, refused), EOFError, RuntimeError (truncated)
        raise RunFileError(path, f"is damaged or holds objects other than tensors and plain containers, which are "
                                 f"never loaded ({type(exc).__name__})", OPTIMIZER_ADVICE) from None
    loop = payload.get("loop") if isinstance(payload, dict) else None
    epoch = payload.get("epoch", (loop or {}).get("epoch")) if isinstance(loop, dict) else None
    if not (isinstance(loop, dict) and is_int(epoch) and isinstance(payload.get("optimizer"), dict)):
        raise RunFileError(path, "is not a checkpoint of this app (no epoch, loop or optimizer state)", OPTIMIZER_ADVICE)
    return payload



def _weights_epoch(path: Path) -> int | None:
    """The epoch recorded in a safetensors file's metadata (None: older file without it)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            epoch = (f.metadata() or {}).get("epoch")
        return int(epoch) if epoch is not None else None
    except Exception as exc:  # SafetensorError for a truncated/foreign file, ValueError for a bad epoch
        raise RunFileError(path, f"is not a readable safetensors weights file ({type(exc).__name__})") from None


def _check_shapes(path: Path, want: dict[str, tuple[int, ...]], model: str) -> None:
    """RunFileError unless the safetensors file holds exactly the tensors (names, shapes) of the model."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        got = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}  # noqa: SIM118 (not iterable)
    if got != want:
        diff = sorted(set(got.items()) ^ set(want.items()))[0][0]
        raise RunFileError(path, f"does not fit the run's model {model} (tensor {diff!r} is missing, extra or of "
                                 "another shape)", "it belongs to another model or is damaged; restore it or delete "
                                                   "the run")


def _save_weights(path: Path, weights: dict[str, Any], epoch: int) -> None:
    """Write a state dict as safetensors (epoch in the metadata), atomically; a full disk is a DiskFullError."""
    from safetensors.torch import save

    state = {k: v.detach().to("cpu").contiguous() for k, v in weights.items()}
    data = save(state, metadata={"format": "pt", "epoch": str(epoch)})  # bytes: our own write sees ENOSPC
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def _save_torch(path: Path, payload: dict[str, Any]) -> None:
    """torch.save a payload of tensors and plain containers, atomically (written by Python: ENOSPC is seen)."""
    import io

    import torch

    buf = io.BytesIO()
    torch.save(payload, buf)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getbuffer())


def read_weights_file(path: Path) -> dict[str, Any]:
    """The state dict in a safetensors file; RunFileError for a truncated, empty or foreign file."""
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except Exception as exc:  # SafetensorError, OSError ...
        raise RunFileError(path, f"is not a readable safetensors weights file ({type(exc).__name__})") from None


def check_files(folder: Path, want: dict[str, tuple[int, ...]] | None, model: str) -> None:
    """Read what a resume needs (weights headers against the model's tensor shapes `want`, the optimizer state)
    through their checks, so a damaged file is refused (RunFileError) before anything is touched."""
    for name in WEIGHTS.values():
        if want is not None and (folder / name).is_file():
            _weights_epoch(folder / name)
            _check_shapes(folder / name, want, model)
    if (folder / OPTIMIZER).is_file():
        _load_optimizer_file(folder / OPTIMIZER)


def has_checkpoint(folder: Path) -> bool:
    """True when the run has (possibly half-renamed) resume state on disk."""
    return any((folder / n).is_file() for n in (OPTIMIZER, pending(OPTIMIZER)))


def save_checkpoint(folder: Path, weights: dict[str, Any], optimizer: dict[str, Any], loop: dict[str, Any],
                    history_row: dict[str, Any] | None = None, is_best: bool = False) -> None:
    """Save the checkpoint of completed epoch loop["epoch"]: every file is written whole under its
    pending name first, then renamed into place, so a kill at any instant leaves a loadable checkpoint."""
    epoch = int(loop["epoch"])
    names = [pending(WEIGHTS["last"]), pending(OPTIMIZER)] + ([pending(WEIGHTS["best"])] if is_best else [])
    try:
        _save_weights(folder / names[0], weights, epoch)
        fault_point(f"ckpt:pending-last@{epoch}")
        if is_best:
            _save_weights(folder / names[2], weights, epoch)
            fault_point(f"ckpt:pending-best@{epoch}")
        payload = {"epoch": epoch, "optimizer": optimizer, "loop": dict(loop), "history_row": history_row}
        _save_torch(folder / names[1], payload)
        fault_point(f"ckpt:pending-optimizer@{epoch}")
    except BaseException:
        for name in names:  # a partial checkpoint is dropped: the previous one stays whole and in place
            (folder / name).unlink(missing_ok=True)
        raise
    for name in (WEIGHTS["best"], WEIGHTS["last"], OPTIMIZER):
        if (folder / pending(name)).is_file():
            os.replace(folder / pending(name), folder / name)
            fault_point(f"ckpt:renamed-{name.split('.')[0]}@{epoch}")


def load_checkpoint(folder: Path) -> Checkpoint | None:
    """The newest checkpoint whose files record the same epoch (None when there is none); finishes
    the renames of a checkpoint that was whole when its writer died and drops a partial one."""
    states: dict[str, dict[str, Any]] = {}
    for name in (OPTIMIZER, pending(OPTIMIZER)):
        if (folder / name).is_file():
            states[name] = _load_optimizer_file(folder / name)
    epochs = {name: int(p.get("epoch", p["loop"]["epoch"])) for name, p in states.items()}
    weights = {name: _epoch_of(folder, name) for name in (WEIGHTS["last"], pending(WEIGHTS["last"]))}
    for name in sorted(states, key=lambda n: epochs[n], reverse=True):
        legacy = name == OPTIMIZER and weights[WEIGHTS["last"]] is None  # files from before epochs were recorded
        if epochs[name] in weights.values() or legacy:
            payload = states[name]
            best_epoch = int(payload["loop"].get("best_epoch") or 0)
            _settle(folder, {WEIGHTS["last"]: epochs[name], OPTIMIZER: epochs[name], WEIGHTS["best"]: best_epoch},
                    epochs)
            state = read_weights_file(folder / WEIGHTS["last"])
            return Checkpoint(epochs[name], state, payload["optimizer"], dict(payload["loop"]),
                              payload.get("history_row"))
    return None


def _epoch_of(folder: Path, name: str) -> int | None | bool:
    """Epoch recorded in a weights file (None: written before epochs were recorded; False: no file)."""
    p = folder / name
    return _weights_epoch(p) if p.is_file() else False


def _settle(folder: Path, wanted: dict[str, int], optimizer_epochs: dict[str, int]) -> None:
    """Make the final file names hold the wanted epochs: rename pending files of those epochs in, drop others."""
    for name, want in wanted.items():
        name_pending = pending(name)
        if not (folder / name_pending).is_file():
            continue
        got = optimizer_epochs.get(name_pending) if name == OPTIMIZER else _epoch_of(folder, name_pending)
        if got == want:
            os.replace(folder / name_pending, folder / name)
        else:
            (folder / name_pending).unlink()


def sync_history(folder: Path, rows: list[dict[str, Any]], checkpoint: Checkpoint | None) -> None:
    """On resume: keep the history `rows` up to the checkpoint's epoch and add its row if missing (no
    checkpoint: no history)."""
    if checkpoint is None:
        (folder / HISTORY).unlink(missing_ok=True)
        return
    rows = [r for r in rows if int(r.get("epoch", 0)) <= checkpoint.epoch]
    if not any(int(r.get("epoch", 0)) == checkpoint.epoch for r in rows) and checkpoint.history_row:
        rows.append(dict(checkpoint.history_row))
    atomic_write_text(folder / HISTORY, "".join(json.dumps(r) + "\n" for r in rows))
