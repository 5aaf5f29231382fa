"""explorer.compare: config diff, per-class F1 diff, confusion diff, applicability, CSV/Markdown export."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from explorer.charts import compare as charts
from explorer.charts.curves import curve_panels
from explorer.compare import (
    applicability,
    build_comparison,
    config_diff,
    confusion_diff,
    curves_frame,
    f1_diff,
    flatten_config,
    load_run_data,
    per_class_f1,
    roc_frame,
    to_csv,
    to_markdown,
)
from tests.run_fixtures import make_run

Y = np.array([0, 0, 1, 1, 2, 2])


def onehot(pred: list[int], k: int = 3) -> np.ndarray:
    return np.eye(k, dtype=np.float32)[pred]


def test_flatten_and_diff_keeps_only_differences():
    a = {"train": {"lr": 0.1, "model": "small_cnn", "stages": [{"epochs": 2}], "head_hidden": [256, 128]}, "x": 1}
    b = {"train": {"lr": 0.01, "model": "small_cnn", "stages": [{"epochs": 3}], "head_hidden": [256, 128]}, "y": 2}
    assert flatten_config(a) == {"train.lr": 0.1, "train.model": "small_cnn", "train.stages.0.epochs": 2,
                                 "train.head_hidden": "256, 128", "x": 1}
    d = config_diff({"A": a, "B": b}, comparable=False)
    assert list(d.differ.index) == ["train.lr", "train.stages.0.epochs", "x", "y"]
    assert d.differ.loc["train.lr"].tolist() == ["0.1", "0.01"]
    assert d.differ.loc["x"].tolist() == ["1", "—"] and d.differ.loc["y"].tolist() == ["—", "2"]
    assert set(d.equal.index) == {"train.model", "train.head_hidden"}
    assert d.equal.loc["train.model", "value"] == "small_cnn"


def test_per_class_f1_and_diff_on_hand_made_predictions():
    a = make_run(name="a", classes=list("ABC"), y_true=Y, y_prob=onehot([0, 1, 1, 1, 2, 0]))
    b = make_run(name="b", classes=list("ABC"), y_true=Y, y_prob=onehot([0, 0, 1, 1, 2, 2]))
    runs = [load_run_data(a, with_cost=False), load_run_data(b, with_cost=False)]
    f1 = per_class_f1(runs)
    # a: A tp1 fp1 fn1 -> 0.5; B tp2 fp1 -> 0.8; C tp1 fn1 -> 2/3.   b: all correct -> 1.0
    np.testing.assert_allclose(f1["a"].to_numpy(), [0.5, 0.8, 2 / 3])
    np.testing.assert_allclose(f1["b"].to_numpy(), [1.0, 1.0, 1.0])
    d = f1_diff(f1)
    assert d["run"].unique().tolist() == ["b"]
    np.testing.assert_allclose(d["diff"].to_numpy(), [0.5, 0.2, 1 / 3])
    cd = confusion_diff(runs[0], runs[1]).set_index(["true", "predicted"])
    assert cd.loc[("A", "B"), "diff"] == pytest.approx(-0.5)  # a sent half of the A's to B, b none
    assert cd.loc[("A", "A"), "diff"] == pytest.approx(0.5)
    assert cd["diff"].sum() == pytest.approx(0.0)
    comp = build_comparison(runs)
    assert comp.notes == dict.fromkeys(comp.notes)  # everything applies
    assert comp.metrics["test_acc"].tolist() == pytest.approx([4 / 6, 1.0])


def test_export_csv_and_markdown():
    a = make_run(name="a", classes=list("ABC"), y_true=Y, y_prob=onehot([0, 1, 1, 1, 2, 0]))
    b = make_run(name="b", classes=list("ABC"), y_true=Y, y_prob=onehot([0, 0, 1, 1, 2, 2]), lr=0.01, epochs=3)
    comp = build_comparison([load_run_data(a), load_run_data(b)])
    rows = list(csv.reader(io.StringIO(to_csv(comp))))
    assert rows[0] == ["section", "item", "a", "b"]
    by = {(r[0], r[1]): r[2:] for r in rows[1:]}
    assert by[("metric", "test accuracy")] == ["0.666667", "1.0"]
    assert by[("metric", "parameters")][0] == str(comp.runs[0].params) and comp.runs[0].params > 10_000
    assert by[("config (differs)", "train.lr")] == ["0.05", "0.01"]
    assert by[("config (differs)", "train.epochs")] == ["2", "3"]
    assert ("config (differs)", "train.model") not in by  # equal settings are not listed as differences
    assert by[("per-class F1", "A")] == ["0.5", "1.0"]
    md = to_markdown(comp)
    assert md.startswith("# Comparison of 2 runs")
    assert "| train.lr | 0.05 | 0.01 |" in md and "| test accuracy | 0.6667 | 1.0000 |" in md
    assert "## Settings equal in every run" in md and "`train.model`=small_cnn" in md
    assert "| A | b | 1.0000 | 0.5000 | 0.5000 |" in md
    assert "do not apply" not in md


def test_different_class_counts_say_what_does_not_apply():
    a = make_run(name="letters")
    d = make_run(name="digits", classes=list("0123456789"), dataset="digits", y_true=np.repeat(np.arange(10), 3))
    runs = [load_run_data(a, with_cost=False), load_run_data(d, with_cost=False)]
    notes = applicability(runs)
    assert notes["curves"] is None
    for key in ("per_class", "confusion", "roc", "metrics", "cost"):
        assert notes[key], key
    assert "26" in notes["per_class"] and "10" in notes["per_class"] and "digits" in notes["per_class"]
    comp = build_comparison(runs)
    assert comp.f1.empty and comp.f1_diff.empty
    with pytest.raises(ValueError, match="different classes"):
        confusion_diff(*runs)
    md = to_markdown(comp)
    assert "## Comparisons that do not apply" in md and "confusion matrices" in md
    with pytest.raises(ValueError, match="two or more"):
        build_comparison(runs[:1])


def _rows(chart, field: str) -> list[dict]:
    """Every data row of a chart's spec that has `field` (the rows it plots, not its guide lines)."""
    return [r for rows in chart.to_dict()["datasets"].values() for r in rows if field in r]


