"""Many runs at once: one DataFrame row per run (status, metrics, tags, sweep, every scalar
setting), filters, the settings that vary, the effect of each setting (mean ± std over the other
settings and seeds), group-by tables and the best run of each sweep. No streamlit here.

A setting is the value the run used (explorer.config.used_settings: a value config.json leaves out is the
default, written out), and each setting column has one type (numbers, true/false or text; NA only where the
setting does not apply, as images per class outside the built-in letters). Values are compared, grouped,
sorted and labelled through value_text/value_order, so no mix of types can raise or read as a difference.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import fields
from typing import Any

import numpy as np
import pandas as pd

from explorer.config import TrainConfig, used_settings
from explorer.runs import Run, run_dirs

CFG = "cfg."  # prefix of setting columns
METRICS = ("test_acc", "best_val_acc")
INFO_COLUMNS = ("run_id", "name", "status", "model", "dataset", "created", "tags", "sweep", "sweep_index",
                "epochs_done", "epochs", "best_val_acc", "test_acc")
_SCALAR_FIELDS = tuple(f.name for f in fields(TrainConfig)
                       if str(f.type) in ("int", "float", "bool", "str") and f.name not in ("name",))
KINDS = {**{CFG + f.name: str(f.type) for f in fields(TrainConfig) if f.name in _SCALAR_FIELDS},
         CFG + "data.size": "int", CFG + "augment": "bool"}  # each setting column's one type
MISSING_TEXT = "—"  # how a setting that does not apply reads, everywhere


def is_missing(v: Any) -> bool:
    """None, NaN or pandas' NA (a setting that does not apply to a run)."""
    if v is None or v is pd.NA:
        return True
    return isinstance(v, float) and math.isnan(v)


def value_text(v: Any) -> str:
    """A setting's value as text, the same for the same value whatever its type on disk: 200 and 200.0 -> "200",
    0.03 -> "0.03", True -> "true", missing -> "—"."""
    if is_missing(v):
        return MISSING_TEXT
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else f"{float(v):g}"
    return str(v)


def value_order(v: Any) -> tuple[int, float, str]:
    """A sort key that never compares a number with text: numbers (by value), then text, then missing."""
    if is_missing(v):
        return (2, 0.0, "")
    if isinstance(v, bool | np.bool_):
        return (1, 0.0, value_text(v))
    if isinstance(v, int | float | np.integer | np.floating):
        return (0, float(v), "")
    return (1, 0.0, str(v))


def _typed(col: pd.Series, kind: str) -> pd.Series:
    """One type per setting column (values of another type, from a damaged config, become NA)."""
    if kind in ("int", "float"):
        num = pd.to_numeric(col.map(lambda v: None if isinstance(v, bool) else v), errors="coerce").astype("float64")
        whole = kind == "int" and bool(num.dropna().map(float.is_integer).all())
        return num.astype("Int64") if whole else num
    if kind == "bool":
        return col.map(lambda v: v if isinstance(v, bool) else None).astype("boolean")
    return col.map(lambda v: None if is_missing(v) else str(v)).astype(object)


def _cell(v: Any) -> Any:
    """A config value as a table cell: scalars as they are, anything else as short text."""
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    return str(v)[:80]


def run_row(run: Run) -> dict[str, Any]:
    """One run as a flat row: its summary, sweep, tags and settings (cfg.<field>, cfg.data.size)."""
    info, rec = run.info(), run.record
    train = used_settings(rec.train_record)
    sweep = rec.sweep or {}
    row: dict[str, Any] = {k: v for k, v in info.to_dict().items() if k in INFO_COLUMNS}
    row["tags"] = ", ".join(str(t) for t in info.tags)
    row["sweep"] = str(sweep.get("id") or "")
    row["sweep_index"] = sweep.get("index") if isinstance(sweep.get("index"), int) else None
    for name in _SCALAR_FIELDS:
        row[CFG + name] = _cell(train.get(name))
    data = train.get("data") if isinstance(train.get("data"), dict) else {}
    row[CFG + "data.size"] = _cell(data.get("size"))
    row[CFG + "augment"] = train.get("augment") is not None
    return row


