"""Train page, Manage runs: a delete confirmation belongs to the run it names and is gone after the
delete (it used to stay ticked for the next run, so one more click deleted a run nobody confirmed)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from explorer.names import run_title
from explorer.runs import open_run
from tests.conftest import page_path
from tests.run_fixtures import make_page_run as make_run


def _confirm(at: AppTest):
    """The "Yes, delete RUN" checkbox (exactly one on the page)."""
    boxes = [c for c in at.checkbox if c.label.startswith("Yes, delete ")]
    assert len(boxes) == 1, [c.label for c in at.checkbox]
    return boxes[0]


def _label(root, run_id: str) -> str:
    """The confirmation's text for a run: its readable name (the id is in the box's tooltip)."""
    return f"Yes, delete {run_title(open_run(root / run_id))}"


def _delete(at: AppTest):
    """The Manage runs "Delete" button."""
    return next(b for b in at.button if b.label == "Delete")


def test_confirmation_is_per_run_and_reset_after_delete(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    paths = {p.name: p for p in (make_run(root, "run-a"), make_run(root, "run-b"), make_run(root, "run-c"))}
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path("train"), default_timeout=120).run()
    assert not at.exception
    first = at.selectbox(key="manage_run").value
    assert first in paths

    # unconfirmed: the button is disabled (AppTest, like a browser, cannot click it)
    assert _confirm(at).label == _label(root, first) and _confirm(at).value is False
    assert _delete(at).disabled

    # confirmed for the first run: it is deleted, and the next run's box is a fresh, unticked one
    _confirm(at).check().run()
    assert not _delete(at).disabled
    _delete(at).click().run()
    assert not at.exception
    assert not paths[first].exists()
    second = at.selectbox(key="manage_run").value
    assert second in paths and second != first
    assert _confirm(at).label == _label(root, second)
    assert _confirm(at).value is False
    assert _delete(at).disabled
    assert all(p.is_dir() for name, p in paths.items() if name != first)


def test_ticking_one_run_does_not_confirm_another(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    names = [make_run(root, n).name for n in ("run-a", "run-b")]
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path("train"), default_timeout=120).run()
    first = at.selectbox(key="manage_run").value
    other = next(n for n in names if n != first)
    _confirm(at).check().run()
    at.selectbox(key="manage_run").set_value(other).run()
    assert _confirm(at).label == _label(root, other) and _confirm(at).value is False
    assert _delete(at).disabled
    at.selectbox(key="manage_run").set_value(first).run()  # back to the first: confirm again (nothing carried over)
    assert _confirm(at).label == _label(root, first) and _confirm(at).value is False
    assert _delete(at).disabled
    assert (root / other).is_dir() and (root / first).is_dir()
