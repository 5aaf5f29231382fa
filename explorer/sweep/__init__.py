"""Sweeps: grids and Optuna searches of TrainConfig settings, run one job at a time from a persistent
queue in the runs folder (see grid.py, queue.py, runner.py, optuna_search.py, plan.py, cli.py)."""

from explorer.sweep.grid import CONFIRM_POINTS, Grid, parse_grid, parse_values, point_text, sweepable_fields
from explorer.sweep.plan import NeedsConfirmation, new_grid_sweep, new_optuna_sweep
from explorer.sweep.queue import Sweep, list_sweeps, open_sweep

__all__ = ["CONFIRM_POINTS", "Grid", "NeedsConfirmation", "Sweep", "list_sweeps", "new_grid_sweep",
           "new_optuna_sweep", "open_sweep", "parse_grid", "parse_values", "point_text", "sweepable_fields"]
