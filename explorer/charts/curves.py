"""Training curves: the one chart of a run's history.jsonl (loss, accuracy, learning rate per epoch or
wall time) used by the Train, Results and Compare-runs pages and by `python -m explorer evaluate`.

`history_frame` says what is plotted (one long table); `curve_panels` draws it with altair, and
explorer.evaluate.figures draws the same table with matplotlib for the static PNG.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

__all__ = [
    "COLUMNS",
    "MAX_DRAWN_EPOCHS",
    "PANELS",
    "SPLIT_COLOURS",
    "curve_panels",
    "drawn_epochs",
    "history_frame",
    "histories_frame",
    "stage_starts",
    "training_curves",
]

COLUMNS = ["run", "epoch", "stage", "stage_name", "time_s", "metric", "split", "value"]
# history.jsonl key -> (metric, split): the values a training-curves chart plots.
KEYS = {
    "train_loss": ("loss", "train"),
    "val_loss": ("loss", "validation"),
    "train_acc": ("accuracy", "train"),
    "val_acc": ("accuracy", "validation"),
    "lr": ("lr", "lr"),
}
# metric -> (panel title, tooltip number format), in the order the panels stand.
PANELS = {"loss": ("Loss", ".4f"), "accuracy": ("Accuracy", ".2%"), "lr": ("Learning rate", ".2e")}
# metric -> axis number format: "~" trims trailing zeros (a one-epoch run's axis read "1.000000", "0.100000")
AXIS_FORMATS = {"loss": "~g", "accuracy": "~%", "lr": "~g"}
SPLIT_COLOURS = {"train": "#2563eb", "validation": "#f97316", "lr": "#888888"}
X_TITLES = {"epoch": "epoch", "time_s": "wall time since start (s)"}


MAX_DRAWN_EPOCHS = 1000  # a figure draws at most this many epochs per run (evenly spaced; first, last, stage starts)


def drawn_epochs(ordered: Sequence[Mapping[str, Any]]) -> set[int] | None:
    """Positions of the history rows a figure draws (None: all): a 100,000-row history is thinned to
    MAX_DRAWN_EPOCHS evenly spaced rows, keeping the first, the last and each stage's first epoch."""
    n = len(ordered)
    if n <= MAX_DRAWN_EPOCHS:
        return None
    keep = {int(i) for i in np.linspace(0, n - 1, MAX_DRAWN_EPOCHS - 20).round()}
    starts = [i for i in range(1, n) if ordered[i].get("stage", 0) != ordered[i - 1].get("stage", 0)]
    return keep | set(starts[:20])


def history_frame(history: Iterable[Mapping[str, Any]], run: str = "") -> pd.DataFrame:
    """One run's history records as a long table (columns COLUMNS), sorted by epoch; non-finite values dropped;
    at most MAX_DRAWN_EPOCHS epochs (drawn_epochs) so a figure of any history stays small.

    time_s is wall-clock seconds from the start of training to the end of each epoch (from `wall`
    when recorded, else the sum of `epoch_time`).
    """
    rows = []
    start, elapsed = None, 0.0
    ordered = sorted(history, key=lambda h: h.get("epoch", 0))
    keep = drawn_epochs(ordered)
    for i, h in enumerate(ordered):
        took = float(h.get("epoch_time") or 0.0)
        elapsed += took
        if keep is not None and i not in keep:
            continue
        wall = h.get("wall")
        if wall is not None and start is None:
            start = float(wall) - took
        time_s = float(wall) - start if (wall is not None and start is not None) else elapsed
        stage = h.get("stage", 0)
        stage_name = h.get("stage_name") or f"stage {stage}"
        for key, (metric, split) in KEYS.items():
            v = h.get(key)
            if v is not None and np.isfinite(float(v)):
                rows.append({"run": run, "epoch": h.get("epoch"), "stage": stage, "stage_name": stage_name,
                             "time_s": time_s, "metric": metric, "split": split, "value": float(v)})
    return pd.DataFrame(rows, columns=COLUMNS)


