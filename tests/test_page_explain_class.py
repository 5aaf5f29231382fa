"""Explain's "Explain class" box follows the model's prediction and always shows a valid selection: it
used to keep "predicted (A)" after the prediction became G, and showed "Choose an option" (no selection)
after switching to a misclassified image or changing the contrast class."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import page_path
from tests.run_fixtures import make_page_run as make_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A small_cnn run with untrained weights and planted test predictions."""
    root = tmp_path_factory.mktemp("explain_class_runs")
    return root, make_run(root, "small").name


def _page(root, run_id, monkeypatch) -> AppTest:
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path("explain"), default_timeout=120)
    at.session_state["explorer_run_id"] = run_id
    return at.run()


def _shown(at: AppTest, key: str) -> str:
    """The label the browser shows in select box `key` (None index = "Choose an option")."""
    box = at.selectbox(key=key)
    assert box.index is not None, f"{key}: no selection (the browser shows 'Choose an option'); options {box.options}"
    return box.options[box.index]


def _predicted(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == "Predicted")


def _check_follows(at: AppTest) -> str:
    """The target box shows "<predicted letter> (predicted)"; the contrast box a valid entry too."""
    assert not at.exception, at.exception
    letter = _predicted(at)
    assert _shown(at, "explain_target") == f"{letter} (predicted)"
    assert sum("(predicted)" in o for o in at.selectbox(key="explain_target").options) == 1
    _shown(at, "explain_contrast")
    return letter


def test_target_follows_prediction_through_every_change(run_dir, monkeypatch):
    from explorer.explain import top_k
    from explorer.runs import open_run

    root, run_id = run_dir
    at = _page(root, run_id, monkeypatch)
    first = _check_follows(at)
    assert _shown(at, "explain_contrast") == "(none)"

    # changing the contrast class (and back) keeps both boxes on a real selection
    at.selectbox(key="explain_contrast").set_value(16).run()
    assert _check_follows(at) == first and _shown(at, "explain_contrast") == "Q"
    at.selectbox(key="explain_contrast").set_value(-1).run()
    assert _check_follows(at) == first and _shown(at, "explain_contrast") == "(none)"

    # a test image whose prediction differs from the first one's: the box moves to the new prediction
    run = open_run(root / run_id)
    model, classes = run.load_model(), run.config["classes"]
    images, labels = run.test_images(), run.predictions().y_true
    other = None
    for cls in range(len(classes)):
        idx = int(np.flatnonzero(labels == cls)[0])
        if top_k(model, images[idx].astype(np.float32)[None] / 255.0, 1, classes)[0][1] != first:
            other = classes[cls]
            break
    assert other is not None, "the untrained model predicts one letter for every class"
    at.selectbox(key="explain_class").set_value(other).run()
    assert _check_follows(at) != first

    # a misclassified test image: the box shows its prediction
    at.radio(key="explain_source").set_value("Misclassified test image").run()
    _check_follows(at)

    # a class picked by hand stays while the prediction stays (here: changing the contrast class)
    at.selectbox(key="explain_target").set_value(6).run()
    assert not at.exception and _shown(at, "explain_target").startswith("G")
    at.selectbox(key="explain_contrast").set_value(16).run()
    assert _shown(at, "explain_target").startswith("G") and _shown(at, "explain_contrast") == "Q"


def test_other_page_state_and_return(run_dir, monkeypatch):
    root, run_id = run_dir
    at = _page(root, run_id, monkeypatch)
    at.radio(key="explain_source").set_value("Upload").run()  # the class boxes are not drawn
    at.radio(key="explain_source").set_value("Test image").run()
    _check_follows(at)
