"""End-to-end tests in headless Debian Chromium against `streamlit run app.py` (see conftest.py):
every page opens; Inspect totals; Train the quick model; Draw with real mouse strokes; Compare runs."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from explorer.names import run_title
from explorer.runs import open_run
from tests.browser.conftest import go, new_run, wait_idle

pytestmark = pytest.mark.browser

PAGES = ["home", "inspect", "learn", "design", "compare_architectures", "data", "train", "results", "explain", "inside", "draw", "compare_runs"]


def _no_exception(pg) -> None:
    exc = pg.locator("[data-testid=stException]")
    assert exc.count() == 0, exc.first.inner_text()


def test_every_page_loads(page):
    wait_idle(page)
    _no_exception(page)
    links = page.locator("[data-testid=stSidebarNavLink]")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(hrefs) == len(PAGES), hrefs
    for url_path in PAGES[1:]:
        go(page, url_path)
        _no_exception(page)
        assert page.locator("[data-testid=stMain] h1").first.inner_text().strip()


def test_inspect_choose_model_totals_appear(page):
    go(page, "inspect")  # the app opens on Home
    params = page.locator("[data-testid=stMetric]").filter(has_text="Parameters")
    before = params.locator("[data-testid=stMetricValue]").inner_text()
    page.locator("[data-testid=stSelectbox]").filter(has_text="Architecture").click()
    page.keyboard.type("VGG-16")
    page.get_by_role("option").filter(has_text=re.compile(r"^VGG-16 ")).first.click()
    wait_idle(page)
    expect(params.locator("[data-testid=stMetricValue]")).not_to_have_text(before, timeout=60_000)
    value = params.locator("[data-testid=stMetricValue]").inner_text()
    assert re.fullmatch(r"\d{1,3}(,\d{3})+", value), value
    expect(page.locator("[data-testid=stMetric]").filter(has_text="MACs")).to_be_visible()
    _no_exception(page)


def test_train_quick_model_completes_and_is_listed(page, server):
    go(page, "train")
    form = page.locator(".st-key-train_form").first
    form.locator("[data-testid=stExpander] summary").filter(has_text="Advanced").click()  # size is there
    for label, value in (("Images per class", "20"), ("Epochs", "1")):
        box = form.get_by_role("spinbutton", name=label).first
        box.fill(value)
        box.press("Tab")
        wait_idle(page)  # a click during the rerun a Tab starts can be lost with the redrawn button
    root = Path(server["runs"])
    before = {p.name for p in root.iterdir()}
    form.get_by_role("button", name="Start").click()
    run = open_run(new_run(root, before))  # Start was heard: a run folder appeared (fixture runs also say "epoch 1 of 1")
    expect(page.get_by_text(re.compile(r"epoch \d+ of 1")).first).to_be_visible(timeout=120_000)  # progress
    deadline = time.monotonic() + 240
    while run.status["status"] == "running":
        assert time.monotonic() < deadline, "the quick run did not finish in 4 minutes"
        time.sleep(0.5)  # polling the run's status with a deadline
    assert run.status["status"] == "completed", run.status
    expect(page.get_by_text("completed", exact=False).first).to_be_visible(timeout=60_000)
    new = {p.name for p in root.iterdir() if not p.name.startswith(".")} - before  # (.locks: no run)
    assert new == {run.path.name}, new
    title = run_title(run)  # shown by its readable name, not its id
    expect(page.get_by_text(title).first).to_be_visible(timeout=60_000)
    _no_exception(page)
    go(page, "compare_runs")  # the new run is listed beside the others (the page starts on the best two)
    _pick_runs(page, [title, "fixture-small"])
    picked = page.locator("[data-testid=stMultiSelect]").first
    expect(picked).to_contain_text(title, timeout=60_000)
    expect(picked).to_contain_text("test ")  # a completed run shows its test accuracy


INK = """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] > 128) n++; return n; }"""


def drawing_canvas(pg):
    """The canvas that takes the strokes (fabric's upper canvas of the drawing component), once it is there."""
    canvas = pg.locator("[data-testid=stMain] canvas.upper-canvas").last
    canvas.wait_for()
    return canvas


def _ink(pg) -> int:
    """White pixels on the drawing canvas (the strokes' layer, not its black background)."""
    return pg.locator("[data-testid=stMain] canvas.dc-canvas.lower-canvas").last.evaluate(INK)


def _strokes(pg, canvas, x: float, top: float, step: float, foot: int, foot_step: float) -> None:
    box = canvas.bounding_box()
    x0, y0 = box["x"], box["y"]
    pg.mouse.move(x0 + x, y0 + top)
    pg.mouse.down()
    for i in range(1, 21):
        pg.mouse.move(x0 + x, y0 + top + i * step)
    pg.mouse.up()
    pg.mouse.move(x0 + x, y0 + 230)
    pg.mouse.down()
    for i in range(1, foot + 1):
        pg.mouse.move(x0 + x + i * foot_step, y0 + 230)
    pg.mouse.up()


def _draw_l(pg, canvas, x: float = 100, top: float = 50, step: float = 9, foot: int = 12, foot_step: float = 8) -> None:
    """An L with the mouse, as a person draws it: a down stroke of 20 moves, then a foot of `foot` moves.

    The strokes must show as ink on the canvas; a canvas that was not taking strokes yet (its component still
    starting on a loaded machine) gets the L once more, as a person would draw again."""
    before = _ink(pg)
    for _ in range(2):
        _strokes(pg, canvas, x, top, step, foot, foot_step)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if _ink(pg) > before:
                return
            pg.wait_for_timeout(100)  # polling the canvas's pixels with a deadline
    raise AssertionError("two L's drawn with the mouse left no ink on the drawing canvas")


def test_draw_predicts_and_clear_resets(page):
    go(page, "draw")
    hint = page.get_by_text("Draw a letter on the canvas")
    expect(hint).to_be_visible()
    canvas = drawing_canvas(page)
    _draw_l(page, canvas)
    reads = page.get_by_text("reads:")
    expect(reads).to_be_visible(timeout=60_000)
    top = page.locator("[data-testid=stMain]").get_by_text(re.compile(r"^[A-Z] \d{1,3}\.\d%$")).first
    expect(top).to_be_visible()
    expect(page.get_by_text("What the model sees")).to_be_visible()
    expect(page.get_by_text(re.compile("^Grad-CAM for"))).to_be_visible()
    expect(hint).to_have_count(0)
    _no_exception(page)
    page.get_by_role("button", name="Clear").click()
    expect(hint).to_be_visible(timeout=60_000)
    expect(reads).to_have_count(0)
    # an upload that is not an image gets a clear message
    page.get_by_text("Upload a photo", exact=True).click()
    upload = page.locator("[data-testid=stFileUploader] input[type=file]")
    # (the uploader takes raster types only, so the text file is named .png to reach the app's own check)
    upload.set_input_files(files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"not a picture"}])
    expect(page.get_by_text(re.compile("not an image"))).to_be_visible(timeout=60_000)
    _no_exception(page)


def _pick_runs(pg, names: list[str]) -> None:
    """Choose exactly these runs on Compare runs (whatever the page preselected: other tests add newer runs)."""
    picker = pg.locator("[data-testid=stMultiSelect]").first
    picker.locator("[aria-label='Clear all']").click()  # the page preselects two runs whenever it has two
    expect(pg.get_by_text("Pick two or more runs.")).to_be_visible()
    for name in names:
        picker.locator("input").click()
        pg.keyboard.type(name)
        pg.get_by_role("option").filter(has_text=name).first.click()
        wait_idle(pg)
    pg.keyboard.press("Escape")
    for name in names:
        expect(picker).to_contain_text(name)


def test_compare_two_runs_side_by_side(page, server):
    go(page, "compare_runs")
    _pick_runs(page, ["fixture-small", "fixture-second"])
    expect(page.get_by_text("Final metrics", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Settings that differ", exact=True)).to_be_visible()
    table = page.locator("[data-testid=stDataFrame]").first
    expect(table).to_be_visible()
    expect(page.get_by_text(re.compile("^Loss vs epoch"))).to_be_visible()
    expect(page.get_by_text("Accuracy against cost", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_role("button", name="Download CSV")).to_be_visible()
    _no_exception(page)
