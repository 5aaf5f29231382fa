"""explorer.charts.curves: the one training-curves chart (Train, Results, Compare runs, evaluate's figures)."""

from __future__ import annotations

import altair as alt
import pytest

from explorer.charts.curves import (
    COLUMNS,
    curve_panels,
    histories_frame,
    history_frame,
    stage_starts,
    training_curves,
)

HISTORY = [
    {"epoch": 1, "stage": 0, "stage_name": "head", "train_loss": 1.2, "train_acc": 0.6, "val_loss": 1.3,
     "val_acc": 0.55, "lr": 0.1, "epoch_time": 10.0, "wall": 1000.0},
    {"epoch": 2, "stage": 0, "stage_name": "head", "train_loss": 0.8, "train_acc": 0.75, "val_loss": 0.9,
     "val_acc": 0.7, "lr": 0.05, "epoch_time": 12.0, "wall": 1012.5},
    {"epoch": 3, "stage": 1, "stage_name": "fine", "train_loss": 0.5, "train_acc": 0.85, "val_loss": None,
     "val_acc": float("nan"), "lr": 0.01, "epoch_time": 9.0, "wall": 1022.0},
]


def _values(panel: alt.TopLevelMixin) -> list[dict]:
    """The rows a panel plots: its own data (a layer's first layer holds the line)."""
    chart = panel.layer[0] if isinstance(panel, alt.LayerChart) else panel
    return chart.data.to_dict(orient="records")


def test_history_frame_says_what_is_plotted():
    df = history_frame(HISTORY, run="r1")
    assert list(df.columns) == COLUMNS
    # epochs 1-2: 5 values each; epoch 3: train loss, train acc, lr (validation None / NaN dropped)
    assert len(df) == 13 and set(df["metric"]) == {"loss", "accuracy", "lr"} and set(df["run"]) == {"r1"}
    val_acc = df[(df.metric == "accuracy") & (df.split == "validation")]
    assert val_acc["value"].tolist() == [0.55, 0.7]
    # time since start: epoch 1 ends 10 s after the start (wall 1000 - epoch_time 10), then wall clock
    assert df.drop_duplicates("epoch")["time_s"].tolist() == [10.0, 22.5, 32.0]
    no_wall = history_frame([{k: v for k, v in h.items() if k != "wall"} for h in reversed(HISTORY)])
    assert no_wall.drop_duplicates("epoch")["time_s"].tolist() == [10.0, 22.0, 31.0]  # sorted, summed
    assert history_frame([]).empty and list(history_frame([]).columns) == COLUMNS


def test_stage_rules_only_where_the_stage_changes():
    starts = stage_starts(history_frame(HISTORY))
    assert starts.to_dict(orient="records") == [{"epoch": 2.5, "stage_name": "fine"}]
    assert stage_starts(history_frame(HISTORY[:2])).empty


def test_one_run_panels_plot_each_metric_coloured_by_split():
    panels = curve_panels(history_frame(HISTORY), metrics=("loss", "accuracy", "lr"))
    assert len(panels) == 3 and all(isinstance(p, alt.LayerChart) for p in panels)  # stage rule layered
    loss, acc, lr = (_values(p) for p in panels)
    assert {r["metric"] for r in loss} == {"loss"} and len(loss) == 5
    assert sorted(r["value"] for r in acc if r["split"] == "train") == [0.6, 0.75, 0.85]
    assert [r["value"] for r in lr] == [0.1, 0.05, 0.01]
    line = panels[0].layer[0].to_dict()
    assert line["encoding"]["color"]["field"] == "split"
    assert line["encoding"]["color"]["scale"]["range"] == ["#2563eb", "#f97316"]
    rule = panels[0].layer[1].to_dict()
    assert rule["mark"]["type"] == "rule"
    assert panels[0].layer[1].data.to_dict(orient="records") == [{"epoch": 2.5, "stage_name": "fine"}]


def test_several_runs_colour_by_run_and_dash_by_split():
    frame = histories_frame({"a": HISTORY, "b": HISTORY[:2], "empty": []})
    assert set(frame["run"]) == {"a", "b"} and len(frame) == 23
    panels = curve_panels(frame, x="time_s")
    assert [type(p) for p in panels] == [alt.Chart, alt.Chart]  # no stage rules across runs
    spec = panels[1].to_dict()
    assert spec["encoding"]["color"]["field"] == "run" and spec["encoding"]["strokeDash"]["field"] == "split"
    assert spec["encoding"]["x"]["field"] == "time_s" and spec["title"] == "Accuracy vs wall time"
    assert {(r["run"], r["epoch"]) for r in _values(panels[1])} == {("a", 1), ("a", 2), ("a", 3), ("b", 1), ("b", 2)}


def test_training_curves_concat_and_bad_arguments():
    chart = training_curves(history_frame(HISTORY), metrics=("loss", "accuracy", "lr"))
    assert isinstance(chart, alt.HConcatChart) and len(chart.to_dict()["hconcat"]) == 3
    with pytest.raises(ValueError, match="x must be"):
        curve_panels(history_frame(HISTORY), x="step")
    with pytest.raises(ValueError, match="unknown metric"):
        curve_panels(history_frame(HISTORY), metrics=("auc",))
