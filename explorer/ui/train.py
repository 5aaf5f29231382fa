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
from explorer.config import CHOICE_TEXT, Stage, TrainConfig, field_label
from explorer.data.spec import BUILTIN_DEFAULT_SIZE, MAX_BUILTIN_SIZE, Augment, DataSpec
from explorer.devices import lock_key
from explorer.names import format_duration, run_title
from explorer.progress import clamp01, epoch_fraction, epoch_text, number
from explorer.runs import Run, list_runs, open_run
from explorer.train.recipes import DESCRIPTIONS, RECIPES, TITLES
from explorer.ui.curves import render_training_curves
from explorer.ui.jobs import job_manager
from explorer.untrusted import md_code, md_escape

MAX_STAGES_TEXT = 20_000  # characters of the Stages JSON field


def model_names() -> list[str]:
    """Registry model names (the saved designs as they are now: not cached)."""
    from explorer.models import list_models

    return list_models()


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
    """One widget for a TrainConfig field, from its metadata: select box, checkbox or bounded number.

    `value` only starts the widget (see `start_value`): from then on the widget's own state is the value, so no
    rerun (Estimate, the sweep panel, a job that ends) puts a default back over what the user set."""
    f = _FIELDS[name]
    meta, kind = f.metadata, str(f.type)
    common = {"key": key, "help": meta["help"], "disabled": disabled}
    if meta["choices"]:
        options = list(meta["choices"])
        start_value(key, value if value in options else options[0])
        return col.selectbox(meta["label"], options, format_func=lambda v: option_text(name, v), **common)
    if kind == "bool":
        start_value(key, bool(value))
        return bool(col.checkbox(meta["label"], **common))
    lo = min(meta["lo"], 0)  # below-range values reach validate(), which says why they are refused
    if kind == "int":
        start_value(key, int(value))
        return int(col.number_input(meta["label"], int(lo), int(meta["hi"]), **common))
    hi = meta["hi"] - (1e-3 if meta["hi_open"] else 0.0)
    start_value(key, float(value))
    return float(col.number_input(meta["label"], float(lo), float(hi), format="%g", **common))


def start_value(key: str, value: Any) -> None:
    """The value a form widget starts with, set once in session_state (the widget is then made without a default,
    so its state is the one source of its value, whatever reruns)."""
    if key not in st.session_state:
        st.session_state[key] = value


def model_option(name: str) -> str:
    """A model's display name (its card's title). Never anything that changes on a rerun: a select box sends
    back the label the user picked, and a label that changed meanwhile (a time per epoch added after Estimate)
    matches no option, so Streamlit fell back to the first model (issue 23: LeNet-5 chosen, Quick CNN trained)."""
    return model_titles().get(name, name)


def _basic_row(base: TrainConfig, k: str) -> tuple[str, str, int]:
    """Model, dataset and epochs (two columns, then epochs), with display names."""
    c1, c2 = st.columns(2)
    models = model_names()
    start_value(k + "model", base.model if base.model in models else models[0])
    model = c1.selectbox("Model", models, key=k + "model", format_func=model_option,
                         help=_FIELDS["model"].metadata["help"] + "; the time per epoch shows under the form after an "
                         "estimate")
    datasets = dataset_names()
    start_value(k + "data", base.data.name if base.data.name in datasets else datasets[0])
    data_name = c2.selectbox("Dataset", datasets, key=k + "data", format_func=lambda n: dataset_titles().get(n, n),
                             help="the images to train on; the Data page shows them and what each needs")
    epochs = field_input(c1, "epochs", base.epochs, k + "epochs", disabled=bool(base.stages))
    return model, data_name, epochs


