"""The system check: versions, every device, and a tiny real run of each path a user can pick.

Training checks run the real training loop (`explorer.train.loop.fit`, no run folder) on a tiny
built-in letters set, so amp, GradScaler, channels_last and torch.compile go through the code a
user's run goes through. torch.compile runs in a child process with a time bound (a first compile
on a CPU can take minutes). Evaluation, prediction and Grad-CAM use the public functions the app uses.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

Progress = Callable[[float, str], None]
STATUSES = ("pass", "fail", "unsupported", "skipped")
AMPS = ("none", "bf16", "fp16")
AMP_LABEL = {"none": "train fp32", "bf16": "train bf16", "fp16": "train fp16 (GradScaler)"}
DEFAULT_COMPILE_TIMEOUT_S = 180.0
TINY_PER_CLASS = 4  # built-in letters per class for the training checks (104 images)
BATCH = 32


@dataclass
class Check:
    """One path on one device: how it went, how fast, how much memory, and a sentence when not 'pass'."""

    device: str
    name: str
    status: str  # one of STATUSES
    seconds: float = 0.0
    images_per_s: float | None = None
    peak_mem_mb: float | None = None  # GPU only: torch.cuda.max_memory_allocated during the check
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)


@dataclass
class DoctorReport:
    """Everything the doctor found."""

    versions: dict[str, Any]
    devices: list[dict[str, Any]]
    gpu_note: str | None  # why no GPU is used (None when one is)
    checks: list[Check] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        """Checks of user-selectable paths that failed."""
        return [c for c in self.checks if c.status == "fail"]

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (`doctor --json`)."""
        return {"ok": self.ok, "versions": self.versions, "devices": self.devices, "gpu_note": self.gpu_note,
                "checks": [c.to_dict() for c in self.checks]}

    def to_dataframe(self) -> Any:
        """The checks as a pandas DataFrame (one row per device and path)."""
        import pandas as pd

        cols = ["device", "name", "status", "images_per_s", "peak_mem_mb", "seconds", "note"]
        return pd.DataFrame([c.to_dict() for c in self.checks], columns=cols)


# ---------------------------------------------------------------------------------------------
# What is installed and what is seen


def versions() -> dict[str, Any]:
    """The versions a run records (explorer.runs.versions: torch, torchvision, timm, explorer, Python) plus the
    CUDA build, cuDNN and the platform."""
    from explorer.runs import versions as run_versions

    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {**run_versions(), "cuda_build": torch.version.cuda, "cudnn": cudnn, "platform": platform.platform()}


def why_no_gpu() -> str | None:
    """None when a CUDA GPU is usable, else one sentence: no CUDA build, no driver, or no device."""
    if torch.version.cuda is None and getattr(torch.version, "hip", None) is None:
        return (f"No GPU: this torch ({torch.__version__}) is a CPU-only build (torch.version.cuda is None); "
                "install a CUDA build of torch to train on a GPU.")
    if torch.cuda.is_available() and torch.cuda.device_count() > 0:
        return None
    msg = ""
    try:
        torch.cuda.init()
    except Exception as exc:  # torch says why in the message
        msg = str(exc).split(". ")[0]
    build = f"torch is built for CUDA {torch.version.cuda}"
    if "no nvidia driver" in msg.lower():
        return f"No GPU: {build}, but no NVIDIA driver was found on this machine (nvidia-smi should list the GPU)."
    if "driver" in msg.lower():
        return f"No GPU: {build}, but the NVIDIA driver cannot run it ({msg})."
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return f"No GPU: {build} and a driver is present, but CUDA_VISIBLE_DEVICES={visible!r} hides every device."
    return f"No GPU: {build} and a driver is present, but no CUDA device is visible" + (f" ({msg})." if msg else ".")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def list_devices() -> list[dict[str, Any]]:
    """Every device torch can use: the CPU and each visible CUDA GPU (name, capability, memory)."""
    devices: list[dict[str, Any]] = [{"device": "cpu", "name": _cpu_name(), "threads": torch.get_num_threads()}]
    if why_no_gpu() is None:
        arch = torch.cuda.get_arch_list()
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            devices.append({"device": f"cuda:{i}", "name": p.name, "capability": f"{p.major}.{p.minor}",
                            "memory_mb": round(p.total_memory / 2**20), "torch_arch_list": arch})
    return devices


# ---------------------------------------------------------------------------------------------
# What each device supports (a sentence when not)


def amp_support(device: torch.device, amp: str) -> str | None:
    """None when `amp` runs natively on `device`, else the sentence a user needs."""
    if amp == "none":
        return None
    if device.type != "cuda":
        return (f"{amp} mixed precision is for GPUs: on {device.type} the loop trains in float32 instead "
                "(that fallback was run and works).")
    major, minor = torch.cuda.get_device_capability(device)
    if amp == "bf16" and major < 8:
        return f"bf16 needs compute capability 8.0; this GPU is {major}.{minor}: use fp16."
    return None


