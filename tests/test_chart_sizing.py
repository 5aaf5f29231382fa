"""Charts keep a readable plot area (issue 23, item 3): explorer.ui.layout.render_chart is the one way a page shows
an altair chart, and it makes width and height the PLOT's (Streamlit's default autosize "fit" made them the whole
figure's, so axes, title and legend squashed the plot to a strip: 110 px deletion curves drew flat lines, a 320 px
scatter with its legend below was 15 px tall). Checked on the specs the pages send (AppTest), and on the charts."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from explorer.charts.curves import curve_panels, history_frame
from explorer.charts.data import pixel_heatmap
from explorer.names import short_titles
from explorer.ui.layout import FIT_WIDTH, PAD, sized
from tests.conftest import page_path
from tests.run_fixtures import make_page_run, make_run

ROOT = Path(__file__).resolve().parents[1]
MIN_PLOT = 150  # px: the plot height below which a curve reads as a flat strip


def chart_specs(at: AppTest) -> list[dict]:
    """The Vega-Lite specs of every chart the page sent."""
    return [json.loads(e.proto.spec) for e in at.get("vega_lite_chart")]


def plot_heights(spec: dict) -> list[int]:
    """Heights asked for by a spec and its sub-views (layers, concat panels, facet cells)."""
    out = [spec["height"]] if isinstance(spec.get("height"), int) else []
    for key in ("layer", "hconcat", "vconcat", "concat"):
        for sub in spec.get(key) or []:
            out += plot_heights(sub)
    if isinstance(spec.get("spec"), dict):
        out += plot_heights(spec["spec"])
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("sizing_runs")
    make_run(root, name="one epoch", epochs=1)
    return root, make_page_run(root, "planted").name


@pytest.mark.parametrize("page", ["results", "compare_architectures", "data"])
def test_every_chart_a_page_sends_keeps_its_plot_size(page, runs, monkeypatch):
    root, run_id = runs
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path(page), default_timeout=300)
    at.session_state["explorer_run_id"] = run_id
    at.session_state["data_size"] = 10  # Data: a small built-in set (the default size spawns generator processes)
    at.run()
    assert not at.exception
    specs = chart_specs(at)
    assert specs, f"{page} sent no chart"
    for spec in specs:
        auto = spec.get("autosize") or {}
        assert auto.get("type") in ("pad", "fit-x") and auto.get("contains") == "padding", (page, auto)
        heights = plot_heights(spec)
        assert heights and min(heights) >= MIN_PLOT, (page, spec.get("title"), heights)


def test_sizing_rule():
    base = alt.Chart(pd.DataFrame({"x": [1, 2], "y": [3, 4]})).mark_line().encode(x="x:Q", y="y:Q")
    chart, width = sized(base.properties(width=320, height=200))
    assert width == "content" and chart.autosize == PAD and chart.width == 320  # a fixed width stays the plot's
    chart, width = sized(base.properties(width="container", height=200))
    assert width == "stretch" and chart.autosize == FIT_WIDTH  # fills its column; the height is the plot's
    chart, width = sized(base.properties(height=200))
    assert width == "stretch" and chart.width == "container"
    chart, width = sized(alt.hconcat(base, base))
    assert width == "content" and chart.autosize == PAD  # Vega lays a composition out at its own size
    chart, width = sized(base.properties(width=300).facet(column="x:N"))
    assert width == "content"


def test_only_the_layout_module_calls_altair_chart():
    """One owner of how a chart is shown: every other caller goes through render_chart / render_wrapping_charts."""
    offenders = []
    for path in [*ROOT.glob("explorer/ui/*.py"), *ROOT.glob("app_pages/*.py")]:
        if path.name == "layout.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in ("altair_chart", "vega_lite_chart"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


@pytest.mark.parametrize("shape, size", [((28, 28), 280), ((32, 32), 364), ((64, 48), 364)])
def test_pixel_heatmap_pixels_are_square_whole_screen_pixels(shape, size):
    spec = pixel_heatmap(np.random.default_rng(0).random(shape), size=size).to_dict()
    h, w = shape
    cell = spec["width"] / w
    assert cell == int(cell) and spec["height"] == cell * h  # square, nearest-neighbour, no seams
    assert abs(cell * max(h, w) - size) <= max(h, w) / 2
    assert spec["encoding"]["x"]["scale"]["paddingInner"] == 0


def test_one_epoch_curves_read_whole_epochs_and_plain_numbers():
    frame = history_frame([{"epoch": 1, "stage": 0, "train_loss": 1.0, "val_loss": 1.0, "train_acc": 0.5,
                            "val_acc": 0.5, "lr": 0.1, "epoch_time": 2.0}])
    for panel in curve_panels(frame, metrics=("loss", "accuracy", "lr")):
        enc = panel.to_dict()["encoding"]
        assert enc["x"]["axis"]["format"] == "d" and enc["x"]["axis"]["tickMinStep"] == 1
        assert "~" in enc["y"]["axis"]["format"]  # trailing zeros trimmed: 0.1, never 0.100000


def test_confusion_heatmap_labels_every_class():
    from explorer.charts.evaluate import confusion_heatmap
    from explorer.metrics import confusion

    classes = [chr(65 + i) for i in range(26)]
    y = np.repeat(np.arange(26), 3)
    spec = confusion_heatmap(confusion(y, np.eye(26)[y], classes)).to_dict()
    layer = spec["layer"][0]["encoding"]
    assert layer["x"]["axis"]["labelOverlap"] is False and layer["y"]["axis"]["labelOverlap"] is False


def test_short_titles_keep_run_names_apart():
    long = ["one-epoch-run-with-a-long-name-that-goes-on", "one-epoch-run-with-a-long-name-that-goes-on-and-differs"]
    out = short_titles([*long, "short"], limit=36)
    assert out[2] == "short" and all(len(t) <= 36 for t in out[:2])
    assert len(set(out)) == 3 and out[0].startswith("one-epoch") and out[1].endswith("differs")
    same_ends = ["a" * 30 + "X" + "b" * 30, "a" * 30 + "Y" + "b" * 30]
    assert len(set(short_titles(same_ends, limit=20))) == 2  # widened until they differ
    assert short_titles(["x", "x"]) == ["x", "x"]  # equal titles stay equal (unique_titles tells them apart first)
