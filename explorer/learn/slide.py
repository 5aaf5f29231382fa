"""Watch the kernel slide: one output position per step, in reading order, with the padded input, the cells
the (dilated) kernel covers at that step, the cell being computed and its arithmetic, and the output map
filled in up to that step (Dumoulin & Visin's conv_arithmetic animations, computed on any input)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.learn.conv import ConvCell
from explorer.learn.errors import LearnError
from explorer.learn.playground import ConvResult, cell, convolve


@dataclass
class SlideStep:
    """The kernel at one output position."""

    index: int  # 0-based step
    y: int  # output row and column being computed
    x: int
    cells: list[tuple[int, int]]  # (row, column) in the padded input under each kernel cell, kernel order
    cell: ConvCell
    filled: np.ndarray  # output so far (nan where not computed yet)


@dataclass
class Slide:
    """A convolution of one map with one kernel, to step through."""

    x: np.ndarray
    kernel: np.ndarray
    stride: int
    padding: int
    dilation: int
    result: ConvResult

    @property
    def steps(self) -> int:
        """How many output positions (0 when nothing fits)."""
        h, w = self.result.shape
        return h * w if self.result.output is not None else 0

    def padded(self) -> np.ndarray:
        """The input with its zero padding (what the kernel slides over)."""
        return np.pad(self.x, self.padding)

    def at(self, i: int) -> SlideStep:
        """Step i (0-based): the position, the covered cells and the output filled so far."""
        if self.steps == 0:
            raise LearnError(self.result.problem or "nothing to slide: the kernel does not fit the input")
        if not 0 <= i < self.steps:
            raise LearnError(f"step {i + 1} is outside 1..{self.steps}")
        h, w = self.result.shape
        y, xo = divmod(i, w)
        kh, kw = self.kernel.shape
        s, d = self.stride, self.dilation
        cells = [(y * s + r * d, xo * s + c * d) for r in range(kh) for c in range(kw)]
        filled = np.full((h, w), np.nan)
        filled.ravel()[: i + 1] = self.result.output.ravel()[: i + 1]
        return SlideStep(i, y, xo, cells, cell(self.x, self.kernel, y, xo, s, self.padding, d), filled)


def kernel_slide(x: np.ndarray, kernel: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1) -> Slide:
    """Prepare the slide of `kernel` over the map `x`."""
    x, k = np.asarray(x, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    return Slide(x, k, stride, padding, dilation, convolve(x, k, stride, padding, dilation))
