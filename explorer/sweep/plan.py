"""Making a sweep: check every point (grid) or the search space (Optuna) and write the sweep folder."""

from __future__ import annotations

import os
from typing import Any

from explorer.config import TrainConfig
from explorer.names import plural
from explorer.sweep.grid import CONFIRM_POINTS, Grid, check_grid, point_config
from explorer.sweep.optuna_search import MAX_TRIALS
from explorer.sweep.queue import Sweep, create_sweep


class NeedsConfirmation(ValueError):
    """A sweep too large to start without the user's explicit yes (says its size and time)."""


def grid_configs(base: TrainConfig, grid: Grid) -> list[tuple[dict[str, Any], TrainConfig]]:
    """Every point of the grid with its checked config (ValueError naming the first bad point)."""
    return check_grid(base.validate(), grid)


def confirm_text(size: int, seconds: float | None) -> str:
    """The question asked before a huge sweep starts."""
    from explorer.names import format_duration

    when = f" and would take about {format_duration(seconds)} on this machine" if seconds is not None else ""
    return f"This sweep has {plural(size, 'run')}{when}. Confirm to start it."


def new_grid_sweep(base: TrainConfig, grid: Grid, root: str | os.PathLike | None = None, name: str = "",
                   confirmed: bool = False, seconds: float | None = None) -> Sweep:
    """Check every point, then write the sweep (queue of pending points). NeedsConfirmation above
    CONFIRM_POINTS points unless `confirmed`."""
    points = grid_configs(base, grid)
    if grid.size > CONFIRM_POINTS and not confirmed:
        raise NeedsConfirmation(confirm_text(grid.size, seconds))
    spec = {"mode": "grid", "base": base.to_dict(), "grid": grid.to_dict(), "size": grid.size}
    return create_sweep(spec, [p for p, _ in points], root, name)


def new_optuna_sweep(base: TrainConfig, space: dict[str, dict[str, Any]], trials: int, seed: int = 0,
                     root: str | os.PathLike | None = None, name: str = "") -> Sweep:
    """Check the base and the space's ends, then write an Optuna sweep of `trials` trials."""
    from explorer.train.loop import precheck

    if isinstance(trials, bool) or not isinstance(trials, int) or not 1 <= trials <= MAX_TRIALS:
        raise ValueError(f"trials must be a whole number 1..{MAX_TRIALS}, got {trials!r}")
    if not space:
        raise ValueError("an Optuna search needs at least one setting to search, e.g. --grid lr=0.001:0.1:5:log")
    precheck(base)
    for name_, d in space.items():
        for v in d["values"] if d["kind"] == "cat" else (d["lo"], d["hi"]):
            try:
                precheck(point_config(base, {name_: v}))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{name_}={v}: {exc.args[0] if exc.args else exc}") from None
    spec = {"mode": "optuna", "base": base.to_dict(), "space": space, "trials": trials, "optuna_seed": seed,
            "size": trials}
    return create_sweep(spec, [], root, name)
