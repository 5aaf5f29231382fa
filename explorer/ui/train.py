"""Streamlit helpers for the Train page: the recipe form and the live job panel (a polling fragment).

The job runs in its own worker process (explorer.train.jobs); this module only reads the run
folder, so page switches and browser reloads neither stop nor lose a job.
"""

from __future__ import annotations

import json
from dataclasses import fields, replace
from typing import Any

import streamlit as st

from explorer import locks
from explorer.charts.curves import history_frame
from explorer.config import CHOICE_TEXT, Stage, TrainConfig
from explorer.data.spec import BUILTIN_DEFAULT_SIZE, MAX_BUILTIN_SIZE, Augment
from explorer.names import format_duration, run_title
from explorer.runs import Run, list_runs, open_run
from explorer.train.loop import device_label, resolve_device
from explorer.train.recipes import DESCRIPTIONS, RECIPES, TITLES
from explorer.ui.curves import show_training_curves
from explorer.ui.jobs import job_manager
from explorer.ui.progress import clamp01, epoch_fraction, number
from explorer.ui.text import md_code, md_escape

MAX_STAGES_TEXT = 20_000  # characters of the Stages JSON field


@st.cache_data(show_spinner=False)
def model_names() -> list[str]:
    """Registry model names."""
    from explorer.models import list_models

    return list_models()


@st.cache_data(show_spinner=False)
def model_titles() -> dict[str, str]:
    """Registry name -> display name from the model cards (e.g. small_cnn -> "Quick CNN")."""
    from explorer.models import get_card

    return {n: get_card(n).title for n in model_names()}


@st.cache_data(show_spinner=False)
def dataset_names() -> list[str]:
    """Dataset names."""
    from explorer.data import DATASET_NAMES

    return list(DATASET_NAMES)


@st.cache_data(show_spinner=False)
def dataset_titles() -> dict[str, str]:
    """Dataset name -> display name from the dataset cards (e.g. letters-builtin -> "Built-in letters (offline)")."""
    from explorer.data import get_dataset_card

    return {n: get_dataset_card(n).title for n in dataset_names()}


def device_text() -> str:
    """Which device a new job would use, e.g. "cpu (2 threads)"."""
    return device_label(resolve_device("auto"))


def device_key() -> str:
    """The device a new job would lock: "cpu" or "cuda:N"."""
    d = resolve_device("auto")
    return f"cuda:{d.index or 0}" if d.type == "cuda" else "cpu"


def _idx(options: list[Any], value: Any) -> int:
    return options.index(value) if value in options else 0


# The basic form is recipe (above the form), model, dataset and epochs; every other TrainConfig field sits under
# Advanced in these groups, two per row. Labels, help, bounds and choices come from the fields' metadata (the
# same metadata gives the CLI options and validate()'s rules); option texts from config.CHOICE_TEXT.
ADVANCED_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Optimizer", ("optimizer", "batch_size", "lr", "momentum", "weight_decay", "nesterov")),
    ("Learning-rate schedule", ("schedule", "warmup_epochs", "step_size", "gamma", "plateau_factor",
                                "plateau_patience")),
    ("Regularisation and stopping", ("label_smoothing", "dropout", "early_stopping_metric",
                                     "early_stopping_patience", "seed")),
    ("Transfer learning and head", ("transfer", "unfreeze_last_n", "backbone_lr_mult", "head", "init",
                                    "pretrained")),
    ("Speed", ("amp", "channels_last", "compile")),
)
STAGED = ("epochs", "lr", "transfer")  # set per stage when a recipe has stages
_FIELDS = {f.name: f for f in fields(TrainConfig)}


def option_text(name: str, value: Any) -> str:
    """The readable text of one choice of a TrainConfig field (the value itself when it has none)."""
    return CHOICE_TEXT.get(name, {}).get(value, str(value))


