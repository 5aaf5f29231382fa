"""The Train page's form for a newcomer: a basic form (recipe, model, dataset, epochs, Start) with everything
else under Advanced, readable labels and options, Start off while the device is busy, and the same
TrainConfig from every recipe as the form always produced."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import locks
from explorer.config import TrainConfig
from explorer.data.spec import BUILTIN_DEFAULT_SIZE
from explorer.runs import open_run
from explorer.train.recipes import RECIPES
from explorer.ui import train as ui
from explorer.ui.jobs import job_manager

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "train.py")
RAW = {"small_cnn", "letters-builtin", "onecycle", "val_loss", "val_acc", "channels_last", "torch.compile",
       "dropout_linear", "mlp_dropout", "last_n", "finetune", "adamw", "bf16", "fp16", "resnet18", "densenet121"}


def _form_script() -> None:
    """The form alone (no job is started): its config goes to session_state when Start is pressed."""
    import streamlit as st

    from explorer.ui import train as ui

    cfg, name, start = ui.config_form(st.session_state["recipe_under_test"])
    if start and cfg is not None:
        st.session_state["submitted"] = cfg.to_dict()


def _expected(recipe: str) -> TrainConfig:
    """What the form has always made of a recipe left as it is: the recipe with the built-in letters' size filled
    in and Nesterov only with SGD."""
    base = RECIPES[recipe]
    size = base.data.size or BUILTIN_DEFAULT_SIZE if base.data.name == "letters-builtin" else None
    return base.replace(data=replace(base.data, size=size), nesterov=base.nesterov and base.optimizer == "sgd")


def _start(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Start").click()
    return at.run()


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_each_recipe_submits_the_same_config(recipe, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_function(_form_script, default_timeout=60)
    at.session_state["recipe_under_test"] = recipe
    _start(at.run())
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    got = TrainConfig.from_dict(at.session_state["submitted"])
    assert got == _expected(recipe)
    assert got.to_dict() == _expected(recipe).to_dict()


def _page(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("EXPLORER_RUNS", str(tmp_path / "runs"))
    return AppTest.from_file(PAGE, default_timeout=60).run()


def _widgets(node, skip_expanders: bool = False) -> list:
    """Every widget under an element-tree node (labels, keys, options), optionally not inside expanders."""
    out = []
    for child in getattr(node, "children", {}).values():
        if skip_expanders and child.type == "expander":
            continue
        if hasattr(child, "label") and child.type not in ("expander", "markdown", "caption"):
            out.append(child)
        out += _widgets(child, skip_expanders)
    return out


def _form(at: AppTest):
    """The Train form: the bordered container keyed train_form (not an st.form: its fields commit at once)."""
    return next(c for c in at.main.children.values() if c.type == "flex_container" and c.proto.id.endswith("-train_form"))


def test_basic_form_is_model_dataset_epochs_and_start_the_rest_under_advanced(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch)
    assert not at.exception, at.exception
    form = _form(at)
    basic = [w.label for w in _widgets(form, skip_expanders=True)]
    assert basic == ["Model", "Epochs", "Dataset", "Start", "Estimate time per epoch"], basic
    assert at.selectbox(key="recipe").label == "Recipe"  # above the form
    (advanced,) = [c for c in form.children.values() if c.type == "expander"]
    assert advanced.label.startswith("Advanced")
    inside = {w.key for w in _widgets(advanced)}
    grouped = {f"quick:{name}" for _, names in ui.ADVANCED_GROUPS for name in names}
    assert grouped | {"quick:name", "quick:size", "quick:augment"} == inside
    boxes = {w.key for w in _widgets(advanced) if w.type == "checkbox"}
    assert boxes == {c.key for c in advanced.children.values() if c.type == "checkbox"}  # full width: no cut labels
    meta = {f.name: f.metadata for f in dataclasses.fields(TrainConfig)}
    for w in _widgets(advanced):
        field = w.key.removeprefix("quick:")
        if field in meta and meta[field]["label"]:  # label and help from the config's field metadata
            assert (w.label, w.help) == (meta[field]["label"], meta[field]["help"]), field
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert fields - {n for _, names in ui.ADVANCED_GROUPS for n in names} == {
        "model", "data", "name", "epochs", "stages", "head_hidden", "augment", "device"}  # each shown elsewhere
    # the model and dataset by their cards' names, the raw ids stay the values
    assert at.selectbox(key="quick:model").value == "small_cnn"
    assert at.selectbox(key="quick:model").format_func("small_cnn") == "Quick CNN"
    assert at.selectbox(key="quick:data").format_func("letters-builtin") == "Built-in letters (offline)"


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_labels_options_and_help_are_readable(recipe, tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch)
    at.selectbox(key="recipe").set_value(recipe).run()
    assert not at.exception, at.exception
    widgets = _widgets(_form(at))
    for w in widgets:
        assert "_" not in w.label and w.label not in RAW, w.label
        if w.type != "button" or w.label == "Estimate time per epoch":
            assert w.help and len(w.help) > 15, (w.label, w.help)
    for box in (w for w in widgets if w.type == "selectbox"):
        shown = list(box.options)
        assert not RAW & set(shown) and not any("_" in s for s in shown), (box.label, shown)
        if box.key not in (f"{recipe}:model", f"{recipe}:data"):
            assert max(map(len, shown)) <= 22, (box.label, shown)  # short enough not to be cut off
    transfer = at.selectbox(key=f"{recipe}:transfer")
    assert transfer.format_func("scratch") == "from scratch"
    assert "random init, everything trains" in transfer.help  # the long text in the help
    assert at.selectbox(key=f"{recipe}:schedule").format_func("onecycle") == "one-cycle"
    assert at.checkbox(key=f"{recipe}:compile").label == "Compile the model"


def test_start_is_off_while_this_device_is_locked(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch)
    start = next(b for b in at.button if b.label == "Start")
    assert not start.disabled
    lock = locks.acquire("cpu")  # another process's job, as far as the page can tell
    try:
        lock.describe(run_id="letters-night-run")
        at.run()
        start = next(b for b in at.button if b.label == "Start")
        assert start.disabled
        said = [c.value for c in at.caption if "Start is off" in c.value]
        assert len(said) == 1 and "cpu is busy" in said[0] and "run **letters-night-run** is training" in said[0], said
    finally:
        lock.release()
    at.run()
    assert not next(b for b in at.button if b.label == "Start").disabled
    assert not any("Start is off" in c.value for c in at.caption)


def test_start_points_to_the_job_panel_names_the_run_once_and_turns_start_off(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch)
    at.number_input(key="quick:size").set_value(5)
    at.number_input(key="quick:batch_size").set_value(32)
    at.number_input(key="quick:epochs").set_value(1)
    _start(at)
    assert not at.exception, at.exception
    runs = [p.name for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")]
    assert len(runs) == 1, runs
    run_id, jobs = runs[0], job_manager()
    try:
        (said,) = [s.value for s in at.success]
        assert "[job panel above](#job)" in said and run_id not in said
        shown = run_id  # as a code span beside the readable title
        (header,) = [m.value for m in at.markdown if shown in m.value]  # the job panel's, once (was twice)
        assert header.count(shown) == 1 and "Quick CNN on Built-in letters (offline)" in header, header
        start = next(b for b in at.button if b.label == "Start")
        assert start.disabled, open_run(run_id, tmp_path / "runs").status  # its worker holds the cpu lock
        (busy,) = [c.value for c in at.caption if "Start is off while cpu is busy" in c.value]
        assert shown in busy  # which run holds the device
    finally:
        jobs.stop(run_id, tmp_path / "runs")
        assert jobs.wait(run_id, timeout=300) is not None
