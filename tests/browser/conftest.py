"""Browser test fixtures: a `streamlit run app.py` server on a free port with its own runs and data
folders, Debian's Chromium driven by Playwright, and a screenshot in test-artifacts/ on failure."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import free_port, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    """Keep each phase's report on the item, so the page fixture knows whether the test failed."""
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


@contextlib.contextmanager
def streamlit_server(runs: Path, data: Path, log_name: str = "server.log") -> Iterator[str]:
    """`streamlit run app.py` on a free port with EXPLORER_RUNS/EXPLORER_DATA set; yields its URL."""
    env = {**os.environ, "EXPLORER_RUNS": str(runs), "EXPLORER_DATA": str(data), "PYTHONPATH": str(ROOT),
           "EXPLORER_DESIGNS": str(data / "designs")}
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / log_name, "w")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                             "--server.address", "127.0.0.1", "--server.headless", "true",
                             "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        problem = wait_healthy(f"{url}/_stcore/health", proc, 90)
        if problem:
            pytest.fail(f"streamlit did not start: {problem} (see {ARTIFACTS / log_name})")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def need_browser() -> None:
    """Skip when Debian's Chromium or playwright is missing."""
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Debian's Chromium is not at {CHROMIUM} (apt-get install chromium); browser tests skipped")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`streamlit run app.py` with EXPLORER_RUNS/EXPLORER_DATA in tmp dirs; two fixture runs made up front."""
    need_browser()
    runs = tmp_path_factory.mktemp("e2e-runs")
    data = tmp_path_factory.mktemp("e2e-data")
    from tests.run_fixtures import make_run

    fixtures = [make_run(runs, name="fixture-small", epochs=3), make_run(runs, name="fixture-second", seed=1, lr=0.01)]
    with streamlit_server(runs, data) as url:
        yield {"url": url, "runs": runs, "data": data, "fixtures": fixtures}


@pytest.fixture(scope="session")
def browser(server: dict) -> Iterator:
    """Headless Debian Chromium (never a downloaded browser)."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # a 2-core machine under load needs more than 5 s per assertion
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser, server: dict, request: pytest.FixtureRequest) -> Iterator:
    """A fresh page on the app's start page; a full-page screenshot in test-artifacts/ when the test fails."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.goto(server["url"])
    pg.locator("[data-testid=stSidebarNavLink]").first.wait_for()
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def wait_idle(pg, timeout: float = 120_000) -> None:
    """Wait until the page has a title and Streamlit has finished running (no skeleton, no running widget)."""
    pg.wait_for_function(
        "() => document.querySelector('[data-testid=\"stMain\"] h1')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"
        " && !document.body.innerText.includes('Running...')",
        timeout=timeout,
    )


def go(pg, url_path: str) -> None:
    """Open a page through its sidebar link (as a user does) and wait for it to render."""
    pg.locator(f"[data-testid=stSidebarNavLink][href$='/{url_path}']").click()
    pg.wait_for_url(f"**/{url_path}")
    wait_idle(pg)




def new_run(root: Path, before: set[str], timeout_s: float = 120) -> Path:
    """The run folder that appeared under root since `before` (its names) was taken: Start's proof it was heard."""
    deadline = time.monotonic() + timeout_s
    while True:
        new = [p for p in root.iterdir() if p.name not in before and (p / "config.json").is_file()]
        if new:
            return new[0]
        assert time.monotonic() < deadline, "Start created no run folder"
        time.sleep(0.1)  # polling the runs folder with a deadline
