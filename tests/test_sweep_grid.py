"""Sweep grids: parsing lists and ranges against the TrainConfig metadata, size, points, checks of
every point before anything starts, and the confirmation of huge grids (API and CLI)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from explorer.config import TrainConfig
from explorer.sweep import CONFIRM_POINTS, Grid, NeedsConfirmation, new_grid_sweep, parse_grid, parse_values
from explorer.sweep.grid import check_grid, point_config, sweepable_fields
from explorer.sweep.queue import list_sweeps

BASE = TrainConfig.from_dict({"model": "small_cnn", "epochs": 1, "batch_size": 16,
                              "data": {"name": "letters-builtin", "size": 10}})


def test_sweepable_fields_come_from_the_metadata():
    names = set(sweepable_fields())
    assert {"lr", "batch_size", "transfer", "model", "optimizer", "dropout", "pretrained"} <= names
    assert not {"seed", "device", "data", "stages", "name"} & names


def test_lists_and_ranges_are_parsed_and_typed():
    assert parse_values("lr", "0.01, 0.03,0.1") == ("lr", [0.01, 0.03, 0.1])
    assert parse_values("batch-size", "16:64:3") == ("batch_size", [16, 40, 64])
    assert parse_values("lr", "0.001:0.1:3:log") == ("lr", [0.001, 0.01, 0.1])
    assert parse_values("pretrained", "true,no") == ("pretrained", [True, False])
    assert parse_values("transfer", "frozen,finetune,frozen") == ("transfer", ["frozen", "finetune"])
    axes = parse_grid(["lr=0.01,0.03,0.1", "transfer=frozen,finetune"])
    assert Grid(axes, seeds=3).size == 18


@pytest.mark.parametrize(("item", "named"), [
    ("lr=0.01,-0.1", "lr=-0.1"),
    ("transfer=frozen,sideways", "sideways"),
    ("batch_size=16,0", "batch_size=0"),
    ("epochs=1.5", "epochs"),
    ("lr=abc", "'abc'"),
    ("lr=0:0.1:3:log", "log range"),
    ("colour=red", "cannot be swept"),
])
def test_impossible_values_are_refused_naming_them(item, named):
    with pytest.raises(ValueError, match=named if named != "'abc'" else "abc"):
        parse_grid([item])


def test_points_carry_every_axis_and_the_seed():
    grid = Grid({"lr": [0.01, 0.1], "transfer": ["scratch", "finetune"]}, seeds=2)
    points = list(grid.points(base_seed=5))
    assert len(points) == grid.size == 8
    assert points[0] == {"lr": 0.01, "transfer": "scratch", "seed": 5}
    assert points[-1] == {"lr": 0.1, "transfer": "finetune", "seed": 6}
    assert point_config(BASE, points[-1]).lr == 0.1


def test_a_transfer_mode_the_model_cannot_take_is_refused_before_start(tmp_path):
    base = BASE.replace(unfreeze_last_n=500)
    with pytest.raises(ValueError, match="point transfer=last_n.*cannot unfreeze the last 500 layers of small_cnn"):
        new_grid_sweep(base, Grid(parse_grid(["transfer=scratch,last_n"])), tmp_path)
    with pytest.raises(ValueError, match="point batch_size=4096.*larger than the training data"):
        check_grid(BASE, Grid(parse_grid(["batch_size=16,4096"])))
    assert list_sweeps(tmp_path) == []  # nothing written


def test_a_grid_of_10000_points_needs_confirmation_and_says_how_long(tmp_path):
    grid = Grid(parse_grid(["lr=0.001:0.1:10:log", "weight_decay=0:0.01:10", "dropout=0:0.5:10",
                            "momentum=0.5:0.95:10"]))
    assert grid.size == 10_000 > CONFIRM_POINTS
    with pytest.raises(NeedsConfirmation, match=r"10,000 runs and would take about 5\.8 days"):
        new_grid_sweep(BASE, grid, tmp_path, seconds=500_000)
    assert list_sweeps(tmp_path) == []
    sweep = new_grid_sweep(BASE, grid, tmp_path, confirmed=True)
    assert len(sweep.items()) == 10_000 and sweep.state() == "waiting"


@pytest.mark.slow
def test_cli_refuses_a_huge_grid_without_yes_and_a_bad_value_with_a_clear_message(tmp_path):
    cmd = [sys.executable, "-m", "explorer", "sweep", "--runs", str(tmp_path), "--model", "small_cnn",
           "--size", "10", "--epochs", "1", "--batch-size", "16"]
    bad = subprocess.run([*cmd, "--grid", "lr=0.1,-1"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "lr=-1" in bad.stderr and "Traceback" not in bad.stderr
    huge = subprocess.run([*cmd, "--grid", "lr=0.001:0.1:100:log", "--grid", "momentum=0.1:0.9:100"],
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert huge.returncode == 1, huge.stderr
    assert "10,000 runs" in huge.stderr and "would take about" in huge.stderr and "--yes" in huge.stderr
    assert "not started" in huge.stdout and list_sweeps(tmp_path) == []
