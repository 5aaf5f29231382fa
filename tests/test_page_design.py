"""AppTest of the Design page: the course's network built from an empty design (add, edit, move, remove), every
size with the formula and the inspector's counts, a layer that does not fit named with its fix, the classifier
sized by the dataset, save -> the model design:NAME, a starter loaded, a bad name refused."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from explorer.design import load_design
from explorer.models import get_card, list_models
from tests.conftest import page_path


def texts(elements) -> str:
    return " | ".join(str(e.value) for e in elements)


def run(x) -> AppTest:
    """Run the app (or the app of a widget just changed) and check it raised nothing."""
    at = x.run()
    assert not at.exception, at.exception
    return at


def add(at: AppTest, kind: str, **values) -> None:
    at.selectbox(key="design_add_kind").set_value(kind)
    run(at.button(key="design_add").click())
    uid = at.session_state["design_editing"] if values else None
    for name, v in values.items():
        widget = at.checkbox(key=f"dl_{uid}_{name}") if isinstance(v, bool) else at.number_input(key=f"dl_{uid}_{name}")
        run(widget.set_value(v))


def test_build_the_course_design_from_empty_and_save_it():
    at = run(AppTest.from_file(page_path("design"), default_timeout=120))
    assert "needs a flat vector" in texts(at.info) and "add a Flatten" in texts(at.info) and not at.error  # empty: what comes next
    run(at.text_input(key="design_name").set_value("course"))
    add(at, "conv", kernel=5, padding=2)
    add(at, "batchnorm")
    add(at, "relu")
    add(at, "maxpool")
    add(at, "conv", filters=32, kernel=5, padding=2)
    add(at, "batchnorm")
    add(at, "relu")
    add(at, "maxpool")
    md = texts(at.markdown)
    for shape in ("28×28×16", "14×14×16", "14×14×32", "7×7×32"):
        assert f"→ {shape}" in md, shape
    caps = texts(at.caption)
    assert "W_out = (28 − 5 + 2(2))/1 + 1 = 28" in caps and "W_out = (14 − 2)/2 + 1 = 7" in caps
    assert "416 parameters · 313,600 MACs" in caps  # the inspector's counts of CONV 1
    assert "needs a flat vector, but the last layer gives the volume 7×7×32" in texts(at.error)
    add(at, "linear")  # a Linear without Flatten is named, with the fix
    assert "layer 9 (FC 128): a Linear layer needs a flat vector" in texts(at.error)
    assert "Fix: add a Flatten before it" in texts(at.error)
    run(at.button(key=f"dl_del_{at.session_state['design_ids'][8]}").click())
    add(at, "flatten")
    assert not at.error and not at.warning
    assert at.metric[0].value == "54,138"  # 26 letters: 29,034 - 15,690 + 40,794
    run(at.selectbox(key="design_dataset").set_value("digits"))
    assert "FC → 10 classes" in texts(at.markdown) and at.metric[0].value == "29,034"
    run(at.button(key="design_save").click())
    assert "design:course" in texts(at.success)
    assert "design:course" in list_models() and get_card("design:course").title == "course (your design)"
    assert len(load_design("course").layers) == 9


def test_a_layer_that_does_not_fit_moves_and_starters_load():
    at = run(AppTest.from_file(page_path("design"), default_timeout=120))
    at.selectbox(key="design_start").set_value("tiny-vgg")
    run(at.button(key="design_load").click())
    assert "→ 4×4×10" in texts(at.markdown) and not at.error
    ids = at.session_state["design_ids"]
    run(at.button(key=f"dl_edit_{ids[4]}").click())  # the first pool: stride 3 on 24 does not fit
    run(at.number_input(key=f"dl_{ids[4]}_kernel").set_value(3))
    run(at.number_input(key=f"dl_{ids[4]}_stride").set_value(2))
    err = texts(at.error)
    assert "layer 5 (MAX POOL 3x3, S2): W_out = (24 − 3)/2 + 1 = 11.5 is not a whole number of steps" in err
    assert "Fix: use S=1, or F=2 or F=4" in err and "checked once the layer above is fixed" in texts(at.caption)
    assert at.warning and "Not built yet" in texts(at.warning)
    run(at.button(key=f"dl_up_{ids[4]}").click())  # moved above the ReLU: still layer 4 now
    assert "layer 4 (MAX POOL 3x3, S2)" in texts(at.error)


def test_import_without_a_file_says_what_to_do_and_a_bad_name_blocks_saving():
    at = run(AppTest.from_file(page_path("design"), default_timeout=120))
    run(at.button(key="design_import").click())  # (a hostile file's refusal: tests/test_design.py)
    assert "choose a .json design file first" in texts(at.error)
    run(at.text_input(key="design_name").set_value("../etc"))
    assert "not a plain name" in texts(at.error) and at.button(key="design_save").disabled
