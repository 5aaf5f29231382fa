"""The Train page's manage-runs panel: the runs table, rename, tag, delete, export and import."""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer.names import run_title
from explorer.runs import RunInfo, delete_run, export_run_bytes, import_run, list_runs, rename_run, tag_run
from explorer.untrusted import md_escape


def _runs_table(infos: list[RunInfo]) -> list[dict]:
    """One row per run as the panel shows it: readable title, model, data, status, epochs, accuracies, tags, id."""
    return [{"run": run_title(r), "model": r.model, "data": r.dataset, "status": r.status,
             "epochs": f"{r.epochs_done}/{r.epochs}", "best val acc": r.best_val_acc, "test acc": r.test_acc,
             "tags": ", ".join(r.tags), "problem": r.error, "id": r.run_id} for r in infos]  # fmt: skip


def _done(action: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a runs-store action; an error box (not a traceback) and None when it refuses or a file is damaged."""
    try:
        return action(*args, **kwargs)
    except (ValueError, OSError) as exc:
        st.error(md_escape(exc))
        return None


def _actions(pick: str, title: str, root: str) -> None:
    """Rename, tag, delete (confirmed) and export the chosen run (`title`: its readable name)."""
    c1, c2, c3 = st.columns(3)
    new_name = c1.text_input("New name", key="manage_name")
    if c1.button("Rename", disabled=not new_name) and _done(rename_run, pick, new_name, root):
        st.rerun()
    tag = c2.text_input("Add tag", key="manage_tag")
    if c2.button("Tag", disabled=not tag) and _done(tag_run, pick, add=[tag], root=root):
        st.rerun()
    sure_key = f"manage_sure_{pick}"  # a confirmation belongs to the run it names
    sure = c3.checkbox(f"Yes, delete {title}", key=sure_key, help=f"run id: {pick}")
    if c3.button("Delete", disabled=not sure, type="secondary") and sure:
        try:
            delete_run(pick, root, confirm=True)
            st.session_state.pop(sure_key, None)
            st.rerun()
        except ValueError as exc:
            st.error(md_escape(exc))
    if st.button("Prepare export zip") and (got := _done(export_run_bytes, pick, root)):
        file_name, payload = got  # built in memory: no file left behind
        st.download_button(f"Download {file_name}", payload, file_name=file_name, mime="application/zip")


def render_manage_runs(root: str) -> None:
    """An expander to rename, tag, delete, export and import the runs under ``root``."""
    with st.expander("Manage runs (rename, tag, delete, export, import)"):
        infos = list_runs(root)
        if infos:
            st.dataframe(_runs_table(infos), hide_index=True, width="stretch")
            by_id = {r.run_id: r for r in infos}
            pick = st.selectbox("Run", list(by_id), key="manage_run", format_func=lambda r: run_title(by_id[r]))
            _actions(pick, run_title(by_id[pick]), root)
        upload = st.file_uploader("Import a run zip (up to 25 MB here; larger: `python -m explorer runs import FILE`)",
                                  type=["zip"], key="manage_import")
        if upload is not None and st.button("Import"):
            try:
                st.success(f"Imported {md_escape(run_title(import_run(upload.getvalue(), root)))}")
            except ValueError as exc:
                st.error(md_escape(exc))