def field_input(col: Any, name: str, value: Any, key: str, disabled: bool = False) -> Any:
    """One widget for a TrainConfig field, from its metadata: select box, checkbox or bounded number."""
    f = _FIELDS[name]
    meta, kind = f.metadata, str(f.type)
    common = {"key": key, "help": meta["help"], "disabled": disabled}
    if meta["choices"]:
        options = list(meta["choices"])
        return col.selectbox(meta["label"], options, index=_idx(options, value),
                             format_func=lambda v: option_text(name, v), **common)
    if kind == "bool":
        return bool(col.checkbox(meta["label"], bool(value), **common))
    lo = min(meta["lo"], 0)  # below-range values reach validate(), which says why they are refused
    if kind == "int":
        return int(col.number_input(meta["label"], int(lo), int(meta["hi"]), int(value), **common))
    hi = meta["hi"] - (1e-3 if meta["hi_open"] else 0.0)
    return float(col.number_input(meta["label"], float(lo), float(hi), float(value), format="%g", **common))


def model_option(name: str) -> str:
    """A model's display name, with the measured time per epoch on this device once estimated."""
    hint = st.session_state.get("speed_hints", {}).get(name)
    title = model_titles().get(name, name)
    return f"{title} · {hint}/epoch" if hint else title


def _basic_row(base: TrainConfig, k: str) -> tuple[str, str, int]:
    """Model, dataset and epochs (two columns, then epochs), with display names."""
    c1, c2 = st.columns(2)
    models = model_names()
    model = c1.selectbox("Model", models, index=_idx(models, base.model), key=k + "model", format_func=model_option,
                         help=_FIELDS["model"].metadata["help"] + "; the time per epoch shows after an estimate")
    datasets = dataset_names()
    data_name = c2.selectbox("Dataset", datasets, index=_idx(datasets, base.data.name), key=k + "data",
                             format_func=lambda n: dataset_titles().get(n, n),
                             help="the images to train on; the Data page shows them and what each needs")
    epochs = field_input(c1, "epochs", base.epochs, k + "epochs", disabled=bool(base.stages))
    return model, data_name, epochs


def _advanced(base: TrainConfig, k: str) -> tuple[dict[str, Any], str, int, bool, str]:
    """The Advanced expander: run name, data size, augmentation, every other field, the stages."""
    values: dict[str, Any] = {}
    with st.expander("Advanced (optimizer, schedule, transfer, speed, ...)"):
        c1, c2 = st.columns(2)
        name = c1.text_input("Run name (optional)", "", key=k + "name", help=_FIELDS["name"].metadata["help"])
        size = c2.number_input("Images per class", 1, MAX_BUILTIN_SIZE,
                               int(base.data.size or BUILTIN_DEFAULT_SIZE), key=k + "size",
                               help="built-in letters only: how many images of each letter to make; 1,000 per class = 26,000 "
                                    "images")
        augment = st.checkbox("Augment (rotate, zoom, shift)", base.augment is not None, key=k + "augment",
                              help="random small rotations, zooms and shifts of each batch (no flips)")
        for title, names in ADVANCED_GROUPS:
            st.markdown(f"**{title}**")
            values.update(_group(base, k, names))
        stages_json = ""
        if base.stages:
            stages_json = st.text_area("Stages (JSON, one object per stage, in order)",
                                       json.dumps([s.to_dict() for s in base.stages], indent=1), key=k + "stages",
                                       help="each stage's keys: name, epochs, lr, transfer (scratch, frozen, last_n, "
                                       "finetune) and unfreeze_last_n (for last_n)")
    return values, name, int(size), augment, stages_json


def _group(base: TrainConfig, k: str, names: tuple[str, ...]) -> dict[str, Any]:
    """One Advanced group: its fields two per row, then its checkboxes full width (a column cuts their labels)."""
    boxes = [n for n in names if str(_FIELDS[n].type) == "bool"]
    paired = [n for n in names if n not in boxes]
    values: dict[str, Any] = {}
    for i in range(0, len(paired), 2):
        for col, name in zip(st.columns(2), paired[i:i + 2], strict=False):
            values[name] = field_input(col, name, getattr(base, name), k + name, bool(base.stages) and name in STAGED)
    for name in boxes:
        values[name] = field_input(st, name, getattr(base, name), k + name)
    return values


