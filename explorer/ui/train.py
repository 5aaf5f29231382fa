"""Streamlit helpers for the Train page: the recipe form and the live job panel (a polling fragment).

The job runs in its own worker process (explorer.train.jobs); this module only reads the run
folder, so page switches and browser reloads neither stop nor lose a job.
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from typing import Any

import streamlit as st

from explorer.charts.curves import history_frame
from explorer.config import TRANSFER_TEXT, Stage, TrainConfig
from explorer.data.spec import BUILTIN_DEFAULT_SIZE, MAX_BUILTIN_SIZE, Augment, DataSpec
from explorer.names import format_duration, run_title
from explorer.runs import Run, list_runs, open_run
from explorer.train.loop import device_label, resolve_device
from explorer.train.recipes import DESCRIPTIONS, RECIPES
from explorer.ui.curves import show_training_curves
from explorer.ui.jobs import job_manager
from explorer.ui.progress import clamp01, epoch_fraction, number
from explorer.ui.text import md_escape

MAX_STAGES_TEXT = 20_000  # characters of the Stages JSON field


@st.cache_data(show_spinner=False)
def model_names() -> list[str]:
    """Registry model names."""
    from explorer.models import list_models

    return list_models()


@st.cache_data(show_spinner=False)
def dataset_names() -> list[str]:
    """Dataset names."""
    from explorer.data import DATASET_NAMES

    return list(DATASET_NAMES)


def device_text() -> str:
    """Which device a new job would use, e.g. "cpu (2 threads)"."""
    return device_label(resolve_device("auto"))


def _idx(options: list[Any], value: Any) -> int:
    return options.index(value) if value in options else 0


# The form's rows: TrainConfig field names, four columns each; labels, help, bounds and choices come
# from the fields' metadata (the same metadata gives the CLI options and validate()'s rules).
FORM_ROWS: tuple[tuple[str, ...], ...] = (
    ("epochs", "batch_size", "optimizer", "lr"),
    ("momentum", "weight_decay", "schedule", "warmup_epochs"),
    ("step_size", "gamma", "plateau_factor", "plateau_patience"),
    ("label_smoothing", "early_stopping_metric", "early_stopping_patience", "seed"),
    ("transfer", "unfreeze_last_n", "backbone_lr_mult", "pretrained"),
    ("head", "dropout", "amp", "init"),
    ("nesterov", "channels_last", "compile"),
)
STAGED = ("epochs", "lr", "transfer")  # set per stage when a recipe has stages
_FIELDS = {f.name: f for f in fields(TrainConfig)}


def field_input(col: Any, name: str, value: Any, key: str, disabled: bool = False) -> Any:
    """One widget for a TrainConfig field, from its metadata: select box, checkbox or bounded number."""
    f = _FIELDS[name]
    meta, kind = f.metadata, str(f.type)
    common = {"key": key, "help": meta["help"], "disabled": disabled}
    if meta["choices"]:
        options = list(meta["choices"])
        fmt = TRANSFER_TEXT.__getitem__ if name == "transfer" else str
        return col.selectbox(meta["label"], options, index=_idx(options, value), format_func=fmt, **common)
    if kind == "bool":
        return bool(col.checkbox(meta["label"], bool(value), **common))
    lo = min(meta["lo"], 0)  # below-range values reach validate(), which says why they are refused
    if kind == "int":
        return int(col.number_input(meta["label"], int(lo), int(meta["hi"]), int(value), **common))
    hi = meta["hi"] - (1e-3 if meta["hi_open"] else 0.0)
    return float(col.number_input(meta["label"], float(lo), float(hi), float(value), format="%g", **common))


def _data_row(base: TrainConfig, k: str) -> tuple[str, DataSpec, str]:
    c1, c2, c3, c4 = st.columns(4)
    models = model_names()
    model = c1.selectbox("Model", models, index=_idx(models, base.model), key=k + "model",
                         help=_FIELDS["model"].metadata["help"])
    datasets = dataset_names()
    data_name = c2.selectbox("Dataset", datasets, index=_idx(datasets, base.data.name), key=k + "data")
    size = c3.number_input("Built-in: images per class", 1, MAX_BUILTIN_SIZE, int(base.data.size or BUILTIN_DEFAULT_SIZE),
                           key=k + "size", help="letters-builtin only; 1,000 per class = 26,000 images")
    name = c4.text_input("Run name (optional)", "", key=k + "name")
    data = replace(base.data, name=data_name, size=int(size) if data_name == "letters-builtin" else None)
    return model, data, name


def config_form(recipe: str, busy: bool = False) -> tuple[TrainConfig | None, str, bool]:
    """The settings form, prefilled from `recipe`; returns (config or None, run name, Start pressed).

    Invalid settings (TrainConfig.validate, the same rules as the CLI) show st.error and return config None.
    `busy`: Start is disabled (one job per device).
    """
    base = RECIPES[recipe]
    k = f"{recipe}:"
    with st.form(f"train_form_{recipe}", enter_to_submit=False):
        model, data, name = _data_row(base, k)
        values: dict[str, Any] = {}
        for row in FORM_ROWS:
            for col, field_name in zip(st.columns(4), row, strict=False):
                disabled = bool(base.stages) and field_name in STAGED
                values[field_name] = field_input(col, field_name, getattr(base, field_name), k + field_name, disabled)
        augment = st.checkbox("Augment (rotate/zoom/shift)", base.augment is not None, key=k + "augment")
        stages_json = ""
        if base.stages:
            stages_json = st.text_area("Stages (JSON: name, epochs, lr, transfer, unfreeze_last_n)",
                                       json.dumps([s.to_dict() for s in base.stages], indent=1), key=k + "stages")
        start = st.form_submit_button("Start", type="primary", disabled=busy,
                                      help="One job per device: wait for the running job or stop it" if busy else None)
        st.form_submit_button("Estimate time per epoch", key=k + "estimate", help="times a few training steps on the device")
    values["nesterov"] = values["nesterov"] and values["optimizer"] == "sgd"
    changes = {**values, "model": model, "data": data, "name": name,
               "augment": (base.augment or Augment()) if augment else None}
    try:
        if len(stages_json) > MAX_STAGES_TEXT:
            raise ValueError(f"the Stages field is {len(stages_json):,} characters; at most {MAX_STAGES_TEXT:,}")
        if stages_json:
            changes["stages"] = tuple(Stage.from_dict(s) for s in json.loads(stages_json))
        cfg = base.replace(**changes).validate()
    except RecursionError:
        st.error("Invalid settings: the Stages field is nested too deeply; give a flat JSON list of stages "
                 "like the one the recipe fills in.")
        return None, name, False
    except (ValueError, TypeError, KeyError, AttributeError, json.JSONDecodeError) as exc:
        st.error(f"Invalid settings: {md_escape(exc)}")
        return None, name, False
    return cfg, name, start


def recipe_picker() -> str:
    """Recipe select box with its description."""
    recipe = st.selectbox("Recipe", list(RECIPES), format_func=lambda r: r.replace("_", " "), key="recipe")
    st.caption(DESCRIPTIONS[recipe])
    return recipe


def _fmt_s(value: Any) -> str:
    """Seconds as "3m 55s" (explorer.names.format_duration, the one time format)."""
    return format_duration(value)


def run_panel(run: Run) -> None:
    """Progress bars, numbers and curves of one run (live or finished)."""
    st_ = run.status
    state = st_["status"]
    epochs, epoch = int(number(st_.get("epochs"))), int(number(st_.get("epoch")))
    steps, step = int(number(st_.get("steps"))), int(number(st_.get("step")))
    icon = {"running": ":material/hourglass_top:", "completed": ":material/check_circle:",
            "stopped": ":material/stop_circle:", "failed": ":material/error:",
            "interrupted": ":material/warning:"}.get(state, "")
    st.markdown(f"**{icon} {md_escape(run_title(run))}** — **{md_escape(state)}** ({md_escape(st_.get('phase', ''))})",
                help=f"run id: {run.run_id}")
    if state == "failed":
        st.error(md_escape(st_.get("error") or "failed"))
    if state == "interrupted":
        st.warning("This run's process is gone (killed or crashed). Resume continues from its last completed epoch.")
    for note in st_.get("notes") or []:
        (st.warning if "FROM SCRATCH" in str(note) else st.info)(md_escape(note))
    if epochs > 0:
        st.progress(epoch_fraction(st_),
                    text=f"epoch {epoch} of {epochs}" + (f" — stage: {md_escape(st_.get('stage_name'))}" if st_.get("stage_name") else ""))
    if steps > 0 and state == "running":
        st.progress(clamp01(step / steps), text=f"step {step} of {steps}")
    with st.container(horizontal=True, gap="medium"):  # wraps on a narrow screen
        st.metric("images/s", f"{number(st_.get('images_per_s')):,.0f}", width=130)
        st.metric("time left", format_duration(st_.get("eta_s")) if state == "running" else "-", width=130)
        label = str(st_.get("device_label") or st_.get("device") or "-")
        st.metric("device", label.split(" (")[0][:40], help=md_escape(label), width=130)
        mem = number(st_.get("gpu_mem_mb"))
        st.metric("GPU memory", f"{mem:,.0f} MiB" if mem > 0 else "n/a (CPU)", width=130)
        metrics = run.metrics() or {}
        acc = metrics.get("test_acc")
        st.metric("test accuracy", f"{acc:.2%}" if acc is not None else "-", width=130)
    from explorer.ui.doctor import gpu_memory_text

    if gpu_memory_text(st_):
        st.caption(f"GPU memory: {gpu_memory_text(st_)}")
    hist = run.history()
    if hist:
        show_training_curves(history_frame(hist), metrics=("loss", "accuracy"))


def live_panel(root: str) -> None:
    """The live job panel: polls the run folder every second (a fragment, so the page stays responsive)."""

    @st.fragment(run_every=1.0)
    def _live() -> None:
        jobs = job_manager()
        active = jobs.active(root)
        was_running = st.session_state.get("train_was_running", False)
        st.session_state["train_was_running"] = bool(active)
        if was_running != bool(active):  # a job started or ended: rerun the page (Start button, next steps)
            st.rerun(scope="app")
        if active:
            run = active[0]
            run_panel(run)
            if st.button("Stop", key=f"stop_{run.run_id}", help="ends the job after the current step; completed epochs are kept"):
                jobs.stop(run.run_id, root)
                st.toast(f"Asked {run.run_id} to stop")
            return
        runs = [r for r in list_runs(root) if r.readable]
        if not runs:
            st.info("No runs yet: choose a recipe and press Start.")
            return
        last = open_run(runs[0].path)
        run_panel(last)
        if last.status["status"] == "completed":
            next_steps()
        if last.status["status"] in ("interrupted", "stopped") and st.button("Resume", key=f"resume_{last.run_id}"):
            jobs.resume(last.run_id, root)
            st.rerun(scope="fragment")

    _live()


def next_steps() -> None:
    """After a completed run: where to go next (Results, Explain, Draw)."""
    from explorer.ui.run_picker import page_link_if_exists

    st.markdown("**Next:** see how it does and why, or draw a letter for it to read.")
    with st.container(horizontal=True):
        page_link_if_exists("results", "Results", ":material/monitoring:")
        page_link_if_exists("explain", "Explain", ":material/local_fire_department:")
        page_link_if_exists("draw", "Draw a letter", ":material/draw:")


def device_busy(root: str) -> Run | None:
    """The run training now on the device a new job would use, if any."""
    return job_manager().busy_on(str(resolve_device("auto")), root)
