"""Charts of the Learn page: a feature map to click a unit on, a grid of numbers with the kernel's window (the
slide and the playground), a vector layer's numbers, per-channel sums and the softmax. Pure altair on plain
arrays; the page reads a click from st.altair_chart's event with `selected_unit`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from explorer.charts.selection import first_point

UNIT_SELECTION = "unit"  # event.selection[UNIT_SELECTION] -> [{"y": 3, "x": 5}] (or [{"k": 12}] for a vector)
MAP_SIZE = 300  # px: a 28x28 map gets ~11 px cells; two maps fit side by side at 800 px
# width/height are the cells' area (Streamlit's default "fit" would squeeze a small grid under its title)
PAD = alt.AutoSizeParams(type="pad", contains="padding")


def _cells(m: np.ndarray) -> pd.DataFrame:
    m = np.asarray(m, dtype=float)
    h, w = m.shape
    ys, xs = np.mgrid[0:h, 0:w]
    return pd.DataFrame({"y": ys.ravel(), "x": xs.ravel(), "value": m.ravel()})


def _dark(values: np.ndarray) -> np.ndarray:
    """Cells whose colour is dark enough for white text (the outer 40 % of the colour scale)."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    if not ok.any():
        return np.zeros(v.shape, dtype=bool)
    lo, hi = float(v[ok].min()), float(v[ok].max())
    if lo < 0 < hi:
        m = max(-lo, hi)
        return ok & (np.abs(np.nan_to_num(v)) > 0.6 * m)
    return ok & (np.nan_to_num(v) > lo + 0.6 * (hi - lo)) if hi > lo else np.zeros(v.shape, dtype=bool)


def _colour(values: np.ndarray, title: str = "value") -> alt.Color:
    """Diverging around 0 when the map has both signs (activations after BN), sequential otherwise."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    if lo < 0 < hi:
        m = max(-lo, hi)
        return alt.Color("value:Q", title=title, scale=alt.Scale(scheme="redblue", domain=[m, -m]), legend=None)
    return alt.Color("value:Q", title=title, scale=alt.Scale(scheme="blues", domain=[lo, hi if hi > lo else lo + 1]),
                     legend=None)


def short(v: float) -> str:
    """A number as a cell shows it: up to 2 decimals, no trailing zeros ('4', '0.25', '−1.5'); '' for nan."""
    if not np.isfinite(v):
        return ""
    text = f"{v:.2f}".rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text).replace("-", "−")


def map_heatmap(m: np.ndarray, selected: tuple[int, int] | None = None, title: str = "",
                size: int = MAP_SIZE, selectable: bool = True, text: bool | None = None) -> alt.LayerChart:
    """One channel (H, W) as a heatmap; a click selects a cell (`selected_unit`); the current unit is outlined."""
    df = _cells(m)
    h, w = np.asarray(m).shape
    cell = max(4, size // max(h, w))
    x = alt.X("x:O", title=None, axis=alt.Axis(labels=w <= 14, ticks=False, labelAngle=0))
    y = alt.Y("y:O", title=None, axis=alt.Axis(labels=h <= 14, ticks=False))
    tips = [alt.Tooltip("y:O", title="row"), alt.Tooltip("x:O", title="column"),
            alt.Tooltip("value:Q", format=".4f")]
    rect = alt.Chart(df).mark_rect().encode(x=x, y=y, color=_colour(df["value"].to_numpy()), tooltip=tips)
    if selectable:
        sel = alt.selection_point(name=UNIT_SELECTION, fields=["y", "x"], on="click", clear=False)
        rect = rect.add_params(sel)
    layers: list[Any] = [rect]
    if text if text is not None else max(h, w) <= 8:
        df["label"] = [short(t) for t in df["value"]]
        df["dark"] = _dark(df["value"].to_numpy())
        layers.append(alt.Chart(df).mark_text(fontSize=11 if max(h, w) <= 6 else 9).encode(
            x=x, y=y, text="label:N", color=alt.condition("datum.dark", alt.value("white"), alt.value("#111827"))))
    if selected is not None:
        box = pd.DataFrame({"y": [selected[0]], "x": [selected[1]]})
        layers.append(alt.Chart(box).mark_rect(fill=None, stroke="#f59e0b", strokeWidth=3).encode(x=x, y=y))
    return alt.layer(*layers).properties(width=cell * w, height=cell * h, title=title, autosize=PAD)


def grid_chart(values: np.ndarray, window: Sequence[tuple[int, int]] = (), current: tuple[int, int] | None = None,
               padding: int = 0, title: str = "", size: int = MAP_SIZE, selectable: bool = False) -> alt.LayerChart:
    """A small grid of numbers (the padded input or an output map): the kernel's window outlined, zero padding
    shaded, the current cell marked; numbers written in the cells when they fit."""
    v = np.asarray(values, dtype=float)
    h, w = v.shape
    df = _cells(v)
    df["pad"] = (df["y"] < padding) | (df["y"] >= h - padding) | (df["x"] < padding) | (df["x"] >= w - padding)
    df["label"] = [short(t) for t in df["value"]]
    cell = max(6, size // max(h, w))
    x = alt.X("x:O", title=None, axis=None)
    y = alt.Y("y:O", title=None, axis=None)
    shown = df[np.isfinite(df["value"])]
    base = alt.Chart(shown).mark_rect(stroke="#e5e7eb", strokeWidth=0.5).encode(
        x=x, y=y, color=_colour(shown["value"].to_numpy()), tooltip=[
            alt.Tooltip("y:O", title="row"), alt.Tooltip("x:O", title="column"), alt.Tooltip("value:Q", format=".4f")])
    if selectable:
        base = base.add_params(alt.selection_point(name=UNIT_SELECTION, fields=["y", "x"], on="click", clear=False))
    layers: list[Any] = [alt.Chart(df).mark_rect(fill="#f8fafc", stroke="#e5e7eb", strokeWidth=0.5).encode(x=x, y=y),
                         base]
    if padding:
        pad = df[df["pad"]]
        layers.append(alt.Chart(pad).mark_rect(fill="#cbd5e1", opacity=0.6).encode(x=x, y=y))
    if cell >= 16:
        df["dark"] = _dark(df["value"].to_numpy())
        layers.append(alt.Chart(df).mark_text(fontSize=min(12, cell // 3 + 2)).encode(
            x=x, y=y, text="label:N", color=alt.condition("datum.dark", alt.value("white"), alt.value("#111827"))))
    if window:
        win = pd.DataFrame(list(window), columns=["y", "x"])
        layers.append(alt.Chart(win).mark_rect(fill="#f59e0b", fillOpacity=0.25, stroke="#d97706",
                                               strokeWidth=2).encode(x=x, y=y))
    if current is not None:
        cur = pd.DataFrame({"y": [current[0]], "x": [current[1]]})
        layers.append(alt.Chart(cur).mark_rect(fill=None, stroke="#dc2626", strokeWidth=3).encode(x=x, y=y))
    return alt.layer(*layers).properties(width=cell * w, height=cell * h, title=title, autosize=PAD)


def vector_chart(values: np.ndarray, labels: Sequence[str] | None = None, selected: int | None = None,
                 title: str = "", width: int = 300) -> alt.Chart:
    """A vector layer's numbers as bars (one per unit, clickable)."""
    v = np.asarray(values, dtype=float).ravel()
    names = list(labels) if labels is not None and len(labels) == len(v) else [str(i) for i in range(len(v))]
    df = pd.DataFrame({"k": range(len(v)), "name": names, "value": v, "chosen": [i == selected for i in range(len(v))]})
    sel = alt.selection_point(name=UNIT_SELECTION, fields=["k"], on="click", clear=False)
    return alt.Chart(df).mark_bar().encode(  # names only in tooltips: they are data, never a Vega expression
        x=alt.X("k:O", title="unit", axis=alt.Axis(labels=len(v) <= 30, labelAngle=0)),
        y=alt.Y("value:Q", title=None),
        color=alt.condition("datum.chosen", alt.value("#f59e0b"), alt.value("#2563eb")),
        tooltip=[alt.Tooltip("k:O", title="unit"), "name:N", alt.Tooltip("value:Q", format=".4f")],
    ).add_params(sel).properties(width=width, height=160, title=title, autosize=PAD)


