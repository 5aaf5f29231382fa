"""Save an altair chart as files that work offline: HTML with Vega inlined and a PNG of the same spec.

Both files come from one Vega-Lite spec (vl-convert renders the PNG), so the picture and the interactive
page always show the same chart. The HTML loads no script from the network: it opens in a browser
without internet (a test checks that no ``<script src="http...">`` remains).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["REMOTE_SCRIPT", "remote_scripts", "save_figure", "save_html", "save_png"]

# A <script> element that loads its code from http(s) (or a protocol-relative //host/ URL).
REMOTE_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//", re.IGNORECASE)


def remote_scripts(html: str) -> list[str]:
    """Return every ``<script ...>`` tag of ``html`` that loads code from the network."""
    return [m.group(0) for m in REMOTE_SCRIPT.finditer(html)]


def save_html(chart: Any, path: str | Path) -> Path:
    """Write ``chart`` as one self-contained HTML page (Vega, Vega-Lite and vega-embed inlined)."""
    import altair as alt

    path = Path(path)
    with alt.data_transformers.disable_max_rows():  # a figure file holds all its data (e.g. every ROC point)
        html = chart.to_html(inline=True)
    bad = remote_scripts(html)
    if bad:  # altair changed how it inlines: better to fail here than ship a page that stays blank offline
        raise RuntimeError(f"the HTML of {path.name} still loads scripts from the network: {bad}")
    path.write_text(html, encoding="utf-8")
    return path


def save_png(chart: Any, path: str | Path, scale: float = 2.0) -> Path:
    """Render ``chart`` to a PNG with vl-convert (no browser needed); ``scale`` multiplies the pixels."""
    import altair as alt
    import vl_convert as vlc

    path = Path(path)
    with alt.data_transformers.disable_max_rows():
        spec = chart.to_dict()
    path.write_bytes(vlc.vegalite_to_png(spec, scale=scale))
    return path


def save_figure(chart: Any, folder: str | Path, name: str, scale: float = 2.0) -> list[Path]:
    """Write ``folder/name.png`` and ``folder/name.html`` from the same chart; returns both paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [save_png(chart, folder / f"{name}.png", scale=scale), save_html(chart, folder / f"{name}.html")]
