"""An `evaluate` HTML figure opened from disk in headless Chromium with the network off draws its chart.

Uses the session's `browser` fixture (one Playwright per session: a second sync Playwright inside the
first one's event loop raises)."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.evaluate import evaluate_all
from explorer.evaluate.figures import write_figures

pytestmark = pytest.mark.browser


def test_evaluate_html_figure_renders_offline(browser, tmp_path):
    rng = np.random.default_rng(3)
    y = rng.integers(0, 5, 120)
    ev = evaluate_all(y, rng.dirichlet(np.ones(5), 120), list("ABCDE"))
    write_figures(ev, tmp_path)
    requests: list[str] = []
    context = browser.new_context(offline=True)
    try:
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((tmp_path / "roc.html").as_uri())
        # vega-embed draws into #vis: a canvas or an svg with a real size means the chart is there
        page.wait_for_function(
            "() => { const el = document.querySelector('#vis canvas, #vis svg');"
            " return el && el.getBoundingClientRect().width > 100 && el.getBoundingClientRect().height > 100; }",
            timeout=30_000,
        )
        assert errors == []
        assert page.locator("#vis.vega-embed").count() == 1  # vega-embed ran (it marks its container)
        page.screenshot(path=str(tmp_path / "roc_offline.png"))
        shot = page.locator("#vis canvas, #vis svg").first.screenshot()
        assert len(shot) > 5_000  # a drawn chart, not an empty box
    finally:
        context.close()
    assert [u for u in requests if not u.startswith("file:")] == []  # nothing fetched from the network
