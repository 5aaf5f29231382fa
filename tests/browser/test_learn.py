"""Learn in Chromium: draw an L on Draw, open Learn (it takes the drawing), click a unit of the feature map and read
the breakdown's sum back: equal to the activation the page shows for the clicked unit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import go, wait_idle
from tests.browser.test_e2e import _draw_l, _no_exception, drawing_canvas

pytestmark = pytest.mark.browser
NUMBER = r"(−?\d+(?:\.\d+)?(?:e[−+]?\d+)?)"


def _number(text: str) -> float:
    return float(text.replace("−", "-"))


def test_click_a_unit_of_your_drawing_and_read_the_sum_back(page):
    go(page, "draw")
    _draw_l(page, drawing_canvas(page))
    expect(page.locator(".st-key-draw-top h2")).to_have_text(re.compile(r"^[A-Z] \d{1,3}\.\d%$"), timeout=60_000)
    go(page, "learn")
    main = page.locator("[data-testid=stMain]")
    expect(main.get_by_text("your drawing", exact=True)).to_be_visible(timeout=60_000)  # the input is the drawing
    chart = page.locator("[class*='st-key-learn_map_net']")
    expect(chart.locator("svg.marks")).to_be_visible(timeout=60_000)
    cells = chart.locator("g.mark-rect.role-mark").first.locator("path")
    assert cells.count() == 28 * 28  # one mark per unit of the 28x28 map
    activation = page.locator(".st-key-learn-activation")
    y, x = (13, 9) if "row 13, column 9:" not in activation.inner_text() else (14, 10)  # not the unit shown first
    chart.locator(f'path[aria-label^="x: {x}; y: {y};"]').click()  # Vega labels each mark with its fields
    expect(activation).to_contain_text(f"row {y}, column {x}:", timeout=60_000)
    wait_idle(page)
    expect(page.get_by_label(re.compile(r"^Row \(0 to 27\)"))).to_have_value(str(y))
    expect(page.get_by_label(re.compile(r"^Column \(0 to 27\)"))).to_have_value(str(x))
    shown = re.search(rf"row {y}, column {x}: {NUMBER}", activation.inner_text())
    check = page.locator(".st-key-learn-check")
    expect(check).to_contain_text("equal within 0.0001")
    summed = re.search(rf"= {NUMBER} recomputed; the model's activation is {NUMBER}", check.inner_text())
    assert shown and summed, (activation.inner_text(), check.inner_text())
    assert _number(summed.group(1)) == _number(summed.group(2)) == _number(shown.group(1))
    # the breakdown is the clicked unit's: its heading names it
    expect(main.get_by_text(re.compile(rf"How channel \d+, row {y}, column {x} of"))).to_be_visible()
    _no_exception(page)


def test_the_kernel_slides_when_played(page):
    go(page, "learn")
    page.get_by_role("tab", name="Convolution & pooling playground").click()
    arithmetic = page.locator("[data-testid=stCode]").filter(has_text="cell (")
    expect(arithmetic.first).to_contain_text("cell (0, 0) = 1×1 + 1×0 + 1×1", timeout=60_000)  # the course's 5×5
    page.locator("[data-testid=stCheckbox]").filter(has_text="Play").click()
    expect(arithmetic.first).to_contain_text("cell (0, 1) =", timeout=60_000)  # one position per step
    expect(arithmetic.first).to_contain_text("cell (0, 2) =", timeout=60_000)
    page.locator("[data-testid=stCheckbox]").filter(has_text="Play").click()
    _no_exception(page)