def compile_support(device: torch.device) -> str | None:
    """None when torch.compile can work on `device`, else why not."""
    import importlib.util

    if sys.version_info >= (3, 14) and torch.__version__ < "2.9":
        return f"torch.compile does not support Python {platform.python_version()} in torch {torch.__version__}."
    if device.type == "cpu":
        cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++") or shutil.which("clang++")
        if not cxx:
            return "torch.compile on the CPU needs a C++ compiler (g++ or clang++) on PATH; none was found: leave compile off."
        return None
    if importlib.util.find_spec("triton") is None:
        return "torch.compile on a GPU needs the triton package, which is not installed: leave compile off."
    major, minor = torch.cuda.get_device_capability(device)
    if major < 7:
        return f"torch.compile (triton) needs compute capability 7.0; this GPU is {major}.{minor}: leave compile off."
    return None


# ---------------------------------------------------------------------------------------------
# Measuring


@contextmanager
def _measure(device: torch.device) -> Iterator[dict[str, float | None]]:
    """Wall seconds and (GPU) peak memory of the block, written into the yielded dict."""
    out: dict[str, float | None] = {"seconds": 0.0, "peak_mem_mb": None}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    try:
        yield out
    finally:
        if device.type == "cuda":
            torch.cuda.synchronize(device)
            out["peak_mem_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
        out["seconds"] = time.perf_counter() - t0


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


# ---------------------------------------------------------------------------------------------
# The checks


def tiny_config(device: str, model: str = "small_cnn", **changes: Any) -> Any:
    """The TrainConfig of a training check: 2 epochs of 104 built-in letters, batch 32, no validation split."""
    from explorer.config import TrainConfig, default_data

    data = replace(default_data(), size=TINY_PER_CLASS, val_fraction=0.0)
    return TrainConfig(model=model, data=data, epochs=2, batch_size=BATCH, schedule="none", lr=0.01,
                       device=device, **changes)


def train_check(device: torch.device, name: str, model: str = "small_cnn", **changes: Any) -> Check:
    """Run the real training loop (no run folder) for a tiny config; images/s of its last epoch."""
    from explorer.train.loop import fit

    rows: list[dict[str, Any]] = []
    info: dict[str, Any] = {}

    def cb(event: str, data: dict[str, Any]) -> None:
        if event == "epoch_end":
            rows.append(data)
        elif event == "done":
            info.update(data)

    cfg = tiny_config(str(device), model, **changes)
    with _measure(device) as m:
        try:
            result = fit(cfg, None, callback=cb)
        except Exception as exc:  # fit records failures itself; this is what escaped it
            result, info["error"] = "failed", _first_line(exc)
    dev = str(device)
    if result != "completed" or not rows:
        return Check(dev, name, "fail", m["seconds"] or 0.0, note=str(info.get("error") or f"the run ended {result}"))
    if not np.isfinite(rows[-1]["train_loss"]):
        return Check(dev, name, "fail", m["seconds"] or 0.0, note=f"training loss is {rows[-1]['train_loss']}")
    return Check(dev, name, "pass", m["seconds"] or 0.0, rows[-1]["images_per_s"], m["peak_mem_mb"])


def amp_check(device: torch.device, amp: str, model: str = "small_cnn") -> Check:
    """One training run per amp mode; 'unsupported' with the reason where the device cannot do it."""
    reason = amp_support(device, amp)
    if reason and device.type == "cuda":
        return Check(str(device), AMP_LABEL[amp], "unsupported", note=reason)
    check = train_check(device, AMP_LABEL[amp], model, amp=amp)
    if reason and check.status == "pass":  # the CPU fallback ran: still say plainly that amp is GPU-only
        check.status, check.note = "unsupported", reason
    return check


def compile_check(device: torch.device, model: str = "small_cnn",
                  timeout_s: float = DEFAULT_COMPILE_TIMEOUT_S) -> Check:
    """A training run with torch.compile in a child process, killed after `timeout_s` (then 'skipped')."""
    name, dev = "train torch.compile", str(device)
    reason = compile_support(device)
    if reason:
        return Check(dev, name, "unsupported", note=reason)
    if timeout_s <= 0:
        return Check(dev, name, "skipped", note="compile check skipped (time bound 0 s); run `doctor` without "
                     "--compile-timeout 0 to try it")
    root = Path(__file__).resolve().parents[2]
    code = ("import json, sys, torch; from explorer.doctor.core import train_check; "
            "c = train_check(torch.device(sys.argv[1]), 'train torch.compile', sys.argv[2], compile=True); "
            "print('@@' + json.dumps(c.to_dict()))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen([sys.executable, "-c", code, dev, model], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)
    t0 = time.perf_counter()
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        how = " (it builds C++ kernels with the system compiler)" if device.type == "cpu" else ""
        return Check(dev, name, "skipped", time.perf_counter() - t0,
                     note=f"torch.compile did not finish within {timeout_s:.0f} s on {dev}{how}; not counted as a "
                     "failure. A compiled run pays this once at its start; --compile-timeout waits longer.")
    for line in out.splitlines():
        if line.startswith("@@"):
            return Check(**json.loads(line[2:]))
    last = (err.strip().splitlines() or ["no output"])[-1]
    return Check(dev, name, "fail", time.perf_counter() - t0, note=f"the compile check crashed: {last}")


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill a child started with start_new_session (and the compile workers it started)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (AttributeError, ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


def letters_sample() -> tuple[torch.Tensor, torch.Tensor]:
    """Real letters for the inference checks: the tiny built-in test split (260 images)."""
    from explorer.data import DataSpec, make_splits

    test = make_splits(DataSpec(size=TINY_PER_CLASS, val_fraction=0.0)).test
    return test.images, test.labels


def _evaluate_check(device: torch.device, model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor,
                    amp: str = "none") -> Check:
    """The loop's validate() over the sample (second, warm pass timed); probabilities must be valid."""
    from explorer.train.loop import validate

    name = "evaluate" if amp == "none" else f"evaluate {amp}"
    validate(model, images[:BATCH], labels[:BATCH], device, amp=amp)
    with _measure(device) as m:
        _, _, probs = validate(model, images, labels, device, batch_size=128, amp=amp)
    if probs.shape != (len(labels), model.num_classes) or not torch.isfinite(probs).all():
        return Check(str(device), name, "fail", m["seconds"] or 0.0, note=f"bad probabilities {tuple(probs.shape)}")
    if not torch.allclose(probs.sum(1), torch.ones(len(probs)), atol=1e-3):
        return Check(str(device), name, "fail", m["seconds"] or 0.0, note="probabilities do not sum to 1")
    secs = m["seconds"] or 1e-9
    return Check(str(device), name, "pass", secs, len(labels) / secs, m["peak_mem_mb"])


def _predict_check(device: torch.device, model: torch.nn.Module, images: torch.Tensor) -> Check:
    """One image through explorer.predict.predict_image (the Draw page's path)."""
    from explorer.predict import predict_image

    x = images[0].float().div(255).unsqueeze(0)
    predict_image(model, x)
    with _measure(device) as m:
        pred = predict_image(model, x)
    if abs(float(pred.probs.sum()) - 1) > 1e-3 or len(pred.letters) < 1:
        return Check(str(device), "predict", "fail", m["seconds"] or 0.0, note="invalid prediction")
    secs = m["seconds"] or 1e-9
    return Check(str(device), "predict", "pass", secs, 1 / secs, m["peak_mem_mb"])


def _gradcam_check(device: torch.device, model: torch.nn.Module, images: torch.Tensor) -> Check:
    """A Grad-CAM of one image through explorer.explain.explain; the map must be finite in [0, 1]."""
    from explorer.explain.core import explain

    x = images[0].float().div(255).unsqueeze(0)
    with _measure(device) as m:
        ex = explain(model, x, "gradcam")
    heat = np.asarray(ex.heatmap)
    if heat.shape != (28, 28) or not np.isfinite(heat).all() or heat.min() < 0 or heat.max() > 1:
        return Check(str(device), "Grad-CAM", "fail", m["seconds"] or 0.0, note=f"bad heatmap {heat.shape}")
    secs = m["seconds"] or 1e-9
    return Check(str(device), "Grad-CAM", "pass", secs, 1 / secs, m["peak_mem_mb"], note=f"layer {ex.layer}")


def _guarded(device: torch.device, name: str, fn: Callable[[], Check]) -> Check:
    """Run a check; an exception becomes a 'fail' row with its first line."""
    try:
        return fn()
    except torch.OutOfMemoryError:
        return Check(str(device), name, "fail", note="out of GPU memory (another process may be using the GPU)")
    except Exception as exc:
        return Check(str(device), name, "fail", note=_first_line(exc))


# ---------------------------------------------------------------------------------------------
# Putting it together


def device_steps(device: torch.device, model: str = "small_cnn",
                 compile_timeout: float = DEFAULT_COMPILE_TIMEOUT_S) -> list[tuple[str, Callable[[], list[Check]]]]:
    """The checks of one device, as (label, function returning rows) in the order they run."""
    steps: list[tuple[str, Callable[[], list[Check]]]] = []
    for amp in AMPS:
        steps.append((AMP_LABEL[amp], lambda a=amp: [_guarded(device, AMP_LABEL[a], lambda: amp_check(device, a, model))]))
    steps.append(("train channels_last", lambda: [_guarded(
        device, "train channels_last", lambda: train_check(device, "train channels_last", model, channels_last=True))]))
    steps.append(("train torch.compile", lambda: [_guarded(
        device, "train torch.compile", lambda: compile_check(device, model, compile_timeout))]))
    steps.append(("evaluate, predict, Grad-CAM", lambda: _inference_rows(device, model)))
    return steps


def _inference_rows(device: torch.device, model_name: str) -> list[Check]:
    """Evaluation (per native amp mode on a GPU), one prediction and one Grad-CAM with a fresh model."""
    from explorer.models import build_letters_model

    try:
        images, labels = letters_sample()
        model = build_letters_model(model_name).to(device).eval()
    except Exception as exc:
        return [Check(str(device), "evaluate", "fail", note=f"cannot build {model_name}: {_first_line(exc)}")]
    amps = [a for a in AMPS if device.type == "cuda" and a != "none" and amp_support(device, a) is None]
    rows = [_guarded(device, "evaluate", lambda: _evaluate_check(device, model, images, labels))]
    rows += [_guarded(device, f"evaluate {a}", lambda a=a: _evaluate_check(device, model, images, labels, a)) for a in amps]
    rows.append(_guarded(device, "predict", lambda: _predict_check(device, model, images)))
    rows.append(_guarded(device, "Grad-CAM", lambda: _gradcam_check(device, model, images)))
    return rows


def resolve_devices(devices: list[str] | None) -> list[torch.device]:
    """The devices to check: given names, else the CPU and every visible GPU; unknown or absent ones are errors."""
    if not devices:
        n = torch.cuda.device_count() if why_no_gpu() is None else 0
        return [torch.device("cpu")] + [torch.device("cuda", i) for i in range(n)]
    from explorer.devices import is_device_name, resolve_device  # the one owner: its ValueError names the fix

    out = []
    for name in devices:
        if is_device_name(name) and name.strip().lower().startswith("cuda") and (note := why_no_gpu()):
            raise ValueError(f"device {name!r} was asked for. {note}")  # the system check says why in full
        dev = resolve_device(name)
        dev = torch.device("cuda", dev.index or 0) if dev.type == "cuda" else dev
        out.append(dev)
    return out


def run_doctor(devices: list[str] | None = None, model: str = "small_cnn",
               compile_timeout: float = DEFAULT_COMPILE_TIMEOUT_S, progress: Progress | None = None) -> DoctorReport:
    """Versions, devices and every check on every device; `progress(fraction, label)` before each step."""
    from explorer.models import resolve_name

    model = resolve_name(model)
    devs = resolve_devices(devices)
    report = DoctorReport(versions(), list_devices(), why_no_gpu())
    plan = [(dev, label, fn) for dev in devs for label, fn in device_steps(dev, model, compile_timeout)]
    for i, (dev, label, fn) in enumerate(plan):
        if progress is not None:
            progress(i / len(plan), f"{dev}: {label}")
        report.checks.extend(fn())
    if progress is not None:
        progress(1.0, "done")
    if any(d.type == "cuda" for d in devs):
        torch.cuda.empty_cache()
    return report


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 10 else f"{v:.2g}"


def format_report(report: DoctorReport) -> str:
    """The report as plain text: versions, devices, the no-GPU sentence, one line per check, the verdict."""
    v = report.versions
    lines = [f"torch {v['torch']} · torchvision {v['torchvision']} · CUDA build {v['cuda_build'] or 'none'} · "
             f"cuDNN {v['cudnn'] or 'none'} · Python {v['python']}", "devices:"]
    for d in report.devices:
        extra = f"{d['threads']} threads" if d["device"] == "cpu" else f"compute {d['capability']}, {d['memory_mb']:,} MiB"
        lines.append(f"  {d['device']:<7} {d['name']} ({extra})")
    if report.gpu_note:
        lines.append(report.gpu_note)
    lines.append(f"{'device':<7} {'path':<24} {'status':<11} {'images/s':>10} {'peak MiB':>9} {'s':>6}  note")
    for c in report.checks:
        lines.append(f"{c.device:<7} {c.name:<24} {c.status:<11} {_fmt(c.images_per_s):>10} "
                     f"{_fmt(c.peak_mem_mb):>9} {c.seconds:>6.1f}  {c.note}")
    if report.ok:
        lines.append("OK: every path that this machine supports works.")
    else:
        lines.append(f"FAILED: {', '.join(f'{c.device} {c.name}' for c in report.failed)}.")
    return "\n".join(lines)
