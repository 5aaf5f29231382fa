"""Train: pick a recipe, model and data; Start; watch the job live. The job runs in its own process."""

import streamlit as st

from explorer.names import run_title
from explorer.runs import delete_run, export_run, import_run, list_runs, runs_root
from explorer.train.jobs import JobBusyError
from explorer.ui import train as ui
from explorer.ui.quick import estimate_caption

st.title("Train")
root = str(runs_root())
st.caption(f"Device: **{ui.device_text()}** · runs are saved under `{root}` (set EXPLORER_RUNS to change)")

busy = ui.device_busy(root)
st.session_state["train_was_running"] = busy is not None
st.subheader("Job")
ui.live_panel(root)

st.subheader("New run")
if busy is not None:
    st.info(f"Start is disabled while **{run_title(busy)}** trains on this device (one job per device).")
recipe = ui.recipe_picker()
cfg, name, start = ui.config_form(recipe, busy=busy is not None)
if cfg is not None and busy is None:
    estimate_caption(cfg, root)
if start and cfg is not None:
    try:
        from explorer.train.loop import precheck

        precheck(cfg)
        run = ui.job_manager().start(cfg, root, name=name or None)
        st.rerun()  # the job panel above shows the new run (its name, once); it keeps running across pages
    except JobBusyError as exc:
        st.warning(f"One job per device: {exc}")
    except (ValueError, KeyError, FileNotFoundError) as exc:
        st.error(f"Cannot start: {exc.args[0] if exc.args else exc}")

with st.expander("Manage runs (rename, tag, delete, export, import)"):
    infos = list_runs(root)
    if infos:
        by_id = {r.run_id: r for r in infos}
        st.dataframe(
            [{"run": run_title(r), "model": r.model, "data": r.dataset, "status": r.status,
              "epochs": f"{r.epochs_done}/{r.epochs}", "best val acc": r.best_val_acc, "test acc": r.test_acc,
              "tags": ", ".join(r.tags), "id": r.run_id} for r in infos],
            hide_index=True, width="stretch",
        )  # fmt: skip
        pick = st.selectbox("Run", list(by_id), key="manage_run", format_func=lambda r: run_title(by_id[r]))
        c1, c2, c3 = st.columns(3)
        new_name = c1.text_input("New name", key="manage_name")
        if c1.button("Rename", disabled=not new_name):
            from explorer.runs import rename_run

            rename_run(pick, new_name, root)
            st.rerun()
        tag = c2.text_input("Add tag", key="manage_tag")
        if c2.button("Tag", disabled=not tag):
            from explorer.runs import tag_run

            tag_run(pick, add=[tag], root=root)
            st.rerun()
        sure_key = f"manage_sure_{pick}"  # a confirmation belongs to the run it names
        sure = c3.checkbox(f"Yes, delete {run_title(by_id[pick])}", key=sure_key, help=f"run id: {pick}")
        if c3.button("Delete", disabled=not sure, type="secondary") and sure:
            try:
                delete_run(pick, root, confirm=True)
                st.session_state.pop(sure_key, None)
                st.rerun()
            except ValueError as exc:
                st.error(str(exc))
        if st.button("Prepare export zip"):
            import tempfile

            path = export_run(pick, tempfile.mkdtemp(), root)
            st.download_button(f"Download {path.name}", path.read_bytes(), file_name=path.name, mime="application/zip")
    upload = st.file_uploader("Import a run zip", type=["zip"], key="manage_import")
    if upload is not None and st.button("Import"):
        import tempfile
        from pathlib import Path

        tmp = Path(tempfile.mkdtemp()) / "run.zip"
        tmp.write_bytes(upload.getvalue())
        try:
            st.success(f"Imported {run_title(import_run(tmp, root))}")
        except ValueError as exc:
            st.error(str(exc))
