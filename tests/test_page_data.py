"""AppTest of the Data page: defaults, values shown, widgets, EMNIST absent, model input."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = Path(__file__).resolve().parents[1] / "app_pages" / "data.py"


def _types(at: AppTest) -> list[str]:
    out, stack = [], list(at._tree.children.values())
    while stack:
        node = stack.pop()
        out.append(node.type)
        stack.extend(getattr(node, "children", {}).values())
    return out


@pytest.fixture()
def at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("EXPLORER_DATA", str(tmp_path))
    app = AppTest.from_file(str(PAGE), default_timeout=120)
    app.session_state["data_size"] = 10  # small built-in set: 260 training images
    app.run()
    assert not app.exception, app.exception
    return app


def test_default_builtin_page(at: AppTest) -> None:
    assert at.selectbox(key="data_name").value == "letters-builtin"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"train": "234", "val": "26", "test": "260", "classes": "26"}
    assert not at.error
    types = _types(at)
    assert types.count("vega_lite_chart") >= 3  # balance + two pixel heatmaps (+ model input)
    assert types.count("image") >= 2  # sample grid + mean images
    counts = at.dataframe[0].value
    assert list(counts.index) == [chr(65 + i) for i in range(26)] and set(counts["val"]) == {1}
    pixels = at.dataframe[1].value
    assert pixels.shape == (28, 28) and 0.0 <= pixels.min().min() and pixels.max().max() <= 1.0


def test_widgets_change_what_is_shown(at: AppTest) -> None:
    at.slider(key="data_val").set_value(0.2).run()
    assert {m.label: m.value for m in at.metric}["val"] == "52"
    before = at.dataframe[1].value.copy()
    at.number_input(key="data_aug_seed").set_value(3).run()
    assert not at.exception and not at.dataframe[1].value.equals(before)
    for slider in ("data_rot", "data_zoom", "data_shift"):
        at.slider(key=slider).set_value(0.0).run()
    stored = at.dataframe[1].value
    assert stored.max().max() == 1.0  # no augmentation: the stored sample itself (max 255/255)


def test_model_input_uses_the_registry_adapter(at: AppTest) -> None:
    at.selectbox(key="data_model").set_value("densenet121").run()
    assert not at.exception
    assert any("3×64×64" in m.value for m in at.markdown)  # the seed report's DenseNet-121 input
    assert at.dataframe[2].value.shape == (64, 64)


def test_digits_and_absent_emnist(at: AppTest) -> None:
    at.selectbox(key="data_name").set_value("digits").run()
    assert not at.exception and {m.label: m.value for m in at.metric}["classes"] == "10"
    at.selectbox(key="data_name").set_value("emnist-letters").run()
    assert not at.exception
    assert any("not on this machine" in w.value and "gzip.zip" in w.value for w in at.warning)
    at.text_input(key="data_emnist_path").set_value("/no/such/file.zip").run()
    at.button(key="data_use_path").click().run()
    assert not at.exception and any(e.value.startswith("Not a valid EMNIST file here.") for e in at.error)


def test_cold_build_is_saved_once_to_disk(at: AppTest, tmp_path: Path) -> None:
    """The first visit built the letters (with a staged progress bar) and saved them atomically: one file, no temp."""
    from explorer.data import DataSpec
    from explorer.ui.data import builtin_cached

    files = sorted(p.name for p in (tmp_path / "builtin").iterdir())
    assert len(files) == 1 and files[0].endswith("-seed0-n10.npz"), files
    assert builtin_cached(DataSpec("letters-builtin", size=10))
    assert not builtin_cached(DataSpec("letters-builtin", size=11))