def selected_unit(event: Any) -> tuple[int, ...] | None:
    """The clicked cell (y, x) of a map, or (k,) of a vector, from st.altair_chart's event; None if none."""
    p = first_point(event, UNIT_SELECTION)
    if p is None:
        return None
    try:
        if "y" in p and "x" in p:
            return int(p["y"]), int(p["x"])
        if "k" in p:
            return (int(p["k"]),)
    except (TypeError, ValueError):
        return None
    return None


def bars_chart(values: np.ndarray, labels: Sequence[str], title: str = "", width: int = 300,
               highlight: int | None = None, fmt: str = ".4f") -> alt.Chart:
    """Horizontal bars with their labels (per-channel sums of a convolution, top contributions)."""
    v = np.asarray(values, dtype=float)
    df = pd.DataFrame({"label": list(labels), "value": v, "sign": np.where(v >= 0, "positive", "negative"),
                       "chosen": [i == highlight for i in range(len(v))]})
    return alt.Chart(df).mark_bar().encode(
        y=alt.Y("label:N", sort=None, title=None, axis=alt.Axis(labelLimit=180, labelOverlap=False)),
        x=alt.X("value:Q", title=None),
        color=alt.condition("datum.chosen", alt.value("#f59e0b"),
                            alt.Color("sign:N", scale=alt.Scale(domain=["positive", "negative"],
                                                                range=["#2563eb", "#dc2626"]), legend=None)),
        tooltip=["label:N", alt.Tooltip("value:Q", format=fmt)],
    ).properties(width=width, height=max(60, 20 * len(v)), title=title, autosize=PAD)


def softmax_chart(probs: np.ndarray, classes: Sequence[str], top: int = 10, width: int = 300) -> alt.Chart:
    """The most probable classes' softmax probabilities."""
    order = np.argsort(-np.asarray(probs), kind="stable")[:top]
    df = pd.DataFrame({"class": [classes[i] for i in order], "p": [float(probs[i]) for i in order]})
    return alt.Chart(df).mark_bar(color="#2563eb").encode(
        y=alt.Y("class:N", sort=None, title=None, axis=alt.Axis(labelOverlap=False)),
        x=alt.X("p:Q", title="probability", scale=alt.Scale(domain=[0, 1])),
        tooltip=["class:N", alt.Tooltip("p:Q", format=".4f")],
    ).properties(width=width, height=max(60, 22 * len(df)), title=f"the {len(df)} most probable classes",
                 autosize=PAD)
