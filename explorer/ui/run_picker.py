"""The run picker shared by the run pages (Results, Explain): one selectbox over the runs store,
the choice remembered across pages, and a clear message (never a traceback) when there are no runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from explorer.names import run_title
from explorer.runs import RunInfo, list_runs, open_run, runs_root

SHARED_KEY = "explorer_run_id"  # plain session key (not a widget key), so it survives page switches
ROOT = Path(__file__).resolve().parents[2]


def run_label(info: RunInfo) -> str:
    """One line per run: its readable name (explorer.names.run_title), status unless completed, test accuracy."""
    acc = f" · test {info.test_acc:.2%}" if info.test_acc is not None else ""
    status = "" if info.status == "completed" else f" · {info.status}"
    return f"{run_title(info)}{status}{acc}"


def page_link_if_exists(page: str, label: str, icon: str | None = None) -> None:
    """st.page_link to app_pages/<page>.py when the app's navigation has that page; otherwise (a page
    run on its own, as in AppTest) the text says where to go."""
    if not (ROOT / "app_pages" / f"{page}.py").is_file():
        return
    try:
        st.page_link(f"app_pages/{page}.py", label=label, icon=icon)
    except StreamlitAPIException:
        st.caption(f"{label}: open it from the sidebar.")


def no_runs_message() -> None:
    """Say that there are no runs yet and point to the Train page."""
    st.info(
        f"No training runs yet (runs folder: `{runs_root()}`). Train a model on the **Train** page, "
        "or with `python -m explorer train`, then come back here."
    )
    page_link_if_exists("train", "Go to the Train page", ":material/model_training:")


def pick_run(key: str, label: str = "Run") -> Any:
    """A selectbox over the saved runs -> the chosen Run, or None (with a message) when there is none."""
    try:
        infos = list_runs()
    except OSError as exc:
        st.error(f"Cannot read the runs folder `{runs_root()}`: {exc}")
        return None
    if not infos:
        no_runs_message()
        return None
    ids = [i.run_id for i in infos]
    by_id = {i.run_id: i for i in infos}
    if st.session_state.get(key) not in by_id:  # first visit on this page, or the run was deleted
        shared = st.session_state.get(SHARED_KEY)
        finished = [i.run_id for i in infos if i.status == "completed"]
        st.session_state[key] = shared if shared in by_id else (finished or ids)[0]
    run_id = st.selectbox(label, ids, key=key, format_func=lambda r: run_label(by_id[r]))
    st.session_state[SHARED_KEY] = run_id
    try:
        return open_run(by_id[run_id].path)
    except (OSError, ValueError) as exc:
        st.error(f"Cannot open run {run_title(by_id[run_id])} (`{run_id}`): {exc}")
        return None


def run_caption(run: Any) -> None:
    """A one-line caption: model, dataset, status, created, and the error of a failed run."""
    cfg, status = run.config, run.status
    train = cfg.get("train", {})
    st.caption(
        f"**{run_title(run)}** · model **{train.get('model', '?')}** · data **{(train.get('data') or {}).get('name', '?')}**"
        f" · status **{status.get('status', '?')}** · created {cfg.get('created', '?')} · id `{run.run_id}`"
    )
    if status.get("error"):
        st.warning(f"This run ended with an error: {status['error']}")


def file_stamp(path: Path) -> float:
    """Modification time of a file (0.0 if missing): the cache key part that changes when it is rewritten."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
