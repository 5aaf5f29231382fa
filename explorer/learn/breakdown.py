"""Follow one number: how the unit (channel, row, column) of a layer's output came about, as the model
really computed it.

From the layer's recorded output the walk goes back through the ops that produced it - data movement
(views, concatenation: which input channel it is), element-wise steps (activation, BatchNorm, a residual
addition, a bias or a scale) - to the op that computed it from many numbers (convolution, pooling, fully
connected layer, global mean). Then the number is recomputed forwards: the computing op from its recorded
input and the layer's weights, each later step applied to the recomputed number (the other operand of an
addition is the number the shortcut carries). The result is checked against the model's own activation.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import torch

from explorer.learn import ops
from explorer.learn.conv import conv_unit
from explorer.learn.errors import LearnError
from explorer.learn.linear import linear_unit
from explorer.learn.ops import fmt, kind, named_args, ref_label
from explorer.learn.pooling import mean_unit, pool_unit
from explorer.learn.record import Layer, Node, Ref, Trace
from explorer.learn.route import source
from explorer.learn.step import Step

TOLERANCE = 1e-4  # |recomputed - model| <= TOLERANCE * max(1, |model|)
CORE = {"conv": conv_unit, "pool": pool_unit, "linear": linear_unit, "mean": mean_unit}


@dataclass
class Breakdown:
    """Every step from the computing op to the chosen unit, and the check against the model."""

    model_name: str
    layer: str
    layer_type: str
    unit: tuple[int, ...]
    shape: tuple[int, ...]
    steps: list[Step]
    value: float  # recomputed
    model: float  # the model's activation at the unit
    notes: list[str] = field(default_factory=list)

    @property
    def difference(self) -> float:
        """|recomputed - model|."""
        return abs(self.value - self.model)

    @property
    def ok(self) -> bool:
        """The recomputed number equals the model's within TOLERANCE (relative above 1)."""
        return self.difference <= TOLERANCE * max(1.0, abs(self.model))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"model": self.model_name, "layer": self.layer, "layer_type": self.layer_type,
                "unit": list(self.unit), "shape": list(self.shape), "value": self.value, "model_value": self.model,
                "difference": self.difference, "equal": self.ok, "tolerance": TOLERANCE, "notes": self.notes,
                "steps": [s.to_dict() for s in self.steps]}


