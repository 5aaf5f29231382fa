"""AppTest of the Home page: the newcomer's path with its time estimate (measured on an empty runs folder,
recorded once a quick run has finished here), the state of the app, and no exception in either case."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from explorer.io import atomic_write_json
from explorer.runs import create_run
from explorer.train.loop import device_label, resolve_device
from explorer.train.recipes import get_recipe
from tests.conftest import page_path
from tests.run_fixtures import make_run


def _app() -> AppTest:
    return AppTest.from_file(page_path("home"), default_timeout=120)


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_empty_runs_folder_offers_the_quick_model_with_a_measured_estimate():
    at = _app().run()
    assert not at.exception, at.exception
    assert at.title[0].value == "CNN Explorer"
    button = at.button(key="home_train_quick")
    assert button.label.startswith("Train the quick model (about ") and button.label.endswith(" on this machine)")
    assert not button.disabled
    text = _text(at)
    assert "Time estimate " in text and " for small_cnn · 1x28x28 input · batch 128 · " in text  # the settings it is for
    assert "(measured: 5 timed training steps just now (" in text
    metrics = _metrics(at)
    assert metrics["Runs saved"] == "0" and metrics["Job running"] == "none"
    assert metrics["Device"] == device_label(resolve_device("auto")).split(" (")[0]
    for step in ("1. Train the quick model", "2. Draw a letter", "3. See why", "Then explore"):
        assert step in _text(at), step
    assert ":material/check_circle:" not in _text(at)


def test_a_finished_quick_run_gives_the_recorded_estimate_and_ticks_step_one():
    run = create_run(get_recipe("quick"), name="my-first-model")
    atomic_write_json(run.path / "metrics.json", {"test_acc": 0.96, "wall_time_s": 47.4, "images_per_s": 1800.0,
                                                 "device": device_label(resolve_device("auto"))})
    run.write_status(status="completed", phase="done", epoch=3)
    make_run(name="")  # a run without a name of its own: shown as model - dataset - date
    at = _app().run()
    assert not at.exception, at.exception
    label = at.button(key="home_train_quick").label
    assert label.startswith("Train the quick model (about ") and label.endswith(" on this machine)")
    # the recorded run's time (plus building the letters when their cache is cold here)
    assert "(recorded: run my-first-model took this long with the same settings here" in _text(at)
    assert "1. Train the quick model :material/check_circle:" in _text(at)
    assert _metrics(at)["Runs saved"] == "2"
    assert "You already have 2 trained runs" in _text(at)
