"""Pure view helpers that pages use (explorer.charts.evaluate, explorer.explain.view, explorer.data.view)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from explorer.charts.evaluate import (
    curve_areas,
    pairs_table,
    per_class_chart,
    per_class_table,
    selected_cell,
)
from explorer.data.view import styled_pixels, to_display
from explorer.evaluate import evaluate, evaluate_all, worst_classes
from explorer.explain.view import feature_grid


def test_grid_tiles_and_normalises():
    maps = np.stack([np.full((4, 4), 3.0), np.arange(16.0).reshape(4, 4), np.zeros((4, 4))])
    g = feature_grid(maps, ncols=2, scale=1, pad=1)
    assert g.shape == (9, 9) and g.dtype == np.uint8
    assert g[0, 0] == 0 and g[3, 8] == 255  # constant map -> 0; max of the ramp -> 255
    assert feature_grid(maps, ncols=2, scale=2).shape == (18, 18)


def test_selected_cell_from_event():
    event = SimpleNamespace(selection={"cell": [{"true": "G", "predicted": "Q", "true_index": 6,
                                                  "predicted_index": 16}]})
    assert selected_cell(event) == (6, 16)
    assert selected_cell(SimpleNamespace(selection={"cell": []})) is None
    assert selected_cell(None) is None


def test_per_class_table_marks_worst():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.eye(3)[[0, 1, 1, 1, 2, 0]]
    r = evaluate(y, p, ["A", "B", "C"])
    # F1: A 0.5, B 0.8, C 2/3 -> A is the worst class, its whole row shaded
    html = per_class_table(r.per_class, worst=1).to_html()
    assert "#f8d7da" in html and "row0_col0" in html.split("</style>")[0]
    assert "row1_col0" not in html.split("</style>")[0]


def test_worst_classes_skip_absent_classes_and_feed_every_view():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.eye(4)[[0, 1, 1, 1, 2, 0]]
    r = evaluate(y, p, ["A", "B", "C", "D"])  # D has no test image: F1 0 but not "worst"
    assert worst_classes(r.per_class, 1) == ["A"]
    assert worst_classes(r.per_class, 2) == ["A", "C"]
    assert worst_classes(r.per_class, 1, "recall") == ["A"]  # recall A 0.5, B 1.0, C 0.5: first in table order
    chart_rows = per_class_chart(r.per_class, "f1", worst=2).to_dict()["datasets"]
    marked = {row["class"] for rows in chart_rows.values() for row in rows if row["worst"]}
    assert marked == {"A", "C"}
    with pytest.raises(ValueError, match="precision, recall or f1"):
        worst_classes(r.per_class, 1, "auc")


def test_pairs_table_curve_areas_and_duration():
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    p = np.eye(3)[[0, 1, 1, 1, 0, 1, 2, 2]] * 0.8 + 0.2 / 3
    ev = evaluate_all(y, p, ["A", "B", "C"])
    t = pairs_table(ev.pairs)
    assert list(t.columns) == ["pair", "first as second", "second as first", "total", "share %"]
    top = t.iloc[0]
    assert top["total"] == 3 and top["share %"] == 50.0  # A->B twice, B->A once, of 6 images of A and B
    areas = curve_areas(ev).set_index("curve")
    assert list(areas.index[:3]) == ["A", "B", "C"] and {"micro", "macro"} <= set(areas.index)
    assert areas.loc["micro", "ROC AUC"] == ev.roc.area["micro"]
    assert areas.loc["macro", "average precision"] == ev.pr.area["macro"]


def test_pixel_views():
    img = np.array([[0.0, 0.5], [0.25, 1.0]])
    assert styled_pixels(img, digits=2).data.values.tolist() == [[0.0, 0.5], [0.25, 1.0]]
    shown = to_display(np.array([[2.0, 4.0], [3.0, 6.0]]))
    assert shown.dtype == np.uint8 and shown.tolist() == [[0, 128], [64, 255]]
    assert to_display(np.full((2, 2), 7.0)).tolist() == [[0, 0], [0, 0]]
