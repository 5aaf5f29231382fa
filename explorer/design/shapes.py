"""Every layer's output shape of a design, worked out with the course's formula W_out = (W - F + 2P)/S + 1 before
anything is built, plus its parameters and MACs by arithmetic (to bound a design before allocating it; the
builder page shows the inspector's counts of the built network). A layer that cannot follow the one before is
named with the reason and a fix, and the check stops there.

Shapes are (C, H, W) volumes or (F,) vectors; every design is square (square input, square kernels)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from explorer.design.sizes import SizeFit
from explorer.design.spec import Design, layer_title

MAX_ACTIVATION = 1 << 22  # numbers in one layer's output for one image (16 MB of float32)
MAX_PARAMS = 50_000_000
CLASSIFIER = "classifier"

_MODULE_PREFIX = {"conv": "conv", "batchnorm": "bn", "maxpool": "pool", "avgpool": "pool",
                  "adaptive_avgpool": "apool", "adaptive_maxpool": "apool", "dropout": "drop", "flatten": "flatten",
                  "linear": "fc", "residual": "res", "inception": "inc"}


@dataclass(frozen=True)
class Row:
    """One layer of a design as the builder's table shows it."""

    index: int  # 1-based position in the design; 0 for the input, len(layers) + 1 for the classifier
    kind: str  # a layer type, "input" or "classifier"
    label: str  # the course's notation: "CONV 5x5, 16, S1, P2"
    module: str  # the module's name in the built network ("" for the input)
    in_shape: tuple[int, ...] | None
    out_shape: tuple[int, ...] | None
    formulas: tuple[str, ...] = ()
    params: int = 0
    macs: int = 0  # multiply-accumulates of conv and linear layers (what the inspector counts)
    problem: str = ""
    fix: str = ""

    @property
    def message(self) -> str:
        """'layer 3 (MAX POOL 2x2, S2): <reason>. Fix: <fix>.' ("" when the layer fits)."""
        if not self.problem:
            return ""
        where = "the classifier" if self.kind == CLASSIFIER else f"layer {self.index} ({self.label})"
        fix = f" Fix: {self.fix}." if self.fix else ""
        return f"{where}: {self.problem}.{fix}"


@dataclass(frozen=True)
class Check:
    """A design checked for one class count: a row per layer (input first, classifier last)."""

    design: Design
    num_classes: int
    in_chans: int
    rows: tuple[Row, ...]

    @property
    def ok(self) -> bool:
        """True when every layer fits (and the network can be built)."""
        return not any(r.problem for r in self.rows) and len(self.rows) == len(self.design.layers) + 2

    @property
    def error(self) -> Row | None:
        """The first layer that does not fit."""
        return next((r for r in self.rows if r.problem), None)

    @property
    def params(self) -> int:
        """Parameters of the layers checked so far."""
        return sum(r.params for r in self.rows)

    @property
    def macs(self) -> int:
        """MACs of the layers checked so far (conv and linear)."""
        return sum(r.macs for r in self.rows)

    def raise_for_error(self) -> None:
        """DesignError with the first problem's message; nothing when the design fits."""
        from explorer.design.spec import DesignError

        if self.error is not None:
            raise DesignError(f"design {self.design.name!r}: {self.error.message}")


def shape_text(shape: tuple[int, ...] | None) -> str:
    """(16, 28, 28) -> '28×28×16' (the course's W×H×D); (1568,) -> '1568'."""
    if shape is None:
        return "—"
    if len(shape) == 3:
        c, h, w = shape
        return f"{w}×{h}×{c}"
    return str(shape[0])


