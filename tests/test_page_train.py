"""AppTest of the Train page: renders, defaults from the quick recipe, refuses invalid settings, shows the device."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "train.py")


def _page(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("EXPLORER_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(PAGE, default_timeout=60)
    return at.run()


def test_renders_with_quick_defaults_and_device(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch)
    assert not at.exception, at.exception
    assert at.title[0].value == "Train"
    assert "cpu" in at.caption[0].value and str(tmp_path / "runs") in at.caption[0].value
    assert at.selectbox(key="recipe").value == "quick"
    assert at.selectbox(key="quick:model").value == "small_cnn"
    assert at.selectbox(key="quick:data").value == "letters-builtin"
    assert at.number_input(key="quick:epochs").value == 3
    assert at.number_input(key="quick:lr").value == 0.05
    assert any("No runs yet" in i.value for i in at.info)
    assert not at.error


def test_invalid_settings_show_error(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch)
    at.number_input(key="quick:lr").set_value(0.0)
    at.button[0].click()  # the form's Start
    at.run()
    assert any("lr must be a finite number > 0" in e.value for e in at.error), [e.value for e in at.error]
    at.number_input(key="quick:lr").set_value(0.05)
    at.number_input(key="quick:epochs").set_value(0)
    at.button[0].click()
    at.run()
    assert any("zero epochs" in e.value for e in at.error)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_two_stage_recipe_shows_its_stages(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch)
    at.selectbox(key="recipe").set_value("xception_two_stage").run()
    assert not at.exception
    assert "frozen base" in at.text_area(key="xception_two_stage:stages").value
    assert at.selectbox(key="xception_two_stage:head").value == "mlp_dropout"
