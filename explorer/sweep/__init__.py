"""Sweeps: grids and Optuna searches of TrainConfig settings, run one job at a time from a persistent
queue in the runs folder (see grid.py, queue.py, runner.py, optuna_search.py, plan.py, cli.py).

The names load on first use (PEP 562, explorer.lazy), so `explorer sweep list` imports no trainer."""

from __future__ import annotations

from explorer.lazy import lazy_names

_LAZY = {
    **dict.fromkeys(["CONFIRM_POINTS", "Grid", "parse_grid", "parse_values", "point_text", "sweepable_fields"], "grid"),
    **dict.fromkeys(["NeedsConfirmation", "new_grid_sweep", "new_optuna_sweep"], "plan"),
    **dict.fromkeys(["Sweep", "list_sweeps", "open_sweep"], "queue"),
}
__getattr__, __dir__ = lazy_names(__name__, _LAZY)
__all__ = sorted(_LAZY)
