"""Loaded run models: the one cache of a saved run's model, and the check of its weights file.

Every page (Draw, Explain, Results' "evaluate now") and the CLI load a run's model with
`load_run_model`; Streamlit pages may wrap it but keep no cache of models of their own. The cache
is keyed by run folder + which weights + the weights file's stamp (size, modification time in ns),
so retraining (a rewritten weights file) loads the new weights. A weights file that is corrupt,
truncated or not safetensors gives a WeightsError naming the file and the reason.
"""

from __future__ import annotations

import json
import os
import struct
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from explorer.runs import Run, open_run, weights_stamp

__all__ = [
    "CACHE_SIZE",
    "NoWeightsError",
    "WeightsError",
    "cached_models",
    "check_weights",
    "clear_model_cache",
    "load_run_model",
    "weights_stamp",
]

MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
                "BOOL": 1, "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1}  # fmt: skip
CACHE_SIZE = 8


class WeightsError(ValueError):
    """A run's weights file cannot be used; the message names the file and what is wrong."""


class NoWeightsError(WeightsError, FileNotFoundError):
    """The run has no weights file yet (no completed epoch); also a FileNotFoundError."""


# ------------------------------------------------------------------------------ weights file check
def _read_header(p: Path) -> tuple[dict, int]:
    """(the safetensors JSON header, bytes of tensor data after it); WeightsError if the framing is bad."""
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise WeightsError(f"weights file {p} is truncated or empty ({size} bytes); it is not a valid "
                                   "safetensors file. Retrain the run or delete it.")
            (n,) = struct.unpack("<Q", head)
            if n == 0 or n > MAX_HEADER_BYTES or n > size - 8:
                raise WeightsError(f"weights file {p} is not a valid safetensors file (or is truncated): its "
                                   f"first 8 bytes give a header of {n:,} bytes in a {size:,}-byte file.")
            raw = fh.read(n)
    except FileNotFoundError as exc:
        raise WeightsError(f"weights file {p} is missing") from exc
    except OSError as exc:
        raise WeightsError(f"weights file {p} cannot be read: {exc}") from exc
    try:
        header = json.loads(raw.decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("header is not a JSON object")
    except (UnicodeDecodeError, ValueError) as exc:
        raise WeightsError(f"weights file {p} is not a valid safetensors file: its header is not valid JSON "
                           f"({exc}).") from exc
    return header, size - 8 - n


def check_weights(path: str | os.PathLike) -> None:
    """Check a safetensors file's framing (header, offsets, size) without loading it; WeightsError if bad."""
    p = Path(path)
    header, data_len = _read_header(p)
    end = 0
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            start, stop = (int(v) for v in info["data_offsets"])
            expected = int(np.prod(info["shape"], dtype=np.int64)) * _DTYPE_BYTES.get(info["dtype"], 0)
        except (KeyError, TypeError, ValueError) as exc:
            raise WeightsError(f"weights file {p} is corrupt: bad header entry for {name!r}.") from exc
        if stop < start or (info["dtype"] in _DTYPE_BYTES and stop - start != expected):
            raise WeightsError(f"weights file {p} is corrupt: tensor {name!r} has inconsistent offsets.")
        end = max(end, stop)
    if end > data_len:
        raise WeightsError(f"weights file {p} is truncated: its header needs {end:,} bytes of tensor data, "
                           f"the file holds {data_len:,}. Retrain the run or delete it.")


# ------------------------------------------------------------------------------ the cache
_CACHE: OrderedDict[tuple[str, str, str, int, int], nn.Module] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def clear_model_cache() -> None:
    """Forget every cached model."""
    with _CACHE_LOCK:
        _CACHE.clear()


def cached_models() -> int:
    """How many run models the cache holds now."""
    with _CACHE_LOCK:
        return len(_CACHE)


def _load(run: Run, which: str, path: Path) -> nn.Module:
    """Check and load a run's weights into its model (eval mode, CPU) and warm it up; WeightsError if bad."""
    check_weights(path)
    try:
        model = run.load_model(which=which)
    except Exception as exc:  # safetensors/torch raise several types for a bad file
        msg = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        arch = run.model_name
        raise WeightsError(f"weights file {path} cannot be loaded into {arch}: {msg}") from exc
    with torch.inference_mode():  # warm-up: the first forward allocates; later ones are the live latency
        model(torch.zeros(1, 1, 28, 28))
    return model


def load_run_model(ref: str | os.PathLike | Run, which: str = "best", root: str | os.PathLike | None = None
                   ) -> nn.Module:
    """A run's model in eval mode on the CPU, cached by run folder + which + weights stamp.

    The same object comes back until the weights file changes; WeightsError if it cannot be used,
    NoWeightsError (also a FileNotFoundError) if the run has no weights yet.
    """
    run = ref if isinstance(ref, Run) else open_run(ref, root)
    try:
        path = run.weights_path(which)
        stamp = weights_stamp(path)
    except FileNotFoundError as exc:
        raise NoWeightsError(str(exc)) from exc
    key = (str(run.path.resolve()), which, str(path.name), *stamp)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    model = _load(run, which, path)
    with _CACHE_LOCK:
        _CACHE[key] = model
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return model
