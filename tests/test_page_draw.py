"""AppTest of the Draw page: no runs -> offer to train; runs -> canvas hint (AppTest cannot draw);
an upload that is not an image -> a clear message; unreadable runs listed with the reason."""

from __future__ import annotations

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
    (bad.path / "weights_best.safetensors").write_bytes(b"not safetensors")
    at = _app().run()
    assert not at.exception, at.exception
    assert at.selectbox(key="draw_run").options  # the runs with readable weights only
    labels = " ".join(at.selectbox(key="draw_run").options)
    assert "first" in labels and "second" in labels and "broken" not in labels
    assert "Draw a letter on the canvas" in _text(at)  # empty canvas: a hint, not a prediction
    assert "reads:" not in _text(at)
    assert at.slider(key="draw_stroke").value == 18
    assert "broken" in at.expander[0].label or "unreadable" in at.expander[0].label
    assert str(bad.path / "weights_best.safetensors") in _text(at)
    at.multiselect(key="draw_others").select(at.multiselect(key="draw_others").options[0]).run()
    assert not at.exception, at.exception
    at.button(key="draw_clear").click().run()
    assert not at.exception and "last_drawing" not in at.session_state


def test_upload_not_an_image_gets_a_message():
    make_run(name="only")
    at = _app().run()
    at.radio(key="draw_source").set_value("Upload a photo").run()
    assert not at.exception, at.exception
    assert "Upload a photo" in _text(at)