def layer_label(layer: dict[str, Any], num_classes: int | None = None) -> str:
    """The course's notation for a layer: 'CONV 5x5, 16, S1, P2', 'MAX POOL 2x2, S2', 'FC 120'."""
    k = layer["type"]
    if k == "conv":
        extra = "".join(f", {tag}{layer[key]}" for key, tag in (("dilation", "D"), ("groups", "G")) if layer[key] != 1)
        return f"CONV {layer['kernel']}x{layer['kernel']}, {layer['filters']}, S{layer['stride']}, " \
               f"P{layer['padding']}{extra}"
    if k in ("maxpool", "avgpool"):
        pad = f", P{layer['padding']}" if layer["padding"] else ""
        return f"{k[:3].upper()} POOL {layer['kernel']}x{layer['kernel']}, S{layer['stride']}{pad}"
    if k.startswith("adaptive_"):
        return f"ADAPTIVE {k[9:12].upper()} POOL → {layer['size']}x{layer['size']}"
    if k == "batchnorm":
        return "BATCH NORM"
    if k == "leakyrelu":
        return f"LeakyReLU {layer['slope']:g}"
    if k in ("relu", "tanh", "sigmoid", "gelu"):
        return layer_title(k)
    if k == "dropout":
        return f"DROPOUT {layer['p']:g}"
    if k == "flatten":
        return "FLATTEN"
    if k == "linear":
        return f"FC {layer['features']}"
    if k == "residual":
        return f"RESIDUAL 3x3, {layer['filters']}, S{layer['stride']}"
    if k == "inception":
        r3 = f" ({layer['reduce3']}→)" if layer["reduce3"] else ""
        r5 = f" ({layer['reduce5']}→)" if layer["reduce5"] else ""
        return f"INCEPTION 1x1 {layer['b1']}, 3x3{r3} {layer['b3']}, 5x5{r5} {layer['b5']}, pool {layer['pool']}"
    return k


def module_names(design: Design) -> list[str]:
    """The module name of each layer in the built network: conv1, bn1, relu1, pool1, ..., fc1, res1, inc1."""
    counts: dict[str, int] = {}
    names = []
    for layer in design.layers:
        prefix = _MODULE_PREFIX.get(layer["type"], layer["type"])
        counts[prefix] = counts.get(prefix, 0) + 1
        names.append(f"{prefix}{counts[prefix]}")
    return names


def _n(v: int) -> str:
    return str(v).replace("-", "−")


def _volume_needed(kind: str, shape: tuple[int, ...]) -> tuple[str, str]:
    what = {"batchnorm": "BatchNorm2d normalises each channel of a C×H×W volume",
            "conv": "a convolution slides over a C×H×W volume"}.get(kind, f"{layer_title(kind)} works on a C×H×W volume")
    return (f"{what}, but its input is the flat vector of {shape[0]} numbers",
            "move it before the Flatten (or remove the Flatten)")