def config_form(recipe: str, busy: str | None = None) -> tuple[TrainConfig | None, str, bool]:
    """The settings form, prefilled from `recipe`; returns (config or None, run name, Start pressed).

    `busy` (why the device is taken) disables Start and is said under it. Invalid settings (TrainConfig.validate,
    the same rules as the CLI) show st.error and return config None.
    """
    base = RECIPES[recipe]
    k = f"{recipe}:"
    with st.form(f"train_form_{recipe}", enter_to_submit=False):
        model, data_name, epochs = _basic_row(base, k)
        values, name, size, augment, stages_json = _advanced(base, k)
        c1, c2 = st.columns(2)
        start = c1.form_submit_button("Start", type="primary", disabled=busy is not None, width="stretch")
        c2.form_submit_button("Estimate time per epoch", key=k + "estimate", width="stretch",
                              help="times a few training steps on this device and scales them to an epoch")
        if busy:
            st.caption(busy)
    values["epochs"] = epochs
    values["nesterov"] = values["nesterov"] and values["optimizer"] == "sgd"
    data = replace(base.data, name=data_name, size=size if data_name == "letters-builtin" else None)
    changes = {**values, "model": model, "data": data, "name": name,
               "augment": (base.augment or Augment()) if augment else None}
    return _validated(base, changes, stages_json), name, start


def _validated(base: TrainConfig, changes: dict[str, Any], stages_json: str) -> TrainConfig | None:
    """The recipe with the form's changes, validated; st.error and None when refused."""
    try:
        if len(stages_json) > MAX_STAGES_TEXT:
            raise ValueError(f"the Stages field is {len(stages_json):,} characters; at most {MAX_STAGES_TEXT:,}")
        if stages_json:
            changes["stages"] = tuple(Stage.from_dict(s) for s in json.loads(stages_json))
        return base.replace(**changes).validate()
    except RecursionError:
        st.error("Invalid settings: the Stages field is nested too deeply; give a flat JSON list of stages "
                 "like the one the recipe fills in.")
    except (ValueError, TypeError, KeyError, AttributeError, json.JSONDecodeError) as exc:
        st.error(f"Invalid settings: {md_escape(exc)}")
    return None


def recipe_picker() -> str:
    """Recipe select box with its description."""
    recipe = st.selectbox("Recipe", list(RECIPES), format_func=lambda r: TITLES.get(r, r), key="recipe",
                          help="a preset of every setting below (the seed report's three and a quick one); "
                          "change any of them before Start")
    st.caption(DESCRIPTIONS[recipe])
    return recipe


def busy_text(root: str) -> str | None:
    """Why Start is off (this device's lock is held, and by which run), or None when the device is free."""
    device = device_key()
    if not locks.lock_path(root, device).exists() or not locks.is_busy(root, device):
        return None  # (no lock file: never held; the page does not create one)
    run = job_manager().busy_on(device, root)
    who = str(locks.holder(root, device).get("run_id") or "")[:80]
    title = run_title(run) if run is not None else ""
    what = (f"run **{md_escape(title or who)}**{f' ({md_code(who)})' if title and who else ''} is training on it"
            if title or who else "another job is training on it")
    return (f":material/block: Start is off while {device} is busy: {what}. Stop it in the job panel above, "
            "or wait until it ends.")


def estimate_hint(cfg: TrainConfig | None, pressed: bool) -> None:
    """The per-epoch estimate line under the form; a new estimate also becomes the model's speed hint."""
    from explorer.train.estimate import fmt_duration
    from explorer.ui.doctor import estimate_line

    est = estimate_line(cfg, pressed)
    if cfg is None or est is None or not pressed:
        return  # (not on Start: a rerun would lose the press)
    hints = st.session_state.setdefault("speed_hints", {})
    hint = fmt_duration(est["epoch_seconds"])
    if hints.get(cfg.model) != hint:
        hints[cfg.model] = hint
        st.rerun()  # the model list shows the hint


