"""AppTest of the Compare-runs page: too few runs, two runs side by side, different class counts."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from explorer.names import run_title
from explorer.runs import open_run
from tests.conftest import page_path
from tests.run_fixtures import make_run


def _app() -> AppTest:
    return AppTest.from_file(page_path("compare_runs"), default_timeout=120)


def test_needs_two_runs():
    make_run(name="only")
    at = _app().run()
    assert not at.exception, at.exception
    assert "two or more saved runs" in at.info[0].value


def test_two_runs_side_by_side():
    make_run(name="quick-a", epochs=3)
    make_run(name="quick-b", seed=2, lr=0.01)
    at = _app().run()
    assert not at.exception, at.exception
    assert len(at.multiselect(key="cmp_runs").value) == 2
    heads = [h.value for h in at.subheader]
    for h in ("Final metrics", "Settings that differ", "Training curves", "Per-class F1", "Confusion matrices",
              "ROC / AUC", "Accuracy against cost"):
        assert h in heads, h
    differ = at.dataframe[1].value
    assert {"Learning rate", "Epochs", "Seed"} <= set(differ.index)  # labels, not raw keys
    assert {"train.lr", "train.epochs", "train.seed"} <= set(differ["key"])  # the key stays, last
    assert "Model" not in differ.index and not any(str(i).startswith("train.") for i in differ.index)
    assert not at.warning  # every comparison applies
    picker = at.multiselect(key="cmp_runs")
    assert {o.split(" · ")[0] for o in picker.options} == {"quick-a", "quick-b"}  # names, not ids
    ref, other = (run_title(open_run(v)) for v in picker.value)
    text = [m.value for m in at.markdown]
    assert f"Against the reference run **{ref}**:" in text  # the reference is named once
    lines = [t for t in text if t.startswith(f"- **{other}** got better on ")]
    assert len(lines) == 1 and ref not in lines[0], text


def test_different_class_counts_are_explained():
    make_run(name="letters")
    make_run(name="digits", classes=list("0123456789"), dataset="digits", y_true=np.repeat(np.arange(10), 3))
    at = _app().run()
    assert not at.exception, at.exception
    text = " ".join(w.value for w in at.warning)
    assert "Confusion matrices" in text and "different classes" in text and "Per-class F1" in text
    heads = [h.value for h in at.subheader]
    assert "Confusion matrices" not in heads and "Final metrics" in heads
