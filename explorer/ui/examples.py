"""'Try an example': the example letters of assets/examples/ (drawn with real strokes by
scripts/make_examples.py) as choices for the Draw and Explain pages."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"

__all__ = ["EXAMPLES_DIR", "example_choices", "pick_example"]


def example_choices(folder: Path = EXAMPLES_DIR) -> dict[str, Path]:
    """Label -> PNG of every example letter, capitals first ("A", ..., "a", ...); empty if the folder is missing.

    A file ``X.png`` is the capital X, ``x_lower.png`` the lower-case x.
    """
    if not folder.is_dir():
        return {}
    labels = {}
    for path in folder.glob("*.png"):
        stem = path.stem
        label = stem.removesuffix("_lower") if stem.endswith("_lower") else stem
        labels[label] = path
    return dict(sorted(labels.items(), key=lambda kv: (kv[0].islower(), kv[0])))


def pick_example(key: str) -> tuple[bytes, str] | None:
    """A chooser of the example letters -> (PNG bytes, label), or None with a message when there are none."""
    choices = example_choices()
    if not choices:
        st.info(f"No example letters found in {EXAMPLES_DIR}: run `make examples` to draw them.")
        return None
    label = st.selectbox("Example letter (drawn with real pen strokes)", list(choices), key=key)
    return choices[label].read_bytes(), label
