"""Devices: the one owner of turning a user's device text ("auto", "cpu", "cuda", "cuda:1") into a
torch.device (resolve_device), of the words a device is shown with (device_label), of the name a device is
locked by (lock_key: "cpu" or "cuda:N", explorer.locks) and of the device a model sits on (model_device).

Every command and page that takes a device goes through `resolve_device`, so "--device foo" or
"--device cuda" on a machine without a GPU gives the same one-line ValueError everywhere.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch loads when a device is resolved, so options that show DEVICE_HELP stay light
    import torch
    from torch import nn

__all__ = ["DEVICE_HELP", "device_label", "is_device_name", "lock_key", "model_device", "resolve_device"]

DEVICE_HELP = "auto (a GPU when there is one, else the CPU), cpu, cuda or cuda:N"
_PATTERN = re.compile(r"^(auto|cpu|cuda(:\d{1,2})?)$")


def _no_cuda_reason() -> str:
    import torch

    if torch.version.cuda is None:
        return f"this torch ({torch.__version__}) is a CPU-only build"
    return f"torch is built for CUDA {torch.version.cuda} and found no usable NVIDIA GPU or driver"


def resolve_device(name: str | torch.device | None = "auto") -> torch.device:
    """The torch.device for `name`; "auto" is the first GPU when there is one, else the CPU.

    Anything else than auto/cpu/cuda/cuda:N, a GPU asked for where there is none, or a GPU index past
    the last one is a ValueError that says what was wrong and what to use instead."""
    import torch

    if isinstance(name, torch.device):
        name = str(name)
    text = (name or "auto").strip().lower()
    if not _PATTERN.match(text):
        raise ValueError(f"unknown device {name!r}: use {DEVICE_HELP}")
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(text)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {text!r} was asked for, but there is no GPU here: {_no_cuda_reason()}; use 'auto' or 'cpu' "
                             "(`explorer doctor` says more)")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"device {text!r}: this machine has {count} GPU(s) (cuda:0 to cuda:{count - 1})")
    return dev


def is_device_name(name: object) -> bool:
    """True for text resolve_device understands (auto, cpu, cuda, cuda:N), whether or not the device is here."""
    return isinstance(name, str) and bool(_PATTERN.match(name.strip().lower()))


def lock_key(device: str | torch.device, check: bool = True) -> str:
    """The name a device is locked by (explorer.locks): "cpu" or "cuda:N". With check (the default) the device is
    resolved first ("auto" becomes this machine's device; a GPU that is not here is resolve_device's ValueError);
    without, a name is only normalised ("cuda" is "cuda:0"), e.g. to ask whether a lock key is busy."""
    if check:
        d = resolve_device(device)
        return f"cuda:{d.index or 0}" if d.type == "cuda" else "cpu"
    text = str(device).strip().lower()
    return "cuda:0" if text == "cuda" else text


def device_label(device: torch.device | str = "auto") -> str:
    """Human label: "cpu (N threads)" or "cuda:0 (GPU name)"; a name ("auto", "cuda:1") is resolved first."""
    import torch

    device = resolve_device(device) if isinstance(device, str) else torch.device(device)
    if device.type == "cuda":
        idx = device.index or 0
        return f"cuda:{idx} ({torch.cuda.get_device_name(idx)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's first parameter (or buffer); the CPU for a model with neither."""
    import torch

    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")
