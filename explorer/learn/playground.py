"""The convolution and pooling playground: a small input (typed, a course example, or the drawing at 28x28,
14x14 or 7x7), a kernel (presets or typed), stride, padding, dilation; the output map, the output-size
formula with the numbers filled in, and a message instead of a failure when the choice does not fit."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from explorer.learn.conv import ConvCell, conv_cell
from explorer.learn.errors import LearnError
from explorer.learn.pooling import MODES, PoolCell, adaptive_cell, pool_cell
from explorer.learn.sizes import SizeFit

MAX_SIDE = 64  # a typed matrix or kernel: at most 64 x 64 numbers
KERNELS: dict[str, np.ndarray] = {
    "course binary 3×3": np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=float),
    "vertical edge": np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]], dtype=float),
    "horizontal edge": np.array([[1, 1, 1], [0, 0, 0], [-1, -1, -1]], dtype=float),
    "edge (Laplacian)": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=float),
    "blur (box 3×3)": np.full((3, 3), 1 / 9),
    "blur (Gaussian 3×3)": np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], dtype=float) / 16,
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float),
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=float),
}
POOL_MODES = (*MODES, "adaptive avg", "adaptive max")
_SPLIT = re.compile(r"[\s,;]+")


def parse_matrix(text: str, what: str = "matrix", max_side: int = MAX_SIDE) -> np.ndarray:
    """Rows on lines (or separated by ';'), numbers separated by spaces or commas -> float array (H, W).

    A LearnError names the first entry that is not a number, rows of different lengths, or a size above
    `max_side`."""
    rows = [r for r in re.split(r"[\n;]+", text or "") if r.strip()]
    if not rows:
        raise LearnError(f"the {what} is empty: type rows of numbers, one row per line (e.g. '1 0 1')")
    out = []
    for i, row in enumerate(rows, 1):
        vals = []
        for j, tok in enumerate([t for t in _SPLIT.split(row.strip()) if t], 1):
            try:
                v = float(tok.replace("−", "-"))
            except ValueError:
                raise LearnError(f"the {what} has text in it: row {i}, entry {j} is {tok[:20]!r}, not a number"
                                 ) from None
            if not np.isfinite(v):
                raise LearnError(f"the {what} has {tok!r} at row {i}, entry {j}: use finite numbers")
            vals.append(v)
        out.append(vals)
    widths = {len(r) for r in out}
    if len(widths) > 1:
        lens = ", ".join(f"row {i} has {len(r)}" for i, r in enumerate(out, 1))
        raise LearnError(f"the {what}'s rows have different lengths ({lens}): every row needs the same count")
    if len(out) > max_side or len(out[0]) > max_side:
        raise LearnError(f"the {what} is {len(out)}×{len(out[0])}; at most {max_side}×{max_side} numbers fit here")
    return np.array(out, dtype=np.float64)


def matrix_text(m: np.ndarray) -> str:
    """A matrix as the text box shows it (whole numbers without decimals)."""
    def f(v: float) -> str:
        return f"{v:g}"

    return "\n".join(" ".join(f(v) for v in row) for row in np.asarray(m))


def downsample(image: np.ndarray, side: int) -> np.ndarray:
    """A 28x28 image at 28, 14 or 7 cells a side (each cell the mean of the block it covers)."""
    img = np.asarray(image, dtype=np.float64).reshape(28, 28)
    if side not in (28, 14, 7):
        raise LearnError(f"the drawing can be shown at 28, 14 or 7 cells a side, not {side}")
    k = 28 // side
    return img.reshape(side, k, side, k).mean(axis=(1, 3))


@dataclass
class ConvResult:
    """A playground convolution: the output (None when the choice does not fit) and the formula per side."""

    output: np.ndarray | None
    fit_h: SizeFit
    fit_w: SizeFit
    problem: str | None

    @property
    def shape(self) -> tuple[int, int]:
        """(H_out, W_out), 0 where nothing fits."""
        return (self.fit_h.out, self.fit_w.out)


def convolve(x: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1,
             bias: float = 0.0) -> ConvResult:
    """x (H, W) * kernel (kh, kw): every output cell by conv_cell; a problem (not an error) when it does not fit."""
    x, k = np.asarray(x, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    fh, fw = SizeFit(x.shape[0], k.shape[0], padding, stride, dilation), SizeFit(x.shape[1], k.shape[1], padding,
                                                                               stride, dilation)
    problem = _problem(fh, fw)
    if fh.out < 1 or fw.out < 1 or (problem and "sizes must" in problem):
        return ConvResult(None, fh, fw, problem)
    out = np.array([[cell(x, k, y, xo, stride, padding, dilation, bias).value for xo in range(fw.out)]
                    for y in range(fh.out)])
    return ConvResult(out, fh, fw, problem)


def cell(x: np.ndarray, kernel: np.ndarray, y: int, xo: int, stride: int, padding: int, dilation: int,
         bias: float = 0.0) -> ConvCell:
    """One output cell of the playground's single-channel convolution."""
    return conv_cell(np.asarray(x, dtype=np.float64)[None], np.asarray(kernel, dtype=np.float64)[None], y, xo,
                     (stride, stride), (padding, padding), (dilation, dilation), bias)


