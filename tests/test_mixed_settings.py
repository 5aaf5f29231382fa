"""A setting a run's config leaves out is one thing everywhere (issue 23, item 2): the value the run used. On a
mixed folder (the quick run leaves images per class to the default, 1,000; others say 20 or 40; a digits run
has no images-per-class setting at all) the runs table, filters, parallel coordinates, effects, group-by and
the config diff neither raise on mixed types nor show a false difference ("1000 vs None")."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer.charts.sweep import effect_chart, parallel_coordinates
from explorer.compare import config_diff
from explorer.config import TrainConfig, used_settings
from explorer.runs import create_run
from explorer.runs_table import (
    effects,
    filter_runs,
    group_stats,
    parallel_frame,
    runs_table_frame,
    value_text,
    values_of,
    varying,
)
from tests.conftest import page_path
from tests.mixed_runs import make_mixed_runs


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    runs = make_mixed_runs(root)
    digits = create_run(TrainConfig.from_dict({"model": "small_cnn", "epochs": 1, "data": {"name": "digits"}}), root,
                        name="digits-run")
    digits.write_metrics({"test_acc": 0.5})
    digits.write_status(status="completed", pid=None)
    return root, runs, runs_table_frame(root)


def _row(df: pd.DataFrame, path) -> pd.Series:
    return df[df["run_id"] == path.name].iloc[0]


def test_a_left_out_value_is_the_value_the_run_used(mixed):
    _, runs, df = mixed
    assert json.loads((runs["quick"] / "config.json").read_text())["train"]["data"]["size"] is None  # as on disk
    sizes = {k: _row(df, runs[k])["cfg.data.size"] for k in ("quick", "lenet5", "sweep_0")}
    assert sizes == {"quick": 1000, "lenet5": 20, "sweep_0": 40}
    assert str(df["cfg.data.size"].dtype) == "Int64"  # one type: 1000, not 1000.0 beside None
    assert pd.isna(df[df["name"] == "digits-run"]["cfg.data.size"].iloc[0])  # does not apply to digits
    assert used_settings({"model": "lenet5"})["data"]["size"] == 1000 and used_settings({"epochs": 2})["epochs"] == 2
    assert used_settings("not a dict") == {}


def test_tables_filters_and_charts_take_mixed_values(mixed):
    _, runs, df = mixed
    assert "cfg.data.size" in varying(df)
    assert values_of(df, "cfg.data.size") == ["20", "40", "1000", "—"]  # numbers by value, "does not apply" last
    assert set(filter_runs(df, where={"cfg.data.size": ["1000"]})["run_id"]) == {runs["quick"].name}
    assert len(filter_runs(df, where={"cfg.data.size": ["—"]})) == 1
    scored = df[df["test_acc"].notna()]
    axes = varying(scored)
    lines, ticks = parallel_frame(scored, axes)  # raised TypeError: '<' between 'float' and 'str'
    size = lines[lines["axis"] == "data.size"]
    assert set(size["label"]) == {"20", "40", "1000", "—"} and size["pos"].between(0, 1).all()
    assert list(ticks[ticks["axis"] == "data.size"]["label"]) == ["20", "40", "1000", "—"]
    json.dumps(parallel_coordinates(lines, ticks).to_dict())  # plain JSON: no NA left in the chart data
    eff = effects(scored, "test_acc", axes)
    by_size = eff[eff["setting"] == "data.size"].set_index("value")
    assert list(by_size.index) == ["20", "40", "1000", "—"]
    quick_acc = _row(df, runs["quick"])["test_acc"]
    assert by_size.loc["1000", "mean"] == pytest.approx(quick_acc) and by_size.loc["1000", "runs"] == 1
    assert effect_chart(eff).to_dict()["facet"]["field"] == "setting"
    groups = group_stats(scored, ["cfg.data.size"])
    assert groups["runs"].sum() == len(scored)  # no run dropped for a missing value


def test_config_diff_shows_no_false_difference(mixed, tmp_path):
    root, runs, _ = mixed
    explicit = create_run(TrainConfig.from_dict({**json.loads((runs["quick"] / "config.json").read_text())["train"],
                                                 "data": {"name": "letters-builtin", "size": 1000}}), tmp_path)
    configs = {"quick": json.loads((runs["quick"] / "config.json").read_text()), "explicit": explicit.config}
    diff = config_diff(configs)
    assert "train.data.size" not in diff.differ.index  # was "1000 vs None"
    assert diff.equal.loc["train.data.size", "value"] == "1000"
    lenet = json.loads((runs["lenet5"] / "config.json").read_text())
    diff = config_diff({"quick": configs["quick"], "lenet5": lenet})
    assert list(diff.differ.loc["train.data.size"]) == ["1000", "20"]
    assert value_text(200.0) == "200" and value_text(pd.NA) == "—" and value_text(True) == "true"


def test_compare_runs_page_on_the_mixed_folder(mixed, monkeypatch):
    root, _, _ = mixed
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path("compare_runs"), default_timeout=300).run()
    assert not at.exception, at.exception
    assert [t.label for t in at.tabs][-3:] == ["Parallel coordinates", "Effect of each setting", "Group by"]
    at.selectbox(key="mr_field").set_value("cfg.data.size").run()
    at.multiselect(key="mr_values_cfg.data.size").set_value(["1000"]).run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "best" in d.value.columns)
    assert list(table["name"]) == ["quick"]
