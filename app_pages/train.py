"""Train: pick a recipe, model and data; Start; watch the job live. The job runs in its own process."""

import streamlit as st

from explorer.runs import runs_root
from explorer.train.jobs import JobBusyError
from explorer.ui import train as ui
from explorer.ui.jobs import job_manager
from explorer.ui.manage_runs import manage_runs_panel
from explorer.ui.sweep import sweep_panel
from explorer.ui.text import md_escape

st.title("Train")
root = str(runs_root())
st.caption(f"Device: **{ui.device_text()}** · runs are saved under `{root}` (set EXPLORER_RUNS to change)")

st.subheader("Job")
ui.live_panel(root)

st.subheader("New run")
recipe = ui.recipe_picker()
cfg, name, start = ui.config_form(recipe)
if start and cfg is not None:
    try:
        from explorer.train.loop import precheck

        precheck(cfg)
        run = job_manager().start(cfg, root, name=name or None)
        st.success(f"Started {run.run_id}. It keeps running if you switch pages or reload.")
    except JobBusyError as exc:
        st.warning(f"One job per device: {exc}")
    except (ValueError, KeyError, FileNotFoundError) as exc:
        st.error(f"Cannot start: {md_escape(exc.args[0] if exc.args else exc)}")

sweep_panel(cfg, root)
manage_runs_panel(root)
