"""The navigation guard (explorer/ui/navigation.py) on Streamlit's own ClientState and PagesManager: a request
from a page the user has left is dropped, a navigation and everything on the current page pass.
(The browser test test_layout.test_a_page_link_click_right_after_a_stroke_is_never_lost drives the real race.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.runtime.pages_manager import PagesManager

from explorer.ui import navigation

DRAW, INSPECT, TRAIN = "hash-draw", "hash-inspect", "hash-train"


def _widget_event(page: str) -> ClientState:
    """What the browser sends for a stroke on the canvas: the page's widget states, tagged with its page."""
    cs = ClientState(page_script_hash=page)
    cs.widget_states.widgets.append(WidgetState(id="$$ID-canvas", json_value='{"objects": [1]}'))
    return cs


def _timer(page: str) -> ClientState:
    """A st.fragment(run_every=...) tick."""
    return ClientState(page_script_hash=page, fragment_id="frag-1", is_auto_rerun=True)


@pytest.fixture()
def session(tmp_path):
    """An AppSession's page state: a real PagesManager that has just run Draw."""
    navigation.install()  # counts run starts on PagesManager (idempotent)
    pages = PagesManager(str(tmp_path / "app.py"))
    pages.set_script_intent(DRAW, "draw")
    pages.set_current_page_script_hash(DRAW)
    return SimpleNamespace(_pages_manager=pages)


def test_events_on_the_current_page_pass(session):
    assert navigation.admit(session, _widget_event(DRAW))
    assert navigation.admit(session, _timer(DRAW))


def test_a_stroke_sent_after_a_click_on_another_page_is_dropped_until_that_page_runs(session):
    assert navigation.admit(session, ClientState(page_script_hash=INSPECT))  # the click: no widget states
    assert not navigation.admit(session, _widget_event(DRAW))  # the canvas's late stroke: would have won the coalescing
    assert not navigation.admit(session, _timer(DRAW))
    pages = session._pages_manager
    pages.set_script_intent(INSPECT, "inspect")  # the server starts Inspect
    pages.set_current_page_script_hash(INSPECT)
    assert not navigation.admit(session, _widget_event(DRAW))  # still from a page the user left
    assert navigation.admit(session, _widget_event(INSPECT))


def test_a_stale_timer_from_a_page_left_is_dropped(session):
    pages = session._pages_manager
    pages.set_script_intent(TRAIN, "train")
    pages.set_current_page_script_hash(TRAIN)
    assert navigation.admit(session, ClientState(page_script_hash=DRAW))  # leaves Train
    pages.set_script_intent(DRAW, "draw")
    pages.set_current_page_script_hash(DRAW)
    assert not navigation.admit(session, _timer(TRAIN))


def test_navigation_back_and_history_and_server_switches_pass(session):
    assert navigation.admit(session, ClientState(page_script_hash=INSPECT))
    assert navigation.admit(session, ClientState(page_script_hash=DRAW))  # the user changes their mind: a click wins
    assert navigation.admit(session, ClientState(page_script_hash=TRAIN, is_history_navigation=True))  # back button
    pages = session._pages_manager
    pages.set_script_intent(TRAIN, "train")  # st.switch_page on the server: the pending click is consumed
    pages.set_current_page_script_hash(TRAIN)
    assert navigation.admit(session, _widget_event(TRAIN))
    assert navigation.admit(session, ClientState())  # no page named (the first load)


def test_install_wraps_streamlit_once():
    from streamlit.runtime.app_session import AppSession

    assert navigation.install()
    first = AppSession.request_rerun
    assert navigation.install()
    assert AppSession.request_rerun is first and first._explorer_guard


def test_the_installed_streamlit_is_a_tested_version():
    """pyproject pins the series the guard was tested with; a Streamlit upgrade must re-test and raise TESTED."""
    import streamlit

    assert navigation.tested(streamlit.__version__)
    assert navigation.tested("1.67.0") and navigation.tested("1.67.12")
    assert not navigation.tested("1.68.0") and not navigation.tested("2.0") and not navigation.tested("1.6")


def test_install_refuses_on_an_untested_streamlit_with_a_clear_log_line(caplog):
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.pages_manager import PagesManager

    before = AppSession.request_rerun, PagesManager.set_script_intent
    with caplog.at_level("WARNING", logger="explorer.ui.navigation"):
        assert navigation.install(streamlit_version="1.99.0") is False
    assert (AppSession.request_rerun, PagesManager.set_script_intent) == before  # nothing patched
    (record,) = [r for r in caplog.records if r.name == "explorer.ui.navigation"]
    assert record.levelname == "WARNING"
    assert record.getMessage() == (
        "navigation guard not installed: it patches Streamlit internals and was tested with Streamlit 1.67.x only, "
        "not 1.99.0; page-link clicks right after a canvas stroke may be lost (see explorer/ui/navigation.py to "
        "test and raise TESTED)")
