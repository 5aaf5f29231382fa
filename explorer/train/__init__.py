"""Training: one readable loop, recipes (presets), background jobs and the torchrun entry point."""

from explorer.config import Stage, TrainConfig
from explorer.train.jobs import JobBusyError, JobManager
from explorer.train.loop import fit, precheck, resolve_device, train
from explorer.train.recipes import DESCRIPTIONS, RECIPES, get_recipe

__all__ = [
    "DESCRIPTIONS",
    "RECIPES",
    "JobBusyError",
    "JobManager",
    "Stage",
    "TrainConfig",
    "fit",
    "get_recipe",
    "precheck",
    "resolve_device",
    "train",
]
