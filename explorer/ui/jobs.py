"""The one process-wide training JobManager of the app (st.cache_resource), shared by every page."""

from __future__ import annotations

import streamlit as st

from explorer.train.jobs import JobManager


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    """The process-wide job manager (one per Streamlit server, whichever page asks first)."""
    return JobManager()
