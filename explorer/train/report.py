"""The training loop's reporter: it owns status.json (written by rank 0 only: phase, heartbeats at most
once a second, failures) and the progress events a callback receives (start, epoch_start, step,
epoch_end, done). The loop says what happened; the reporter decides what to write and when."""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from collections.abc import Callable
from typing import Any

import torch

from explorer.runs import Run

Callback = Callable[[str, dict[str, Any]], None]
HEARTBEAT_S = 1.0


def gpu_memory(device: torch.device) -> dict[str, float]:
    """Peak and total GPU memory in MiB ({} on a CPU)."""
    if device.type != "cuda":
        return {}
    peak = torch.cuda.max_memory_allocated(device) / 2**20
    return {"gpu_mem_mb": peak, "gpu_mem_peak_mb": peak,
            "gpu_mem_now_mb": torch.cuda.memory_allocated(device) / 2**20,
            "gpu_mem_reserved_mb": torch.cuda.memory_reserved(device) / 2**20,
            "gpu_mem_total_mb": torch.cuda.get_device_properties(device).total_memory / 2**20}


class Reporter:
    """Status heartbeats into the run folder and progress events for a callback."""

    def __init__(self, run: Run | None, is_main: bool, world: int, device: torch.device,
                 callback: Callback | None = None) -> None:
        self.run, self.is_main, self.world, self.device = run, is_main, world, device
        self.emit: Callback = callback or (lambda event, info: None)
        self.fields: dict[str, Any] = {}
        self.total_epochs = self.steps = self.batch_size = 0
        self._t0 = self._last_beat = 0.0

    def status(self, **fields: Any) -> None:
        """Merge `fields` into the status and write it (rank 0 with a run folder only)."""
        self.fields.update(fields)
        if self.run is not None and self.is_main:
            self.run.write_status(**self.fields)

    def started(self, total_epochs: int, steps: int, batch_size: int, **fields: Any) -> None:
        """Training starts: remember the sizes the heartbeat's ETA needs; emit "start"."""
        self.total_epochs, self.steps, self.batch_size = total_epochs, steps, batch_size
        self.status(phase="train", epochs=total_epochs, steps=steps, **fields)
        self.emit("start", {"epochs": total_epochs, "steps": steps, "notes": fields.get("notes"),
                            "device": self.fields.get("device_label"),
                            "run_id": self.run.run_id if self.run is not None else None})

    def epoch_started(self, epoch: int, stage: int, stage_name: str) -> None:
        """An epoch starts: its clock starts and the next heartbeat is due in a second."""
        self._t0 = self._last_beat = time.time()
        self.emit("epoch_start", {"epoch": epoch, "stage": stage, "stage_name": stage_name, "steps": self.steps})

    def step(self, epoch: int, step: int, seen: int, loss_sum: torch.Tensor, lr: float) -> None:
        """After step `step` (0-based): emit "step"; at most once a second write a heartbeat (loss, speed, ETA)."""
        self.emit("step", {"epoch": epoch, "step": step + 1, "steps": self.steps, "loss": None})
        now = time.time()
        if now - self._last_beat < HEARTBEAT_S or not self.is_main:
            return
        self._last_beat = now
        ips = seen * self.world / max(1e-9, now - self._t0)
        left = (self.total_epochs - epoch) * self.steps + (self.steps - step - 1)
        self.status(phase="train", epoch=epoch, step=step + 1, lr=lr, train_loss=float(loss_sum) / seen,
                    images_per_s=ips, eta_s=left * self.batch_size * self.world / max(ips, 1e-9),
                    **gpu_memory(self.device))

    def epoch_ended(self, row: dict[str, Any], eta_s: float, best_epoch: int) -> None:
        """An epoch is checkpointed: write its speed and ETA; emit "epoch_end" with its history row."""
        self.status(phase="train", epoch=row["epoch"], step=self.steps, images_per_s=row["images_per_s"],
                    eta_s=eta_s, best_epoch=best_epoch, **gpu_memory(self.device))
        self.emit("epoch_end", row)

    def failed(self, message: str, with_traceback: bool = False) -> None:
        """Record a failure; with a traceback, a still-full disk leaves status.json as it was."""
        if not with_traceback:
            self.status(status="failed", phase="failed", error=message)
            return
        with contextlib.suppress(OSError):
            self.status(status="failed", phase="failed", error=message, traceback=traceback.format_exc(limit=8))

    def running(self, device_label: str, **fields: Any) -> None:
        """The worker is alive and reading its data."""
        from explorer.io import process_start

        self.status(status="running", pid=os.getpid(), pid_start=process_start(os.getpid()), phase="data", device=str(self.device),
                    device_label=device_label, world_size=self.world, error=None, **fields)
