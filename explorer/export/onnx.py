"""Export a run's letters model to ONNX, verified by onnxruntime against torch on its test split.

The exported graph is the whole LettersModel (adapter folded in) plus a softmax: input `images`
float32 (N, 1, 28, 28) in [0, 1], output `probabilities` (N, K). Export fails (nothing left in the
output folder) unless onnxruntime's top-1 equals torch's on every test image.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

ONNX_FILE = "model.onnx"
CARD_FILE = "MODEL_CARD.md"
REPORT_FILE = "export.json"
OPSET = 18


class ExportError(ValueError):
    """The model could not be exported, or the exported model disagrees with torch."""


@dataclass
class ExportReport:
    """What the export wrote and how well onnxruntime agreed with torch."""

    run_id: str
    model: str
    path: str
    images: int
    top1_agree: int
    max_prob_diff: float
    export_s: float
    verify_s: float
    torch_ms_per_image: float
    onnx_ms_per_image: float
    opset: int = OPSET

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report."""
        return asdict(self)


class _WithSoftmax(nn.Module):
    """The letters model followed by a softmax (the exported graph)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Probabilities for (N, 1, 28, 28) letters in [0, 1]."""
        return torch.softmax(self.model(images).float(), dim=1)


def _unsupported_op(text: str) -> str | None:
    """The op named in an exporter error (e.g. 'No ONNX function found for <OpOverload(op='x.y', ...)>'), if any."""
    m = re.search(r"No ONNX function found for <OpOverload\(op='([^']+)', overload='([^']+)'", text)
    if m:
        return f"{m.group(1)}.{m.group(2)}"
    m = re.search(r"target=torch\.ops\.([A-Za-z0-9_.]+)", text) or re.search(r"(aten::[A-Za-z0-9_.]+)", text)
    return m.group(1) if m else None


def export_onnx_file(model: nn.Module, path: str | os.PathLike, opset: int = OPSET) -> float:
    """Write `model` (takes (N, 1, 28, 28)) with a softmax to `path`; returns seconds; ExportError names the op."""
    wrapped = _WithSoftmax(model).eval()
    x = torch.rand(2, 1, 28, 28)
    t0 = time.perf_counter()
    log = io.StringIO()
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), torch.no_grad():
            torch.onnx.export(wrapped, (x,), str(path), input_names=["images"], output_names=["probabilities"],
                              dynamic_shapes={"images": {0: torch.export.Dim("batch")}}, opset_version=opset,
                              dynamo=True, external_data=False)
    except Exception as exc:  # the exporter raises many types; all mean "this network does not export"
        text = f"{exc}\n{exc.__cause__}\n{log.getvalue()}"
        op = _unsupported_op(text)
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        where = f"op {op} " if op else "the network "
        raise ExportError(f"cannot export {getattr(model, 'name', type(model).__name__)} to ONNX: {where}"
                          f"has no ONNX translation at opset {opset} ({type(exc).__name__}: {first}). "
                          "Pick another architecture or file an issue with this message.") from None
    return time.perf_counter() - t0