def resolve_layer(trace: Trace, name: str) -> Layer:
    """The layer called `name` ('conv1' also finds 'net.conv1'); a LearnError lists close names."""
    for cand in (name, f"net.{name}"):
        if cand in trace.layers:
            return trace.layers[cand]
    names = [lay.name for lay in trace.ordered()]
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5) or difflib.get_close_matches(
        f"net.{name}", names, n=5, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    sample = ", ".join(lay.name for lay in trace.spatial_layers()[:6])
    raise LearnError(f"no layer named {name!r} in {trace.model_name}.{hint} Layers with channel maps include: "
                     f"{sample}, ... (`explorer learn MODEL --list-layers` lists them all)")


def check_unit(layer: Layer, unit: tuple[int, ...]) -> tuple[int, ...]:
    """The unit as a position in the layer's output; a LearnError says what fits."""
    shape = layer.shape
    if layer.spatial:
        if len(unit) != 3:
            raise LearnError(f"layer {layer.name} outputs {_shape(shape)} channel maps: give the unit as C,Y,X "
                             f"(channel 0..{shape[0] - 1}, row 0..{shape[1] - 1}, column 0..{shape[2] - 1})")
    elif layer.vector:
        if len(unit) != 1:
            raise LearnError(f"layer {layer.name} ({layer.type}) has no spatial output: it outputs {shape[0]} "
                             f"numbers. Give the unit as one index K from 0 to {shape[0] - 1}.")
    else:
        raise LearnError(f"layer {layer.name} ({layer.type}) outputs {_shape(shape) or 'a scalar'}, neither channel "
                         "maps nor a vector of numbers; choose another layer")
    for name, v, n in zip(("channel", "row", "column") if layer.spatial else ("unit",), unit, shape, strict=True):
        if not 0 <= v < n:
            raise LearnError(f"{name} {v} is outside layer {layer.name}'s output {_shape(shape)}: "
                             f"{name}s run from 0 to {n - 1}")
    return (0, *unit)


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def follow(trace: Trace, layer_name: str, unit: tuple[int, ...]) -> Breakdown:
    """How unit `unit` ((C, Y, X) of a map, or (K,) of a vector) of layer `layer_name` came about."""
    layer = resolve_layer(trace, layer_name)
    pos = check_unit(layer, tuple(int(u) for u in unit))
    plan, core = _walk(trace, layer.node, pos)
    steps = [core]
    value = core.value
    for node, p, extra in reversed(plan):
        step = _forward(trace, node, p, value, extra)
        steps.append(step)
        value = step.value
    model = float(trace.node(layer.node).value[pos])
    notes = []
    if layer.calls > 1:
        notes.append(f"{layer.name} runs {layer.calls} times in one forward pass; this is its first call")
    return Breakdown(trace.model_name, layer.name, layer.type, tuple(pos[1:]), layer.shape, steps, value, model,
                     notes)


def _walk(trace: Trace, node_id: int, pos: tuple[int, ...]) -> tuple[list[tuple[Node, tuple, Any]], Step]:
    """Back from (node, pos) to the computing op: the element-wise steps passed (last first) and the core."""
    plan: list[tuple[Node, tuple, Any]] = []
    while True:
        node = trace.node(node_id)
        k = kind(node)
        if k == "movement":
            src = source(trace, node, pos)
            if src.node is None:
                return plan, Step("input", f"Padding added by {node.op}", node.module, "a constant 0", 0.0,
                                  float(node.value[pos]))
            if src.concat:
                plan.append((node, pos, ("concat", src)))
            node_id, pos = src.node, src.pos
            continue
        if k in ("unary", "bn"):
            plan.append((node, pos, None))
            node_id = _first_node_arg(node)
            continue
        if k == "binary":
            main = _main_operand(trace, node)
            if main is not None:
                plan.append((node, pos, main))
                ref = named_args(node)[main]
                pos = ops.broadcast_pos(pos, tuple(trace.value(ref).shape), tuple(node.value.shape))
                node_id = ref.node
                continue
        if k == "input":
            return plan, _input_step(trace, node, pos)
        if k in CORE:
            try:
                return plan, CORE[k](trace, node, pos)
            except NotImplementedError:
                pass
        return plan, _generic(trace, node, pos)


def _first_node_arg(node: Node) -> int:
    for r in node.inputs():
        if r.node is not None:
            return r.node
    raise LearnError(f"op {node.op} has no recorded input")


def _main_operand(trace: Trace, node: Node) -> str | None:
    """The operand of an element-wise binary op that carries the unit's own computation.

    A residual `out + identity` has two recorded operands of the output's shape: the one computed inside
    the module running the addition is the branch (the identity comes from outside it); otherwise the
    first (torchvision's `out += identity`). A product or quotient follows its first operand (x / norm in
    LocalResponseNorm). A broadcast operand (a bias, an SE gate) is never the branch."""
    args = named_args(node)
    cands = [(name, a) for name, a in args.items() if isinstance(a, Ref) and a.node is not None]
    if not cands:
        return None
    full = [c for c in cands if tuple(trace.value(c[1]).shape) == tuple(node.value.shape)] or cands
    if ops.base(node.op) in ("mul", "div"):  # x / norm (LocalResponseNorm), x * gate: the first operand
        return full[0][0]
    inner = node.module
    inside = [c for c in full if inner and inner in trace.node(c[1].node).stack]
    return (inside or full)[0][0]


def _input_step(trace: Trace, node: Node, pos: tuple[int, ...]) -> Step:
    v = float(node.value[pos])
    where = f"row {pos[-2]}, column {pos[-1]}" if len(pos) == 4 else f"position {pos[1:]}"
    return Step("input", "The input image", "", f"pixel at {where} = {fmt(v)} (0 = dark, 1 = ink)", v, v)


def _generic(trace: Trace, node: Node, pos: tuple[int, ...]) -> Step:
    """An op Learn has no breakdown for: recomputed by running it again on its recorded inputs."""
    args = _materialize(trace, node.args)
    kwargs = _materialize(trace, node.kwargs)
    with torch.inference_mode():
        out = node.func(*args, **kwargs)
    outs = out if isinstance(out, (tuple, list)) else [out]
    tensors = [t for t in outs if isinstance(t, torch.Tensor)]
    v = float(tensors[min(node.out_index, len(tensors) - 1)][pos])
    return Step("op", f"{node.op} in {node.module or 'the network'}", node.module,
                f"{node.op}(…) = {fmt(v)} (PyTorch's op run again on its recorded inputs; no step-by-step view)",
                v, float(node.value[pos]))


def _materialize(trace: Trace, obj: Any) -> Any:
    from torch.utils._pytree import tree_map

    return tree_map(lambda a: trace.value(a) if isinstance(a, Ref) else a, obj)


def _forward(trace: Trace, node: Node, pos: tuple[int, ...], v: float, extra: Any) -> Step:
    """Apply one element-wise step to the recomputed number `v`."""
    model = float(node.value[pos])
    k = kind(node)
    if isinstance(extra, tuple) and extra[0] == "concat":
        src = extra[1]
        label = ops.producer_label(trace, src.node)
        return Step("concat", "Concatenation", node.module,
                    f"channel {pos[1]} of the concatenation is channel {src.pos[1]} of {label}: {fmt(v)}",
                    v, model, v)
    if k == "bn":
        return _bn_step(trace, node, pos, v, model)
    if k == "unary":
        return _unary_step(node, pos, v, model)
    return _binary_step(trace, node, pos, v, model, extra)


def _bn_step(trace: Trace, node: Node, pos: tuple[int, ...], v: float, model: float) -> Step:
    a = named_args(node)
    c = int(pos[1]) if len(pos) > 1 else 0
    if a.get("training"):
        raise LearnError("BatchNorm ran in training mode; Learn follows the model in eval mode")

    def chan(name: str, default: float) -> float:
        r = a.get(name)
        return float(trace.value(r).reshape(-1)[c]) if isinstance(r, Ref) else default

    mean, var, gamma, beta = chan("running_mean", 0.0), chan("running_var", 1.0), chan("weight", 1.0), chan("bias", 0.0)
    eps = float(a.get("eps", 1e-5))
    out = (v - mean) / (var + eps) ** 0.5 * gamma + beta
    formula = (f"(x − μ) / √(σ² + ε) · γ + β = ({fmt(v)} − {fmt(mean)}) / √({fmt(var)} + {eps:g}) · {fmt(gamma)} "
               f"+ {fmt(beta)} = {fmt(out)}")
    return Step("bn", f"BatchNorm {node.module or ''} (channel {c}: running mean μ, variance σ², scale γ, shift β)".replace("  ", " "),
                node.module, formula, out, model, v)


ACT_FORMULA = {
    "relu": "max(0, {v})", "relu6": "min(max(0, {v}), 6)", "silu": "{v} · σ({v}) = {v} / (1 + e^−{v})",
    "sigmoid": "1 / (1 + e^−{v})", "tanh": "tanh({v})", "hardswish": "{v} · min(max({v} + 3, 0), 6) / 6",
    "hardsigmoid": "min(max({v} + 3, 0), 6) / 6", "gelu": "{v} · Φ({v})", "exp": "e^{v}", "neg": "−{v}",
}


def _unary_step(node: Node, pos: tuple[int, ...], v: float, model: float) -> Step:
    name = ops.base(node.op)
    a = named_args(node)
    args = [torch.tensor([v], dtype=torch.float64) if isinstance(x, Ref) else x for x in node.args]
    with torch.inference_mode():
        out = float(node.func(*args, **node.kwargs)[0])
    vs = fmt(v)
    if name == "hardtanh":
        lo, hi = float(a.get("min_val", -1)), float(a.get("max_val", 1))
        title = "ReLU6" if (lo, hi) == (0.0, 6.0) else "Hardtanh"
        expr = f"min(max({vs}, {lo:g}), {hi:g})"
    elif name in ("clamp", "clamp_min", "clamp_max"):
        title = "clamp"
        lo, hi = a.get("min"), a.get("max")
        expr = f"clamp({vs}, {lo if lo is not None else '−∞'}, {hi if hi is not None else '∞'})"
    elif name == "leaky_relu":
        title, expr = "leaky ReLU", f"max(0, {vs}) + {float(a.get('negative_slope', 0.01)):g} · min(0, {vs})"
    elif name == "pow":
        title, expr = "power", f"{vs}^{a.get('exponent')}"
    else:
        title = ops.ACTIVATION_TITLES.get(name, name)
        expr = ACT_FORMULA.get(name, f"{name}({{v}})").format(v=vs)
    return Step("activation", f"{title} {node.module}".strip(), node.module, f"{expr} = {fmt(out)}", out, model, v)


def _binary_step(trace: Trace, node: Node, pos: tuple[int, ...], v: float, model: float, main: str) -> Step:
    a = named_args(node)
    out_shape = tuple(node.value.shape)
    vals: dict[str, float] = {}
    call: list[Any] = []
    kw: dict[str, Any] = {}
    for i, arg in enumerate(node.func._schema.arguments):
        if i >= len(node.args) and arg.name not in node.kwargs:
            continue
        x = a.get(arg.name)
        if arg.name == main:
            x = torch.tensor([v], dtype=torch.float64)
        elif isinstance(x, Ref):
            vals[arg.name] = ops.scalar(trace, x, pos, out_shape)
            x = torch.tensor([vals[arg.name]], dtype=torch.float64)
        if arg.kwarg_only or i >= len(node.args):
            kw[arg.name] = x
        else:
            call.append(x)
    with torch.inference_mode():
        out = float(node.func(*call, **kw)[0])
    name = ops.base(node.op)
    other_name = next((n for n in ("self", "other") if n != main), "other")
    other = a.get(other_name)
    sym = {"add": "+", "sub": "−", "mul": "×", "div": "÷", "rsub": "−"}[name]
    alpha = a.get("alpha", 1)
    if isinstance(other, Ref) and other.node is not None and tuple(trace.value(other).shape) == out_shape:
        label = ref_label(trace, other)
        ov = vals[other_name]
        if name == "add":
            src = "the block's input (identity shortcut)" if node.module and node.module not in trace.node(
                other.node).stack else f"the output of {label} (projection shortcut)"
            return Step("residual", f"Residual addition {node.module}".strip(), node.module,
                        f"{fmt(v)} + {fmt(ov)} = {fmt(out)}", out, model, v,
                        notes=[f"the shortcut carries {fmt(ov)}: {src}, from {label}"])
        expr = f"{fmt(v)} {sym} {fmt(ov)}" if main == "self" else f"{fmt(ov)} {sym} {fmt(v)}"
        return Step("op", f"{name} with {label}", node.module, f"{expr} = {fmt(out)}", out, model, v)
    if isinstance(other, Ref):
        ov = vals[other_name]
        idx = ops.broadcast_pos(pos, tuple(trace.value(other).shape), out_shape)
        label = ref_label(trace, other, idx)
        if other.node is not None:
            what = f"× {fmt(ov)}, the gate of channel {pos[1]} from {label}" if name == "mul" else f"{sym} {fmt(ov)} from {label}"
            title = "Channel gate (squeeze-and-excitation)" if name == "mul" else f"{name} {label}"
            return Step("scale", title, node.module, f"{fmt(v)} {what} = {fmt(out)}", out, model, v)
    else:
        ov = float(other) if isinstance(other, (int, float)) else 0.0
        label = f"{ov:g}"
    scaled = f"{alpha:g}·" if alpha not in (1, None) else ""
    expr = f"{fmt(v)} {sym} {scaled}{fmt(ov)}" if main == "self" else f"{fmt(ov)} {sym} {fmt(v)}"
    title = {"add": "Add", "sub": "Subtract", "mul": "Multiply by", "div": "Divide by", "rsub": "Subtract from"}[name]
    return Step("scale", f"{title} {label}", node.module, f"{expr} = {fmt(out)}", out, model, v)
