"""The CNN course's worked examples (shared/seeds: the CNN unit, "Convolution Layer - The Kernel", "Network in
Network - 1x1 Convolutions", "Designing a Convolutional Neural Network"), reproduced as one-click presets whose
numbers equal the document's. Where the document shows a matrix only as a picture, its text gives the sizes,
and the values used here are the course's own matrices from the neighbouring slides (said in `source`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from explorer.learn.playground import ConvResult, convolve
from explorer.learn.sizes import SizeFit

# "Convolution Layer - The Kernel", step 1: the 5x5 image and the 3x3 kernel (x1 x0 x1 / x0 x1 x0 / x1 x0 x1)
IMAGE_5X5 = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], float)
KERNEL_BINARY = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float)
# "Network in Network - 1x1 Convolutions": the 6x6 matrix convolved with [2]
MATRIX_6X6 = np.array([[1, 2, 3, 6, 5, 8], [3, 5, 5, 1, 3, 4], [2, 1, 3, 4, 9, 3], [4, 7, 8, 5, 7, 9],
                       [1, 5, 3, 7, 4, 8], [5, 4, 9, 8, 3, 5]], float)


@dataclass
class ConvPreset:
    """A course example of one convolution, with the document's numbers to check against."""

    key: str
    title: str
    source: str  # where in the course, and what the document gives
    x: np.ndarray
    kernel: np.ndarray
    stride: int = 1
    padding: int = 0
    document: dict = field(default_factory=dict)  # the document's numbers (sizes, cells)

    def run(self) -> ConvResult:
        """The convolution with the preset's settings."""
        return convolve(self.x, self.kernel, self.stride, self.padding)


CONV_PRESETS: dict[str, ConvPreset] = {p.key: p for p in (
    ConvPreset("kernel_5x5", "5×5 image * 3×3 kernel: the first cell is 4",
               "CNN unit, 'Convolution Layer - The Kernel', step 1: overlay the filter, multiply element-wise, add "
               "(the picture's first cell is 4); step 2: move one position (the stride) and repeat. "
               "Output (n - m + 1) = 3.",
               IMAGE_5X5, KERNEL_BINARY, document={"first_cell": 4, "out_side": 3}),
    ConvPreset("conv_6x6", "6×6 input * 3×3 kernel -> 4×4 feature map",
               "CNN unit, 'CONVOLUTION OPERATION': 'input of size 6x6 is given and kernel of size 3x3 is used. The "
               "feature map obtained is of size 4x4.' The slide shows the matrices as a picture; the values here "
               "are the course's 6×6 matrix (from its 1×1-convolution slide) and its binary 3×3 kernel.",
               MATRIX_6X6, KERNEL_BINARY, document={"in_side": 6, "kernel": 3, "out_side": 4}),
    ConvPreset("one_by_one", "6×6 * [2]: a 1×1 convolution on one channel",
               "Network in Network - 1×1 Convolutions: the 6×6 matrix * [2] = a 6×6 map whose first cell is 2 "
               "(on one channel a 1×1 convolution only scales).",
               MATRIX_6X6, np.array([[2.0]]), document={"first_cell": 2, "out_side": 6}),
)}


@dataclass
class Volume1x1:
    """The course's 1x1 convolution over a volume: 6x6x32 * one 1x1x32 filter -> 6x6, then ReLU."""

    x: np.ndarray  # (32, 6, 6)
    filt: np.ndarray  # (32,)
    output: np.ndarray  # (6, 6) after ReLU
    pre_relu: np.ndarray

    def position(self, y: int, x: int) -> tuple[np.ndarray, np.ndarray, float, float]:
        """The 32 numbers at (y, x), the 32 filter numbers, their dot product and its ReLU."""
        v = self.x[:, y, x]
        dot = float(v @ self.filt)
        return v, self.filt, dot, max(0.0, dot)


def volume_1x1(channels: int = 32, seed: int = 0) -> Volume1x1:
    """'A 1x1 convolution will look at each of the 36 different positions (6x6), and it will take the
    element-wise product between 32 numbers on the left and the 32 numbers in the filter. Then, a ReLU
    non-linearity will be applied.' Channel 0 is the course's 6x6 matrix; the others are seeded digits 0..9,
    the filter seeded whole numbers -3..2, so the ReLU zeroes some positions (the document gives no values)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 10, size=(channels, 6, 6)).astype(float)
    x[0] = MATRIX_6X6
    filt = rng.integers(-3, 3, size=channels).astype(float)
    pre = np.einsum("chw,c->hw", x, filt)
    return Volume1x1(x, filt, np.maximum(pre, 0.0), pre)


@dataclass
class Bottleneck:
    """The course's cost of a 5x5 convolution on 28x28x192 -> 32, straight and through a 1x1 bottleneck."""

    h: int = 28
    w: int = 28
    c_in: int = 192
    c_mid: int = 16
    c_out: int = 32
    k: int = 5

    @property
    def direct(self) -> int:
        """(28·28·32)·(5·5·192) multiplies: the document's '120 Million'."""
        return self.h * self.w * self.c_out * self.k * self.k * self.c_in

    @property
    def reduce(self) -> int:
        """(28·28·16)·(1·1·192)."""
        return self.h * self.w * self.c_mid * self.c_in

    @property
    def conv(self) -> int:
        """(28·28·32)·(5·5·16)."""
        return self.h * self.w * self.c_out * self.k * self.k * self.c_mid

    @property
    def bottleneck(self) -> int:
        """The document's '12.4 Million'."""
        return self.reduce + self.conv

    def shrink_shape(self) -> tuple[int, ...]:
        """32 filters of 1x1x192 on a real 28x28x192 tensor -> (32, 28, 28): 'a way to shrink nc'."""
        conv = nn.Conv2d(self.c_in, self.c_out, 1)
        with torch.inference_mode():
            return tuple(conv(torch.zeros(1, self.c_in, self.h, self.w)).shape[1:])


