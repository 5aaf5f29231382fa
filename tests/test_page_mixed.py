"""Every page, with every tab, on a realistic mixed runs folder (tests/mixed_runs.py: a quick run with the default
data size, LeNet-5 on another size, an imported run, a stopped and a failed run, a 3-run sweep with its queue):
no exception, no error box (issue 23: each of its bugs escaped a suite whose runs folders were of one kind).
Pages are found in app_pages/, so a new page is covered as soon as it exists."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, page_path
from tests.mixed_runs import make_mixed_runs

PAGES = sorted(p.stem for p in (ROOT / "app_pages").glob("*.py") if p.stem != "__init__")
# tabs each page must show on this folder (a page not listed still has to open cleanly)
TABS = {
    "results": ["Confusion matrix", "Most confused pairs", "ROC / PR", "Per-class report", "Training curves",
                "Calibration", "Mistakes", "Published results", "Confusion over epochs", "Robustness"],
    "inspect": ["Layers", "Charts", "Diagram", "Conv arithmetic", "Measured"],
    "compare_runs": ["Parallel coordinates", "Effect of each setting", "Group by"],
}
SMALL_DATA = {"data": {"data_size": 10}}  # the Data page's own size box (the default 1,000 per class takes minutes)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    root = tmp_path_factory.mktemp("mixed-pages")
    return root, make_mixed_runs(root)


def _open(page: str, root: Path, monkeypatch, state: dict | None = None) -> AppTest:
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path(page), default_timeout=600)
    for key, value in {**SMALL_DATA.get(page, {}), **(state or {})}.items():
        at.session_state[key] = value
    return at.run()


def _clean(at: AppTest, page: str) -> None:
    assert not at.exception, f"{page}: {[e.message for e in at.exception]}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"


def test_every_page_is_found():
    assert {"home", "inspect", "compare_architectures", "data", "train", "results", "explain", "inside", "draw",
            "compare_runs"} <= set(PAGES)


@pytest.mark.parametrize("page", PAGES)
def test_page_and_its_tabs_open_cleanly_on_a_mixed_folder(page, mixed, monkeypatch):
    root, runs = mixed
    at = _open(page, root, monkeypatch)
    _clean(at, page)
    labels = [t.label for t in at.tabs]
    missing = [t for t in TABS.get(page, []) if t not in labels]
    assert not missing, f"{page}: tabs {missing} not shown (shown: {labels})"
    for key in ("results_run", "explain_run", "inside_run", "draw_run"):
        if key in at.session_state:  # a run page opens on the best completed run, not the newest sweep point
            assert at.session_state[key] == runs["lenet5"].name, (page, key)


@pytest.mark.parametrize("role", ["imported", "stopped", "failed", "sweep_2"])
@pytest.mark.parametrize("page,key", [("results", "results_run"), ("explain", "explain_run"), ("inside", "inside_run")])
def test_run_pages_on_each_kind_of_run(page, key, role, mixed, monkeypatch):
    """The run pages on a run of each kind: a message where there is nothing to show, never an exception."""
    root, runs = mixed
    at = _open(page, root, monkeypatch)
    at.selectbox(key=key).set_value(runs[role].name).run()
    assert not at.exception, f"{page} on {role}: {[e.message for e in at.exception]}"
    if role != "failed":  # a failed run may say so in an error box; the others have nothing to complain about
        assert not at.error, f"{page} on {role}: {[e.value for e in at.error]}"


def test_compare_runs_with_every_run_picked(mixed, monkeypatch):
    root, runs = mixed
    at = _open("compare_runs", root, monkeypatch)
    everyone = [p.name for k, p in runs.items() if k not in ("sweep_queue", "quick")]  # (quick: 31,200 images)
    at.multiselect(key="cmp_runs").set_value(everyone).run()
    _clean(at, "compare_runs")
    assert any("Settings that differ" in s.value for s in at.subheader)
