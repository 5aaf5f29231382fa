"""Issue 20 in Chromium: a run whose class names and name are a script-bearing iframe, a markdown beacon and an
<img onerror> tag (a copied run folder; an imported run with hostile messages beside it), then a letter drawn
on the Draw page with the mouse. The answer shows the hostile class name as text: no script runs, no dialog
opens, no remote image is requested, no iframe or image is made from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from explorer.runs import import_run, open_run
from tests.browser.conftest import go, streamlit_server, wait_idle
from tests.browser.test_e2e import _draw_l, drawing_canvas
from tests.hostile import BEACON, IMG_TAG, LINK, SCRIPT, zip_of_run
from tests.run_fixtures import make_run

pytestmark = pytest.mark.browser

INJECTED = """() => ({title: document.title === '1',
    srcdoc: document.querySelectorAll('iframe[srcdoc]').length,
    imgx: [...document.querySelectorAll('img')].filter(i => i.getAttribute('src') === 'x').length,
    links: [...document.querySelectorAll('[data-testid=stMain] a')].filter(a => a.hostname.includes('beacon')).length})"""


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory, server: dict):
    """`streamlit run app.py` over a runs folder holding an imported (failed) run with hostile messages and,
    the only completed run (so the Draw page's default), a copied run whose name and class names are the payloads."""
    runs, data = tmp_path_factory.mktemp("hostile-runs"), tmp_path_factory.mktemp("hostile-data")
    sender = make_run(tmp_path_factory.mktemp("sender"), name="shared", classes=list("ABC"))
    status = {**sender.raw_status, "status": "failed", "error": f"{BEACON} {SCRIPT}", "notes": [LINK, IMG_TAG]}
    imported = import_run(zip_of_run(sender.path, status=status), runs)
    imported.update_config(created="2026-01-01 00:00:00")  # older: the copied run below is the newest
    local = make_run(runs, name="local", classes=list("ABC"))
    cfg = local.config
    cfg.update(name=BEACON, classes=[SCRIPT, BEACON, IMG_TAG], tags=[LINK])
    open_run(local.path).update_config(**cfg)
    with streamlit_server(Path(runs), Path(data), "server-hostile.log") as url:
        yield url


def test_drawing_with_hostile_class_names_runs_nothing_and_requests_nothing(browser, hostile_app):
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    page.set_default_timeout(60_000)
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(hostile_app)
        wait_idle(page)
        clean = {"title": False, "srcdoc": 0, "imgx": 0, "links": 0}  # the payload sets the title to 1
        go(page, "draw")
        canvas = drawing_canvas(page)
        _draw_l(page, canvas)
        answer = page.locator(".st-key-draw-top h2")
        expect(answer).to_have_text(re.compile(r"\d{1,3}\.\d%$"), timeout=60_000)
        shown = answer.inner_text().replace("\u2060", "")  # the word joiner that keeps a URL from becoming a link
        assert any(p in shown for p in (SCRIPT, BEACON, IMG_TAG)), shown  # the class name, literally, as text
        expect(page.get_by_text(re.compile("^Grad-CAM for"))).to_be_visible()
        wait_idle(page)
        assert page.evaluate(INJECTED) == clean
        for path in ("results", "explain", "train", "compare_runs"):  # the pages that show run strings
            go(page, path)
            assert page.evaluate(INJECTED) == clean, path
        assert dialogs == []
        assert [u for u in requests if "beacon" in u] == []
        assert page.locator("[data-testid=stException]").count() == 0
    finally:
        context.close()