@dataclass
class DesignLayer:
    """One layer of a worked design: what it is, the formula line and the output volume."""

    name: str
    kind: str  # conv | pool
    kernels: int  # output depth
    f: int
    s: int
    p: int
    w_in: int
    fit: SizeFit
    out: tuple[int, int, int]  # (W, H, D)

    def formula(self, symbol: str) -> str:
        """The document's line, e.g. 'W2 = (28 − 5 + 2(2))/1 + 1 = 28'."""
        return self.fit.formula(symbol, pool=self.kind == "pool").replace(f"{symbol}_out", symbol)


@dataclass
class Design:
    """A worked network design: the layers with their formulas, and a real torch model to confirm them."""

    key: str
    title: str
    source: str
    input: tuple[int, int, int]  # (W, H, D)
    layers: list[DesignLayer]
    document: list[tuple[int, int, int]]  # the document's output volumes, in order
    symbols: list[str]

    def model(self) -> nn.Sequential:
        """The layers as a torch model (conv -> BN -> ReLU, max pools), untrained."""
        mods: list[nn.Module] = []
        depth = self.input[2]
        for lay in self.layers:
            if lay.kind == "conv":
                mods += [nn.Conv2d(depth, lay.kernels, lay.f, lay.s, lay.p), nn.BatchNorm2d(lay.kernels), nn.ReLU()]
                depth = lay.kernels
            else:
                mods.append(nn.MaxPool2d(lay.f, lay.s, lay.p))
        return nn.Sequential(*mods)

    def real_shapes(self, x: torch.Tensor | None = None) -> list[tuple[int, int, int]]:
        """(W, H, D) after each design layer, from a real forward (the drawing, if given; else zeros)."""
        w, h, d = self.input
        model = self.model().eval()
        if x is None:  # shapes only: on the meta device nothing is computed
            model, t = model.to("meta"), torch.empty(1, d, h, w, device="meta")
        else:
            t = x.reshape(1, d, h, w).float()
        shapes = []
        with torch.inference_mode():
            for m in model:
                t = m(t)
                if isinstance(m, (nn.ReLU, nn.MaxPool2d)):
                    shapes.append((int(t.shape[3]), int(t.shape[2]), int(t.shape[1])))
        return shapes


def _design(key: str, title: str, source: str, inp: tuple[int, int, int],
            spec: list[tuple[str, str, int, int, int, int]], document: list[tuple[int, int, int]],
            symbols: list[str]) -> Design:
    layers = []
    w, _, d = inp
    for name, kind, k, f, s, p in spec:
        fit = SizeFit(w, f, p, s)
        depth = k if kind == "conv" else d
        layers.append(DesignLayer(name, kind, depth, f, s, p, w, fit, (fit.out, fit.out, depth)))
        w, d = fit.out, depth
    return Design(key, title, source, inp, layers, document, symbols)


DESIGNS: dict[str, Design] = {d.key: d for d in (
    _design("fashion_mnist", "The worked design: 28 → 28 → 14 → 14 → 7",
            "CNN unit, 'Designing a Convolutional Neural Network' (Fashion-MNIST, 28x28 grayscale): "
            "[CONV 1] → [BATCH NORM] → [ReLU] → [POOL 1] → [CONV 2] → [BATCH NORM] → [ReLU] → [POOL 2] → [FC]; "
            "both convs 5x5, stride 1, padding 2; both pools max 2x2, stride 2.",
            (28, 28, 1),
            [("CONV 1", "conv", 16, 5, 1, 2), ("POOL 1", "pool", 0, 2, 2, 0), ("CONV 2", "conv", 32, 5, 1, 2),
             ("POOL 2", "pool", 0, 2, 2, 0)],
            [(28, 28, 16), (14, 14, 16), (14, 14, 32), (7, 7, 32)], ["W2", "H3", "W4", "W5"]),
    _design("alexnet", "AlexNet's first layers: 227 → 55 → 27 → 27 → 13 → 13 → 13 → 13 → 6",
            "AlexNet 'Model Explanation': 227x227x3, 96 filters 11x11 'valid' stride 4 → 55x55x96; max pool 3, "
            "stride 2 → 27x27x96; 256 5x5 'same' → 27x27x256; max pool → 13x13x256; 384 3x3 'same' twice → "
            "13x13x384; 256 3x3 'same' → 13x13x256; max pool → 6x6x256.",
            (227, 227, 3),
            [("CONV 1", "conv", 96, 11, 4, 0), ("POOL 1", "pool", 0, 3, 2, 0), ("CONV 2", "conv", 256, 5, 1, 2),
             ("POOL 2", "pool", 0, 3, 2, 0), ("CONV 3", "conv", 384, 3, 1, 1), ("CONV 4", "conv", 384, 3, 1, 1),
             ("CONV 5", "conv", 256, 3, 1, 1), ("POOL 3", "pool", 0, 3, 2, 0)],
            [(55, 55, 96), (27, 27, 96), (27, 27, 256), (13, 13, 256), (13, 13, 384), (13, 13, 384),
             (13, 13, 256), (6, 6, 256)], ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]),
)}
