"""The example letters of assets/examples/: drawn from the recorded pen strokes, offered by
explorer.ui.examples, and usable by the models' preprocessing."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
from PIL import Image

from explorer.data import preprocess_image
from explorer.ui.examples import EXAMPLES_DIR, example_choices

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "scripts" / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_choices_list_every_png_capitals_first():
    choices = example_choices()
    assert EXAMPLES_DIR == ROOT / "assets" / "examples"
    assert len(choices) >= 8
    labels = list(choices)
    assert labels[0] == "A" and "a" in labels and labels.index("a") > labels.index("S")
    assert all(len(label) == 1 and label.isalpha() for label in labels)
    assert choices["a"].name == "a_lower.png" and choices["A"].name == "A.png"


def test_missing_folder_gives_no_choices(tmp_path):
    assert example_choices(tmp_path / "nowhere") == {}


def test_pngs_are_the_recorded_strokes_drawn_like_the_canvas():
    script = _script()
    record = json.loads((EXAMPLES_DIR / "strokes.json").read_text(encoding="utf-8"))
    assert {f"{stem}.png" for stem in record} == {p.name for p in EXAMPLES_DIR.glob("*.png")}
    for stem, entry in record.items():
        png = Image.open(EXAMPLES_DIR / f"{stem}.png")
        assert png.size == (280, 280) and png.mode == "L"
        assert len(entry["strokes"]) >= 1 and all(len(s) >= 2 for s in entry["strokes"])
        redrawn = np.asarray(script.draw_strokes(entry["strokes"]))
        assert np.array_equal(np.asarray(png), redrawn), stem


def test_examples_preprocess_to_centred_letters():
    for label, path in example_choices().items():
        x = preprocess_image(path.read_bytes())
        assert tuple(x.shape) == (1, 28, 28), label
        ink = x[0].numpy()
        assert 0.05 < (ink > 0.5).mean() < 0.5, label  # a letter, neither blank nor a filled square
        rows, cols = np.nonzero(ink > 0.1)
        assert 9 <= rows.mean() <= 19 and 9 <= cols.mean() <= 19, label
