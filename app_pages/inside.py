"""Inside page: what each channel of a trained run looks for, and the embedding map of its test split."""

import streamlit as st

from explorer.ui import inside as ui
from explorer.ui.run_picker import pick_run, render_run_caption

st.title("Look inside")
run = pick_run("inside_run")
if run is None:
    st.stop()
render_run_caption(run)
if run.status.get("status") == "running":
    st.info("This run is still training: its weights change every epoch. Look inside it once it has finished "
            "or been stopped.")
    st.stop()

channels, embedding = st.tabs(["What each channel looks for", "Embedding map"])
with channels:
    ui.render_channels(run)
with embedding:
    ui.render_embedding(run)
