"""Sweep grids: which TrainConfig fields can take a list or a range, parsing `lr=0.01,0.03` and
`lr=1e-3:1e-1:5:log`, the grid's size, its points and a check of every point before anything starts.

The rules come from the fields' metadata (config.py): a grid value is checked with the same
`check_field` that validate() uses, so an impossible value is refused with the field's own message.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from dataclasses import Field, dataclass, fields
from typing import Any

from explorer.config import SEED_MAX, TrainConfig, check_field

# fields that are set once per run, not swept (seed has its own "seeds" count)
NOT_SWEPT = ("name", "device", "data", "stages", "head_hidden", "augment", "seed")
MAX_VALUES = 1000  # values on one axis
MAX_POINTS = 10_000  # refused above this many points (with the seeds): a bigger queue slows every sweep command
CONFIRM_POINTS = 1000  # above this many points the user must confirm
MAX_SEEDS = 100
_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def sweepable_fields() -> dict[str, Field]:
    """TrainConfig fields that can take a list of values or a range in a sweep, by name."""
    out = {}
    for f in fields(TrainConfig):
        if f.name not in NOT_SWEPT and str(f.type) in ("int", "float", "bool", "str"):
            out[f.name] = f
    return out


def field_kind(name: str) -> str:
    """'range' for numeric fields (a list or lo:hi:n), 'list' for the others."""
    return "range" if str(sweepable_fields()[name].type) in ("int", "float") else "list"


def _field(name: str) -> Field:
    key = name.strip().replace("-", "_")
    table = sweepable_fields()
    if key not in table:
        raise ValueError(f"{name!r} cannot be swept; sweepable settings: {', '.join(sorted(table))}")
    return table[key]


def _scalar(f: Field, raw: str) -> Any:
    kind, text = str(f.type), raw.strip()
    try:
        if kind == "int":
            num = float(text)
            if not math.isfinite(num) or num != int(num):
                raise ValueError
            return int(num)
        if kind == "float":
            return float(text)
    except ValueError:
        raise ValueError(f"{f.name}={raw}: {f.name} needs a number, got {raw!r}") from None
    if kind == "bool":
        if text.lower() not in _TRUE + _FALSE:
            raise ValueError(f"{f.name}={raw}: {f.name} must be true or false")
        return text.lower() in _TRUE
    return text


def _range(f: Field, text: str) -> list[Any]:
    """lo:hi:n[:log] -> n values from lo to hi (log-spaced with :log), rounded for whole-number fields."""
    parts = text.split(":")
    log = parts[-1].strip().lower() == "log"
    if log:
        parts = parts[:-1]
    if len(parts) != 3:
        raise ValueError(f"{f.name}={text}: a range is lo:hi:n or lo:hi:n:log, e.g. 0.001:0.1:5:log")
    lo, hi = float(_scalar(f, parts[0])), float(_scalar(f, parts[1]))
    try:
        n = int(parts[2])
    except ValueError:
        raise ValueError(f"{f.name}={text}: the count n must be a whole number") from None
    if not 1 <= n <= MAX_VALUES:
        raise ValueError(f"{f.name}={text}: the count must be 1..{MAX_VALUES}, got {n}")
    if log and (lo <= 0 or hi <= 0):
        raise ValueError(f"{f.name}={text}: a log range needs lo and hi > 0")
    if n == 1:
        vals = [lo]
    elif log:
        vals = [math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / (n - 1)) for i in range(n)]
    else:
        vals = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    if str(f.type) == "int":
        return list(dict.fromkeys(int(round(v)) for v in vals))
    return [float(f"{v:.6g}") for v in vals]


def parse_values(name: str, text: str) -> tuple[str, list[Any]]:
    """Parse one axis: `0.01,0.03,0.1` or `lo:hi:n[:log]`; every value is checked against the field's rule."""
    f = _field(name)
    text = str(text).strip()
    if not text:
        raise ValueError(f"{f.name}: give a list (a,b,c) or a range (lo:hi:n)")
    if ":" in text and str(f.type) in ("int", "float"):
        values = _range(f, text)
    else:
        values = [_scalar(f, v) for v in text.split(",") if v.strip()]
        if not values:
            raise ValueError(f"{f.name}={text}: no values; give a list (a,b,c) or a range (lo:hi:n)")
    if len(values) > MAX_VALUES:
        raise ValueError(f"{f.name}: {len(values)} values; at most {MAX_VALUES} on one axis")
    for v in values:
        check_field(f, f"{f.name}={v}", v)
    return f.name, list(dict.fromkeys(values))


