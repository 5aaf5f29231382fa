"""Issue 23, item 1, as the user met it in Chromium: pick LeNet-5 and 2 epochs, press "Estimate time per epoch",
then Start: the run trains LeNet-5 for 2 epochs (it used to train Quick CNN: the model list's labels gained the
measured time after Estimate, the browser sent back the old label, and Streamlit fell back to the first model)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from explorer.runs import open_run
from tests.browser.conftest import go, new_run, wait_idle

pytestmark = pytest.mark.browser



def test_estimate_then_start_trains_the_model_the_form_shows(page, server):
    go(page, "train")
    form = page.locator(".st-key-train_form").first
    form.locator("[data-testid=stSelectbox]").filter(has_text="Model").click()
    page.get_by_role("option").filter(has_text=re.compile(r"^LeNet-5 \(1998\)$")).first.click()
    wait_idle(page)
    form.locator("[data-testid=stExpander] summary").filter(has_text="Advanced").click()
    for label, value in (("Epochs", "2"), ("Images per class", "20")):
        box = form.get_by_role("spinbutton", name=label).first
        box.fill(value)
        box.press("Tab")
        wait_idle(page)
    form.get_by_role("button", name="Estimate time per epoch").click()
    expect(page.get_by_text(re.compile(r"the whole run .* per epoch, for .*cpu"))).to_be_visible(timeout=180_000)
    wait_idle(page)
    expect(form.get_by_role("combobox", name="Model")).to_have_value("LeNet-5 (1998)")  # the label did not change
    root = Path(server["runs"])
    before = {p.name for p in root.iterdir()}
    form.get_by_role("button", name="Start").click()
    run = open_run(new_run(root, before))
    try:
        train = json.loads((run.path / "config.json").read_text())["train"]
        assert (train["model"], train["epochs"], train["data"]["size"]) == ("lenet5", 2, 20), train
    finally:
        run.request_stop()  # the worker stops after its current step
        deadline = time.monotonic() + 300
        while run.status["status"] == "running":
            assert time.monotonic() < deadline, "the run did not stop"
            time.sleep(0.5)  # polling the run's status with a deadline
