"""Train: pick a recipe, model and data; Start; watch the job live. The job runs in its own process."""

import streamlit as st

from explorer.runs import delete_run, export_run, import_run, list_runs, runs_root
from explorer.train.jobs import JobBusyError
from explorer.ui import doctor as ui_doctor
from explorer.ui import train as ui

st.title("Train")
root = str(runs_root())
st.caption(f"Device: **{ui.device_text()}** · runs are saved under `{root}` (set EXPLORER_RUNS to change)")

st.subheader("Job")
ui.live_panel(root)

st.subheader("New run")
recipe = ui.recipe_picker()
cfg, name, start = ui.config_form(recipe)
ui_doctor.estimate_line(cfg, pressed=bool(st.session_state.get(f"{recipe}:estimate")))
if start and cfg is not None:
    try:
        from explorer.train.loop import precheck

        precheck(cfg)
        run = ui.job_manager().start(cfg, root, name=name or None)
        st.success(f"Started {run.run_id}. It keeps running if you switch pages or reload.")
    except JobBusyError as exc:
        st.warning(f"One job per device: {exc}")
    except (ValueError, KeyError, FileNotFoundError) as exc:
        st.error(f"Cannot start: {exc.args[0] if exc.args else exc}")

with st.expander("Manage runs (rename, tag, delete, export, import)"):
    infos = list_runs(root)
    if infos:
        st.dataframe(
            [{"run": r.run_id, "name": r.name, "model": r.model, "data": r.dataset, "status": r.status,
              "epochs": f"{r.epochs_done}/{r.epochs}", "best val acc": r.best_val_acc, "test acc": r.test_acc,
              "tags": ", ".join(r.tags)} for r in infos],
            hide_index=True, width="stretch",
        )  # fmt: skip
        pick = st.selectbox("Run", [r.run_id for r in infos], key="manage_run")
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
        sure = c3.checkbox(f"Yes, delete {pick}", key="manage_sure")
        if c3.button("Delete", disabled=not sure, type="secondary"):
            try:
                delete_run(pick, root, confirm=True)
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
            st.success(f"Imported {import_run(tmp, root).run_id}")
        except ValueError as exc:
            st.error(str(exc))

ui_doctor.system_check_panel()
