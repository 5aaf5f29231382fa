"""One output number of a convolution, step by step: overlay the kernel on the input patch under the unit
(stride, padding and dilation decide where the kernel's cells land), multiply element-wise, add per input
channel, add the channels (only those of the unit's group: grouped and depthwise convolutions read a
slice of the input channels), add the bias.

`conv_cell` is the arithmetic on plain arrays (used by the playground, the slide view and the course
presets); `conv_unit` applies it to a convolution the model really ran, with the recorded input and the
layer's weights."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explorer.inspect.collect import pair
from explorer.learn.ops import as_float64, fmt, named_args, producer_label
from explorer.learn.record import Node, Ref, Trace
from explorer.learn.route import through_movement
from explorer.learn.step import Step


@dataclass
class ConvCell:
    """The arithmetic of one convolution output cell."""

    out_channel: int
    y: int
    x: int
    rows: np.ndarray  # (kh,) input row under each kernel row (-1: padding or outside)
    cols: np.ndarray  # (kw,)
    patch: np.ndarray  # (C, kh, kw) input values under the kernel (0 where padding)
    kernel: np.ndarray  # (C, kh, kw)
    products: np.ndarray  # (C, kh, kw) patch * kernel
    channel_sums: np.ndarray  # (C,) sum of each input channel's products
    total: float  # sum of every product
    bias: float
    value: float  # total + bias
    in_channels: list[int] = field(default_factory=list)  # which input channels (the group's)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1

    def sum_text(self, limit: int = 9) -> str:
        """'1×1 + 1×0 + ... = 4' for a small kernel; a summary for a big one."""
        p, k = self.patch.ravel(), self.kernel.ravel()
        if p.size <= limit:
            terms = " + ".join(f"{fmt(a)}×{fmt(b)}" for a, b in zip(p, k, strict=True))
            return f"{terms} = {fmt(self.total)}"
        return f"sum of {p.size} products ({len(self.channel_sums)} channel(s) × {self.kernel.shape[1]}×" \
               f"{self.kernel.shape[2]}) = {fmt(self.total)}"


def positions(out: int, kernel: int, stride: int, pad: int, dilation: int, size: int) -> np.ndarray:
    """Input indices under each kernel cell for output index `out`; -1 where it falls in the padding."""
    idx = out * stride - pad + np.arange(kernel) * dilation
    return np.where((idx >= 0) & (idx < size), idx, -1)


def conv_cell(x: np.ndarray, kernel: np.ndarray, y: int, xo: int, stride: tuple[int, int] = (1, 1),
              padding: tuple[int, int] = (0, 0), dilation: tuple[int, int] = (1, 1), bias: float = 0.0,
              out_channel: int = 0, in_channels: list[int] | None = None, groups: int = 1) -> ConvCell:
    """The output cell (y, xo) of convolving x (C, H, W) with kernel (C, kh, kw) (cross-correlation, as
    every deep-learning library computes it), zero padding."""
    x = np.asarray(x, dtype=np.float64)
    k = np.asarray(kernel, dtype=np.float64)
    c, kh, kw = k.shape
    rows = positions(y, kh, stride[0], padding[0], dilation[0], x.shape[1])
    cols = positions(xo, kw, stride[1], padding[1], dilation[1], x.shape[2])
    patch = np.zeros((c, kh, kw))
    ok_r, ok_c = rows >= 0, cols >= 0
    patch[:, ok_r[:, None] & ok_c[None, :]] = x[:, rows[ok_r]][:, :, cols[ok_c]].reshape(c, -1)
    products = patch * k
    sums = products.reshape(c, -1).sum(axis=1)
    total = float(sums.sum())
    return ConvCell(out_channel, y, xo, rows, cols, patch, k, products, sums, total, float(bias),
                    total + float(bias), list(in_channels if in_channels is not None else range(c)),
                    tuple(stride), tuple(padding), tuple(dilation), groups)


def _padding(pad: object, kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """Numeric padding of a conv; 'same' pads d(k-1)//2 before (PyTorch puts an odd extra after)."""
    if pad == "valid":
        return (0, 0)
    if pad == "same":
        return ((dilation[0] * (kernel[0] - 1)) // 2, (dilation[1] * (kernel[1] - 1)) // 2)
    return pair(pad, 0)


def conv_unit(trace: Trace, node: Node, pos: tuple[int, ...]) -> Step:
    """The breakdown of output `pos` (0, c, y, x) of a convolution the model ran."""
    a = named_args(node)
    x_ref, w_ref, b_ref = a["input"], a["weight"], a.get("bias")
    if a.get("transposed"):
        raise NotImplementedError("transposed convolution")
    x = as_float64(trace.value(x_ref))[0].numpy()
    w = as_float64(trace.value(w_ref)).numpy()
    groups = int(a.get("groups", 1))
    kh, kw = int(w.shape[2]), int(w.shape[3])
    stride, dilation = pair(a.get("stride"), 1), pair(a.get("dilation"), 1)
    padding = _padding(a.get("padding"), (kh, kw), dilation)
    c, y, xo = int(pos[1]), int(pos[2]), int(pos[3])
    per_out, per_in = w.shape[0] // groups, w.shape[1]
    g = c // per_out
    chans = list(range(g * per_in, (g + 1) * per_in))
    bias = 0.0
    if isinstance(b_ref, Ref):
        bias = float(as_float64(trace.value(b_ref))[c])
    cell = conv_cell(x[chans], w[c], y, xo, stride, padding, dilation, bias, c, chans, groups)
    model = float(node.value[pos])
    what = ("depthwise " if groups > 1 and per_in == 1 else f"grouped ({groups} groups) " if groups > 1 else "")
    title = (f"{what}convolution {node.module or 'conv'}: {kh}×{kw}, stride {stride[0]}, padding {padding[0]}"
             + (f", dilation {dilation[0]}" if dilation != (1, 1) else ""))
    src = producer_label(trace, x_ref.node) if x_ref.node is not None else "a constant"
    notes = [f"input: {src} ({x.shape[0]}×{x.shape[1]}×{x.shape[2]})"]
    if groups > 1:
        notes.append(f"output channel {c} belongs to group {g} of {groups}: it reads input channels "
                     f"{chans[0]}..{chans[-1]} only" if per_in > 1 else
                     f"depthwise: output channel {c} reads input channel {chans[0]} only, with its own kernel")
    origin = _origin(trace, x_ref, chans)
    if origin:
        notes.append(origin)
    bias_name = f" + bias {fmt(bias)}" if isinstance(b_ref, Ref) else " (no bias)"
    formula = f"{cell.sum_text()}{bias_name} = {fmt(cell.value)}"
    return Step("conv", title[0].upper() + title[1:], node.module, formula, cell.value, model, None, cell, notes)


def _origin(trace: Trace, x_ref: Ref, chans: list[int]) -> str:
    """Where the conv's input channels come from when they are a selection of another tensor's
    (LeNet-5's C3 reads a table of S2 maps)."""
    if x_ref.node is None or len(chans) > 16:
        return ""
    node = trace.node(x_ref.node)
    if node.op != "index_select":
        return ""
    srcs = []
    for ch in chans:
        nid, pos, _ = through_movement(trace, x_ref.node, (0, ch, 0, 0))
        if nid is None:
            return ""
        srcs.append((nid, pos[1]))
    label = producer_label(trace, srcs[0][0])
    return f"these input channels are maps {', '.join(str(s[1]) for s in srcs)} of {label} (a connection table)"
