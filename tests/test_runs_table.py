"""Many runs: the runs table (one row per run, sweep id and point), filters, best run per sweep,
effects (mean ± std over seeds), group-by and parallel coordinates, on generated sweep runs."""

from __future__ import annotations

import pandas as pd
import pytest

from explorer.charts.sweep import effect_chart, parallel_coordinates
from explorer.runs import open_run
from explorer.runs_table import (
    effects,
    filter_runs,
    group_stats,
    mark_best,
    parallel_frame,
    runs_table_frame,
    varying,
)
from tests.sweep_fixtures import fake_acc, make_grid_sweep


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("many")
    sweep = make_grid_sweep(root, {"lr": [0.01, 0.03, 0.1], "transfer": ["scratch", "finetune"]}, 2, "grid")
    return root, sweep, runs_table_frame(root)


def test_every_run_is_a_row_with_its_sweep_and_point(folder):
    root, sweep, df = folder
    assert len(df) == 12 and set(df["sweep"]) == {sweep.sweep_id}
    for item in sweep.items():
        run = open_run(item["run_id"], root)
        assert run.config["sweep"] == {"id": sweep.sweep_id, "index": item["index"], "point": item["point"]}
        row = df[df["run_id"] == run.run_id].iloc[0]
        assert row["cfg.lr"] == item["point"]["lr"] and row["cfg.transfer"] == item["point"]["transfer"]
        assert row["cfg.seed"] == item["point"]["seed"] and f"sweep-{sweep.sweep_id}" in row["tags"]
    assert varying(df) == ["cfg.lr", "cfg.transfer"]
    assert df["status"].value_counts().to_dict() == {"completed": 11, "failed": 1}


def test_filters(folder):
    _, sweep, df = folder
    assert len(filter_runs(df, tags=["transfer-finetune"])) == 6
    assert len(filter_runs(df, tags=["transfer-finetune", "lr-0.1"])) == 2
    assert len(filter_runs(df, sweeps=[sweep.sweep_id], statuses=["completed"])) == 11
    assert len(filter_runs(df, where={"cfg.lr": ["0.03"], "cfg.seed": [1]})) == 2
    with pytest.raises(ValueError, match="no column 'cfg.colour'"):
        filter_runs(df, where={"cfg.colour": ["red"]})


def test_best_effects_and_groups_are_the_right_numbers(folder):
    _, _, df = folder
    done = df[df["test_acc"].notna()]
    marked = mark_best(df)
    assert (marked["best"] == "★").sum() == 1
    assert marked.loc[marked["best"] == "★", "test_acc"].iloc[0] == done["test_acc"].max()
    eff = effects(df).set_index(["setting", "value"])
    lr03 = done[done["cfg.lr"] == 0.03]["test_acc"]
    assert eff.loc[("lr", "0.03"), "mean"] == pytest.approx(lr03.mean())
    assert eff.loc[("lr", "0.03"), "std"] == pytest.approx(lr03.std())
    assert eff.loc[("lr", "0.03"), "runs"] == 4
    g = group_stats(df, ["cfg.lr", "cfg.transfer"])
    top = g.iloc[0]
    assert (top["cfg.lr"], top["cfg.transfer"]) == ("0.03", "finetune")
    expected = [fake_acc({"lr": 0.03, "transfer": "finetune", "seed": s}) for s in (0, 1)]
    assert top["mean"] == pytest.approx(sum(expected) / 2) and top["runs"] == 2


def test_parallel_coordinates_and_effect_chart(folder):
    _, _, df = folder
    lines, ticks = parallel_frame(df, ["cfg.lr", "cfg.transfer"])
    assert set(lines["axis"]) == {"lr", "transfer", "test_acc"} and len(lines) == 3 * 11
    assert lines["pos"].between(0, 1).all()
    lr = lines[lines["axis"] == "lr"]
    assert lr[lr["label"] == "0.01"]["pos"].eq(0).all() and lr[lr["label"] == "0.1"]["pos"].eq(1).all()
    assert list(ticks[ticks["axis"] == "transfer"]["label"]) == ["finetune", "scratch"]
    spec = parallel_coordinates(lines, ticks).to_dict()
    assert len(spec["layer"]) == 3
    assert effect_chart(effects(df)).to_dict()["facet"]["field"] == "setting"


def test_unreadable_values_do_not_break_the_table(tmp_path):
    from explorer.runs import create_run
    from tests.sweep_fixtures import BASE

    run = create_run(BASE, tmp_path, name="<b>odd</b>")
    run.update_config(sweep="not a dict", tags=["x"])
    df = runs_table_frame(tmp_path)
    assert len(df) == 1 and df["sweep"].iloc[0] == "" and pd.isna(df["test_acc"].iloc[0])
    assert effects(df).empty
