"""summarize(): per-layer records plus totals, formatted to a DataFrame, JSON or text."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import torch
from torch import nn

from explorer.inspect.collect import Collected, InspectError, RawLayer, collect

MAX_SIDE = 4096


@dataclass
class LayerRecord:
    """One module of the network as the user sees it in the per-layer table."""

    name: str
    type: str
    depth: int
    order: int
    is_leaf: bool
    called: bool
    input_shape: list[int] | None
    output_shape: list[int] | None
    extra_outputs: int
    params: int
    trainable_params: int
    macs: int
    flops: int
    activation_bytes: int
    receptive_field: list[float] | None  # (h, w); inf = global
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def frozen_params(self) -> int:
        """Parameters with requires_grad=False."""
        return self.params - self.trainable_params

    def rf_label(self) -> str:
        """Receptive field as text: '7', '7x3' or 'global'."""
        if self.receptive_field is None:
            return ""
        h, w = self.receptive_field
        if math.isinf(h) or math.isinf(w) or math.isnan(h) or math.isnan(w):
            return "global"
        h, w = round(h), round(w)
        return f"{h}" if h == w else f"{h}x{w}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        d = asdict(self)
        d["frozen_params"] = self.frozen_params
        rf = self.receptive_field
        d["receptive_field"] = None if rf is None else ("global" if self.rf_label() == "global" else [round(v) for v in rf])
        return d


@dataclass
class Summary:
    """Per-layer records and totals of one network at one input size."""

    model_name: str
    input_size: tuple[int, int, int]
    batch_size: int
    num_classes: int | None
    layers: list[LayerRecord]
    output_shape: list[int]
    params: int
    trainable_params: int
    buffers: int
    macs: int
    param_bytes: int
    buffer_bytes: int
    activation_bytes: int  # sum of every leaf's output at this batch size (kept for backward in training)
    peak_inference_bytes: int  # largest input+output pair of one leaf at this batch size
    collected: Collected | None = field(default=None, repr=False)

    @property
    def flops(self) -> int:
        """FLOPs = 2 x MACs (conv, linear, matmul and attention only)."""
        return 2 * self.macs

    @property
    def frozen_params(self) -> int:
        """Parameters with requires_grad=False."""
        return self.params - self.trainable_params

    @property
    def weight_bytes(self) -> int:
        """Memory of parameters and buffers."""
        return self.param_bytes + self.buffer_bytes

    def training_bytes(self, optimizer: str = "adam") -> int:
        """Estimate for one training step: weights + gradients + optimizer state + stored activations."""
        states = {"sgd": 0, "sgd_momentum": 1, "adam": 2, "adamw": 2}[optimizer]
        grads = self.trainable_params * 4
        return self.weight_bytes + grads + states * self.trainable_params * 4 + self.activation_bytes

    def inference_bytes(self) -> int:
        """Estimate for inference: weights + the largest live input/output pair."""
        return self.weight_bytes + self.peak_inference_bytes

    def max_depth(self) -> int:
        """Deepest module level."""
        return max((r.depth for r in self.layers), default=0)

    def rows(self, depth: int | None = None, query: str = "") -> list[LayerRecord]:
        """The records shown at `depth` (None: every leaf), filtered by `query` (name or type, regex-free)."""
        if depth is None:
            rows = [r for r in self.layers if r.is_leaf and (r.called or r.params) and not self._under_leaf(r)]
        else:
            rows = [r for r in self.layers if r.depth <= depth and not self._under_leaf(r)]
        if query:
            q = query.lower()
            rows = [r for r in rows if q in r.name.lower() or q in r.type.lower()]
        return rows

    def _under_leaf(self, rec: LayerRecord) -> bool:
        leaves = self._leaf_names()
        parts = rec.name.split(".")
        return any(".".join(parts[:i]) in leaves for i in range(1, len(parts)))

    def _leaf_names(self) -> set[str]:
        if not hasattr(self, "_leaves"):
            self._leaves = {r.name for r in self.layers if r.is_leaf}
        return self._leaves

    def to_dataframe(self, depth: int | None = None, query: str = "") -> pd.DataFrame:
        """The per-layer table (numbers kept numeric so the UI can sort them)."""
        rows = self.rows(depth, query)
        return pd.DataFrame(
            {
                "Layer": ["  " * max(r.depth - 1, 0) + r.name for r in rows],
                "Type": [r.type for r in rows],
                "Output shape": [_shape_text(r.output_shape, r.called) for r in rows],
                "Params": [r.params for r in rows],
                "Trainable": [r.trainable_params for r in rows],
                "Frozen": [r.frozen_params for r in rows],
                "MACs": [r.macs for r in rows],
                "FLOPs": [r.flops for r in rows],
                "Activation memory (MB)": [r.activation_bytes / 2**20 for r in rows],
                "Receptive field": [r.rf_label() for r in rows],
                "Depth": [r.depth for r in rows],
            }
        )

    def totals(self) -> dict[str, Any]:
        """Totals as plain data."""
        return {
            "params": self.params,
            "trainable_params": self.trainable_params,
            "frozen_params": self.frozen_params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "weight_bytes": self.weight_bytes,
            "activation_bytes": self.activation_bytes,
            "inference_bytes": self.inference_bytes(),
            "training_bytes_adam": self.training_bytes("adam"),
            "training_bytes_sgd_momentum": self.training_bytes("sgd_momentum"),
        }

    def to_json(self, depth: int | None = None) -> dict[str, Any]:
        """Totals plus a `layers` list (every leaf, or the rows at `depth`)."""
        return {
            "model": self.model_name,
            "input_size": list(self.input_size),
            "batch_size": self.batch_size,
            "num_classes": self.num_classes,
            "output_shape": self.output_shape,
            **self.totals(),
            "layers": [r.to_dict() for r in self.rows(depth)],
        }

    def to_text(self, depth: int | None = None) -> str:
        """A torchinfo-like text table with totals."""
        df = self.to_dataframe(depth)
        show = df[["Layer", "Type", "Output shape", "Params", "MACs", "Receptive field"]].copy()
        show["Params"] = show["Params"].map(lambda v: f"{v:,}")
        show["MACs"] = show["MACs"].map(human)
        lines = [show.to_string(index=False), "=" * 80]
        t = self.totals()
        c, h, w = self.input_size
        lines += [
            f"Model: {self.model_name}   input: {self.batch_size}x{c}x{h}x{w}   output: {_shape_text(self.output_shape)}",
            f"Total params: {t['params']:,}  (trainable {t['trainable_params']:,}, frozen {t['frozen_params']:,})",
            f"MACs: {human(t['macs'])}   FLOPs (2 x MACs): {human(t['flops'])}",
            f"Weights: {mb(t['weight_bytes'])}   activations (forward, stored for training): "
            f"{mb(t['activation_bytes'])}",
        ]
        return "\n".join(lines)


def human(n: float) -> str:
    """12_345_678 -> '12.35M'."""
    for unit, div in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return f"{n:.0f}"


def mb(n: float) -> str:
    """Bytes as MB text."""
    return f"{n / 2**20:,.2f} MB"


def _shape_text(shape: list[int] | None, called: bool = True) -> str:
    if not called:
        return "not run (training only)"
    if not shape:
        return ""
    return "x".join(str(s) for s in shape)


def parse_input_size(value: str | tuple | list) -> tuple[int, int, int]:
    """Parse '3,224,224', '3x224x224' or a sequence into (C, H, W), with clear errors."""
    if isinstance(value, str):
        parts = [p for p in re.split(r"[,x×\s]+", value.strip()) if p]
    else:
        parts = list(value)
    if len(parts) != 3:
        raise InspectError(f"input size must be C,H,W (three numbers, e.g. 3,224,224); got {value!r}")
    out = []
    for label, p in zip("CHW", parts, strict=True):
        try:
            f = float(p)
        except (TypeError, ValueError):
            raise InspectError(f"input size {label}={p!r} is not a number; use whole numbers like 3,224,224") from None
        if not f.is_integer() or isinstance(p, bool):
            raise InspectError(f"input size {label}={p!r} must be a whole number")
        if f <= 0:
            raise InspectError(f"input size {label}={int(f)} must be positive")
        if label != "C" and f > MAX_SIDE:
            raise InspectError(f"input size {label}={int(f)} is larger than {MAX_SIDE}; use a smaller image")
        if label == "C" and f > 64:
            raise InspectError(f"{int(f)} input channels is not an image; use 1 (gray) or 3 (RGB)")
        out.append(int(f))
    return (out[0], out[1], out[2])


def _config(mod: nn.Module) -> dict[str, Any]:
    """Conv/pool hyper-parameters for the conv-arithmetic panel."""
    if isinstance(mod, nn.Conv2d):
        return {"kind": "conv", "in_channels": mod.in_channels, "out_channels": mod.out_channels,
                "kernel": list(mod.kernel_size), "stride": list(mod.stride),
                "padding": list(mod.padding) if not isinstance(mod.padding, str) else mod.padding,
                "dilation": list(mod.dilation), "groups": mod.groups}
    if isinstance(mod, (nn.MaxPool2d, nn.AvgPool2d)):
        def pair(v: Any) -> list[int]:
            return list(v) if isinstance(v, (tuple, list)) else [v, v]
        return {"kind": "pool", "kernel": pair(mod.kernel_size), "stride": pair(mod.stride or mod.kernel_size),
                "padding": pair(mod.padding), "dilation": pair(getattr(mod, "dilation", 1)),
                "ceil_mode": bool(mod.ceil_mode)}
    return {}


def summarize(model_or_name: nn.Module | str, input_size: tuple[int, int, int] | str = (3, 224, 224),
              batch_size: int = 1, num_classes: int = 1000, record_ops: bool = True) -> Summary:
    """Summarise a network (a registry name or a module) at input (C, H, W) without real compute.

    A name is built on the meta device for `input_size[0]` channels and `num_classes` classes.
    A module is left exactly as it was (weights, BN statistics, modes, no hooks).
    """
    c, h, w = parse_input_size(input_size)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InspectError(f"batch size must be a positive whole number, got {batch_size!r}")
    model, name, classes = _resolve_model(model_or_name, c, num_classes)
    col = collect(model, (1, c, h, w), record_ops=record_ops)
    params, trainable_params, buffers, param_bytes, buffer_bytes = _weight_totals(model)
    records, leaf_bytes, peak = _layer_records(col, dict(model.named_modules()), batch_size)
    out_shape = list(col.output_shapes[0]) if col.output_shapes else []
    if out_shape:
        out_shape[0] = batch_size
    return Summary(
        model_name=name, input_size=(c, h, w), batch_size=batch_size, num_classes=classes, layers=records,
        output_shape=out_shape, params=params, trainable_params=trainable_params, buffers=buffers,
        macs=col.macs * batch_size, param_bytes=param_bytes, buffer_bytes=buffer_bytes,
        activation_bytes=leaf_bytes * batch_size, peak_inference_bytes=peak * batch_size, collected=col,
    )


def _resolve_model(model_or_name: nn.Module | str, channels: int,
                   num_classes: int) -> tuple[nn.Module, str, int | None]:
    """(model, display name, classes): a registry name built on meta, or the given module as is."""
    if isinstance(model_or_name, str):
        from explorer.models import build_model, get_card

        card = get_card(model_or_name)
        with torch.device("meta"):
            model = build_model(card.name, num_classes=num_classes, in_chans=channels)
        return model, card.name, num_classes
    model = model_or_name
    return model, getattr(model, "name", None) or type(model).__name__, getattr(model, "num_classes", None)


def _weight_totals(model: nn.Module) -> tuple[int, int, int, int, int]:
    """(params, trainable params, buffers, param bytes, buffer bytes); shared parameters counted once."""
    seen: set[int] = set()
    params = trainable_params = 0
    for p in model.parameters():  # unique parameters: shared ones once
        if id(p) in seen:
            continue
        seen.add(id(p))
        params += p.numel()
        trainable_params += p.numel() if p.requires_grad else 0
    buffers = sum(b.numel() for b in model.buffers())
    param_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    buffer_bytes = sum(b.numel() * b.element_size() for b in model.buffers())
    return params, trainable_params, buffers, param_bytes, buffer_bytes


def _subtree_macs(col: Collected) -> dict[str, int]:
    """MACs of a module = its own ops + its descendants' (by name)."""
    macs: dict[str, int] = {n: r.own_macs for n, r in col.layers.items()}
    for n, r in col.layers.items():
        parts = n.split(".") if n else []
        for i in range(len(parts)):
            anc = ".".join(parts[:i])
            if anc in macs:
                macs[anc] += r.own_macs
    return macs


