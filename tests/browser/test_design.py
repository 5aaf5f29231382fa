"""Issue 26 in Chromium: build the course's network from an empty design on the Design page, save it, train it
one epoch on Train (it is listed as a model like any other), then draw a letter for it on Draw."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import go, wait_idle
from tests.browser.test_e2e import _draw_l, _no_exception, drawing_canvas

pytestmark = pytest.mark.browser

COURSE = [("Conv2d", {"Kernel F": "5", "Padding P": "2"}), ("BatchNorm", {}), ("ReLU", {}), ("MaxPool", {}),
          ("Conv2d", {"Filters k": "32", "Kernel F": "5", "Padding P": "2"}), ("BatchNorm", {}), ("ReLU", {}),
          ("MaxPool", {}), ("Flatten", {})]
MARK = {"Conv2d": "CONV", "BatchNorm": "BATCH NORM", "ReLU": "ReLU", "MaxPool": "MAX POOL", "Flatten": "FLATTEN"}


def _choose(pg, where, label: str, option: str) -> None:
    box = where.locator("[data-testid=stSelectbox]").filter(has_text=label).first
    for attempt in range(3):  # a rerun in flight may redraw the list under the pointer: open it again
        wait_idle(pg)
        box.click()
        pg.keyboard.type(option)  # the list is long: filter it, as a person types
        try:
            pg.get_by_role("option").filter(has_text=re.compile(f"^{re.escape(option)}$")).first.click(timeout=10_000)
            wait_idle(pg)
            _shows(pg, box, option)  # the box shows it: the choice reached the app
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            pg.keyboard.press("Escape")
    wait_idle(pg)


def _shows(pg, box, option: str, timeout: float = 10.0) -> None:
    """Wait until a select box shows `option` (as text or as its search input's value); the box may be redrawn
    meanwhile, so it is looked up again each time."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if option in box.inner_text(timeout=2_000) or option in box.locator("input").evaluate_all(
                    "els => els.map(e => e.value)"):
                return
        except PlaywrightError:
            pass  # redrawn under us: look again
        if time.monotonic() > deadline:
            raise PlaywrightTimeout(f"the select box does not show {option!r}")
        pg.wait_for_timeout(200)


def _fill(pg, where, label: str, value: str) -> None:
    box = where.get_by_role("spinbutton", name=label).first
    box.fill(value)
    box.press("Tab")
    wait_idle(pg)


def test_design_the_course_network_train_it_and_draw_for_it(page, server):
    go(page, "design")
    main = page.locator("[data-testid=stMain]")
    expect(main.get_by_text("needs a flat vector").first).to_be_visible()  # the empty design asks for a Flatten
    name = main.get_by_role("textbox", name="Name")
    name.fill("course")
    name.press("Tab")
    wait_idle(page)
    for n, (title, values) in enumerate(COURSE, start=1):
        _choose(page, main, "Add a layer", title)
        page.locator(".st-key-design_palette").get_by_role("button", name="Add", exact=True).click()
        row = page.locator(f".st-key-design_row_{n}")
        expect(row).to_be_visible()
        wait_idle(page)
        expect(row).to_contain_text(f"{n}. {MARK[title]}")  # the layer chosen, not the one before
        for label, value in values.items():
            _fill(page, row, label, value)
    for shape in ("28×28×16", "14×14×16", "14×14×32", "7×7×32"):
        expect(main.get_by_text(f"→ {shape}").first).to_be_visible()
    expect(main.get_by_text("W_out = (14 − 5 + 2(2))/1 + 1 = 14").first).to_be_visible()
    expect(main.get_by_text("needs a flat vector")).to_have_count(0)
    main.get_by_role("button", name="Save", exact=True).click()
    expect(main.get_by_text("design:course").first).to_be_visible(timeout=60_000)
    _no_exception(page)

    go(page, "train")
    form = page.locator(".st-key-train_form").first
    _choose(page, form, "Model", "course (your design)")
    form.locator("[data-testid=stExpander] summary").filter(has_text="Advanced").click()
    run_name = form.get_by_role("textbox", name="Run name")
    run_name.fill("designed-course")
    run_name.press("Tab")
    for label, value in (("Images per class", "10"), ("Epochs", "1")):
        _fill(page, form, label, value)
    root = Path(server["runs"])
    form.get_by_role("button", name="Start").click()
    deadline = time.monotonic() + 300
    while not any((p / "metrics.json").is_file() and "designed-course" in p.name for p in root.iterdir()):
        assert time.monotonic() < deadline, "the design's run did not complete"
        time.sleep(0.5)  # polling the runs folder with a deadline
    run = next(p for p in root.iterdir() if "designed-course" in p.name)
    assert (run / "design.json").is_file()

    go(page, "draw")
    main.locator("[data-testid=stSelectbox]").filter(has_text="Run").first.click()
    page.keyboard.type("designed-course")
    page.get_by_role("option").filter(has_text="designed-course").first.click()
    wait_idle(page)
    canvas = drawing_canvas(page)
    _draw_l(page, canvas)
    expect(page.get_by_text("reads:")).to_be_visible(timeout=60_000)
    expect(main.get_by_text(re.compile(r"^[A-Z] \d{1,3}\.\d%$")).first).to_be_visible()
    _no_exception(page)
