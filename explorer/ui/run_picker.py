"""The run picker shared by the run pages (Results, Explain, Look inside): one selectbox over the runs store,
opening on the pinned run or the best completed run (explorer.pin), the choice remembered across pages, the
Pin controls, and a clear message (never a traceback) when there are no runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer import pin as pins
from explorer.names import plural, run_title, title_line
from explorer.runs import RunInfo, list_runs, open_run, runs_root
from explorer.untrusted import md_code, md_escape, parse_created

SHARED_KEY = "explorer_run_id"  # plain session key (not a widget key), so it survives page switches
REPINNED = "explorer_run_repinned"  # set when the pin changes: the next picker opens on the new default
ROOT = Path(__file__).resolve().parents[2]


def render_page_link(page: str, label: str, icon: str | None = None) -> None:
    """st.page_link to app_pages/<page>.py; where the app's navigation is not running (a page run on
    its own, as in AppTest) the text says where to go."""
    try:
        st.page_link(f"app_pages/{page}.py", label=label, icon=icon)
    except StreamlitAPIException:
        st.caption(f"{label}: open it from the sidebar.")


def render_page_links(links: list[tuple[str, str, str]]) -> None:
    """A row of render_page_link links, one per (page, label, icon)."""
    with st.container(horizontal=True):
        for page, label, icon in links:
            render_page_link(page, label, icon)


def render_no_runs() -> None:
    """Say that there are no runs yet and point to the Train page."""
    st.info(
        f"No training runs yet (runs folder: `{runs_root()}`). Train a model on the **Train** page, "
        "or with `python -m explorer train`, then come back here."
    )
    render_page_link("train", "Go to the Train page", ":material/model_training:")


def render_unreadable_runs_note(infos: list[RunInfo]) -> None:
    """A warning naming each unreadable run (file and reason), so no run is hidden; nothing when all read."""
    bad = [i for i in infos if i.error]
    if bad:
        st.warning(f"{plural(len(bad), 'run')} cannot be read and {'is' if len(bad) == 1 else 'are'} shown as unreadable:\n\n"
                   + "\n\n".join(f"- **{i.run_id}**: {i.error}" for i in bad))


def opening_run(infos: list[RunInfo], key: str) -> str:
    """The run id a picker starts on: this page's choice, else the one made on another page, else the default
    (the pinned run, or the best completed run: explorer.pin.default_run)."""
    by_id = {i.run_id for i in infos}
    if not st.session_state.pop(REPINNED, False):
        if st.session_state.get(key) in by_id:
            return str(st.session_state[key])
        shared = st.session_state.get(SHARED_KEY)
        if shared in by_id:
            return str(shared)
    choice = pins.default_run(infos)
    return choice.run.run_id if choice.run is not None else infos[0].run_id


def render_pin_note(infos: list[RunInfo]) -> None:
    """A caption saying what the pages open on, and a warning when a pin cannot be followed."""
    choice = pins.default_run(infos)
    if choice.note:
        st.warning(md_escape(choice.note))
    if choice.run is not None:
        st.caption(f":material/push_pin: Pages open on **{md_escape(run_title(choice.run))}**: {md_escape(choice.reason)}.")


def render_pin_controls(run_id: str, infos: list[RunInfo], key: str) -> None:
    """A Pin popover: pin this run, or the best run of a tag, for every page (a teacher's run for a class); clear."""
    try:
        current = pins.read_pin()
    except pins.PinError:
        current = None
    tags = sorted({t for i in infos for t in i.tags})
    with st.popover("Pin", icon=":material/push_pin:", width="content", help="choose the run every page opens on, for everyone using "
                    "this runs folder (stored in it as .pin.json)"):
        st.caption(f"Pinned now: {md_escape(current.describe())}." if current else
                   "Nothing pinned: pages open on the best completed run.")
        if st.button("Pin this run for every page", key=f"{key}_pin_run", disabled=current == pins.Pin(run_id=run_id)):
            _pin(lambda: pins.set_pin(run=run_id))
        if tags:
            tag = st.selectbox("Or the best run of a tag", tags, key=f"{key}_pin_tag_name")
            if st.button("Pin the best run of this tag", key=f"{key}_pin_tag"):
                _pin(lambda: pins.set_pin(tag=tag))
        if current is not None and st.button("Clear the pin", key=f"{key}_pin_clear"):
            pins.clear_pin()
            st.session_state[REPINNED] = True
            st.rerun()


def _pin(make: Any) -> None:
    """Write a pin; the pages then open on it (this session too)."""
    try:
        pin = make()
    except (ValueError, FileNotFoundError, OSError) as exc:
        st.error(f"Cannot pin: {md_escape(exc)}")
        return
    st.session_state[REPINNED] = True
    st.toast(f"Every page now opens on {pin.describe()}", icon=":material/push_pin:")
    st.rerun()


def pick_run(key: str, label: str = "Run") -> Any:
    """A selectbox over the saved runs -> the chosen Run, or None (with a message) when there is none."""
    try:
        infos = list_runs()
    except OSError as exc:
        st.error(f"Cannot read the runs folder {md_code(runs_root())}: {md_escape(exc)}")
        return None
    if not infos:
        render_no_runs()
        return None
    ids = [i.run_id for i in infos]
    by_id = {i.run_id: i for i in infos}
    start = opening_run(infos, key)
    if st.session_state.get(key) != start:
        st.session_state[key] = start
    render_unreadable_runs_note(infos)
    with st.container(horizontal=True, vertical_alignment="bottom", wrap=False):  # Pin keeps its width at 800 px
        run_id = st.selectbox(label, ids, key=key, format_func=lambda r: title_line(by_id[r]), width="stretch")
        render_pin_controls(run_id, infos, key)
    render_pin_note(infos)
    st.session_state[SHARED_KEY] = run_id
    if by_id[run_id].error:
        st.error(f"Run {run_id} cannot be read: {by_id[run_id].error}")
        return None
    try:
        return open_run(by_id[run_id].path)
    except (OSError, ValueError) as exc:
        st.error(f"Cannot open run {md_escape(run_title(by_id[run_id]))} ({md_code(run_id)}): {md_escape(exc)}")
        return None


def render_run_caption(run: Any) -> None:
    """A one-line caption: model, dataset, status, created, and the error of a failed run."""
    cfg, status = run.config, run.status
    train = cfg.get("train", {})
    st.caption(
        f"**{md_escape(run_title(run))}** · model **{md_escape(train.get('model', '?'))}** · data "
        f"**{md_escape((train.get('data') or {}).get('name', '?'))}** · status **{md_escape(status.get('status', '?'))}**"
        f" · created {md_escape(parse_created(cfg.get('created')) or '?')} · id {md_code(run.run_id)}"
    )
    if status.get("error"):
        st.warning(f"This run ended with an error: {md_escape(status['error'])}")


def file_stamp(path: Path) -> float:
    """Modification time of a file (0.0 if missing): the cache key part that changes when it is rewritten."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