def _called_parents(col: Collected) -> dict[str, bool]:
    """Modules with at least one child that ran (the others are leaves of the table)."""
    called_children: dict[str, bool] = {}
    for n, r in col.layers.items():
        if n and r.calls:
            parent = n.rsplit(".", 1)[0] if "." in n else ""
            called_children[parent] = True
    return called_children


def _layer_records(col: Collected, modules: dict[str, nn.Module],
                   batch_size: int) -> tuple[list[LayerRecord], int, int]:
    """(records in execution order, leaf output bytes, peak leaf input+output bytes) at batch size 1."""
    own = _recursive_params(modules)
    macs = _subtree_macs(col)
    called_children = _called_parents(col)
    records: list[LayerRecord] = []
    leaf_bytes = 0
    peak = 0
    for n, r in col.layers.items():
        if n == "":
            continue
        is_leaf = not called_children.get(n, False)
        if is_leaf and r.calls:
            io = sum(math.prod(s) for s in r.input_shapes) * 4 + r.output_bytes
            peak = max(peak, io)
            leaf_bytes += r.output_bytes
        records.append(_layer_record(r, modules[n], is_leaf, own[n], macs[n], batch_size))
    # Execution order; modules never called (training-only branches) after their siblings.
    records.sort(key=lambda rec: (rec.order, rec.name))
    _fix_uncalled_order(records)
    for rec in records:
        if rec.output_shape:
            rec.output_shape[0] = batch_size if rec.output_shape[0] == 1 else rec.output_shape[0]
        if rec.input_shape:
            rec.input_shape[0] = batch_size if rec.input_shape[0] == 1 else rec.input_shape[0]
    return records, leaf_bytes, peak