def onnx_session(path: str | os.PathLike) -> Any:
    """An onnxruntime CPU session for an exported model; a clear error when onnxruntime is missing."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise ExportError("onnxruntime is not installed: pip install onnxruntime") from None
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def onnx_probabilities(session: Any, images: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """Softmax probabilities (N, K) from an exported model for float32 (N, 1, 28, 28) in [0, 1]."""
    out = [session.run(None, {"images": images[i:i + batch_size]})[0] for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype(np.float32)


def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def verify(model: nn.Module, session: Any, images: np.ndarray) -> tuple[int, float, float, float]:
    """(top-1 agreements, max |prob diff|, torch s, onnx s) over `images` (float32 N,1,28,28)."""
    from explorer.models.inference import probabilities

    p_torch, t_torch = _timed(probabilities, model, images)
    p_onnx, t_onnx = _timed(onnx_probabilities, session, images)
    if p_onnx.shape != p_torch.shape:
        raise ExportError(f"exported model gives shape {p_onnx.shape}, torch gives {p_torch.shape}")
    agree = int((p_onnx.argmax(1) == p_torch.argmax(1)).sum())
    return agree, float(np.abs(p_onnx - p_torch).max()), t_torch, t_onnx


def export_onnx(ref: Any, out: str | os.PathLike, fmt: str = "onnx", which: str = "best",
               limit: int | None = None, root: str | os.PathLike | None = None) -> ExportReport:
    """Export a saved run to `out`/model.onnx with a model card; fails unless onnxruntime's top-1 equals torch's."""
    from explorer.io import atomic_write_json, atomic_write_text, ensure_writable_folder
    from explorer.models.inference import model_lock
    from explorer.run_models import load_run_model
    from explorer.runs import open_run

    if fmt != "onnx":
        raise ExportError(f"unknown export format {fmt!r}; the only format is onnx")
    run = open_run(ref, root)
    model = load_run_model(run, which=which)
    images = (run.test_images()[:limit] if limit else run.test_images()).astype(np.float32)[:, None] / 255.0
    if len(images) == 0:
        raise ExportError(f"run {run.run_id} has an empty test split: nothing to verify the export against")
    out = Path(out)
    try:  # an unwritable folder is said as such before the exporter runs (it would blame the network)
        ensure_writable_folder(out)
    except OSError as exc:
        raise ExportError(f"cannot write into {out}: {exc.strerror or exc}; choose a folder you can write to "
                          "(--out)") from None
    tmp = out / f".{ONNX_FILE}.{os.getpid()}.tmp"
    try:
        with model_lock(model):
            export_s = export_onnx_file(model, tmp)
        agree, diff, t_torch, t_onnx = verify(model, onnx_session(tmp), images)
        if agree != len(images):
            raise ExportError(f"exported model disagrees with torch on {len(images) - agree} of {len(images)} "
                              f"test images (max probability difference {diff:.3g}); export refused")
        os.replace(tmp, out / ONNX_FILE)
    finally:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".data").unlink(missing_ok=True)
    n = len(images)
    report = ExportReport(run.run_id, str(getattr(model, "name", "")), str(out / ONNX_FILE), n, agree, diff,
                          export_s, t_torch + t_onnx, 1e3 * t_torch / n, 1e3 * t_onnx / n)
    atomic_write_json(out / REPORT_FILE, report.to_dict())
    atomic_write_text(out / CARD_FILE, model_card(run, report))
    return report


def model_card(run: Any, report: ExportReport) -> str:
    """Markdown model card: data, classes, preprocessing, metrics, verification and usage."""
    rec = run.record
    classes = list(rec.classes)
    metrics = run.metrics() or {}
    metric_lines = "\n".join(f"- {k}: {v:.4g}" if isinstance(v, float) else f"- {k}: {v}"
                             for k, v in metrics.items() if isinstance(v, (int, float, str)))
    return f"""# {rec.name} ({report.model}) — ONNX export

Run `{run.run_id}`, exported from CNN Explorer with torch {torch.__version__}, ONNX opset {report.opset}.

## Data
- dataset: {rec.dataset} (split record: {json_short(rec.split)})
- classes ({len(classes)}, output index order): {' '.join(classes)}

## Input and preprocessing
- input `images`: float32 (N, 1, 28, 28), values in [0, 1] (uint8 / 255), light strokes on dark, upright.
- the per-model adapter (resize/pad, gray to RGB, mean/std normalisation) is inside the graph:
  feed the 28x28 letter as it is. For a photo or drawing, explorer.data.preprocess_image gives the
  EMNIST-style crop, centre, blur and 28x28 downsampling first.
- output `probabilities`: float32 (N, {len(classes)}), softmax over the classes.

## Metrics (torch, saved test split)
{metric_lines or '- (no test metrics saved)'}

## Verification
onnxruntime (CPU) against torch on {report.images} test images: top-1 identical on {report.top1_agree},
max probability difference {report.max_prob_diff:.3g}. Latency per image (batched): torch
{report.torch_ms_per_image:.3f} ms, onnxruntime {report.onnx_ms_per_image:.3f} ms.

## Usage
```python
import numpy as np
import onnxruntime as ort
from PIL import Image

CLASSES = {classes!r}
session = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
img = np.asarray(Image.open("letter.png").convert("L").resize((28, 28)), dtype=np.float32) / 255.0
probs = session.run(None, {{"images": img[None, None]}})[0][0]
top = np.argsort(probs)[::-1][:3]
print([(CLASSES[i], round(float(probs[i]), 3)) for i in top])
```
"""


def json_short(obj: Any, limit: int = 200) -> str:
    """Compact JSON of `obj`, cut at `limit` characters."""
    import json

    text = json.dumps(obj, default=str, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"
