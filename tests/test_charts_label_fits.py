"""Compare architectures: point labels that would overlap are left to the tooltip, the rest are drawn."""

from __future__ import annotations

import pandas as pd

from explorer.charts.inspect import accuracy_vs_compute_chart, label_fits


def test_two_points_on_top_of_each_other_get_one_label():
    df = pd.DataFrame({"model": ["resnet18", "resnet34", "vgg16"], "gmacs": [1.8, 1.81, 15.5],
                       "top1": [69.8, 69.82, 71.6]})
    fits = label_fits(df, "gmacs", "top1")
    assert fits.tolist() == [False, True, True]  # the higher of the two close points keeps its label


def test_far_apart_points_all_keep_labels_and_the_chart_draws_only_those():
    df = pd.DataFrame({"model": ["a", "b", "c"], "family": ["x", "y", "z"], "year": [1, 2, 3],
                       "gmacs": [0.1, 1.0, 10.0], "params_m": [1.0, 10.0, 100.0], "top1": [60.0, 70.0, 80.0]})
    assert label_fits(df, "gmacs", "top1").all()
    spec = accuracy_vs_compute_chart(df).to_dict()
    texts = [layer for panel in spec["hconcat"] for layer in panel["layer"] if layer["mark"]["type"] == "text"]
    assert len(texts) == 2 and all(len(spec["datasets"][t["data"]["name"]]) == 3 for t in texts)
