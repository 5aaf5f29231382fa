"""A page-link click is never lost: stale rerun requests from the page being left are dropped.

Streamlit 1.67 folds rerun requests that arrive while a script runs into one, and the newest request's page wins
(`ScriptRequests._request_rerun_locked`). The browser keeps sending requests tagged with the page it still shows
until the server answers a navigation: the canvas sends a stroke ~200 ms after the mouse is released, and a
`st.fragment(run_every=...)` timer fires every second. So a click on "Inspect" followed by such a request was
folded into a rerun of the old page (the click was lost; 8 of 20 tries right after a stroke on Draw), or a stale
timer from Train cut the Results page short (its tabs never drew).

The guard, installed once by app.py, wraps `AppSession.request_rerun`. A navigation (a request with no widget
states, not a timer) is always honoured and remembered until the server starts the next run. Any other request
(a widget event, a fragment timer) whose page is neither the pending navigation's target nor, when none is
pending, the page the server is on, comes from a page the user has left: it is dropped. History navigation (the
browser's back and forward buttons) and requests without a page pass untouched.

It patches Streamlit internals, so it installs only on the Streamlit versions it was tested with (TESTED, the
major.minor series of pyproject's pin); on any other it refuses with one warning in the log and the app runs
without it (a click right after a canvas stroke may then be lost, as before the guard). Raise TESTED after the
guard's tests and the browser test test_layout.test_a_page_link_click_right_after_a_stroke_is_never_lost pass.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

_LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_STARTS = "_explorer_run_starts"  # on a PagesManager: how many runs it has started (set_script_intent calls)
_PENDING = "_explorer_pending_nav"  # on an AppSession: (page hash, run starts when the navigation was accepted)
TESTED = ("1.67",)  # Streamlit major.minor series the guard was tested with


def is_navigation(client_state: Any) -> bool:
    """A page change asked for by the user: no widget states, no fragment, not a timer, a page named."""
    return bool(client_state.page_script_hash) and not client_state.is_auto_rerun \
        and not client_state.fragment_id and not client_state.widget_states.widgets


def expected_page(session: Any) -> str:
    """The page a request must be tagged with to be current: a pending navigation's target, else the server's."""
    pages = session._pages_manager
    pending = getattr(session, _PENDING, None)
    if pending is not None and getattr(pages, _STARTS, 0) == pending[1]:
        return pending[0]
    return pages.current_page_script_hash or ""


def is_stale(session: Any, client_state: Any) -> bool:
    """True for a request sent from a page the user has already left (see the module docstring)."""
    if client_state is None or not client_state.page_script_hash or client_state.is_history_navigation:
        return False
    if is_navigation(client_state):
        return False
    expected = expected_page(session)
    return bool(expected) and client_state.page_script_hash != expected


def admit(session: Any, client_state: Any) -> bool:
    """False for a stale request (to be dropped); a navigation is remembered until the server starts a run."""
    if is_stale(session, client_state):
        _LOG.debug("dropped a rerun request from a page the user left (%s)", client_state.page_script_hash)
        return False
    if client_state is not None and is_navigation(client_state):
        setattr(session, _PENDING, (client_state.page_script_hash, getattr(session._pages_manager, _STARTS, 0)))
    return True


def tested(version: str) -> bool:
    """True when `version` ("1.67.2") is of a series in TESTED."""
    return ".".join(version.split(".")[:2]) in TESTED


def install(streamlit_version: str | None = None) -> bool:
    """Wrap AppSession.request_rerun and PagesManager.set_script_intent once per process (idempotent); True when
    the guard is in place. On a Streamlit version not in TESTED it refuses: False, and one warning in the log."""
    import streamlit

    version = streamlit_version or streamlit.__version__
    if not tested(version):
        _LOG.warning("navigation guard not installed: it patches Streamlit internals and was tested with Streamlit "
                     "%s only, not %s; page-link clicks right after a canvas stroke may be lost (see "
                     "explorer/ui/navigation.py to test and raise TESTED)", ", ".join(f"{t}.x" for t in TESTED), version)
        return False
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.pages_manager import PagesManager

    with _LOCK:
        if getattr(AppSession.request_rerun, "_explorer_guard", False):
            return True
        request_rerun, set_script_intent = AppSession.request_rerun, PagesManager.set_script_intent

        def guarded_request_rerun(self: Any, client_state: Any) -> None:
            if admit(self, client_state):
                request_rerun(self, client_state)

        def counting_set_script_intent(self: Any, *args: Any, **kwargs: Any) -> None:
            setattr(self, _STARTS, getattr(self, _STARTS, 0) + 1)
            set_script_intent(self, *args, **kwargs)

        guarded_request_rerun._explorer_guard = True  # type: ignore[attr-defined]
        AppSession.request_rerun = guarded_request_rerun  # type: ignore[method-assign]
        PagesManager.set_script_intent = counting_set_script_intent  # type: ignore[method-assign]
    return True