def _problem(fh: SizeFit, fw: SizeFit) -> str | None:
    ph, pw = fh.problem(), fw.problem()
    if ph and pw and ph != pw:
        return f"height: {ph}. Width: {pw}"
    return ph or pw


@dataclass
class PoolResult:
    """A playground pooling: output, formula per side, and the problem if the choice does not fit."""

    output: np.ndarray | None
    fit_h: SizeFit | None
    fit_w: SizeFit | None
    problem: str | None
    mode: str


def pool(x: np.ndarray, mode: str, size: int = 2, stride: int | None = None, padding: int = 0,
         out_size: int | None = None) -> PoolResult:
    """Max, average, min or adaptive pooling of x (H, W); adaptive takes `out_size` and finds the windows."""
    x = np.asarray(x, dtype=np.float64)
    if mode not in POOL_MODES:
        raise LearnError(f"pooling must be one of {', '.join(POOL_MODES)}, got {mode!r}")
    if mode.startswith("adaptive"):
        n = int(out_size or 1)
        if not 1 <= n <= min(x.shape):
            return PoolResult(None, None, None, f"adaptive pooling needs an output size from 1 to {min(x.shape)} "
                                                 f"(the input is {x.shape[0]}×{x.shape[1]}), got {n}", mode)
        m = mode.split()[1]
        out = np.array([[adaptive_cell(x, i, j, (n, n), m).value for j in range(n)] for i in range(n)])
        return PoolResult(out, None, None, None, mode)
    stride = stride or size
    if padding > size // 2:
        return PoolResult(None, None, None, f"pooling padding P={padding} is more than half the window ({size}); "
                                             f"PyTorch refuses it: use P ≤ {size // 2}", mode)
    fh, fw = SizeFit(x.shape[0], size, padding, stride), SizeFit(x.shape[1], size, padding, stride)
    problem = _problem(fh, fw)
    if fh.out < 1 or fw.out < 1:
        return PoolResult(None, fh, fw, problem, mode)
    out = np.array([[pool_window(x, mode, size, stride, padding, y, xo).value for xo in range(fw.out)]
                    for y in range(fh.out)])
    return PoolResult(out, fh, fw, problem, mode)


def pool_window(x: np.ndarray, mode: str, size: int, stride: int, padding: int, y: int, xo: int,
                out_size: int | None = None) -> PoolCell:
    """The window of one pooled cell and its winner or mean."""
    if mode.startswith("adaptive"):
        n = int(out_size or 1)
        return adaptive_cell(x, y, xo, (n, n), mode.split()[1])
    return pool_cell(np.asarray(x, dtype=np.float64), y, xo, mode, (size, size), (stride, stride),
                     (padding, padding))