def _advanced(base: TrainConfig, k: str) -> tuple[dict[str, Any], str, int, bool, str]:
    """The Advanced expander: run name, data size, augmentation, every other field, the stages."""
    values: dict[str, Any] = {}
    with st.expander("Advanced (optimizer, schedule, transfer, speed, ...)"):
        c1, c2 = st.columns(2)
        start_value(k + "name", "")
        name = c1.text_input(_FIELDS["name"].metadata["label"], key=k + "name", placeholder="optional",
                             help=_FIELDS["name"].metadata["help"])
        start_value(k + "size", int(base.data.size or BUILTIN_DEFAULT_SIZE))
        size = c2.number_input(field_label(DataSpec, "size"), 1, MAX_BUILTIN_SIZE, key=k + "size",
                               help="built-in letters only: how many images of each letter to make; 1,000 per class = 26,000 "
                                    "images")
        start_value(k + "augment", base.augment is not None)
        augment = st.checkbox(_FIELDS["augment"].metadata["label"], key=k + "augment",
                              help=_FIELDS["augment"].metadata["help"])
        for title, names in ADVANCED_GROUPS:
            st.markdown(f"**{title}**")
            values.update(_group(base, k, names))
        stages_json = ""
        if base.stages:
            start_value(k + "stages", json.dumps([s.to_dict() for s in base.stages], indent=1))
            stages_json = st.text_area("Stages (JSON, one object per stage, in order)", key=k + "stages",
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

    Not an st.form: every field commits when it changes, so what the page holds is what the form shows (the sweep
    panel below plans from it at once) and no button's rerun can lose an edit. `busy` (why the device is taken)
    disables Start and is said under it. Invalid settings (TrainConfig.validate, the same rules as the CLI) show
    st.error and return config None.
    """
    base = RECIPES[recipe]
    k = f"{recipe}:"
    st.session_state[RECIPE_SHOWN] = recipe
    with st.container(border=True, key="train_form"):
        model, data_name, epochs = _basic_row(base, k)
        values, name, size, augment, stages_json = _advanced(base, k)
        c1, c2 = st.columns(2)
        start = c1.button("Start", type="primary", disabled=busy is not None, width="stretch", key="train_start")
        c2.button("Estimate time per epoch", key=k + "estimate", width="stretch",
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


RECIPE_SHOWN = "train_recipe_shown"  # the recipe whose form the last run showed
CARRIED = ("data", "size", "name")  # what a recipe does not decide: the data and the run's name stay as set


def _carry_over() -> None:
    """Recipe changed: the new recipe's form starts with the data and run name the user had set in the last one."""
    old, new = st.session_state.get(RECIPE_SHOWN), st.session_state.get("recipe")
    if not old or old == new:
        return
    for field in CARRIED:
        if f"{old}:{field}" in st.session_state:
            st.session_state[f"{new}:{field}"] = st.session_state[f"{old}:{field}"]


def recipe_picker() -> str:
    """Recipe select box with its description; a new recipe fills in its settings and keeps the data and name."""
    recipe = st.selectbox("Recipe", list(RECIPES), format_func=lambda r: TITLES.get(r, r), key="recipe",
                          on_change=_carry_over,
                          help="a preset of every training setting below (the EMNIST-letters report's three and a "
                          "quick one); the dataset, images per class and run name stay as you set them")
    st.caption(DESCRIPTIONS[recipe])
    if recipe != "quick":
        with st.expander("What the EMNIST-letters report got with its recipes"):
            from explorer.charts.evaluate import seed_table_style
            from explorer.metrics import REPORT_TEXT, seed_result_table

            st.caption(REPORT_TEXT + " Results compares your runs with them (its Published results tab).")
            st.dataframe(seed_table_style(seed_result_table()), hide_index=True, placeholder="—")
    return recipe


def busy_text(root: str) -> str | None:
    """Why Start is off (this device's lock is held, and by which run), or None when the device is free."""
    device = lock_key("auto")
    if not locks.lock_path(device).exists() or not locks.is_busy(device):
        return None  # (no lock file: never held; the page does not create one)
    run = job_manager().busy_on(device, root)
    who = str(locks.holder(device).get("run_id") or "")[:80]
    title = run_title(run) if run is not None else ""
    what = (f"run **{md_escape(title or who)}**{f' ({md_code(who)})' if title and who else ''} is training on it"
            if title or who else "another job is training on it")
    return (f":material/block: Start is off while {device} is busy: {what}. Stop it in the job panel above, "
            "or wait until it ends.")


def render_estimate_hint(cfg: TrainConfig | None, pressed: bool) -> None:
    """The per-epoch estimate line under the form; every estimate made in this session is listed by model, so
    models can be compared (beside the form, never in the model list: see model_option)."""
    from explorer.ui.train_doctor import estimate_line

    est = estimate_line(cfg, pressed)
    hints = st.session_state.setdefault("speed_hints", {})
    if cfg is not None and est is not None:
        hints[cfg.model] = format_duration(est["epoch_seconds"])
    if hints and (est is None or len(hints) > 1):  # (the line above already says this config's time)
        st.caption("Measured per epoch on this device: " + " · ".join(
            f"{md_escape(model_option(m))} {md_escape(h)}" for m, h in hints.items()))



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


def render_run(run: Run) -> None:
    """Progress bars, numbers and curves of one run (live or finished)."""
    st_ = run.status
    state = st_["status"]
    epochs = int(number(st_.get("epochs")))
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
                    text=epoch_text(st_) + (f" — stage: {md_escape(st_.get('stage_name'))}" if st_.get("stage_name") else ""))
    if steps > 0 and state == "running":
        st.progress(clamp01(step / steps), text=f"step {step} of {steps}")
    with st.container(horizontal=True, gap="medium"):  # wraps on a narrow screen
        st.metric("images/s", f"{number(st_.get('images_per_s')):,.0f}", width=130)
        st.metric("time left", time_left_text(st_), width=130)
        label = str(st_.get("device_label") or st_.get("device") or "-")
        st.metric("device", label.split(" (")[0][:40], help=md_escape(label), width=130)
        mem = number(st_.get("gpu_mem_mb"))
        if mem > 0 or str(st_.get("device") or "").startswith("cuda"):  # on a CPU run it says nothing: not shown
            st.metric("GPU memory", f"{mem:,.0f} MiB" if mem > 0 else "-", width=150)  # room for "80,000 MiB"
        metrics = run.metrics() or {}
        acc = metrics.get("test_acc")
        st.metric("test accuracy", f"{acc:.2%}" if acc is not None else "-", width=130)
    from explorer.ui.train_doctor import gpu_memory_text

    if gpu_memory_text(st_):
        st.caption(f"GPU memory: {gpu_memory_text(st_)}")
    from explorer.train.estimate import estimate_vs_actual

    if state != "running" and (versus := estimate_vs_actual(run)):
        st.caption(f":material/timer: {md_escape(versus)}")
    hist = run.history()
    if hist:
        render_training_curves(history_frame(hist), metrics=("loss", "accuracy"))