def test_run_without_predictions_and_charts():
    a = make_run(name="a", epochs=3)
    b = make_run(name="b", seed=1)
    b.predictions_path.unlink()
    runs = [load_run_data(a, with_cost=False), load_run_data(b, with_cost=False)]
    notes = applicability(runs)
    assert "no test predictions for b" in notes["confusion"] and notes["curves"] is None
    curves = curves_frame(runs)
    assert set(curves["run"]) == {"a", "b"} and curves[curves.run == "a"]["epoch"].max() == 3
    assert curves[(curves.run == "b") & (curves.epoch == 1)]["time_s"].iloc[0] == pytest.approx(11.0)
    points, areas = roc_frame(runs)
    assert set(areas["run"]) == {"a"}
    comp = build_comparison([load_run_data(a), load_run_data(make_run(name="c", model="resnet18"))])
    loss, acc = curve_panels(curves, "epoch")
    plotted = loss.data  # the loss panel plots every run's train and validation loss per epoch
    assert len(plotted) == 3 * 2 + 2 * 2 and set(plotted["metric"]) == {"loss"}
    assert plotted[(plotted.run == "a") & (plotted.split == "train")]["value"].tolist() == [2.0, 1.0, 2.0 / 3]
    assert loss.to_dict()["encoding"]["color"]["field"] == "run"
    assert curve_panels(curves, "time_s")[1].to_dict()["encoding"]["x"]["field"] == "time_s"

    f1_rows = _rows(charts.f1_grouped_chart(comp.f1), "f1")
    assert len(f1_rows) == 2 * 26
    assert {(r["class"], r["run"]): r["f1"] for r in f1_rows} == pytest.approx(
        {(cls, run): comp.f1.at[cls, run] for cls in comp.f1.index for run in comp.f1.columns})
    diff_rows = _rows(charts.f1_diff_chart(comp.f1_diff, "a"), "diff")
    assert {r["class"]: r["diff"] for r in diff_rows} == pytest.approx(dict(zip(comp.f1_diff["class"], comp.f1_diff["diff"], strict=True)))
    assert all(r["change"] == ("better" if r["diff"] > 0 else "worse" if r["diff"] < 0 else "same") for r in diff_rows)
    points, areas = roc_frame(comp.runs)
    roc_rows = _rows(charts.roc_compare_chart(points, areas), "label")
    auc_a = areas.set_index(["run", "curve"]).at[("a", "macro"), "auc"]
    assert f"a macro (AUC {auc_a:.3f})" in {r["label"] for r in roc_rows} and len(roc_rows) == len(points)
    cost_rows = _rows(charts.cost_scatter(comp.metrics, "macs"), "macs")
    assert {r["run"]: r["macs"] for r in cost_rows} == comp.metrics.set_index("run")["macs"].to_dict()
    cd = confusion_diff(*comp.runs)
    cd_rows = _rows(charts.confusion_diff_heatmap(cd, "a", "c"), "diff")
    assert len(cd_rows) == 26 * 26 and sum(r["diff"] for r in cd_rows) == pytest.approx(float(cd["diff"].sum()))
    assert comp.metrics.set_index("run").at["c", "macs"] > comp.metrics.set_index("run").at["a", "macs"]


def test_a_compared_run_is_the_run_read_once():
    """RunData is a Run (classes, model, dataset from the store's one reader) frozen at load: a history row
    written afterwards does not change one comparison's tables halfway."""
    from explorer.runs import Run, open_run

    a = make_run(name="a", classes=list("ABC"), y_true=Y, y_prob=onehot([0, 1, 1, 1, 2, 0]))
    data = load_run_data(a, with_cost=False)
    run = open_run(a)
    assert isinstance(data, Run) and data.path == run.path and data.title == "a"
    assert (data.classes, data.num_classes, data.model_name, data.dataset) == \
        (run.classes, run.num_classes, run.model_name, run.dataset) == (list("ABC"), 3, "small_cnn", run.dataset)
    before = len(data.history())
    run.append_history({"epoch": before + 1, "loss": 0.5, "val_acc": 0.9})
    assert len(run.history()) == before + 1 and len(data.history()) == before
    assert data.status["status"] == run.status["status"] and data.test_size == len(Y)
