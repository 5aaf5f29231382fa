"""Live prediction: one image -> the model's tensor -> top-k letters with probabilities.

The image goes through the one preprocessing path (explorer.data.preprocess_image), so a canvas
drawing, an uploaded photo and a dataset image reach the model the same way. Run models are
loaded once and cached by run folder + weights file modification time; a weights file that is
corrupt, truncated or not safetensors gives a WeightsError naming the file and the reason.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.data import preprocess_image
from explorer.runs import Run, RunInfo, list_runs, open_run

__all__ = [
    "Prediction",
    "WeightsError",
    "check_weights",
    "clear_model_cache",
    "format_top",
    "load_run_model",
    "predict_image",
    "predict_from_image",
    "runs_for_prediction",
]

MAX_HEADER_BYTES = 100 * 1024 * 1024  # safetensors' own limit on the JSON header
_DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
                "BOOL": 1, "U16": 2, "U32": 4, "U64": 8, "F8_E4M3": 1, "F8_E5M2": 1}  # fmt: skip


class WeightsError(ValueError):
    """A run's weights file cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Prediction:
    """One image's prediction: the top-k classes, every class probability and the time it took."""

    letters: list[str]  # top-k class names, most probable first
    top_probs: list[float]  # their probabilities
    probs: np.ndarray  # (K,) softmax over every class
    classes: list[str]
    latency_ms: float  # wall time of what was measured (preprocess +) forward + softmax
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def top(self) -> tuple[str, float]:
        """The most probable class and its probability."""
        return self.letters[0], self.top_probs[0]

    @property
    def index(self) -> int:
        """Class index of the top prediction."""
        return int(self.probs.argmax())

    def frame(self) -> Any:
        """The top-k as a DataFrame (letter, probability), most probable first."""
        import pandas as pd

        return pd.DataFrame({"letter": self.letters, "probability": self.top_probs})


def format_top(pred: Prediction) -> str:
    """The top letter and its probability as text, e.g. "L 93.1%"."""
    letter, p = pred.top
    return f"{letter} {100 * p:.1f}%"


def _class_names(model: nn.Module, classes: Sequence[str] | None, k: int) -> list[str]:
    if classes is not None and len(classes) == k:
        return list(classes)
    if k == 26:
        return [chr(65 + i) for i in range(26)]
    return [str(i) for i in range(k)]


def predict_image(model: nn.Module, x: torch.Tensor, classes: Sequence[str] | None = None, k: int = 5) -> Prediction:
    """Forward one preprocessed (1, 28, 28) tensor (or (1, 1, 28, 28)) and softmax -> Prediction."""
    t0 = time.perf_counter()
    batch = x if x.ndim == 4 else x.unsqueeze(0)
    if batch.shape[0] != 1 or batch.shape[1] != 1:
        raise ValueError(f"predict_image takes one 1-channel image (1, 28, 28), got {tuple(x.shape)}")
    param = next(model.parameters(), None)
    if param is not None and batch.device != param.device:
        batch = batch.to(param.device)
    from explorer.explain.core import model_lock

    with model_lock(model), torch.inference_mode():  # not while an explanation has hooks on this model
        out = model(batch.float())
        if isinstance(out, tuple | list):
            out = out[0]
        probs_t = torch.softmax(out.float(), dim=1)[0]
    probs = probs_t.cpu().numpy()
    ms = (time.perf_counter() - t0) * 1000.0
    names = _class_names(model, classes, probs.shape[0])
    order = np.argsort(-probs, kind="stable")[: min(k, probs.shape[0])]
    return Prediction([names[i] for i in order], [float(probs[i]) for i in order], probs, names, ms,
                      {"forward_ms": ms})  # fmt: skip


def predict_from_image(model: nn.Module, image: Any, classes: Sequence[str] | None = None,
                       k: int = 5) -> tuple[torch.Tensor, Prediction]:
    """Any image (canvas RGBA array, upload bytes, PIL) -> (the (1, 28, 28) tensor, its Prediction).

    Raises explorer.data.ImageError for unusable input, BlankImageError when nothing is drawn.
    """
    t0 = time.perf_counter()
    x = preprocess_image(image)
    pre_ms = (time.perf_counter() - t0) * 1000.0
    pred = predict_image(model, x, classes, k)
    timings = {"preprocess_ms": pre_ms, **pred.timings}
    return x, Prediction(pred.letters, pred.top_probs, pred.probs, pred.classes, pre_ms + pred.latency_ms, timings)


# ------------------------------------------------------------------------------ weights
def check_weights(path: str | os.PathLike) -> None:
    """Check a safetensors file's framing (header, offsets, size) without loading it; WeightsError if bad."""
    p = Path(path)
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise WeightsError(f"weights file {p} is truncated or empty ({size} bytes); it is not a "
                                   "safetensors file. Retrain the run or delete it.")
            (n,) = struct.unpack("<Q", head)
            if n == 0 or n > MAX_HEADER_BYTES or n > size - 8:
                raise WeightsError(f"weights file {p} is not a safetensors file (or is truncated): its first 8 "
                                   f"bytes give a header of {n:,} bytes in a {size:,}-byte file.")
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
        raise WeightsError(f"weights file {p} is not a safetensors file: its header is not valid JSON ({exc}).") from exc
    data_len = size - 8 - n
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


_CACHE: OrderedDict[tuple[str, str, float, int], nn.Module] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 8


def clear_model_cache() -> None:
    """Forget every cached model."""
    with _CACHE_LOCK:
        _CACHE.clear()


def load_run_model(ref: str | os.PathLike | Run, which: str = "best", root: str | os.PathLike | None = None) -> nn.Module:
    """A run's model in eval mode on the CPU, cached by run folder + weights mtime; WeightsError if unreadable."""
    run = open_run(ref, root)
    try:
        path = run.weights_path(which)
    except FileNotFoundError as exc:
        raise WeightsError(str(exc)) from exc
    stat = path.stat()
    key = (str(run.path.resolve()), which, stat.st_mtime, stat.st_size)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    check_weights(path)
    try:
        model = run.load_model(which=which)
    except WeightsError:
        raise
    except Exception as exc:  # safetensors/torch raise several types for a bad file
        msg = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise WeightsError(f"weights file {path} cannot be loaded into {run.config.get('train', {}).get('model', '?')}: "
                           f"{msg}") from exc
    with torch.inference_mode():  # warm-up: the first forward allocates; later ones are the live latency
        model(torch.zeros(1, 1, 28, 28))
    with _CACHE_LOCK:
        _CACHE[key] = model
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return model


def runs_for_prediction(root: str | os.PathLike | None = None) -> tuple[list[RunInfo], dict[str, str]]:
    """Runs with weights: (readable runs, {run_id: reason} for the unreadable ones), newest first."""
    ok: list[RunInfo] = []
    bad: dict[str, str] = {}
    for info in list_runs(root):
        run = Run(info.path)
        try:
            path = run.weights_path("best")
        except FileNotFoundError:
            continue  # no completed epoch yet: nothing to predict with
        try:
            check_weights(path)
        except WeightsError as exc:
            bad[info.run_id] = str(exc)
            continue
        ok.append(info)
    return ok, bad
