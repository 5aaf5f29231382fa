"""The seeds' conv arithmetic, computed on real layers of a summarised network.

* W_out = (W - F + 2P) / S + 1 (F taken as the dilated kernel d(F-1)+1; floor, or ceil for ceil-mode pools)
* the 1x1-bottleneck cost example (120M vs 12.4M multiplies) from a real Inception block
* the depthwise-separable cost ratio 1/N + 1/Dk^2 on a real depthwise + pointwise pair
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from explorer.inspect.summary import LayerRecord, Summary


@dataclass
class OutputSizeStep:
    """W_out = (W - F + 2P)/S + 1 worked out for one spatial dimension of one layer."""

    layer: str
    dim: str
    w_in: int
    kernel: int
    effective_kernel: int
    padding: int
    stride: int
    ceil_mode: bool
    exact: float
    w_out: int
    actual: int | None

    def formula(self) -> str:
        """The formula with the numbers filled in."""
        f = self.effective_kernel
        rnd = "ceil" if self.ceil_mode else "floor"
        return (f"{self.dim}_out = {rnd}(({self.w_in} - {f} + 2·{self.padding}) / {self.stride}) + 1 = "
                f"{rnd}({self.exact - 1:g}) + 1 = {self.w_out}")


def arithmetic_layers(summary: Summary) -> list[LayerRecord]:
    """Conv and pool layers of the summary that ran (those the formula applies to)."""
    return [r for r in summary.layers if r.config.get("kind") in ("conv", "pool") and r.called and r.input_shape]


def output_size(rec: LayerRecord) -> list[OutputSizeStep]:
    """Apply W_out = (W - F + 2P)/S + 1 to a conv/pool layer, for H and W, beside the actual shape."""
    cfg = rec.config
    if cfg.get("kind") not in ("conv", "pool") or not rec.input_shape:
        raise ValueError(f"{rec.name} ({rec.type}) is not a convolution or pooling layer")
    pad = cfg["padding"]
    if isinstance(pad, str):  # 'same' / 'valid' convs
        pad = [0, 0] if pad == "valid" else [(k - 1) // 2 for k in cfg["kernel"]]
    steps = []
    for i, dim in enumerate(("H", "W")):
        w_in = rec.input_shape[-2 + i]
        k, s, p, d = cfg["kernel"][i], cfg["stride"][i], pad[i], cfg["dilation"][i]
        f = d * (k - 1) + 1
        exact = (w_in - f + 2 * p) / s + 1
        ceil = bool(cfg.get("ceil_mode"))
        w_out = math.floor((w_in - f + 2 * p) / s) + 1
        if ceil:
            w_out = math.ceil((w_in - f + 2 * p) / s) + 1
            if (w_out - 1) * s >= w_in + p:  # PyTorch: the last window must start inside the input
                w_out -= 1
        actual = rec.output_shape[-2 + i] if rec.output_shape else None
        steps.append(OutputSizeStep(rec.name, dim, w_in, k, f, p, s, ceil, exact, w_out, actual))
    return steps


@dataclass
class BottleneckExample:
    """The seeds' 1x1-bottleneck example on a real Inception branch."""

    block: str
    h: int
    w: int
    c_in: int
    c_reduce: int
    c_out: int
    kernel: int
    direct: int  # multiplies of the kxk conv straight on the input
    reduce_cost: int
    conv_cost: int
    note: str = ""

    @property
    def bottleneck(self) -> int:
        """1x1 reduce + kxk conv."""
        return self.reduce_cost + self.conv_cost

    @property
    def saving(self) -> float:
        """How many times fewer multiplies the bottleneck needs."""
        return self.direct / self.bottleneck


