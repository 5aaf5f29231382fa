"""AppTest of the Learn page: an untrained architecture on an example letter and on the drawing Draw keeps, a
trained run on a test image, the output layer's softmax, the overview's Open button, and clear messages (never
a traceback) for a run without weights, a typed matrix with text in it and a stride that does not fit."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import page_path
from tests.run_fixtures import make_run


def page(monkeypatch, root, state: dict | None = None) -> AppTest:
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    at = AppTest.from_file(page_path("learn"), default_timeout=180)
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    return " | ".join(str(e.value) for e in elements)


def check(at: AppTest) -> str:
    return texts(at.success) + texts(at.error)


def test_untrained_model_on_an_example_letter(tmp_path, monkeypatch):
    at = page(monkeypatch, tmp_path)  # no runs: an untrained architecture, an example letter
    assert at.radio(key="learn_net").value == "An untrained architecture"
    assert at.radio(key="learn_input").value == "Example letter"
    assert not at.error
    assert "equal within 0.0001" in texts(at.success)
    assert "Convolution net.features.0: 5×5, stride 1, padding 2" in texts(at.markdown)
    # a unit typed in: the breakdown follows it
    at.number_input(key="learn_y").set_value(3).run()
    at.number_input(key="learn_x").set_value(0).run()
    assert "Activation at channel" in texts(at.markdown) and "row 3, column 0" in texts(at.markdown)
    assert "equal within 0.0001" in texts(at.success)
    # the output layer: the real logits' softmax sums to 1
    at.selectbox(key="learn_layer").set_value("net.head.2").run()
    assert "Σ p = **1.000000** over 26 classes" in texts(at.markdown)
    assert "Fully connected net.head.2" in texts(at.markdown)


def test_the_drawing_from_draw_and_the_overview_open_button(tmp_path, monkeypatch):
    drawing = np.zeros((1, 28, 28), dtype=np.float32)
    drawing[0, 5:23, 8:11] = 1.0  # an I
    at = page(monkeypatch, tmp_path, {"last_drawing": drawing})
    assert at.radio(key="learn_input").value == "Your drawing"
    assert "your drawing" in " ".join(c for im in at.get("image") for c in im.captions)  # shown as the model sees it
    assert "equal within 0.0001" in texts(at.success)
    at.selectbox(key="learn_arch").set_value("resnet18").run()
    assert "equal within 0.0001" in texts(at.success)
    at.button(key="learn_open_net.layer1_net.layer1.1").click().run()  # the folded stage's row opens its last block
    assert at.selectbox(key="learn_layer").value == "net.layer1.1"
    assert "Residual addition net.layer1.1" in texts(at.markdown)
    assert "equal within 0.0001" in texts(at.success)


def test_a_trained_run_on_a_test_image_and_a_run_without_weights(tmp_path, monkeypatch):
    ok = make_run(tmp_path, name="learn-page-ok")
    bare = make_run(tmp_path, name="learn-page-bare", weights=False, seed=1)
    at = page(monkeypatch, tmp_path, {"explorer_run_id": ok.run_id})
    assert at.radio(key="learn_net").value == "A trained run"
    at.radio(key="learn_input").set_value("Test image").run()
    at.number_input(key="learn_test_index").set_value(5).run()
    captions = " ".join(c for im in at.get("image") for c in im.captions).replace("\\", "")
    assert not at.exception and "test image #5" in captions
    assert "equal within 0.0001" in texts(at.success)
    at.selectbox(key="learn_run").set_value(bare.run_id).run()
    assert not at.exception
    assert "has no saved weights yet" in texts(at.error)


def test_playground_messages(tmp_path, monkeypatch):
    at = page(monkeypatch, tmp_path)
    assert "cell (0, 0) = 1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4" in texts(at.code)
    at.selectbox(key="pg_input").set_value("typed below").run()
    at.text_area(key="pg_input_text").set_value("1 2 3\n4 five 6").run()
    assert "row 2, entry 2 is 'five', not a number" in texts(at.error)
    at.text_area(key="pg_input_text").set_value("\n".join(" ".join("1" for _ in range(28)) for _ in range(28))).run()
    at.selectbox(key="pg_kernel").set_value("typed below").run()
    at.text_area(key="pg_kernel_text").set_value("\n".join(["1 1 1 1 1"] * 5)).run()
    at.number_input(key="pg_stride").set_value(2).run()
    assert "(28 − 5 + 0)/2 + 1 = 12.5: no whole number of steps; use S=1" in texts(at.warning)
    assert not at.exception


@pytest.mark.parametrize("preset", ["kernel_5x5", "conv_6x6"])
def test_course_presets_open_in_the_playground(tmp_path, monkeypatch, preset):
    from explorer.learn import CONV_PRESETS

    at = page(monkeypatch, tmp_path)
    assert "The document: first cell 4, out side 3. Computed: output 3×3, first cell 4." in texts(at.caption)
    assert "W2 = (28 − 5 + 2(2))/1 + 1 = 28" in str([d.value for d in at.dataframe])
    at.button(key=f"learn_preset_{preset}").click().run()
    assert at.selectbox(key="pg_input").value == CONV_PRESETS[preset].title
    side = CONV_PRESETS[preset].document["out_side"]
    assert f"W_out = ({CONV_PRESETS[preset].x.shape[1]} − 3 + 2(0))/1 + 1 = {side}" in texts(at.code)
