"""The Train page's view of a shared sweep (an Optuna study that workers on other machines take trials from):
give the storage URL, pick the study, see trials done / running / failed / retried, the best so far and every
trial with its machine, device and run. Read-only: workers are started with `explorer sweep work`."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.sweep.study import StudyError, list_studies, load_study, progress, safe_url
from explorer.ui.progress import clamp01
from explorer.ui.text import md_code, md_escape


def shared_sweep_panel() -> None:
    """An expander: storage URL -> study -> its progress and trials."""
    with st.expander("Shared sweep: follow a study that several machines work on (`explorer sweep work`)"):
        url = st.text_input("Study storage URL", key="shared_sweep_url", type="password",
                            placeholder="postgresql://user:password@host:5432/db  or  journal:/shared/sweeps.journal",
                            help="The --storage URL the sweep was started with; it stays in this browser session.")
        if not url:
            st.caption("Start one with `explorer sweep --grid ... --storage URL --name NAME`, then run "
                       "`explorer sweep work NAME --storage URL` on each machine or GPU.")
            return
        try:
            studies = [s for s in list_studies(url) if s["kind"]]
        except StudyError as exc:
            st.error(str(exc), icon=":material/cloud_off:")
            return
        if not studies:
            st.info(f"No explorer sweeps in {md_code(safe_url(url))} yet.")
            return
        name = st.selectbox("Study", [s["name"] for s in studies], key="shared_sweep_name")
        _study_view(url, name)


@st.fragment(run_every=10.0)
def _study_view(url: str, name: str) -> None:
    """Progress of one study, refreshed every 10 s while the page is open."""
    try:
        study, spec = load_study(url, name)
        p = progress(study, spec)
    except StudyError as exc:
        st.error(str(exc), icon=":material/cloud_off:")
        return
    ended = p.done + p.failed + p.pruned
    st.markdown(f"**{md_escape(name)}** — {md_escape(p.kind)} — "
                f"**{'finished' if p.finished else 'in progress'}**")
    st.progress(clamp01(p.done / max(1, p.total)),
                text=f"{p.done} of {p.total} done · {p.running} running · {p.waiting} waiting · "
                     f"{p.failed} failed ({p.retried} retried) · {p.pruned} pruned")
    c = st.columns(4)
    c[0].metric("Trials ended", f"{ended} / {p.total}")
    c[1].metric("Running", p.running)
    c[2].metric("Failed (retried)", f"{p.failed} ({p.retried})")
    c[3].metric("Best val acc", f"{p.best_value:.4f}" if p.best_value is not None else "—")
    if p.best_run:
        st.caption(f"Best run: {md_code(p.best_run)} (in the runs folder of the machine that trained it; "
                   "`explorer runs pull` brings pushed runs here)")
    frame = pd.DataFrame(p.rows, columns=["trial", "state", "point", "val_acc", "machine", "device", "run_id",
                                          "retry_of", "error"])
    st.dataframe(frame.rename(columns={"val_acc": "val acc", "run_id": "run", "retry_of": "retry of"}),
                 hide_index=True, height=min(36 * (1 + len(frame)) + 2, 320),
                 column_config={"val acc": st.column_config.NumberColumn(format="%.4f")})
