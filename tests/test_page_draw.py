"""AppTest of the Draw page: no runs -> offer to train; runs -> canvas hint (AppTest cannot draw);
an upload that is not an image -> a clear message; unreadable runs listed with the reason."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import page_path
from tests.run_fixtures import make_run


def _app() -> AppTest:
    return AppTest.from_file(page_path("draw"), default_timeout=120)


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [i.value for i in at.info] + [e.value for e in at.error]
    parts += [c.value for c in at.caption] + [w.value for w in at.warning]
    return "\n".join(str(p) for p in parts)


def test_no_runs_offers_quick_training():
    at = _app().run()
    assert not at.exception, at.exception
    assert "No saved model" in at.info[0].value
    (button,) = at.button
    assert button.key == "draw_train_quick"
    assert button.label.startswith("Train the quick model (about ") and button.label.endswith(" on this machine)")


def test_runs_show_canvas_hint_and_pickers():
    make_run(name="first")
    make_run(name="second", seed=1)
    bad = make_run(name="broken")
    bad.weights_path("best").write_bytes(b"not safetensors")
    at = _app().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="draw_run").options  # the runs with readable weights only
    labels = " ".join(at.selectbox(key="draw_run").options)
    assert "first" in labels and "second" in labels and "broken" not in labels
    assert "Draw a letter on the canvas" in _text(at)  # empty canvas: a hint, not a prediction
    assert "reads:" not in _text(at)
    assert at.slider(key="draw_stroke").value == 18
    assert "broken" in at.expander[0].label or "unreadable" in at.expander[0].label
    assert str(bad.weights_path("best")) in _text(at)
    at.multiselect(key="draw_others").select(at.multiselect(key="draw_others").options[0]).run()
    assert not at.exception, at.exception
    at.button(key="draw_clear").click().run()
    assert not at.exception and "last_drawing" not in at.session_state


def test_upload_not_an_image_gets_a_message_and_a_letter_gets_read():
    make_run(name="only")
    at = _app().run()
    at.radio(key="draw_source").set_value("Upload a photo").run()
    assert not at.exception, at.exception
    assert "Upload a photo of one handwritten letter" in _text(at)  # nothing uploaded yet
    # a non-image under a raster name (the uploader takes raster types only)
    at.file_uploader(key="draw_upload").set_value(("notes.png", b"not an image at all", "image/png")).run()
    assert not at.exception, at.exception
    assert any(e.value.startswith("That upload cannot be used:") for e in at.error), _text(at)
    assert "reads:" not in _text(at)
    letter = np.zeros((56, 56), dtype=np.uint8)
    letter[8:48, 24:32] = 255  # a light stroke on dark paper: an "I"
    buf = io.BytesIO()
    Image.fromarray(letter).save(buf, format="PNG")
    at.file_uploader(key="draw_upload").set_value(("i.png", buf.getvalue(), "image/png")).run()
    assert not at.exception, at.exception
    assert not at.error and "only reads:" in _text(at).replace("**", "")
    assert at.session_state["last_drawing"].shape == (1, 28, 28)  # what the Explain page's "Last drawing" gets


def test_try_an_example_predicts_it():
    make_run(name="only")
    at = _app().run()
    at.radio(key="draw_source").set_value("Try an example").run()
    assert not at.exception, at.exception
    box = at.selectbox(key="draw_example")
    assert box.options[0] == "A" and "a" in box.options
    box.set_value("G").run()
    assert not at.exception, at.exception
    assert "last_drawing" in at.session_state  # the example went through the model
    assert tuple(at.session_state["last_drawing"].shape) == (1, 28, 28)
