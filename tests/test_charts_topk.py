"""Draw's top-5 chart: every bar keeps its letter (Streamlit's theme turns on labelOverlap, which hid ranks 2 and 4)."""

from __future__ import annotations

import pandas as pd
import pytest

from explorer.charts.compare import topk_chart

TOP5 = pd.DataFrame({"letter": ["L", "I", "T", "J", "F"], "probability": [0.62, 0.21, 0.09, 0.05, 0.02]})


def _spec(chart) -> dict:
    return chart.to_dict()


def test_every_top5_bar_is_labelled():
    spec = _spec(topk_chart(TOP5))
    y_axes = [layer["encoding"]["y"] for layer in spec["layer"]]
    for y in y_axes:
        assert y["field"] == "letter"
        assert y["sort"] == ["L", "I", "T", "J", "F"]  # most probable on top
        assert y["axis"]["labelOverlap"] is False  # overrides the theme's labelOverlap: true
    data = next(iter(spec["datasets"].values()))
    assert [d["letter"] for d in data] == ["L", "I", "T", "J", "F"]
    assert spec["height"] >= 5 * 30  # room for a 14 px label per bar


@pytest.mark.parametrize("k", [1, 5, 10])
def test_height_grows_with_k_unless_given(k):
    frame = pd.DataFrame({"letter": [chr(65 + i) for i in range(k)], "probability": [1.0 / k] * k})
    assert _spec(topk_chart(frame))["height"] == max(150, 30 * k)
    assert _spec(topk_chart(frame, height=200))["height"] == 200
