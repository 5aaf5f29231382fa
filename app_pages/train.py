"""Train: pick a recipe, model and data; Start; watch the job live. The job runs in its own process."""

import streamlit as st

from explorer.devices import device_label
from explorer.runs import runs_root
from explorer.train.jobs import JobBusyError
from explorer.ui import train as ui
from explorer.ui import train_doctor as ui_doctor
from explorer.ui.jobs import job_manager
from explorer.ui.quick import render_estimate_caption
from explorer.ui.sweep import render_sweep
from explorer.ui.train_manage_runs import render_manage_runs
from explorer.untrusted import md_escape

st.title("Train")
root = str(runs_root())
st.caption(f"Device: **{device_label()}** · runs are saved under `{root}` (set EXPLORER_RUNS to change)")

st.subheader("Job", anchor="job")
ui.render_live(root)

st.subheader("New run")
recipe = ui.recipe_picker()
cfg, name, start = ui.config_form(recipe, busy=ui.busy_text(root))
if st.session_state.pop("train_started", None):
    st.success("Training started: follow it in the [job panel above](#job). It keeps running if you switch "
               "pages or reload.", icon=":material/arrow_upward:")
if cfg is not None:
    render_estimate_caption(cfg, root)  # the recorded time of the same settings here, when a finished run has it
ui.render_estimate_hint(cfg, pressed=bool(st.session_state.get(f"{recipe}:estimate")))
if start and cfg is not None:
    try:
        from explorer.train.loop import precheck

        precheck(cfg)
        run = job_manager().start(cfg, root, name=name or None, estimate=ui_doctor.shown_estimate(cfg))
        st.session_state["train_started"] = st.session_state["train_active_run"] = run.run_id
        st.rerun()  # the job panel shows the run, Start turns off while it trains
    except JobBusyError as exc:
        st.warning(f"One job per device: {md_escape(exc)}")
    except (ValueError, KeyError, FileNotFoundError) as exc:
        st.error(f"Cannot start: {md_escape(exc.args[0] if exc.args else exc)}")

render_sweep(cfg, root)
render_manage_runs(root)

ui_doctor.render_system_check()
