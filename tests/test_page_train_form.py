"""The Train page's form for a newcomer: a basic form (recipe, model, dataset, epochs, Start) with everything
else under Advanced, readable labels and options, Start off while the device is busy, and the same
TrainConfig from every recipe as the form always produced."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from explorer import locks
from explorer.config import TrainConfig
from explorer.data.spec import BUILTIN_DEFAULT_SIZE
from explorer.train.recipes import RECIPES

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