def render_live(root: str) -> None:
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
            render_run(run)
            if st.button("Stop", key=f"stop_{run.run_id}", help="ends the job after the current step; completed epochs are kept"):
                jobs.stop(run.run_id, root)
                st.toast(f"Asked {run.run_id} to stop")
            return
        runs = [r for r in list_runs(root) if r.readable]
        if not runs:
            st.info("No runs yet: choose a recipe and press Start.")
            return
        last = open_run(runs[0].path)
        render_run(last)
        if last.status["status"] == "completed":
            render_next_steps()
        if last.status["status"] in ("interrupted", "stopped") and st.button("Resume", key=f"resume_{last.run_id}"):
            try:
                jobs.resume(last.run_id, root)
            except (ValueError, OSError, locks.DeviceBusyError) as exc:  # e.g. an imported run made on a GPU
                st.session_state[f"resume_error_{last.run_id}"] = f"Cannot resume {last.run_id}: {exc}"
            else:
                st.session_state.pop(f"resume_error_{last.run_id}", None)
                st.rerun(scope="fragment")
        if err := st.session_state.get(f"resume_error_{last.run_id}"):
            st.error(md_escape(err), icon=":material/error:")

    _live()


def render_next_steps() -> None:
    """After a completed run: where to go next (Results, Explain, Draw)."""
    from explorer.ui.run_picker import render_page_links

    st.markdown("**Next:** see how it does and why, or draw a letter for it to read.")
    render_page_links([("results", "Results", ":material/monitoring:"),
                       ("explain", "Explain", ":material/local_fire_department:"),
                       ("draw", "Draw a letter", ":material/draw:")])


def device_busy(root: str) -> Run | None:
    """The run training now on the device a new job would use, if any."""
    return job_manager().busy_on(lock_key("auto"), root)