def _layer_record(r: RawLayer, mod: nn.Module, is_leaf: bool, own: tuple[int, int], macs: int,
                  batch_size: int) -> LayerRecord:
    """The table row of one module from what the hooks saw of it."""
    p, tp = own
    return LayerRecord(
        name=r.name, type=r.type, depth=r.depth, order=r.order if r.calls else 10**9, is_leaf=is_leaf,
        called=r.calls > 0,
        input_shape=list(r.input_shapes[0]) if r.input_shapes else None,
        output_shape=list(r.output_shapes[0]) if r.output_shapes else None,
        extra_outputs=max(len(r.output_shapes) - 1, 0),
        params=p, trainable_params=tp, macs=macs * batch_size, flops=2 * macs * batch_size,
        activation_bytes=r.output_bytes * batch_size,
        receptive_field=list(r.rf) if r.rf else None, config=_config(mod),
    )


def _recursive_params(modules: dict[str, nn.Module]) -> dict[str, tuple[int, int]]:
    """(parameters, trainable) of every module's subtree, each parameter once per subtree."""
    members: dict[str, dict[int, tuple[int, bool]]] = {n: {} for n in modules}
    for n, mod in modules.items():
        for p in mod.parameters(recurse=False):
            entry = (p.numel(), p.requires_grad)
            parts = n.split(".") if n else []
            for i in range(len(parts) + 1):
                anc = ".".join(parts[:i])
                if anc in members:
                    members[anc][id(p)] = entry
    return {n: (sum(v[0] for v in d.values()), sum(v[0] for v in d.values() if v[1])) for n, d in members.items()}


def _fix_uncalled_order(records: list[LayerRecord]) -> None:
    """Place modules that never ran (e.g. auxiliary heads in eval mode) right after their parent's
    last called descendant rather than at the end, keeping the table readable."""
    called = [r for r in records if r.called]
    uncalled = [r for r in records if not r.called]
    if not uncalled:
        return
    out = list(called)
    for r in sorted(uncalled, key=lambda x: x.name):
        parent = r.name.rsplit(".", 1)[0] if "." in r.name else ""
        idx = len(out)
        for i, o in enumerate(out):
            if o.name == parent or o.name.startswith(parent + ".") or not parent:
                idx = i + 1
        out.insert(idx, r)
    records[:] = out


__all__ = ["InspectError", "LayerRecord", "Summary", "human", "mb", "parse_input_size", "summarize"]
