"""One output number of a pooling layer: the window it looks at and which value won (max, min) or the mean
(average, adaptive average, global average). `pool_cell` and `adaptive_cell` work on plain arrays (the
playground uses them); `pool_unit` / `mean_unit` apply them to the pooling the model really ran, with its
recorded input and PyTorch's exact rules (ceil mode, count_include_pad, divisor_override)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from explorer.inspect.collect import pair
from explorer.learn.conv import positions
from explorer.learn.ops import as_float64, fmt, named_args, producer_label
from explorer.learn.record import Node, Trace
from explorer.learn.step import Step

MODES = ("max", "avg", "min")


@dataclass
class PoolCell:
    """One pooled number: its window in the input map, the values there, and the result."""

    mode: str  # max | avg | min (adaptive windows use the same modes)
    channel: int
    y: int
    x: int
    rows: np.ndarray  # input rows of the window (-1: padding)
    cols: np.ndarray
    values: np.ndarray  # (kh, kw); nan where the window lies on padding
    value: float
    winner: tuple[int, int] | None = None  # (row, col) in the window for max/min
    divisor: int = 0  # for avg: what the sum is divided by

    def text(self) -> str:
        """'max(1, 3, 2, 0) = 3' or 'mean of 4 values: (1 + 3 + 2 + 0)/4 = 1.5'."""
        vals = [v for v in self.values.ravel() if not np.isnan(v)]
        shown = ", ".join(fmt(v) for v in vals[:16]) + (", ..." if len(vals) > 16 else "")
        if self.mode in ("max", "min"):
            return f"{self.mode}({shown}) = {fmt(self.value)}"
        terms = " + ".join(fmt(v) for v in vals[:16]) + (" + ..." if len(vals) > 16 else "")
        return f"({terms}) / {self.divisor} = {fmt(self.value)}"


def pool_cell(x: np.ndarray, y: int, xo: int, mode: str, kernel: tuple[int, int], stride: tuple[int, int],
              padding: tuple[int, int] = (0, 0), dilation: tuple[int, int] = (1, 1), channel: int = 0,
              count_include_pad: bool = True, divisor_override: int | None = None) -> PoolCell:
    """Output (y, xo) of max/avg/min pooling of the map x (H, W), PyTorch's rules for padding and ceil mode
    (a window may run past the bottom/right edge in ceil mode; those cells are ignored)."""
    if mode not in MODES:
        raise ValueError(f"pooling mode must be one of {', '.join(MODES)}, got {mode!r}")
    x = np.asarray(x, dtype=np.float64)
    h, w = x.shape
    rows = positions(y, kernel[0], stride[0], padding[0], dilation[0], h)
    cols = positions(xo, kernel[1], stride[1], padding[1], dilation[1], w)
    vals = np.full((kernel[0], kernel[1]), np.nan)
    ok = (rows >= 0)[:, None] & (cols >= 0)[None, :]
    vals[ok] = x[rows[rows >= 0]][:, cols[cols >= 0]].ravel()
    if mode in ("max", "min"):
        pick = np.nanargmax(vals) if mode == "max" else np.nanargmin(vals)
        r, c = divmod(int(pick), kernel[1])
        return PoolCell(mode, channel, y, xo, rows, cols, vals, float(vals[r, c]), (r, c))
    # average: PyTorch counts the window clipped to the padded input (count_include_pad) or to the input
    hs, ws = y * stride[0] - padding[0], xo * stride[1] - padding[1]
    he, we = min(hs + kernel[0], h + padding[0]), min(ws + kernel[1], w + padding[1])
    pool_size = (he - hs) * (we - ws)
    inside = (min(he, h) - max(hs, 0)) * (min(we, w) - max(ws, 0))
    divisor = int(divisor_override) if divisor_override else (pool_size if count_include_pad else inside)
    total = float(np.nansum(vals))
    return PoolCell(mode, channel, y, xo, rows, cols, vals, total / divisor, None, divisor)


def adaptive_window(size: int, out: int, i: int) -> tuple[int, int]:
    """[start, end) of adaptive pooling's window i of `out` over `size` (PyTorch: floor / ceil)."""
    return (i * size) // out, math.ceil((i + 1) * size / out)


