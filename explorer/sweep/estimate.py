"""How long a sweep would take: the sum of explorer.train.estimate.estimate_run over its points (the one
estimate of a run; each model setting is timed once, earlier runs of the same settings are used first)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from explorer.config import TrainConfig
from explorer.names import format_duration
from explorer.train.estimate import RunEstimate, estimate_run

DURATION_FIELDS = ("model", "batch_size", "epochs", "stages", "data", "amp", "channels_last", "compile", "augment",
                   "device")


def duration_key(cfg: TrainConfig) -> str:
    """The settings that decide how long a run takes (not its learning rate, seed, ...), as one string."""
    import json

    d = cfg.to_dict()
    return json.dumps({k: d.get(k) for k in DURATION_FIELDS}, sort_keys=True, default=str)


def sweep_seconds(configs: Iterable[TrainConfig], root: str | os.PathLike | None = None) -> tuple[float, list[str]]:
    """Total estimated seconds of every config's whole run, and one note per distinct setting (how it was got)."""
    timed: dict[tuple, Any] = {}
    by_key: dict[str, RunEstimate] = {}
    seen: dict[str, RunEstimate] = {}
    total = 0.0
    for cfg in configs:
        key = duration_key(cfg)
        if key not in by_key:
            by_key[key] = estimate_run(cfg, root, timed=timed)
        est = by_key[key]
        total += est.seconds
        seen.setdefault(est.settings_text(), est)
    notes = [f"{text}: {format_duration(e.seconds)} a run ({e.how})" for text, e in seen.items()]
    return total, notes


def grid_seconds(base: TrainConfig, points: Iterable[dict[str, Any]],
                 root: str | os.PathLike | None = None) -> tuple[float, list[str]]:
    """sweep_seconds of a grid's points applied to `base`."""
    return sweep_seconds((base.replace(**p) for p in points), root)
