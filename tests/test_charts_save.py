"""explorer.charts.save: offline HTML (no network script) and a PNG rendered from the same spec."""

from __future__ import annotations

import io
import json
import re

import altair as alt
import pandas as pd
from PIL import Image

from explorer.charts.save import remote_scripts, save_figure, save_html, save_png


def _chart(n: int = 6000) -> alt.Chart:
    """A line chart with more rows than altair's default 5,000-row limit."""
    df = pd.DataFrame({"x": range(n), "y": [i % 97 for i in range(n)]})
    return alt.Chart(df, title="offline check").mark_line().encode(x="x:Q", y="y:Q").properties(width=300, height=120)


def test_remote_scripts_finds_cdn_tags():
    assert remote_scripts('<script src="https://cdn.jsdelivr.net/npm/vega@6"></script>') != []
    assert remote_scripts("<SCRIPT type='text/javascript' src='//cdn.example.org/x.js'>") != []
    assert remote_scripts('<script src="http://example.org/a.js"></script>') != []
    assert remote_scripts("<script>var url = 'https://example.org';</script>") == []
    assert remote_scripts('<script type="module" src="./local.js"></script>') == []


def test_altair_default_html_would_need_the_network(tmp_path):
    # The reason for save_html: altair's plain HTML loads Vega from a CDN and stays blank offline.
    assert remote_scripts(_chart(10).to_html()) != []


def test_html_is_self_contained_and_holds_the_spec(tmp_path):
    chart = _chart()
    path = save_html(chart, tmp_path / "c.html")
    html = path.read_text(encoding="utf-8")
    assert remote_scripts(html) == []
    assert not re.search(r"<script[^>]+src=", html, re.IGNORECASE)  # no external script at all
    assert "vegaEmbed" in html and len(html) > 500_000  # vega, vega-lite and vega-embed inlined
    assert '"offline check"' in html and json.dumps(5999) in html  # the title and every row are in the page


def test_png_is_rendered_from_the_same_spec(tmp_path):
    chart = _chart()
    png = save_png(chart, tmp_path / "c.png", scale=2.0)
    img = Image.open(io.BytesIO(png.read_bytes()))
    assert img.format == "PNG"
    # 300x120 plot area plus axes and title, doubled by scale=2
    assert 600 < img.width < 900 and 240 < img.height < 500
    small = Image.open(save_png(chart, tmp_path / "s.png", scale=1.0))
    assert abs(img.width - 2 * small.width) <= 2 and abs(img.height - 2 * small.height) <= 2
    assert len(set(img.convert("L").getdata())) > 10  # something was drawn, not a blank canvas


def test_save_figure_writes_both_files(tmp_path):
    paths = save_figure(_chart(50), tmp_path / "figs", "curves")
    assert [p.name for p in paths] == ["curves.png", "curves.html"]
    assert all(p.stat().st_size > 0 for p in paths)