def _fmt_s(value: Any) -> str:
    """Seconds as "3m 55s" (explorer.names.format_duration, the one time format)."""
    return format_duration(value)


def _title(titles: dict[str, str], value: Any) -> Any:
    """A registry name's display name (any other value as it is: config.json is read back untrusted)."""
    return titles.get(value, value) if isinstance(value, str) else value


def phase_text(status: dict[str, Any]) -> str:
    """What a run is doing, in words: "building the letters: 7,680 of 31,200" while its data is built."""
    phase = str(status.get("phase") or "")
    done, total = number(status.get("data_done"), -1), number(status.get("data_total"), -1)
    if phase.startswith("data") and total > 0 and done >= 0:
        return f"building the letters: {int(done):,} of {int(total):,}"
    return {"data": "reading the data", "train": "training", "eval": "validating", "test": "testing on the test split",
            "starting": "starting"}.get(phase, phase)


def time_left_text(status: dict[str, Any]) -> str:
    """The time left of a running run: the whole run's (eta_s), else, while the data is built, the data's."""
    if status.get("status") != "running":
        return "-"
    if status.get("eta_s") is not None:
        return format_duration(status.get("eta_s"))
    if status.get("data_eta_s") is not None:
        return f"{format_duration(status.get('data_eta_s'))} + training"
    return "-"


def run_panel(run: Run) -> None:
    """Progress bars, numbers and curves of one run (live or finished)."""
    st_ = run.status
    state = st_["status"]
    epochs, epoch = int(number(st_.get("epochs"))), int(number(st_.get("epoch")))
    steps, step = int(number(st_.get("steps"))), int(number(st_.get("step")))
    icon = {"running": ":material/hourglass_top:", "completed": ":material/check_circle:",
            "stopped": ":material/stop_circle:", "failed": ":material/error:",
            "interrupted": ":material/warning:"}.get(state, "")
    cfg = run.config
    train = cfg.get("train") or {}
    ident = f" — {md_code(run.run_id)}"  # the id once, as a detail beside the readable title
    st.markdown(f"**{icon} {md_escape(run_title(run))}**{ident} — "
                f"{md_escape(_title(model_titles(), train.get('model')))} on "
                f"{md_escape(_title(dataset_titles(), (train.get('data') or {}).get('name')))} — "
                f"**{md_escape(state)}** ({md_escape(phase_text(st_))})")
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
        st.metric("time left", time_left_text(st_), width=130)
        label = str(st_.get("device_label") or st_.get("device") or "-")
        st.metric("device", label.split(" (")[0][:40], help=md_escape(label), width=130)
        mem = number(st_.get("gpu_mem_mb"))
        st.metric("GPU memory", f"{mem:,.0f} MiB" if mem > 0 else "n/a (CPU)", width=190)  # room for "n/a (CPU)" and "80,000 MiB"
        metrics = run.metrics() or {}
        acc = metrics.get("test_acc")
        st.metric("test accuracy", f"{acc:.2%}" if acc is not None else "-", width=130)
    from explorer.ui.doctor import gpu_memory_text

    if gpu_memory_text(st_):
        st.caption(f"GPU memory: {gpu_memory_text(st_)}")
    from explorer.train.estimate import estimate_vs_actual

    if state != "running" and (versus := estimate_vs_actual(run)):
        st.caption(f":material/timer: {md_escape(versus)}")
    hist = run.history()
    if hist:
        show_training_curves(history_frame(hist), metrics=("loss", "accuracy"))


def live_panel(root: str) -> None:
    """The live job panel: polls the run folder every second (a fragment, so the page stays responsive)."""

    @st.fragment(run_every=1.0)
    def _live() -> None:
        jobs = job_manager()
        active = jobs.active(root)
        now, was = (active[0].run_id if active else ""), st.session_state.get("train_active_run")
        st.session_state["train_active_run"] = now
        if was is not None and was != now:
            st.rerun()  # a job started or ended: Start's state and the form follow
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
