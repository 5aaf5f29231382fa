"""AppTest of the Explain page on run folders made without training (tests/run_fixtures.py make_page_run): the
prediction shown is the model's, every input source works or says what is missing, a layer with no
spatial extent and corrupt weights give messages, never a traceback."""

from __future__ import annotations

import io

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import page_path
from tests.run_fixtures import make_page_run as make_run


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    """A LeNet-5 run (its C5 conv outputs 120×1×1) with planted predictions, and one with corrupt weights."""
    root = tmp_path_factory.mktemp("explain_runs")
    lenet = make_run(root, "lenet", model="lenet5")
    broken = make_run(root, "broken", weights="corrupt")
    return root, lenet.name, broken.name


def page(root, monkeypatch, run_id, drawing=None) -> AppTest:
    """Run the page with EXPLORER_RUNS=root and the run chosen, checking that nothing raised."""
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path("explain"), default_timeout=120)
    at.session_state["explorer_run_id"] = run_id
    if drawing is not None:
        at.session_state["last_drawing"] = drawing
    at.run()
    assert not at.exception
    return at


def texts(elements) -> str:
    return " | ".join(e.value for e in elements)


def image_captions(at: AppTest) -> str:
    return " | ".join(c for image in at.get("image") for c in image.captions)


def test_test_image_prediction_methods_and_layers(runs_dir, monkeypatch):
    from explorer.explain import top_k
    from explorer.runs import open_run

    root, run_id, _ = runs_dir
    at = page(root, monkeypatch, run_id)
    assert not at.error and not at.warning
    # the page's prediction is the model's on test image 0 of class A
    run = open_run(root / run_id)
    images = run.test_images()
    first_a = int(np.flatnonzero(run.predictions().y_true == 0)[0])
    expected = top_k(run.load_model(), images[first_a].astype(np.float32)[None] / 255.0, 5, run.config["classes"])
    assert next(m.value for m in at.metric if m.label == "Predicted") == expected[0][1]
    table = next(d.value for d in at.dataframe if "probability" in d.value.columns)
    assert table["class"].tolist() == [e[1] for e in expected]
    assert table["probability"].to_numpy() == pytest.approx([e[2] for e in expected], abs=1e-6)
    assert at.selectbox(key=f"explain_layer_{run_id}").value == "net.c3"  # last conv with spatial output
    assert at.selectbox(key=f"explain_layer_{run_id}").options[-1] == "net.c5 (120×1×1, no spatial extent)"
    # "why G and not Q?"
    at.selectbox(key="explain_target").set_value(6)
    at.selectbox(key="explain_contrast").set_value(16).run()
    assert not at.exception
    captions = image_captions(at)
    assert "Grad-CAM, chosen class: G and not Q at net.c3" in captions and "Occlusion: G and not Q" in captions
    # a layer with no spatial extent: a message for the Grad-CAM panels, the other methods still run
    at.selectbox(key=f"explain_layer_{run_id}").set_value("net.c5").run()
    assert not at.exception
    assert len(at.warning) == 1 and "Grad-CAM has nothing to localise" in at.warning[0].value
    assert "net.c3" in at.warning[0].value and "Grad-CAM" not in image_captions(at)
    for method in ("Saliency", "Integrated Gradients", "Occlusion"):
        assert f"{method}: G and not Q" in image_captions(at)
    at.selectbox(key=f"explain_fm_layer_{run_id}").set_value("net.c5").run()
    assert not at.exception


def test_sources_misclassified_and_drawing(runs_dir, monkeypatch):
    root, run_id, _ = runs_dir
    at = page(root, monkeypatch, run_id)
    at.radio(key="explain_source").set_value("Misclassified test image").run()
    assert not at.exception
    options = at.selectbox(key="explain_mistake").options
    assert len(options) == 9 and "true G → predicted Q (p=0.60)" in options[0]
    at.radio(key="explain_source").set_value("Last drawing").run()
    assert "draw a letter on the Draw page first" in texts(at.info)
    assert not at.metric
    at.radio(key="explain_source").set_value("Upload").run()
    assert not at.exception and "Upload an image" in texts(at.info)


def test_last_drawing_is_used(runs_dir, monkeypatch):
    import torch

    root, run_id, _ = runs_dir
    drawing = torch.zeros(1, 28, 28)
    drawing[0, 4:24, 12:16] = 1.0  # an "I"
    at = page(root, monkeypatch, run_id, drawing=drawing)
    at.radio(key="explain_source").set_value("Last drawing").run()
    assert not at.exception and not at.info
    assert any(m.label == "Predicted" for m in at.metric)


def test_example_letter_is_explained(runs_dir, monkeypatch):
    root, run_id, _ = runs_dir
    at = page(root, monkeypatch, run_id)
    at.radio(key="explain_source").set_value("Example letter").run()
    assert not at.exception
    at.selectbox(key="explain_example").set_value("Q").run()
    assert not at.exception
    assert any(m.label == "Predicted" for m in at.metric)
    assert "example letter Q" in image_captions(at)


def test_corrupt_weights_named(runs_dir, monkeypatch):
    root, _, broken = runs_dir
    at = page(root, monkeypatch, broken)
    error = at.error[0].value
    assert "weights_best.safetensors" in error and "not a valid safetensors file" in error
    assert "need the run's weights" in texts(at.info)  # the input picker still works


def test_no_runs(monkeypatch, tmp_path):
    monkeypatch.setenv("EXPLORER_RUNS", str(tmp_path / "none"))
    at = AppTest.from_file(page_path("explain"), default_timeout=120)
    at.run()
    assert not at.exception and "No training runs yet" in at.info[0].value


def test_upload_helper():
    from PIL import Image

    from explorer.data import ImageError
    from explorer.ui.explain import image_from_upload

    with pytest.raises(ImageError, match="(?i)image"):
        image_from_upload(b"this is a text file, not an image")
    img = np.zeros((60, 40), dtype=np.uint8)
    img[10:50, 18:22] = 255
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    x = image_from_upload(buf.getvalue())
    assert x.shape == (1, 28, 28) and x.dtype == np.float32 and x.max() == pytest.approx(1.0)
