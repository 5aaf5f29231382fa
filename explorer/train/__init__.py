"""Training: one readable loop, recipes (presets), background jobs and the torchrun entry point.

The names load on first use (PEP 562, explorer.lazy), so `explorer runs list` imports no torch."""

from __future__ import annotations

from explorer.lazy import lazy_names

_LAZY = {
    "Stage": "explorer.config", "TrainConfig": "explorer.config", "JobBusyError": "jobs", "JobManager": "jobs",
    "fit": "loop", "precheck": "loop", "resolve_device": "loop", "train": "job",
    "DESCRIPTIONS": "recipes", "RECIPES": "recipes", "get_recipe": "recipes",
}
__getattr__, __dir__ = lazy_names(__name__, _LAZY)
__all__ = sorted(_LAZY)
