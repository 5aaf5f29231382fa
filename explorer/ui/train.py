"""Streamlit helpers for the Train page: the recipe form and the live job panel (a polling fragment).

The job runs in its own worker process (explorer.train.jobs); this module only reads the run
folder, so page switches and browser reloads neither stop nor lose a job.
"""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from explorer.config import (
    AMP_MODES,
    EARLY_METRICS,
    HEADS,
    OPTIMIZERS,
    SCHEDULES,
    TRANSFER_MODES,
    TRANSFER_TEXT,
    TrainConfig,
)
from explorer.names import format_duration, run_title
from explorer.runs import Run, list_runs, open_run
from explorer.train.jobs import JobManager
from explorer.train.loop import device_label, resolve_device
from explorer.train.recipes import DESCRIPTIONS, RECIPES
from explorer.ui.progress import clamp01, epoch_fraction, number


@st.cache_resource(show_spinner=False)
def job_manager() -> JobManager:
    """The process-wide job manager (one per Streamlit server)."""
    return JobManager()


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


def config_form(recipe: str, busy: bool = False) -> tuple[TrainConfig | None, str, bool]:
    """The settings form, prefilled from `recipe`; returns (config or None, run name, Start pressed).

    Invalid settings show st.error with the reason and return config None. `busy`: Start is disabled.
    """
    base = RECIPES[recipe]
    k = f"{recipe}:"
    with st.form(f"train_form_{recipe}", enter_to_submit=False):
        c1, c2, c3, c4 = st.columns(4)
        models = model_names()
        model = c1.selectbox("Model", models, index=_idx(models, base.model), key=k + "model")
        datasets = dataset_names()
        data_name = c2.selectbox("Dataset", datasets, index=_idx(datasets, base.data["name"]), key=k + "data")
        size = c3.number_input("Built-in: images per class", 1, 10000, int(base.data.get("size") or 1000), key=k + "size",
                               help="letters-builtin only; 1,000 per class = 26,000 images")
        name = c4.text_input("Run name (optional)", "", key=k + "name")
        c1, c2, c3, c4 = st.columns(4)
        epochs = c1.number_input("Epochs", 0, 1000, base.epochs, key=k + "epochs",
                                 disabled=bool(base.stages))
        batch = c2.number_input("Batch size", 0, 65536, base.batch_size, key=k + "batch")
        optimizer = c3.selectbox("Optimizer", OPTIMIZERS, index=_idx(list(OPTIMIZERS), base.optimizer), key=k + "opt")
        lr = c4.number_input("Learning rate", value=float(base.lr), format="%g", step=None, key=k + "lr",
                             disabled=bool(base.stages))
        c1, c2, c3, c4 = st.columns(4)
        momentum = c1.number_input("Momentum (SGD)", 0.0, 0.999, float(base.momentum), key=k + "mom")
        nesterov = c1.checkbox("Nesterov", base.nesterov, key=k + "nesterov")
        wd = c2.number_input("Weight decay", 0.0, 1.0, float(base.weight_decay), format="%g", key=k + "wd")
        schedule = c3.selectbox("LR schedule", SCHEDULES, index=_idx(list(SCHEDULES), base.schedule), key=k + "sched")
        warmup = c4.number_input("Warmup epochs", 0.0, 100.0, float(base.warmup_epochs), key=k + "warm")
        c1, c2, c3, c4 = st.columns(4)
        smoothing = c1.number_input("Label smoothing", 0.0, 0.99, float(base.label_smoothing), key=k + "ls")
        early_metric = c2.selectbox("Early stopping on", EARLY_METRICS, index=_idx(list(EARLY_METRICS), base.early_stopping_metric),
                                    key=k + "esm")
        patience = c3.number_input("Patience (0 = off)", 0, 100, base.early_stopping_patience, key=k + "pat")
        seed = c4.number_input("Seed", 0, 2**31 - 1, base.seed, key=k + "seed")
        c1, c2, c3, c4 = st.columns(4)
        transfer = c1.selectbox("Transfer mode", TRANSFER_MODES, index=_idx(list(TRANSFER_MODES), base.transfer),
                                format_func=lambda m: TRANSFER_TEXT[m], key=k + "transfer", disabled=bool(base.stages))
        unfreeze = c2.number_input("Unfreeze last N layers", 0, 10000, base.unfreeze_last_n, key=k + "unfreeze")
        bb_mult = c3.number_input("Backbone LR x (fine-tune)", 0.0, 10.0, float(base.backbone_lr_mult), format="%g", key=k + "bb")
        pretrained = c4.checkbox("ImageNet weights (local cache only)", base.pretrained, key=k + "pre")
        c1, c2, c3, c4 = st.columns(4)
        head = c1.selectbox("Head", HEADS, index=_idx(list(HEADS), base.head), key=k + "head")
        dropout = c2.number_input("Dropout (head)", 0.0, 0.95, float(base.dropout), key=k + "drop")
        amp = c3.selectbox("Mixed precision (GPU)", AMP_MODES, index=_idx(list(AMP_MODES), base.amp), key=k + "amp")
        augment = c4.checkbox("Augment (rotate/zoom/shift)", base.augment is not None, key=k + "aug")
        c1, c2, _, _ = st.columns(4)
        channels_last = c1.checkbox("channels_last", base.channels_last, key=k + "cl")
        compile_ = c2.checkbox("torch.compile", base.compile, key=k + "compile")
        stages_json = ""
        if base.stages:
            stages_json = st.text_area("Stages (JSON: name, epochs, lr, transfer, unfreeze_last_n)",
                                       json.dumps([s.to_dict() for s in base.stages], indent=1), key=k + "stages")
        start = st.form_submit_button("Start", type="primary", disabled=busy,
                                      help="One job per device: wait for the running job or stop it" if busy else None)
    data = {**base.data, "name": data_name, "size": int(size) if data_name == "letters-builtin" else None}
    changes: dict[str, Any] = {
        "model": model, "data": data, "epochs": int(epochs), "batch_size": int(batch), "optimizer": optimizer,
        "lr": float(lr), "momentum": float(momentum), "nesterov": bool(nesterov and optimizer == "sgd"),
        "weight_decay": float(wd), "schedule": schedule, "warmup_epochs": float(warmup),
        "label_smoothing": float(smoothing), "early_stopping_metric": early_metric,
        "early_stopping_patience": int(patience), "seed": int(seed), "transfer": transfer,
        "unfreeze_last_n": int(unfreeze), "backbone_lr_mult": float(bb_mult), "pretrained": bool(pretrained),
        "head": head, "dropout": float(dropout), "amp": amp, "channels_last": bool(channels_last),
        "compile": bool(compile_), "name": name,
        "augment": (base.augment or {"rotation_deg": 10.0, "zoom": 0.1, "shift": 0.1}) if augment else None,
    }  # fmt: skip
    try:
        if stages_json:
            changes["stages"] = json.loads(stages_json)
        cfg = TrainConfig.from_dict({**base.to_dict(), **changes})
        cfg.validate()
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        st.error(f"Invalid settings: {exc}")
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
    from explorer.charts.train import history_chart

    st_ = run.status
    state = st_["status"]
    epochs, epoch = int(number(st_.get("epochs"))), int(number(st_.get("epoch")))
    steps, step = int(number(st_.get("steps"))), int(number(st_.get("step")))
    icon = {"running": ":material/hourglass_top:", "completed": ":material/check_circle:",
            "stopped": ":material/stop_circle:", "failed": ":material/error:",
            "interrupted": ":material/warning:"}.get(state, "")
    st.markdown(f"**{icon} {run_title(run)}** — **{state}** ({st_.get('phase', '')})",
                help=f"run id: {run.run_id}")
    if state == "failed":
        st.error(st_.get("error") or "failed")
    if state == "interrupted":
        st.warning("This run's process is gone (killed or crashed). Resume continues from its last completed epoch.")
    for note in st_.get("notes") or []:
        (st.warning if "FROM SCRATCH" in note else st.info)(note)
    if epochs > 0:
        st.progress(epoch_fraction(st_),
                    text=f"epoch {epoch} of {epochs}" + (f" — stage: {st_.get('stage_name')}" if st_.get("stage_name") else ""))
    if steps > 0 and state == "running":
        st.progress(clamp01(step / steps), text=f"step {step} of {steps}")
    with st.container(horizontal=True, gap="medium"):  # wraps on a narrow screen
        st.metric("images/s", f"{number(st_.get('images_per_s')):,.0f}", width=130)
        st.metric("time left", format_duration(st_.get("eta_s")) if state == "running" else "-", width=130)
        label = str(st_.get("device_label") or st_.get("device") or "-")
        st.metric("device", label.split(" (")[0], help=label, width=130)
        mem = number(st_.get("gpu_mem_mb"))
        st.metric("GPU memory", f"{mem:,.0f} MiB" if mem > 0 else "n/a (CPU)", width=130)
        metrics = run.metrics() or {}
        acc = metrics.get("test_acc")
        st.metric("test accuracy", f"{acc:.2%}" if acc is not None else "-", width=130)
    hist = run.history()
    if hist:
        from explorer.ui.layout import wrapping_charts

        wrapping_charts(history_chart(hist), key=f"train_curves_{run.run_id}")


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
        runs = list_runs(root)
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
