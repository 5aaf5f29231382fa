"""Plain-function parts of explorer.ui.results / explorer.ui.explain (no page needed)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from explorer.evaluate import evaluate
from explorer.ui.explain import grid
from explorer.ui.results import per_class_table, selected_cell


def test_grid_tiles_and_normalises():
    maps = np.stack([np.full((4, 4), 3.0), np.arange(16.0).reshape(4, 4), np.zeros((4, 4))])
    g = grid(maps, ncols=2, scale=1, pad=1)
    assert g.shape == (9, 9) and g.dtype == np.uint8
    assert g[0, 0] == 0 and g[3, 8] == 255  # constant map -> 0; max of the ramp -> 255
    assert grid(maps, ncols=2, scale=2).shape == (18, 18)


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