def parse_items(items: list[str], flag: str, example: str, where: str) -> Iterator[tuple[str, str, list[Any]]]:
    """Each `name=values` item as (field, its values text, parse_values' values), in order; ValueError
    (naming `flag` and the `example`) for an item without '=', or for a field given twice in `where`."""
    seen: set[str] = set()
    for item in items:
        if "=" not in item:
            raise ValueError(f"{flag}{item!r}: write name=values, e.g. {example}")
        key, text = item.split("=", 1)
        name, values = parse_values(key, text)
        if name in seen:
            raise ValueError(f"{name} is given twice in {where}")
        seen.add(name)
        yield name, text, values


def parse_grid(items: list[str]) -> dict[str, list[Any]]:
    """Parse `--grid name=values` items into {field: values}; a field given twice is an error."""
    return {name: values for name, _, values in parse_items(items, "--grid ", "lr=0.01,0.03,0.1", "the grid")}


@dataclass(frozen=True)
class Grid:
    """A grid: values per swept field, times `seeds` seeds (base seed, base seed + 1, ...)."""

    axes: dict[str, list[Any]]
    seeds: int = 1

    def __post_init__(self) -> None:
        """Check the seed count and the size."""
        if isinstance(self.seeds, bool) or not isinstance(self.seeds, int) or not 1 <= self.seeds <= MAX_SEEDS:
            raise ValueError(f"seeds must be a whole number 1..{MAX_SEEDS}, got {self.seeds!r}")
        if self.size > MAX_POINTS:
            raise ValueError(f"the grid has {self.size:,} points; at most {MAX_POINTS:,} in one sweep (fewer values "
                             "per axis, or an Optuna search: --optuna --trials N)")

    @property
    def size(self) -> int:
        """Number of runs: product of the axis lengths times the seeds."""
        return math.prod(len(v) for v in self.axes.values()) * self.seeds

    def points(self, base_seed: int = 0) -> Iterator[dict[str, Any]]:
        """Every point as {field: value, ..., "seed": s}, the last axis (then the seed) changing fastest."""
        names = list(self.axes)
        for combo in itertools.product(*(self.axes[n] for n in names)):
            for s in range(self.seeds):
                yield {**dict(zip(names, combo, strict=True)), "seed": min(base_seed + s, SEED_MAX)}

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return {"axes": {k: list(v) for k, v in self.axes.items()}, "seeds": self.seeds}


def point_config(base: TrainConfig, point: dict[str, Any]) -> TrainConfig:
    """The config of one point: the base with the point's values (a swept epochs/lr replaces the stages)."""
    changes = dict(point)
    if base.stages and ("epochs" in point or "lr" in point):
        changes["stages"] = ()
    return base.replace(**changes)


def point_text(point: dict[str, Any]) -> str:
    """A short label of a point, e.g. 'lr=0.01, transfer=frozen, seed=1'."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in point.items())


def _precheck_key(cfg: TrainConfig) -> tuple:
    """What decides the (costly) model-dependent checks of precheck."""
    return (cfg.model, cfg.head, tuple(cfg.head_hidden), cfg.transfer, cfg.unfreeze_last_n, cfg.batch_size,
            cfg.stages, cfg.data, cfg.pretrained)


def check_grid(base: TrainConfig, grid: Grid) -> list[tuple[dict[str, Any], TrainConfig]]:
    """Every point with its config, each one checked (validate, and precheck once per model setting).

    ValueError names the first impossible point and why, before anything starts.
    """
    from explorer.train.loop import precheck

    out, prechecked = [], set()
    for point in grid.points(base.seed):
        try:
            cfg = point_config(base, point).validate()
            key = _precheck_key(cfg)
            if key not in prechecked:
                precheck(cfg)
                prechecked.add(key)
        except (ValueError, KeyError, TypeError) as exc:
            msg = exc.args[0] if exc.args else str(exc)
            raise ValueError(f"point {point_text(point)}: {msg}") from None
        out.append((point, cfg))
    return out
