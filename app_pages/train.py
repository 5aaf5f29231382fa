"""Train: pick a recipe, model and data; Start; watch the job live. The job runs in its own process."""

import streamlit as st

from explorer.names import run_title
from explorer.runs import runs_root
from explorer.train.jobs import JobBusyError
from explorer.ui import doctor as ui_doctor
from explorer.ui import train as ui
from explorer.ui.jobs import job_manager
from explorer.ui.manage_runs import manage_runs_panel
from explorer.ui.quick import estimate_caption
from explorer.ui.sweep import sweep_panel
from explorer.ui.text import md_escape

st.title("Train")
root = str(runs_root())
st.caption(f"Device: **{ui.device_text()}** · runs are saved under `{root}` (set EXPLORER_RUNS to change)")

busy = ui.device_busy(root)
st.session_state["train_was_running"] = busy is not None
st.subheader("Job")
ui.live_panel(root)

st.subheader("New run")
if busy is not None:
    st.info(f"Start is disabled while **{md_escape(run_title(busy))}** trains on this device (one job per device).")
recipe = ui.recipe_picker()
cfg, name, start = ui.config_form(recipe, busy=busy is not None)
if cfg is not None and busy is None:
    estimate_caption(cfg, root)
ui_doctor.estimate_line(cfg, pressed=bool(st.session_state.get(f"{recipe}:estimate")))
if start and cfg is not None:
    try:
        from explorer.train.loop import precheck

        precheck(cfg)
        job_manager().start(cfg, root, name=name or None)
        st.rerun()  # the job panel above shows the new run (its name, once); it keeps running across pages
    except JobBusyError as exc:
        st.warning(f"One job per device: {exc}")
    except (ValueError, KeyError, FileNotFoundError) as exc:
        st.error(f"Cannot start: {md_escape(exc.args[0] if exc.args else exc)}")

sweep_panel(cfg, root)
manage_runs_panel(root)

ui_doctor.system_check_panel()
