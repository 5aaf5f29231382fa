"""The newcomer's path in Chromium from an empty runs folder: the landing page, the quick model started in at
most two clicks, watched to the end with a check for an exception/error box every 250 ms on the page it is on,
then Draw reads a letter drawn with the mouse (reached from the Train page's next steps)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, streamlit_server, wait_idle
from tests.browser.test_e2e import _draw_l, drawing_canvas
from tests.browser.test_train_watch import OBSERVE, POLL_MS, _bad_now

pytestmark = pytest.mark.browser
RUN_TIMEOUT_S = 1500  # the full quick recipe (3 epochs of 26,000 letters): ~45 s idle, ~12 min on a busy 2-core box


@pytest.fixture(scope="module")
def empty_app(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[dict]:
    """A server of its own over an empty runs folder (and a cold data folder): what a newcomer starts from."""
    runs, data = tmp_path_factory.mktemp("newcomer-runs"), tmp_path_factory.mktemp("newcomer-data")
    with streamlit_server(runs, data, log_name="server-newcomer.log") as url:
        yield {"url": url, "runs": runs}


def _watch(page) -> None:
    """(Re)install the observer that records every exception/error box, however briefly it shows."""
    page.evaluate(f"() => {{ if (!window.__bad) ({OBSERVE})(); }}")


@pytest.mark.timeout(RUN_TIMEOUT_S + 300)
def test_newcomer_path_from_an_empty_runs_folder(browser, empty_app):
    context = browser.new_context(viewport={"width": 1400, "height": 1400})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        _path(page, empty_app)
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "test_newcomer_path.png"), full_page=True)
        raise
    finally:
        context.close()


def _path(page, app: dict) -> None:
    assert not any(p for p in Path(app["runs"]).iterdir() if not p.name.startswith("."))
    page.goto(app["url"])
    wait_idle(page)
    _watch(page)
    expect(page.locator("[data-testid=stMain] h1").first).to_have_text("CNN Explorer")
    button = page.get_by_role("button", name=re.compile(r"^Train the quick model \(about .+ on this machine\)"))
    expect(button).to_be_enabled(timeout=120_000)  # the estimate is measured first (a few timed steps)
    button.click()  # click 1 of at most 2: the job starts and the Train page opens on it
    page.wait_for_url("**/train", timeout=120_000)
    _watch(page)
    done = page.locator("[data-testid=stMarkdownContainer]").filter(
        has_text=re.compile(r"\bquick\b.* — (completed|failed|stopped|interrupted)\b"))
    runs = [p for p in Path(app["runs"]).iterdir() if (p / "config.json").is_file()]  # not .locks
    assert len(runs) == 1, runs  # exactly one job started
    seen: set[str] = set()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:  # every 250 ms: no exception or error box on the page, until the run ends
        bad = _bad_now(page)
        assert not bad, f"exception/error box while training ({sorted(seen)[-3:]}): {bad}"
        bars = page.locator("[data-testid=stProgress]")
        seen.update(t.strip() for t in bars.all_inner_texts())  # one read: a bar may vanish between count and text
        try:
            done.first.wait_for(state="visible", timeout=POLL_MS)
            break
        except PlaywrightTimeout:
            pass
        assert time.monotonic() < deadline, f"the quick run did not end in {RUN_TIMEOUT_S} s ({sorted(seen)[-3:]})"
    assert "completed" in done.first.inner_text(), done.first.inner_text()
    assert any(s.startswith("epoch 3 of 3") or s.startswith("epoch 2 of 3") for s in seen), seen
    assert not _bad_now(page)
    # next steps after completion, then Draw reads a drawn letter
    for label in ("Results", "Explain", "Draw a letter"):
        expect(page.locator("[data-testid=stPageLink]").filter(has_text=label).last).to_be_visible()
    page.locator("[data-testid=stMain] [data-testid=stPageLink]").filter(has_text="Draw a letter").last.click()
    page.wait_for_url("**/draw")
    wait_idle(page)
    _watch(page)
    canvas = drawing_canvas(page)
    _draw_l(page, canvas, x=90, top=40, step=9.5, foot=13, foot_step=10)  # a foot about 2/3 of the height
    top = page.locator(".st-key-draw-top h2")
    expect(top).to_have_text(re.compile(r"^[A-Z] \d{1,3}\.\d%$"), timeout=60_000)
    # the answer after the last stroke (the first stroke alone is an I): wait for the page to settle on it
    expect(top).to_have_text(re.compile(r"^L \d{1,3}\.\d%$"), timeout=60_000)
    expect(page.get_by_text("quick reads:")).to_be_visible()
    assert not _bad_now(page)