def histories_frame(histories: Mapping[str, Iterable[Mapping[str, Any]]]) -> pd.DataFrame:
    """history_frame of several runs (label -> history records) in one long table (one row per run, epoch, metric)."""
    frames = [history_frame(h, run=label) for label, h in histories.items()]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)



def stage_starts(frame: pd.DataFrame) -> pd.DataFrame:
    """Where a one-run frame changes stage: (epoch - 0.5, stage_name) of every stage after the first."""
    first = frame.drop_duplicates("epoch")[["epoch", "stage", "stage_name"]]
    changed = first["stage"].ne(first["stage"].shift()) & first["stage"].shift().notna()
    out = first[changed].assign(epoch=lambda d: d["epoch"].astype(float) - 0.5)
    return out[["epoch", "stage_name"]].reset_index(drop=True)


def curve_panels(frame: pd.DataFrame, x: str = "epoch", metrics: Sequence[str] = ("loss", "accuracy"),
                 width: int | str = 320, height: int = 240) -> list[alt.Chart | alt.LayerChart]:
    """One chart per metric of a history or runs frame: colour = split for one run, run (dash = split) for several.

    Each panel carries its own data, so a page may draw the panels in separate columns. With one run
    and x = epoch, stage changes are dashed rules.
    """
    if x not in X_TITLES:
        raise ValueError(f"x must be one of {sorted(X_TITLES)}, got {x!r}")
    unknown = [m for m in metrics if m not in PANELS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}: choose from {list(PANELS)}")
    several = frame["run"].nunique() > 1
    x_axis = alt.Axis(tickMinStep=1, format="d") if x == "epoch" else alt.Axis(format="~g")  # whole epochs
    x_enc = alt.X(f"{x}:Q", title=X_TITLES[x], axis=x_axis)
    panels: list[alt.Chart | alt.LayerChart] = []
    for metric in metrics:
        title, fmt = PANELS[metric]
        data = frame[frame["metric"] == metric]
        tooltip = ["run:N", "epoch:Q", "stage_name:N", "split:N", alt.Tooltip("time_s:Q", format=".1f", title="time (s)"),
                   alt.Tooltip("value:Q", format=fmt)]  # fmt: skip
        enc: dict[str, Any] = {"x": x_enc, "y": alt.Y("value:Q", title=title, scale=alt.Scale(zero=False),
                                                      axis=alt.Axis(format=AXIS_FORMATS[metric])),
                               "tooltip": tooltip}
        if several:
            enc["color"] = alt.Color("run:N", title="run", scale=alt.Scale(scheme="category10"))
            enc["strokeDash"] = alt.StrokeDash("split:N", title="split", sort=["train", "validation"])
        else:
            splits = [s for s in SPLIT_COLOURS if s in set(data["split"])] or ["train"]
            enc["color"] = alt.Color("split:N", title=None, sort=splits,
                                     scale=alt.Scale(domain=splits, range=[SPLIT_COLOURS[s] for s in splits]),
                                     legend=None if metric == "lr" else alt.Legend())
        line = alt.Chart(data, title=f"{title} vs {'epoch' if x == 'epoch' else 'wall time'}").mark_line(point=True).encode(**enc)
        starts = stage_starts(frame) if not several and x == "epoch" and not frame.empty else pd.DataFrame()
        if starts.empty:
            panels.append(line.properties(width=width, height=height))
            continue
        rule = alt.Chart(starts).mark_rule(strokeDash=[4, 4], color="gray").encode(x="epoch:Q", tooltip=["stage_name"])
        text = (alt.Chart(starts).mark_text(align="left", dx=4, dy=-4, color="gray", baseline="top")
                .encode(x="epoch:Q", y=alt.value(0), text="stage_name:N"))  # fmt: skip
        panels.append(alt.layer(line, rule, text).properties(width=width, height=height))
    return panels


def training_curves(frame: pd.DataFrame, x: str = "epoch", metrics: Sequence[str] = ("loss", "accuracy"),
                    width: int = 320, height: int = 240) -> alt.HConcatChart:
    """The panels of curve_panels side by side, in one chart (for a static HTML file)."""
    return alt.hconcat(*curve_panels(frame, x, metrics, width, height)).resolve_scale(color="independent")