def bottleneck_examples(summary: Summary, paper_kernels: dict[str, int] | None = None) -> list[BottleneckExample]:
    """Every Inception branch of the form 1x1 reduce -> kxk conv, with direct vs bottleneck cost.

    `paper_kernels` maps a branch name suffix to the kernel the paper draws for it: torchvision's
    GoogLeNet uses 3x3 in its '5x5' branch3 (a known deviation kept for weight compatibility), so
    for GoogLeNet the default computes branch3 at 5x5 as the paper and the seeds do, with a note.
    """
    if paper_kernels is None:
        paper_kernels = {"branch3": 5} if summary.model_name == "googlenet" else {}
    convs = [r for r in summary.layers if r.config.get("kind") == "conv" and r.called and r.output_shape]
    out = []
    for a, b in zip(convs, convs[1:], strict=False):
        ca, cb = a.config, b.config
        parent_a, parent_b = a.name.rsplit(".", 2)[0], b.name.rsplit(".", 2)[0]
        if parent_a != parent_b or ".branch" not in a.name or ca["kernel"] != [1, 1] or cb["kernel"][0] < 3:
            continue
        if cb["in_channels"] != ca["out_channels"] or ca["groups"] != 1 or cb["groups"] != 1:
            continue
        h, w = b.output_shape[-2], b.output_shape[-1]
        real_k = cb["kernel"][0]
        block = re.sub(r"(\.branch[^.]*).*$", r"\1", a.name)
        kernel = next((k for suffix, k in paper_kernels.items() if block.endswith(suffix)), None)
        k = kernel or real_k
        c_in, c_red, c_out = ca["in_channels"], ca["out_channels"], cb["out_channels"]
        note = ""
        if kernel and real_k != kernel:
            note = (f"This block really uses a {real_k}x{real_k} kernel ({real_k}x{real_k}: "
                    f"{h * w * c_out * real_k * real_k * c_red / 1e6:.1f}M multiplies after the 1x1); "
                    f"the paper's figure uses {kernel}x{kernel}.")
        out.append(BottleneckExample(
            block=block, h=h, w=w, c_in=c_in, c_reduce=c_red, c_out=c_out, kernel=k,
            direct=h * w * c_out * k * k * c_in, reduce_cost=h * w * c_red * c_in, conv_cost=h * w * c_out * k * k * c_red,
            note=note,
        ))
    return out


@dataclass
class SeparableExample:
    """Depthwise (Dk x Dk, M channels) + pointwise (M -> N) vs a standard Dk x Dk conv M -> N."""

    depthwise: str
    pointwise: str
    dk: int
    m: int
    n: int
    df: int
    depthwise_macs: int
    pointwise_macs: int

    @property
    def standard_macs(self) -> int:
        """Dk·Dk·M·N·Df·Df."""
        return self.dk * self.dk * self.m * self.n * self.df * self.df

    @property
    def ratio(self) -> float:
        """Measured (depthwise + pointwise) / standard."""
        return (self.depthwise_macs + self.pointwise_macs) / self.standard_macs

    @property
    def formula_ratio(self) -> float:
        """1/N + 1/Dk^2."""
        return 1 / self.n + 1 / self.dk**2


def separable_examples(summary: Summary) -> list[SeparableExample]:
    """Each depthwise conv followed (in execution order) by a 1x1 conv, with measured MACs."""
    convs = [r for r in summary.layers if r.config.get("kind") == "conv" and r.called and r.output_shape]
    out = []
    for a, b in zip(convs, convs[1:], strict=False):
        ca, cb = a.config, b.config
        depthwise = ca["groups"] == ca["in_channels"] and ca["groups"] > 1 and ca["kernel"][0] > 1
        if not depthwise or cb["kernel"] != [1, 1] or cb["groups"] != 1 or cb["in_channels"] != ca["out_channels"]:
            continue
        if b.input_shape and a.output_shape and b.input_shape[-1] != a.output_shape[-1]:
            continue
        df = b.output_shape[-1]
        bs = summary.batch_size
        out.append(SeparableExample(a.name, b.name, ca["kernel"][0], ca["in_channels"], cb["out_channels"], df,
                                    a.macs // bs, b.macs // bs))
    return out