def runs_table_frame(root: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every readable run under the root as one row (unreadable folders are skipped), newest first."""
    rows = []
    for path in run_dirs(root):
        try:
            rows.append(run_row(Run(path)))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
    df = pd.DataFrame(rows, columns=list(INFO_COLUMNS) + [CFG + n for n in _SCALAR_FIELDS]
                      + [CFG + "data.size", CFG + "augment"])
    for m in METRICS:
        df[m] = pd.to_numeric(df[m], errors="coerce")
    for col, kind in KINDS.items():
        df[col] = _typed(df[col], kind)
    return df.sort_values(["created", "run_id"], ascending=False, ignore_index=True)


def setting_columns(df: pd.DataFrame) -> list[str]:
    """The setting columns (cfg.*)."""
    return [c for c in df.columns if c.startswith(CFG)]


def varying(df: pd.DataFrame, exclude: Iterable[str] = ("cfg.seed",)) -> list[str]:
    """Setting columns with more than one distinct value among the rows (seed left out by default)."""
    skip = set(exclude)
    return [c for c in setting_columns(df) if c not in skip and df[c].map(value_text).nunique() > 1]


def values_of(df: pd.DataFrame, col: str) -> list[str]:
    """The distinct values of a setting column as text (value_text), in value order."""
    first = {value_text(v): v for v in df[col]}
    return sorted(first, key=lambda t: value_order(first[t]))


def all_tags(df: pd.DataFrame) -> list[str]:
    """Every tag used by the runs, sorted."""
    return sorted({t.strip() for s in df["tags"] for t in str(s).split(",") if t.strip()})


def filter_runs(df: pd.DataFrame, tags: Iterable[str] = (), sweeps: Iterable[str] = (),
                statuses: Iterable[str] = (), where: dict[str, Iterable[Any]] | None = None) -> pd.DataFrame:
    """Rows that have every tag in `tags`, belong to one of `sweeps`, have one of `statuses`, and whose
    setting columns take one of the listed values (compared as value_text) in `where`. Empty filters keep all."""
    keep = pd.Series(True, index=df.index)
    for tag in tags:
        keep &= df["tags"].map(lambda s, t=tag: t in [x.strip() for x in str(s).split(",")])
    if sweeps := list(sweeps):
        keep &= df["sweep"].isin(sweeps)
    if statuses := list(statuses):
        keep &= df["status"].isin(statuses)
    for col, values in (where or {}).items():
        if col not in df.columns:
            raise ValueError(f"no column {col!r}; setting columns: {', '.join(setting_columns(df))}")
        wanted = {v if isinstance(v, str) else value_text(v) for v in values}
        if wanted:
            keep &= df[col].map(value_text).isin(wanted)
    return df[keep]


def mark_best(df: pd.DataFrame, metric: str = "test_acc") -> pd.DataFrame:
    """A copy with a 'best' column: ★ on the best run (by `metric`) of each sweep and of the runs outside sweeps."""
    out = df.copy()
    out.insert(0, "best", "")
    scored = out[out[metric].notna()]
    if not scored.empty:
        idx = scored.groupby(scored["sweep"].fillna(""))[metric].idxmax()
        out.loc[idx.values, "best"] = "★"
    return out


def group_stats(df: pd.DataFrame, by: list[str], metric: str = "test_acc") -> pd.DataFrame:
    """mean, std, count, min and max of `metric` per combination of the `by` columns (best mean first)."""
    if not by:
        raise ValueError("group by at least one setting")
    missing = [b for b in by if b not in df.columns]
    if missing:
        raise ValueError(f"no column {missing[0]!r}; setting columns: {', '.join(setting_columns(df))}")
    scored = df[df[metric].notna()]
    keys = scored[by].map(value_text)
    g = scored[metric].groupby([keys[b] for b in by])
    out = g.agg(["mean", "std", "count", "min", "max"]).reset_index()
    out.columns = [*by, "mean", "std", "runs", "min", "max"]
    return out.sort_values("mean", ascending=False, ignore_index=True)


def effects(df: pd.DataFrame, metric: str = "test_acc", settings: list[str] | None = None) -> pd.DataFrame:
    """The effect of each varying setting: per value (in value order), mean ± std of `metric` over every
    run with that value (so over seeds and the other settings). Long table: setting, value, mean, std, runs."""
    parts = []
    for col in settings if settings is not None else varying(df[df[metric].notna()]):
        stats = group_stats(df, [col], metric).rename(columns={col: "value"})
        order = {t: i for i, t in enumerate(values_of(df, col))}
        stats = stats.assign(_k=stats["value"].map(order)).sort_values("_k").drop(columns="_k")
        stats.insert(0, "setting", col.removeprefix(CFG))
        parts.append(stats[["setting", "value", "mean", "std", "runs"]])
    if not parts:
        return pd.DataFrame(columns=["setting", "value", "mean", "std", "runs"])
    return pd.concat(parts, ignore_index=True)


def parallel_frame(df: pd.DataFrame, settings: list[str], metric: str = "test_acc") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long tables for parallel coordinates: (lines: run, axis, pos in [0, 1], label, metric; ticks:
    axis, pos, label). Numbers are scaled min..max (log when they span a decade or more), text evenly spaced."""
    runs = df[df[metric].notna()]
    lines, ticks = [], []
    for col in [*settings, metric]:
        pos, tick = _axis_positions(runs[col], (lambda m: f"{m:.4g}") if col == metric else value_text)
        axis = col.removeprefix(CFG)
        lines.append(pd.DataFrame({"run": runs["name"].astype(str) + " · " + runs["run_id"].astype(str), "axis": axis,
                                   "pos": pos.values, "label": runs[col].map(value_text).values,
                                   metric: runs[metric].values}))
        ticks.append(tick.assign(axis=axis))
    cols_l, cols_t = ["run", "axis", "pos", "label", metric], ["axis", "pos", "label"]
    if not lines:
        return pd.DataFrame(columns=cols_l), pd.DataFrame(columns=cols_t)
    return pd.concat(lines, ignore_index=True), pd.concat(ticks, ignore_index=True)


def _axis_positions(values: pd.Series, fmt: Any = value_text) -> tuple[pd.Series, pd.DataFrame]:
    """Positions in [0, 1] (plain floats) of one axis's values and its tick table (pos, label). All numbers: scaled
    min..max, ticks labelled by `fmt`; otherwise (text, true/false, or a value missing on some runs) one evenly
    spaced tick per value_text, in value_order (missing last)."""
    present = [v for v in values if not is_missing(v)]
    numeric = len(present) == len(values) and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_) for v in present)
    if not numeric:
        texts = values.map(value_text)
        cats = values_of(pd.DataFrame({"v": values}), "v")
        step = 1 / max(1, len(cats) - 1)
        mapping = {c: (i * step if len(cats) > 1 else 0.5) for i, c in enumerate(cats)}
        return texts.map(mapping).astype(float), pd.DataFrame({"pos": list(mapping.values()), "label": cats})
    num = values.astype(float)
    lo, hi = float(num.min()), float(num.max())
    use_log = lo > 0 and hi / lo >= 10
    f = (lambda x: math.log10(x)) if use_log else (lambda x: x)
    span = f(hi) - f(lo)
    pos = num.map(lambda x: (f(x) - f(lo)) / span if span else 0.5)
    marks = sorted(num.unique()) if num.nunique() <= 12 else [lo, hi]
    return pos, pd.DataFrame({"pos": [(f(m) - f(lo)) / span if span else 0.5 for m in marks],
                              "label": [fmt(m) for m in marks]})
