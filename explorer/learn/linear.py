"""A fully connected unit (its largest contributions x_j·w_kj, their sum and the bias) and the output layer's
softmax with the model's real logits: p_k = e^(z_k) / Σ_j e^(z_j), summing to 1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from explorer.learn.ops import as_float64, fmt, named_args, producer_label
from explorer.learn.record import Node, Ref, Trace
from explorer.learn.route import through_movement
from explorer.learn.step import Step

TOP = 10


@dataclass
class LinearCell:
    """One output k of y = W x + b."""

    unit: int
    inputs: np.ndarray  # (n,) x
    weights: np.ndarray  # (n,) row k of W
    contributions: np.ndarray  # (n,) x_j * w_kj
    top: np.ndarray  # indices of the largest |contributions|, largest first
    sources: list[str]  # where each top input comes from ("channel 12 of net.avgpool", ...)
    total: float
    bias: float
    value: float


def linear_unit(trace: Trace, node: Node, pos: tuple[int, ...]) -> Step:
    """The breakdown of output `pos` (0, k) of a linear layer (linear, addmm or mm)."""
    a = named_args(node)
    k = int(pos[-1])
    if node.op == "linear":
        x_ref, w, b_ref = a["input"], as_float64(trace.value(a["weight"])), a.get("bias")
        row = w[k].numpy()
    else:  # addmm(bias, x, W^T) / mm(x, W^T)
        x_ref = a["mat1"] if node.op == "addmm" else a["self"]
        wt = as_float64(trace.value(a["mat2"]))
        row = wt[:, k].numpy()
        b_ref = a["self"] if node.op == "addmm" else None
    xv = as_float64(trace.value(x_ref))
    if xv.dim() != 2:
        raise NotImplementedError("linear layer on a tensor of rank other than 2")
    x = xv[0].numpy()
    bias = 0.0
    if isinstance(b_ref, Ref):
        b = as_float64(trace.value(b_ref))
        bias = float(b.reshape(-1)[k] if b.numel() > 1 else b.reshape(-1)[0])
    contrib = x * row
    top = np.argsort(-np.abs(contrib), kind="stable")[:TOP]
    total = float(contrib.sum())
    cell = LinearCell(k, x, row, contrib, top, [_source(trace, x_ref, int(j)) for j in top], total, bias,
                      total + bias)
    shown = " + ".join(f"{fmt(x[j])}×{fmt(row[j])}" for j in top[:3])
    rest = f" + ({len(x) - 3} more)" if len(x) > 3 else ""
    formula = f"{shown}{rest} = {fmt(total)}; + bias {fmt(bias)} = {fmt(cell.value)}"
    notes = [f"input: {len(x)} numbers from {_origin(trace, x_ref)}"]
    title = f"Fully connected {node.module or 'layer'}: unit {k} of {int(node.value.shape[-1])}"
    return Step("linear", title, node.module, formula, cell.value, float(node.value[pos]), None, cell, notes)


def _origin(trace: Trace, x_ref: Ref) -> str:
    """The layer the linear layer's input vector comes from ('net.avgpool, flattened')."""
    if x_ref.node is None:
        return "a constant"
    nid, _, _ = through_movement(trace, x_ref.node, (0, 0))
    if nid is None or nid == x_ref.node:
        return producer_label(trace, x_ref.node)
    return f"{producer_label(trace, nid)}, flattened"


def _source(trace: Trace, x_ref: Ref, j: int) -> str:
    """'channel 3, row 1, column 2 of net.features.8' for input j of a flattened map, else 'input j'."""
    if x_ref.node is None:
        return f"input {j}"
    nid, pos, _ = through_movement(trace, x_ref.node, (0, j))
    if nid is None or nid == x_ref.node:
        return f"input {j}"
    where = producer_label(trace, nid)
    if len(pos) == 4 and tuple(trace.node(nid).value.shape[2:]) == (1, 1):
        return f"input {j} = channel {pos[1]} of {where}"
    if len(pos) == 4:
        return f"input {j} = channel {pos[1]}, row {pos[2]}, column {pos[3]} of {where}"
    if len(pos) == 2:
        return f"input {j} = unit {pos[1]} of {where}"
    return f"input {j} of {where}"


@dataclass
class Softmax:
    """The output layer: logits z, e^(z - max z), their sum and the probabilities."""

    logits: np.ndarray  # (K,)
    shift: float  # max z (subtracting it keeps e^z finite; the probabilities do not change)
    exps: np.ndarray  # e^(z_k - shift)
    total: float
    probs: np.ndarray
    classes: list[str]
    order: np.ndarray  # classes, most probable first

    def formula(self, k: int) -> str:
        """p_k with the numbers: e^(z_k - m) / Σ_j e^(z_j - m)."""
        return (f"p({self.classes[k]}) = e^({fmt(self.logits[k])} − {fmt(self.shift)}) / Σ e^(z_j − {fmt(self.shift)})"
                f" = {fmt(self.exps[k])} / {fmt(self.total)} = {fmt(self.probs[k])}")

    @property
    def sum(self) -> float:
        """Σ p_k (1 up to rounding)."""
        return float(self.probs.sum())


def softmax_view(trace: Trace, classes: list[str] | None = None) -> Softmax:
    """The softmax of the model's real logits for this image."""
    z = as_float64(trace.logits).reshape(-1).numpy()
    m = float(z.max())
    e = np.exp(z - m)
    total = float(e.sum())
    names = list(classes) if classes and len(classes) == len(z) else [str(i) for i in range(len(z))]
    probs = e / total
    return Softmax(z, m, e, total, probs, names, np.argsort(-probs, kind="stable"))
