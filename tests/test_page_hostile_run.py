"""Issue 20: a hostile run (script-bearing class names, markdown beacons, a foreign data root) on every
page in AppTest: nothing renders as HTML, link or image, no exception, nothing is created outside."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from explorer.runs import import_run, open_run
from tests.conftest import page_path
from tests.hostile import BEACON, IMG_TAG, LINK, SCRIPT, element_texts, live_markup, zip_of_run
from tests.run_fixtures import make_run

PAGES = ["train", "results", "explain", "draw", "compare_runs", "learn"]


@pytest.fixture()
def hostile(tmp_path: Path) -> dict:
    """One run on disk with hostile names and class names (as a copied folder could hold), and one
    imported run with hostile messages, a foreign data root and a date in the future."""
    local = make_run(name="local", classes=list("ABC"))
    cfg = local.config
    cfg.update(name=BEACON, classes=[SCRIPT, BEACON, IMG_TAG], tags=[LINK])
    open_run(local.path).update_config(**cfg)
    open_run(local.path).write_status(status="completed", error=None, notes=[BEACON, SCRIPT])
    sender = make_run(tmp_path / "sender", name="shared", classes=list("ABC"))
    foreign = tmp_path / "foreign-root"
    scfg = sender.config
    scfg["train"]["data"]["root"] = str(foreign)
    scfg["created"] = "2999-12-31 23:59:59"
    status = {**sender.raw_status, "status": "failed", "error": f"{BEACON} {SCRIPT}", "notes": [LINK, IMG_TAG]}
    imported = import_run(zip_of_run(sender.path, config=scfg, status=status))
    return {"local": local, "imported": imported, "foreign": foreign}


def letter_png() -> bytes:
    """A drawn 'L', dark on white, as an upload."""
    img = Image.new("L", (200, 200), 255)
    d = ImageDraw.Draw(img)
    d.line([(60, 30), (60, 170), (150, 170)], fill=0, width=18)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("page", PAGES)
def test_every_page_shows_hostile_run_strings_as_text(hostile, page):
    at = AppTest.from_file(page_path(page), default_timeout=180).run()
    assert not at.exception, at.exception
    for key in ("results_run", "explain_run", "draw_run", "learn_run"):  # each run in turn where the page has a picker
        try:
            box = at.selectbox(key=key)
        except KeyError:
            continue
        for run_id in box.options:
            at.selectbox(key=key).set_value(run_id).run()
            assert not at.exception, at.exception
            assert live_markup(element_texts(at)) == []
    assert live_markup(element_texts(at)) == []
    assert not hostile["foreign"].exists()


def test_future_dated_import_is_not_the_default_run(hostile):
    at = AppTest.from_file(page_path("results"), default_timeout=180).run()
    assert not at.exception, at.exception
    assert at.selectbox(key="results_run").value == hostile["local"].run_id


def test_draw_upload_prediction_with_hostile_class_names_is_text(hostile):
    at = AppTest.from_file(page_path("draw"), default_timeout=180).run()
    at.selectbox(key="draw_run").set_value(hostile["local"].run_id).run()
    at.radio(key="draw_source").set_value("Upload a photo").run()
    at.file_uploader(key="draw_upload").set_value(("letter.png", letter_png(), "image/png")).run()
    assert not at.exception, at.exception
    texts = element_texts(at)
    assert any("reads:" in t for t in texts), texts
    assert any(("\\<iframe" in t or "\\!\\[x\\]" in t or "\\<img" in t) for t in texts)  # the answer, escaped
    assert live_markup(texts) == []


def test_learn_softmax_and_test_image_with_hostile_class_names_are_text(hostile):
    at = AppTest.from_file(page_path("learn"), default_timeout=180).run()
    at.selectbox(key="learn_run").set_value(hostile["local"].run_id).run()
    at.radio(key="learn_input").set_value("Test image").run()
    at.selectbox(key="learn_layer").set_value("net.head.2").run()  # the output layer: class names everywhere
    assert not at.exception, at.exception
    texts = element_texts(at)
    assert any("Σ p" in t for t in texts), texts
    assert live_markup(texts) == []