def _conv(layer: dict[str, Any], shape: tuple[int, int, int]) -> tuple[tuple[int, ...], tuple[str, ...], int, int, str, str]:
    c, h, _ = shape
    k, s, p, d, g, f = (layer[x] for x in ("kernel", "stride", "padding", "dilation", "groups", "filters"))
    if c % g or f % g:
        common = [x for x in range(1, min(c, f) + 1) if c % x == 0 and f % x == 0]
        return shape, (), 0, 0, (f"channels do not match: groups={g} must divide both the {c} input channels and the "
                                 f"{f} filters"), f"use groups {', '.join(map(str, common[-4:]))}"
    fit = SizeFit(h, k, p, s, d)
    formula = fit.formula("W")
    if fit.numerator < 0:
        return shape, (formula,), 0, 0, (f"the kernel covers {fit.span} cells but the padded input has only "
                                         f"{h + 2 * p}: the output size would be {_n(fit.numerator // s + 1)}"), \
            f"use a kernel of at most {h + 2 * p} cells, or padding {max(p, (fit.span - h + 1) // 2)}"
    if not fit.fits:
        return shape, (formula,), 0, 0, f"{formula} is not a whole number of steps", fit.advice()
    out = (f, fit.out, fit.out)
    params = f * (c // g) * k * k + (f if layer["bias"] else 0)
    return out, (formula,), params, fit.out * fit.out * f * (c // g) * k * k, "", ""


def _pool(layer: dict[str, Any], shape: tuple[int, int, int]) -> tuple[tuple[int, ...], tuple[str, ...], str, str]:
    c, h, _ = shape
    k, s, p = layer["kernel"], layer["stride"], layer["padding"]
    fit = SizeFit(h, k, p, s)
    formula = fit.formula("W", pool=True)
    if p > k // 2:
        return shape, (formula,), f"padding {p} is more than half the {k}x{k} window", \
            f"use padding at most {k // 2} (PyTorch's rule for pooling)"
    if fit.numerator < 0:
        return shape, (formula,), f"the {k}x{k} window is larger than the {h + 2 * p}-cell input", \
            f"use a window of at most {h + 2 * p}"
    if not fit.fits:
        return shape, (formula,), f"{formula} is not a whole number of steps", fit.advice(max_p=k // 2)
    return (c, fit.out, fit.out), (formula,), "", ""


def _residual(layer: dict[str, Any], shape: tuple[int, int, int]) -> tuple[tuple[int, ...], tuple[str, ...], int, int]:
    c, h, _ = shape
    f, s = layer["filters"], layer["stride"]
    fit = SizeFit(h, 3, 1, s)
    out = fit.out
    floor = "" if fit.fits else f" → {out} (floored, as ResNet does)"
    formulas = [f"3x3 conv: {fit.formula('W')}{floor}", f"3x3 conv: W_out = ({out} − 3 + 2(1))/1 + 1 = {out}"]
    params = c * f * 9 + 2 * f + f * f * 9 + 2 * f
    macs = out * out * f * (c * 9 + f * 9)
    if s != 1 or c != f:
        proj = SizeFit(h, 1, 0, s)
        formulas.append(f"shortcut 1x1 conv (the shapes change): {proj.formula('W', pool=True)}"
                        + ("" if proj.fits else f" → {proj.out}"))
        params += c * f + 2 * f
        macs += out * out * f * c
    else:
        formulas.append("shortcut: the input as it is (same shape), added to the convs' output")
    return (f, out, out), tuple(formulas), params, macs


def _inception(layer: dict[str, Any], shape: tuple[int, int, int]) -> tuple[tuple[int, ...], tuple[str, ...], int, int]:
    c, h, _ = shape
    hw = h * h
    params = macs = 0
    parts = []
    for key, k, red in (("b1", 1, 0), ("b3", 3, layer["reduce3"]), ("b5", 5, layer["reduce5"]), ("pool", 1, 0)):
        n, cin = layer[key], c
        if red:
            params += c * red + red
            macs += hw * red * c
            cin = red
        params += cin * n * k * k + n
        macs += hw * n * cin * k * k
        parts.append(str(n))
    out_c = sum(layer[k] for k in ("b1", "b3", "b5", "pool"))
    formulas = (f"every branch keeps {h}×{h}: 3x3 with P1 and 5x5 with P2 give W_out = ({h} − 3 + 2(1))/1 + 1 = "
                f"({h} − 5 + 2(2))/1 + 1 = {h}", f"channels concatenated: {' + '.join(parts)} = {out_c}")
    return (out_c, h, h), formulas, params, macs


def _big(shape: tuple[int, ...]) -> bool:
    size = 1
    for v in shape:
        size *= v
    return size > MAX_ACTIVATION


def _flat(shape: tuple[int, ...]) -> int:
    size = 1
    for v in shape:
        size *= v
    return size


def check(design: Design, num_classes: int = 26, in_chans: int = 1) -> Check:
    """Work out every layer's output (the course's formula), parameters and MACs; stop at the first that does not fit."""
    side = design.input_size
    shape: tuple[int, ...] = (in_chans, side, side)
    rows = [Row(0, "input", f"INPUT {side}×{side}×{in_chans}", "", None, shape)]
    names = module_names(design)
    total = 0
    for i, (layer, module) in enumerate(zip(design.layers, names, strict=True), start=1):
        row = _row(i, layer, layer_label(layer), module, shape)
        total += row.params
        if not row.problem and row.out_shape is not None and _big(row.out_shape):
            row = _fail(row, f"its output {shape_text(row.out_shape)} has {_flat(row.out_shape):,} numbers per image, "
                             f"more than this app trains ({MAX_ACTIVATION:,})", "use fewer filters or a larger stride")
        elif not row.problem and total > MAX_PARAMS:
            row = _fail(row, f"the design reaches {total:,} parameters, more than this app trains "
                             f"({MAX_PARAMS:,})", "use fewer filters or features")
        rows.append(row)
        if row.problem:
            return Check(design, num_classes, in_chans, tuple(rows))
        shape = row.out_shape or shape
    rows.append(_classifier(len(design.layers) + 1, shape, num_classes))
    if not rows[-1].problem and total + rows[-1].params > MAX_PARAMS:
        rows[-1] = _fail(rows[-1], f"the design reaches {total + rows[-1].params:,} parameters, more than this app "
                                   f"trains ({MAX_PARAMS:,})", "pool or shrink the volume before the classifier")
    return Check(design, num_classes, in_chans, tuple(rows))


def _fail(row: Row, problem: str, fix: str) -> Row:
    return Row(row.index, row.kind, row.label, row.module, row.in_shape, None, row.formulas, row.params, row.macs,
               problem, fix)


def _classifier(index: int, shape: tuple[int, ...], num_classes: int) -> Row:
    label = f"FC → {num_classes} classes"
    if len(shape) != 1:
        return Row(index, CLASSIFIER, label, CLASSIFIER, shape, None, (),
                   problem=f"it is a Linear layer and needs a flat vector, but the last layer gives the volume "
                           f"{shape_text(shape)}", fix="add a Flatten at the end (or an adaptive pool, then Flatten)")
    n = shape[0]
    return Row(index, CLASSIFIER, label, CLASSIFIER, shape, (num_classes,),
               (f"{n} inputs × {num_classes} classes + {num_classes} biases = {n * num_classes + num_classes:,} "
                "parameters",), n * num_classes + num_classes, n * num_classes)


def _row(i: int, layer: dict[str, Any], label: str, module: str, shape: tuple[int, ...]) -> Row:
    kind = layer["type"]
    flat = len(shape) == 1
    if kind in ("conv", "batchnorm", "maxpool", "avgpool", "adaptive_avgpool", "adaptive_maxpool", "residual",
                "inception", "flatten") and flat:
        if kind == "flatten":
            return Row(i, kind, label, module, shape, shape, ("already flat: Flatten changes nothing",))
        problem, fix = _volume_needed(kind, shape)
        return Row(i, kind, label, module, shape, None, problem=problem, fix=fix)
    if kind == "conv":
        out, formulas, params, macs, problem, fix = _conv(layer, shape)  # type: ignore[arg-type]
        if problem:
            return Row(i, kind, label, module, shape, None, formulas, problem=problem, fix=fix)
        return Row(i, kind, label, module, shape, out, formulas, params, macs)
    if kind in ("maxpool", "avgpool"):
        out, formulas, problem, fix = _pool(layer, shape)  # type: ignore[arg-type]
        return Row(i, kind, label, module, shape, None if problem else out, formulas, problem=problem, fix=fix)
    if kind.startswith("adaptive_"):
        c, h, _ = shape
        size = layer["size"]
        if size > h:
            return Row(i, kind, label, module, shape, None, problem=f"it cannot pool the {h}×{h} map up to "
                       f"{size}×{size}", fix=f"use an output side of at most {h}")
        return Row(i, kind, label, module, shape, (c, size, size),
                   (f"W_out = {size} whatever W is: windows of about {h}/{size} cells",))
    if kind == "batchnorm":
        c = shape[0]
        return Row(i, kind, label, module, shape, shape, (f"a scale and a shift per channel: 2 × {c}",), 2 * c)
    if kind == "flatten":
        c, h, w = shape
        return Row(i, kind, label, module, shape, (c * h * w,), (f"{w} × {h} × {c} = {c * h * w:,}",))
    if kind == "linear":
        if not flat:
            return Row(i, kind, label, module, shape, None,
                       problem=f"a Linear layer needs a flat vector, but its input is the volume {shape_text(shape)}",
                       fix="add a Flatten before it")
        n, m = shape[0], layer["features"]
        return Row(i, kind, label, module, shape, (m,), (f"{n} × {m} + {m} biases = {n * m + m:,} parameters",),
                   n * m + m, n * m)
    if kind == "residual":
        out, formulas, params, macs = _residual(layer, shape)  # type: ignore[arg-type]
        return Row(i, kind, label, module, shape, out, formulas, params, macs)
    if kind == "inception":
        out, formulas, params, macs = _inception(layer, shape)  # type: ignore[arg-type]
        return Row(i, kind, label, module, shape, out, formulas, params, macs)
    return Row(i, kind, label, module, shape, shape, ("the shape is unchanged",))  # activations, dropout