def adaptive_cell(x: np.ndarray, y: int, xo: int, out_size: tuple[int, int], mode: str = "avg",
                  channel: int = 0) -> PoolCell:
    """Output (y, xo) of adaptive pooling of x (H, W) to `out_size`: the windows follow from the sizes."""
    x = np.asarray(x, dtype=np.float64)
    h, w = x.shape
    r0, r1 = adaptive_window(h, out_size[0], y)
    c0, c1 = adaptive_window(w, out_size[1], xo)
    vals = x[r0:r1, c0:c1]
    rows, cols = np.arange(r0, r1), np.arange(c0, c1)
    if mode in ("max", "min"):
        pick = np.argmax(vals) if mode == "max" else np.argmin(vals)
        r, c = divmod(int(pick), vals.shape[1])
        return PoolCell(mode, channel, y, xo, rows, cols, vals, float(vals[r, c]), (r, c))
    return PoolCell("avg", channel, y, xo, rows, cols, vals, float(vals.sum() / vals.size), None, int(vals.size))


def pool_unit(trace: Trace, node: Node, pos: tuple[int, ...]) -> Step:
    """The breakdown of output `pos` (0, c, y, x) of a pooling op the model ran."""
    a = named_args(node)
    ref = a["self"]
    c, y, xo = int(pos[1]), int(pos[2]), int(pos[3])
    x = as_float64(trace.value(ref))[0, c].numpy()
    op = node.op
    if "adaptive" in op:
        out = pair(a["output_size"], 1)
        out = (out[0] or x.shape[0], out[1] or x.shape[1])
        mode = "max" if "max" in op else "avg"
        cell = adaptive_cell(x, y, xo, out, mode, c)
        title = f"Adaptive {'max' if mode == 'max' else 'average'} pooling {node.module} to {out[0]}×{out[1]}"
    else:
        kernel = pair(a["kernel_size"], 1)
        stride = pair(a.get("stride"), 0)
        stride = (stride[0] or kernel[0], stride[1] or kernel[1])
        padding = pair(a.get("padding"), 0)
        mode = "max" if "max" in op else "avg"
        dilation = pair(a.get("dilation"), 1) if mode == "max" else (1, 1)
        cell = pool_cell(x, y, xo, mode, kernel, stride, padding, dilation, c,
                         bool(a.get("count_include_pad", True)), a.get("divisor_override"))
        title = (f"{'Max' if mode == 'max' else 'Average'} pooling {node.module}: {kernel[0]}×{kernel[1]}, "
                 f"stride {stride[0]}, padding {padding[0]}")
    notes = [f"input: {producer_label(trace, ref.node) if ref.node is not None else 'a constant'}, channel {c} "
             f"({x.shape[0]}×{x.shape[1]})"]
    if cell.winner is not None:
        r, cc = cell.winner
        notes.append(f"the winner sits at row {int(cell.rows[r])}, column {int(cell.cols[cc])} of the input map")
    return Step("pool", title, node.module, cell.text(), cell.value, float(node.value[pos]), None, cell, notes)


def mean_unit(trace: Trace, node: Node, pos: tuple[int, ...]) -> Step:
    """Global average pooling written as a mean over the spatial dimensions (x.mean([2, 3]))."""
    a = named_args(node)
    ref = a["self"]
    src = as_float64(trace.value(ref))
    dims = sorted(d % src.dim() for d in (a["dim"] if isinstance(a["dim"], (list, tuple)) else [a["dim"]]))
    if src.dim() != 4 or dims != [2, 3]:
        raise NotImplementedError("mean over other dimensions than the spatial ones")
    c = int(pos[1])
    x = src[0, c].numpy()
    cell = adaptive_cell(x, 0, 0, (1, 1), "avg", c)
    title = f"Global average pooling {node.module or '(mean over height and width)'}"
    notes = [f"input: {producer_label(trace, ref.node) if ref.node is not None else 'a constant'}, channel {c} "
             f"({x.shape[0]}×{x.shape[1]})"]
    return Step("pool", title, node.module, cell.text(), cell.value, float(node.value[pos]), None, cell, notes)
