"""What each recorded aten op is to Learn: its arguments by name (the op schema's defaults filled in) and
its kind - data movement (view, cat, pad, dropout in eval), an element-wise step (activation, BatchNorm,
add/mul), or a computing op whose numbers are broken down (convolution, pooling, fully connected)."""

from __future__ import annotations

import math
from typing import Any

import torch

from explorer.learn.record import Node, Ref, Trace

MOVEMENT = {
    "detach", "clone", "flatten", "view", "_unsafe_view", "reshape", "expand", "transpose", "t", "permute",
    "contiguous", "chunk", "split", "split_with_sizes", "unbind", "squeeze", "unsqueeze", "pad", "constant_pad_nd",
    "index_select", "cat", "concat", "slice", "select", "narrow", "alias", "_to_copy", "to", "lift_fresh",
    "channel_shuffle", "pixel_shuffle", "reflection_pad2d", "replication_pad2d", "roll", "flip", "stack",
    "repeat", "expand_as", "view_as", "reshape_as", "unflatten", "movedim",
}
DROPOUT = {"dropout", "dropout_", "feature_dropout", "feature_dropout_", "alpha_dropout", "alpha_dropout_"}
UNARY = {
    "relu", "relu_", "relu6", "hardtanh", "hardtanh_", "silu", "silu_", "sigmoid", "sigmoid_", "tanh", "tanh_",
    "hardswish", "hardswish_", "hardsigmoid", "hardsigmoid_", "gelu", "gelu_", "elu", "elu_", "leaky_relu",
    "leaky_relu_", "clamp", "clamp_", "clamp_min", "clamp_min_", "clamp_max", "clamp_max_", "neg", "exp", "sqrt",
    "pow", "abs", "softplus", "mish", "mish_", "threshold", "threshold_", "selu", "selu_", "celu", "log",
}
BINARY = {"add", "add_", "sub", "sub_", "mul", "mul_", "div", "div_", "rsub"}
BATCH_NORM = {"batch_norm", "_native_batch_norm_legit_no_training", "native_batch_norm", "_batch_norm_impl_index"}
CONV = {"conv2d", "convolution", "_convolution"}
POOL = {"max_pool2d", "max_pool2d_with_indices", "avg_pool2d", "adaptive_avg_pool2d", "_adaptive_avg_pool2d",
        "adaptive_max_pool2d"}
LINEAR = {"linear", "addmm", "mm"}
MEAN = {"mean"}

ACTIVATION_TITLES = {
    "relu": "ReLU", "relu6": "ReLU6", "hardtanh": "Hardtanh", "silu": "SiLU (swish)", "sigmoid": "sigmoid",
    "tanh": "tanh", "hardswish": "hard-swish", "hardsigmoid": "hard-sigmoid", "gelu": "GELU", "elu": "ELU",
    "leaky_relu": "leaky ReLU", "clamp": "clamp", "clamp_min": "clamp", "clamp_max": "clamp", "neg": "negate",
    "exp": "exp", "sqrt": "square root", "pow": "power", "abs": "absolute value", "softplus": "softplus",
    "mish": "mish", "threshold": "threshold", "selu": "SELU", "celu": "CELU", "log": "log",
}


def base(op: str) -> str:
    """The op's name without the in-place underscore: 'relu_' -> 'relu'."""
    return op[:-1] if op.endswith("_") and not op.startswith("_") else op


def kind(node: Node) -> str:
    """movement | unary | binary | bn | conv | pool | linear | mean | input | other."""
    op = node.op
    if op == "input":
        return "input"
    if op in DROPOUT:
        return "movement" if not named_args(node).get("train", False) else "other"
    if op in MOVEMENT:
        return "movement"
    if op in UNARY:
        return "unary"
    if op in BINARY:
        return "binary"
    if op in BATCH_NORM:
        return "bn"
    if op in CONV:
        return "conv"
    if op in POOL:
        return "pool"
    if op in LINEAR:
        return "linear"
    if op in MEAN:
        return "mean"
    return "other"


def named_args(node: Node) -> dict[str, Any]:
    """The op's arguments by schema name, defaults filled in (tensors stay Refs)."""
    if node.func is None:
        return {}
    out: dict[str, Any] = {}
    for i, arg in enumerate(node.func._schema.arguments):
        if i < len(node.args):
            out[arg.name] = node.args[i]
        elif arg.name in node.kwargs:
            out[arg.name] = node.kwargs[arg.name]
        elif arg.has_default_value():
            out[arg.name] = arg.default_value
    return out


def scalar(trace: Trace, a: Any, pos: tuple[int, ...], out_shape: tuple[int, ...]) -> float | None:
    """The number an operand contributes at output position `pos` (broadcasting as torch does); None if
    the operand is not a number or tensor."""
    if isinstance(a, bool):
        return float(a)
    if isinstance(a, (int, float)):
        return float(a)
    if not isinstance(a, Ref):
        return None
    t = trace.value(a)
    return float(t[broadcast_pos(pos, tuple(t.shape), out_shape)])


def broadcast_pos(pos: tuple[int, ...], shape: tuple[int, ...], out_shape: tuple[int, ...]) -> tuple[int, ...]:
    """The position in a broadcast operand of `shape` that feeds output position `pos`."""
    lead = len(out_shape) - len(shape)
    return tuple(0 if shape[i] == 1 else pos[lead + i] for i in range(len(shape)))


def ref_label(trace: Trace, ref: Ref, index: tuple[int, ...] | None = None) -> str:
    """How a tensor argument reads in a formula: a parameter's path (with index), or the layer it came from."""
    if ref.node is None:
        name = ref.name or "a constant"
        if index is not None and ref.const is not None and ref.const.numel() > 1:
            flat = [i for i, s in zip(index, ref.const.shape, strict=False) if s > 1]
            name += f"[{', '.join(map(str, flat))}]" if flat else ""
        return name
    return producer_label(trace, ref.node)


def producer_label(trace: Trace, node_id: int) -> str:
    """The layer whose output is this node ('the network input' for the image)."""
    if node_id == trace.input_node:
        return "the input image"
    names = [lay for lay in trace.layers.values() if lay.node == node_id]
    if names:
        name = max(names, key=lambda lay: lay.depth).name
        return "the image after the letters adapter (adapter)" if name == "adapter" else name
    node = trace.node(node_id)
    return f"{node.op} in {node.module}" if node.module else node.op


def fmt(v: float) -> str:
    """A number as the formulas print it: whole numbers as they are, else 4 decimals (or 4 significant
    digits when very large or small); a minus sign, never '-0'."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "nan"
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    if v == round(v) and abs(v) < 1e5:  # whole numbers (the course's matrices, zero padding) as they are typed
        return str(int(round(v))).replace("-", "−")
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
        return f"{v:.4g}".replace("-", "−")
    s = f"{v:.4f}"
    if s in ("-0.0000", "0.0000"):
        return "0" if v == 0 else s.replace("-", "−")
    return s.replace("-", "−")


def as_float64(t: torch.Tensor) -> torch.Tensor:
    """A detached float64 CPU copy (recomputations run in float64)."""
    return t.detach().to("cpu", torch.float64)
