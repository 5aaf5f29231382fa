"""explorer.charts.evaluate: the Results page's altair charts build valid specs from evaluate's output."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.charts import evaluate as charts
from explorer.evaluate import evaluate_all


@pytest.fixture(scope="module")
def ev():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 26, 600)
    logits = rng.normal(size=(600, 26))
    logits[np.arange(600), y] += 2
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return evaluate_all(y, p, [chr(65 + i) for i in range(26)])


def test_confusion_heatmap_selection(ev):
    chart = charts.confusion_heatmap(ev.confusion)
    spec = chart.to_dict()
    params = spec["params"]  # altair lifts the selection to the top of the layer chart
    assert params[0]["name"] == charts.CONFUSION_SELECTION
    assert params[0]["select"]["fields"][:2] == ["true", "predicted"]
    assert spec["layer"][0]["encoding"]["color"]["field"] == "count"
    norm = charts.confusion_heatmap(ev.confusion, normalized=True, selectable=False).to_dict()
    assert norm["layer"][0]["encoding"]["color"]["field"] == "share"
    assert "params" not in norm


def test_curves(ev):
    roc = charts.roc_chart(ev.roc, ["G", "Q"]).to_dict()
    data = next(iter(roc["datasets"].values()), None)
    labels = {row["label"].split(" ")[0] for ds in roc["datasets"].values() for row in ds if "label" in row}
    assert labels == {"G", "Q", "micro", "macro"} and data is not None
    pr = charts.pr_chart(ev.pr, ["A"]).to_dict()
    labels = {row["label"].split(" ")[0] for ds in pr["datasets"].values() for row in ds if "label" in row}
    assert labels == {"A", "micro"}


def test_per_class_worst_highlighted(ev):
    chart = charts.per_class_chart(ev.report.per_class, "f1", worst=3)
    rows = next(iter(chart.to_dict()["datasets"].values()))
    worst = {r["class"] for r in rows if r["worst"]}
    expected = set(ev.report.per_class.nsmallest(3, "f1")["class"])
    assert worst == expected
    with pytest.raises(ValueError, match="metric"):
        charts.per_class_chart(ev.report.per_class, "auc")


def test_calibration_chart(ev):
    spec = charts.calibration_chart(ev.calibration).to_dict()
    assert f"ECE {ev.calibration.ece:.4f}" in str(spec["title"])
