"""Collect per-layer records of a network with meta tensors (no real convolutions).

One forward pass on the meta device, with module hooks and a TorchDispatchMode that
(1) counts multiply-accumulates with torch.utils.flop_counter's formulas (conv/matmul/attention,
as torchvision's `_ops` does), (2) tracks the receptive field of every tensor through the ops,
and (3) records which module produced each tensor, for the block diagram. Hooks are removed in
`finally`; a real model is run through `torch.func.functional_call` with meta copies of its
parameters and buffers, so its weights, BN running statistics and train/eval modes are untouched.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.func import functional_call
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

aten = torch.ops.aten
INF = math.inf


class InspectError(ValueError):
    """A user error while summarising (bad size, too-small input, wrong channel count)."""


class InputTooSmallError(InspectError):
    """The input's spatial size reaches zero inside the network."""


@dataclass
class OpRecord:
    """One aten op of the forward pass (kept for the block diagram)."""

    op: str
    stack: tuple[str, ...]
    inputs: list[int]
    outputs: list[int]
    calls: tuple[int, ...] = ()  # per stack entry: which call of that module (0 = its first) ran the op


@dataclass
class RawLayer:
    """What the hooks saw of one module."""

    name: str
    type: str
    depth: int
    order: int = -1
    calls: int = 0
    input_shapes: list[tuple[int, ...]] = field(default_factory=list)
    output_shapes: list[tuple[int, ...]] = field(default_factory=list)
    own_macs: int = 0
    rf: tuple[float, float] | None = None  # receptive field (h, w) of the output; inf = global
    jump: tuple[float, float] | None = None
    output_bytes: int = 0
    output_ids: list[int] = field(default_factory=list)
    input_ids: list[int] = field(default_factory=list)


# Ops whose meta kernels are slow Python decompositions; they keep shapes, so we answer directly.
_INPLACE_FAST = {
    aten.relu_.default, aten.hardtanh_.default, aten.silu_.default, aten.hardswish_.default,
    aten.hardsigmoid_.default, aten.sigmoid_.default, aten.tanh_.default, aten.add_.Tensor,
    aten.mul_.Tensor, aten.leaky_relu_.default, aten.elu_.default, aten.clamp_.default, aten.clamp_min_.default,
}
_UNARY_FAST = {
    aten.relu.default, aten.hardtanh.default, aten.silu.default, aten.hardswish.default,
    aten.hardsigmoid.default, aten.sigmoid.default, aten.tanh.default, aten.gelu.default,
    aten.leaky_relu.default, aten.elu.default, aten.clamp.default, aten.clamp_min.default,
}
_BINARY_FAST = {aten.add.Tensor, aten.mul.Tensor, aten.sub.Tensor, aten.div.Tensor}
_VIEW_OPS = {
    "view", "_unsafe_view", "reshape", "flatten", "t", "transpose", "permute", "expand", "squeeze",
    "unsqueeze", "alias", "detach", "clone", "contiguous", "_to_copy", "slice", "select", "split",
    "split_with_sizes", "chunk", "unbind", "narrow",
}
_GLOBAL_OPS = {"mm", "addmm", "bmm", "baddbmm", "matmul", "linear"}
_ADAPTIVE = {"_adaptive_avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "_adaptive_avg_pool3d"}
_POOL = {"max_pool2d_with_indices", "avg_pool2d", "max_pool2d", "max_pool3d_with_indices", "avg_pool3d"}
_RESIZE = {"upsample_bilinear2d", "upsample_nearest2d", "upsample_bicubic2d", "_upsample_bilinear2d_aa"}


def _flat(obj: Any) -> list[Any]:
    """Leaves of nested tuples/lists/dicts (a fast, minimal torch.utils._pytree.tree_flatten)."""
    if isinstance(obj, (tuple, list)):
        out: list[Any] = []
        for o in obj:
            if isinstance(o, (tuple, list, dict)):
                out.extend(_flat(o))
            else:
                out.append(o)
        return out
    if isinstance(obj, dict):
        return _flat(list(obj.values()))
    return [obj]


def pair(v: Any, default: int) -> tuple[int, int]:
    """An int or a 1- or 2-list as (h, w); `default` for an empty list or None (explorer.learn uses it too)."""
    if v is None or (isinstance(v, (list, tuple)) and len(v) == 0):
        return (default, default)
    if isinstance(v, int):
        return (v, v)
    v = list(v)
    return (int(v[0]), int(v[-1]))


def _fast_macs(func: Any, args: tuple, out: Any) -> int | None:
    """MACs of conv and matrix products straight from shapes (what flop_counter's formulas give / 2,
    without its pytree overhead); None for other ops."""
    if func is aten.convolution.default:
        x, w = args[0], args[1]
        if args[6]:  # transposed: every input element meets out_channels/groups x kernel weights
            return x.numel() * math.prod(int(v) for v in w.shape[1:])
        return out.numel() * math.prod(int(v) for v in w.shape[1:])
    if func is aten.addmm.default:
        a, b = args[1], args[2]
        return int(a.shape[0]) * int(a.shape[1]) * int(b.shape[1])
    if func is aten.mm.default:
        a, b = args[0], args[1]
        return int(a.shape[0]) * int(a.shape[1]) * int(b.shape[1])
    if func is aten.bmm.default:
        a, b = args[0], args[1]
        return int(a.shape[0]) * int(a.shape[1]) * int(a.shape[2]) * int(b.shape[2])
    return None


def _conv_out(args: tuple) -> torch.Tensor:
    """Output of a 2-D convolution by the formula (floor((W + 2P - D(K-1) - 1)/S) + 1), without the
    slow meta kernel; a size below 1 falls back to the real meta kernel for its error message."""
    x, w = args[0], args[1]
    stride, padding, dilation = pair(args[3], 1), pair(args[4], 0), pair(args[5], 1)
    sizes = []
    for i in range(2):
        n = int(x.shape[2 + i]) + 2 * padding[i] - dilation[i] * (int(w.shape[2 + i]) - 1) - 1
        sizes.append(n // stride[i] + 1 if n >= 0 else 0)
    if min(sizes) < 1 or int(x.shape[1]) != int(w.shape[1]) * int(args[8]):
        return aten.convolution.default(*args)
    return torch.empty((int(x.shape[0]), int(w.shape[0]), *sizes), dtype=x.dtype, device=x.device)


class _Collector(TorchDispatchMode):
    """Counts MACs, tracks receptive fields and producers per tensor, attributes ops to modules."""

    def __init__(self, layers: dict[str, RawLayer], input_tensor: torch.Tensor, record_ops: bool) -> None:
        super().__init__()
        self.layers = layers
        self.stack: list[str] = []
        self.rf: dict[int, tuple[float, float, float, float]] = {id(input_tensor): (1.0, 1.0, 1.0, 1.0)}
        self.keep: list[torch.Tensor] = [input_tensor]  # keep ids unique while we map by id()
        self.ops: list[OpRecord] = []
        self.record_ops = record_ops
        self.macs = 0
        self.shapes: dict[int, tuple[int, ...]] = {}

    # Receptive field arithmetic ------------------------------------------------------------
    def _rf_out(self, name: str, args: tuple, in_rf: tuple[float, float, float, float],
                out: Any) -> tuple[float, float, float, float]:
        rh, rw, jh, jw = in_rf
        if math.isinf(rh) or math.isinf(rw):  # already global (e.g. after squeeze-and-excitation): stays global
            return (INF, INF, INF, INF)
        if name == "convolution":
            w = args[1]
            kh, kw = int(w.shape[-2]), int(w.shape[-1])
            sh, sw = pair(args[3], 1)
            dh, dw = pair(args[5], 1)
            if args[6]:  # transposed
                return (rh + (kh - 1) * jh / sh, rw + (kw - 1) * jw / sw, jh / sh, jw / sw)
            return (rh + (dh * (kh - 1)) * jh, rw + (dw * (kw - 1)) * jw, jh * sh, jw * sw)
        if name in _POOL:
            kh, kw = pair(args[1], 1)
            sh, sw = pair(args[2] if len(args) > 2 else None, 0)
            sh, sw = sh or kh, sw or kw
            dh, dw = (1, 1)
            if name.startswith("max_pool") and len(args) > 4:
                dh, dw = pair(args[4], 1)
            return (rh + dh * (kh - 1) * jh, rw + dw * (kw - 1) * jw, jh * sh, jw * sw)
        if name in _ADAPTIVE:
            x = args[0]
            ih, iw = int(x.shape[-2]), int(x.shape[-1])
            oh, ow = pair(args[1], 1)
            if oh == 1 and ow == 1:
                return (INF, INF, INF, INF)
            kh, kw = math.ceil(ih / oh), math.ceil(iw / ow)
            sh, sw = max(ih // oh, 1), max(iw // ow, 1)
            if (ih, iw) == (oh, ow):
                return in_rf
            return (rh + (kh - 1) * jh, rw + (kw - 1) * jw, jh * sh, jw * sw)
        if name in _RESIZE:
            x = args[0]
            t = out if isinstance(out, torch.Tensor) else None
            if t is not None and t.dim() >= 4:
                fh = x.shape[-2] / t.shape[-2]
                fw = x.shape[-1] / t.shape[-1]
                return (rh + jh * (1 if fh < 1 else 0), rw + jw * (1 if fw < 1 else 0), jh * fh, jw * fw)
            return in_rf
        if name in _GLOBAL_OPS:
            return (INF, INF, INF, INF)
        if name in ("mean", "amax", "sum", "max", "avg_pool2d") and len(args) > 1:
            x = args[0]
            dims = args[1] if isinstance(args[1], (list, tuple)) else [args[1]]
            nd = x.dim() if isinstance(x, torch.Tensor) else 0
            spatial = {d % nd for d in dims if isinstance(d, int)} if nd else set()
            if nd >= 3 and {nd - 1, nd - 2} <= spatial:
                return (INF, INF, INF, INF)
            return in_rf
        return in_rf

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _INPLACE_FAST:
            out = args[0]
        elif func in _UNARY_FAST:
            out = torch.empty_like(args[0])
        elif func in _BINARY_FAST and all(isinstance(a, (torch.Tensor, int, float))
                                          for a in args[:2]) and not kwargs.get("out"):
            out = _binary_out(func, args, kwargs)
        elif func is aten.native_batch_norm.default or func is aten._native_batch_norm_legit_no_training.default:
            out = _batch_norm_out(args)
        elif func is aten.cat.default and all(t.dim() == args[0][0].dim() for t in args[0]):
            out = _cat_out(args, kwargs)
        elif func is aten.convolution.default and not args[6] and args[0].dim() == 4:
            out = _conv_out(args)
        elif func is aten.mean.dim and len(args) >= 2 and isinstance(args[1], (list, tuple)):
            out = _mean_out(args, kwargs)
        else:
            out = func(*args, **kwargs)

        packet = func._overloadpacket
        name = packet.__name__.rstrip("_") if packet.__name__.endswith("_") and not packet.__name__.startswith(
            "_") else packet.__name__
        flop_fn = flop_registry.get(packet)
        if flop_fn is not None:
            self._count_macs(func, flop_fn, args, kwargs, out)

        in_tensors = [a for a in _flat((args, kwargs)) if isinstance(a, torch.Tensor)]
        out_tensors = [o for o in _flat(out) if isinstance(o, torch.Tensor)]
        known = [self.rf[id(t)] for t in in_tensors if id(t) in self.rf]
        if known:
            in_rf = tuple(max(k[i] for k in known) for i in range(4))
            base = re.sub(r"_$", "", name)
            new_rf = self._rf_out(base, args, in_rf, out)  # type: ignore[arg-type]
            for o in out_tensors:
                if id(o) not in self.rf or o is not args[0]:
                    self.rf[id(o)] = new_rf
                self.keep.append(o)
            if self.record_ops:
                self._record_op(name, in_tensors, out_tensors)
        return out

    def _count_macs(self, func: Any, flop_fn: Any, args: tuple, kwargs: dict, out: Any) -> None:
        """Add one op's MACs to the total and to the module running it."""
        macs = _fast_macs(func, args, out)
        if macs is None:  # anything else flop_counter knows (attention, ...): its own formula
            macs = int(flop_fn(*args, **kwargs, out_val=out)) // 2
        self.macs += macs
        owner = self.stack[-1] if self.stack else ""
        if owner in self.layers:
            self.layers[owner].own_macs += macs

    def _record_op(self, name: str, in_tensors: list[torch.Tensor], out_tensors: list[torch.Tensor]) -> None:
        """Keep an op and its output shapes for the block diagram."""
        for o in out_tensors:
            self.shapes[id(o)] = tuple(int(v) for v in o.shape)
        calls = tuple(self.layers[n].calls if n in self.layers else 0 for n in self.stack)
        self.ops.append(OpRecord(name, tuple(self.stack), [id(t) for t in in_tensors if id(t) in self.rf],
                                 [id(o) for o in out_tensors], calls))


def _binary_out(func: Any, args: tuple, kwargs: dict) -> Any:
    """add/mul/sub/div: an empty broadcast result for two tensors, the real op with a scalar."""
    a, b = args[0], args[1]
    if isinstance(b, torch.Tensor) and isinstance(a, torch.Tensor):
        shape = torch.broadcast_shapes(a.shape, b.shape)
        return torch.empty(shape, dtype=torch.result_type(a, b), device=a.device)
    return func(*args, **kwargs)


def _batch_norm_out(args: tuple) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch norm keeps its input's shape; empty saved statistics."""
    x = args[0]
    return (torch.empty(x.shape, dtype=x.dtype, device=x.device), x.new_empty((0,)), x.new_empty((0,)))


def _cat_out(args: tuple, kwargs: dict) -> torch.Tensor:
    """Concatenation of same-rank tensors: sizes add along `dim`."""
    tensors = args[0]
    dim = (args[1] if len(args) > 1 else kwargs.get("dim", 0)) % tensors[0].dim()
    shape = list(tensors[0].shape)
    shape[dim] = sum(int(t.shape[dim]) for t in tensors)
    return torch.empty(shape, dtype=tensors[0].dtype, device=tensors[0].device)


def _mean_out(args: tuple, kwargs: dict) -> torch.Tensor:
    """mean over a list of dims, with or without keepdim."""
    x = args[0]
    keep = bool(args[2]) if len(args) > 2 else bool(kwargs.get("keepdim", False))
    dims = {d % x.dim() for d in args[1]}
    shape = [1 if i in dims else int(n) for i, n in enumerate(x.shape) if keep or i not in dims]
    return torch.empty(shape, dtype=x.dtype, device=x.device)


def _shapes(obj: Any) -> list[tuple[int, ...]]:
    return [tuple(int(s) for s in t.shape) for t in _flat(obj) if isinstance(t, torch.Tensor)]


def _bytes(obj: Any) -> int:
    return sum(t.numel() * t.element_size() for t in _flat(obj) if isinstance(t, torch.Tensor))


_SIZE_ERR = re.compile(
    r"(Kernel size can't be greater|Output size is too small|Given input size.*too small|"
    r"non-positive|negative output size|output size.*(too small|must be positive)|"
    r"expected input.*to have size|size of tensor a .* must match|shapes cannot be multiplied|"
    r"Padding size should be less|pad should be (at most|smaller)|Calculated output size)",
    re.IGNORECASE,
)
_CHAN_ERR = re.compile(r"expected input\[.*\] to have (\d+) channels, but got (\d+) channels", re.IGNORECASE)


@dataclass
class Collected:
    """Raw result of one meta forward pass."""

    layers: dict[str, RawLayer]
    ops: list[OpRecord]
    input_id: int
    output_ids: list[int]
    output_shapes: list[tuple[int, ...]]
    rf: dict[int, tuple[float, float, float, float]]
    macs: int
    shapes: dict[int, tuple[int, ...]]


def collect(model: nn.Module, input_shape: tuple[int, ...], record_ops: bool = True,
            dtype: torch.dtype = torch.float32) -> Collected:
    """Run one meta forward of `model` on `input_shape` (N, C, H, W) and collect per-module records."""
    named = list(model.named_modules())
    module_names, layers = _raw_layers(named)
    x = torch.empty(input_shape, device="meta", dtype=dtype)
    mode = _Collector(layers, x, record_ops)
    pre_hook, post_hook = _hooks(module_names, layers, mode, input_shape)
    out = _meta_forward(model, named, x, mode, pre_hook, post_hook, input_shape)
    shapes = mode.shapes
    outs = [t for t in _flat(out) if isinstance(t, torch.Tensor)]
    for t in outs:
        shapes[id(t)] = tuple(int(s) for s in t.shape)
    shapes[id(x)] = tuple(input_shape)
    return Collected(layers=layers, ops=mode.ops, input_id=id(x), output_ids=[id(t) for t in outs],
                     output_shapes=[tuple(int(s) for s in t.shape) for t in outs], rf=mode.rf,
                     macs=mode.macs, shapes=shapes)


def _raw_layers(named: list[tuple[str, nn.Module]]) -> tuple[dict[int, str], dict[str, RawLayer]]:
    """Name of every module (a shared one under its first name) and an empty record per name."""
    module_names: dict[int, str] = {}
    layers: dict[str, RawLayer] = {}
    for name, mod in named:
        if id(mod) in module_names:
            continue  # a shared module is reported under its first name
        module_names[id(mod)] = name
        layers[name] = RawLayer(name=name, type=type(mod).__name__, depth=0 if name == "" else name.count(".") + 1)
    return module_names, layers


def _hooks(module_names: dict[int, str], layers: dict[str, RawLayer], mode: _Collector,
           input_shape: tuple[int, ...]) -> tuple[Any, Any]:
    """Forward pre- and post-hooks that fill `layers` and keep `mode.stack` of running modules."""
    counter = [0]

    def pre_hook(mod: nn.Module, inputs: Any) -> None:
        name = module_names.get(id(mod))
        if name is None:
            return
        _check_input(name, mod, inputs, input_shape)
        mode.stack.append(name)
        rec = layers[name]
        if rec.calls == 0:
            rec.order = counter[0]
            counter[0] += 1
            rec.input_shapes = _shapes(inputs)
            rec.input_ids = [id(t) for t in _flat(inputs) if isinstance(t, torch.Tensor)]

    def post_hook(mod: nn.Module, inputs: Any, output: Any) -> None:
        name = module_names.get(id(mod))
        if name is None:
            return
        if mode.stack and mode.stack[-1] == name:
            mode.stack.pop()
        rec = layers[name]
        rec.calls += 1
        if rec.calls == 1:
            _record_output(rec, output, mode)

    return pre_hook, post_hook


def _record_output(rec: RawLayer, output: Any, mode: _Collector) -> None:
    """Shapes, bytes, tensor ids and receptive field of a module's first output."""
    outs = [t for t in _flat(output) if isinstance(t, torch.Tensor)]
    rec.output_shapes = [tuple(int(s) for s in t.shape) for t in outs]
    rec.output_bytes = _bytes(output)
    rec.output_ids = [id(t) for t in outs]
    for t in outs:
        mode.shapes[id(t)] = tuple(int(s) for s in t.shape)
        mode.keep.append(t)
    rfs = [mode.rf[id(t)] for t in outs if id(t) in mode.rf]
    if rfs:
        rec.rf = (max(r[0] for r in rfs), max(r[1] for r in rfs))
        rec.jump = (max(r[2] for r in rfs), max(r[3] for r in rfs))


def _meta_state(model: nn.Module) -> dict[str, torch.Tensor] | None:
    """Meta stand-ins for a real model's parameters and buffers; None when it is already on meta."""
    on_meta = all(p.device.type == "meta" for p in model.parameters()) and all(
        b.device.type == "meta" for b in model.buffers())
    if on_meta:
        return None
    state = {k: torch.empty(v.shape, dtype=v.dtype, device="meta") for k, v in model.named_parameters()}
    state.update({k: torch.empty(v.shape, dtype=v.dtype, device="meta") for k, v in model.named_buffers()})
    return state


def _meta_forward(model: nn.Module, named: list[tuple[str, nn.Module]], x: torch.Tensor, mode: _Collector,
                  pre_hook: Any, post_hook: Any, input_shape: tuple[int, ...]) -> Any:
    """One hooked forward in eval mode under `mode`; hooks and train/eval modes restored after."""
    try:
        with hooked(model, named, pre_hook, post_hook):
            state = _meta_state(model)  # made before the mode counts ops
            with torch.no_grad(), mode:
                return model(x) if state is None else functional_call(model, state, (x,))
    except RuntimeError as exc:
        raise _explain_error(exc, mode.stack, mode.layers, input_shape) from None


@contextlib.contextmanager
def hooked(model: nn.Module, named: list[tuple[str, nn.Module]], pre_hook: Any, post_hook: Any) -> Iterator[None]:
    """A forward pre- and post-hook on each named module and the model in eval mode; on exit the hooks
    are removed and each named module's train/eval flag restored (explorer.learn.record uses it too)."""
    handles = []
    training = {id(m): m.training for _, m in named}
    try:
        for _, mod in named:
            handles.append(mod.register_forward_pre_hook(pre_hook))
            handles.append(mod.register_forward_hook(post_hook))
        model.eval()
        yield
    finally:
        for h in handles:
            h.remove()
        for _, m in named:
            m.training = training[id(m)]


def _check_input(name: str, mod: nn.Module, inputs: Any, input_shape: tuple[int, ...]) -> None:
    """Catch channel/feature mismatches before the op fails with a less helpful message."""
    x = inputs[0] if inputs and isinstance(inputs[0], torch.Tensor) else None
    if x is None:
        return
    label = f"{name} ({type(mod).__name__})"
    if isinstance(mod, nn.Conv2d) and x.dim() == 4 and x.shape[1] != mod.in_channels:
        hint = (f"Build the model with in_chans={x.shape[1]} or give an input with {mod.in_channels} channels."
                if x.shape[1] == input_shape[1] else "")
        raise InspectError(
            f"channel mismatch at layer {label}: it expects {mod.in_channels} input channels but got "
            f"{x.shape[1]}. {hint}".strip()
        )
    if isinstance(mod, nn.Linear) and x.shape[-1] != mod.in_features:
        size = "x".join(map(str, input_shape[1:]))
        raise InspectError(
            f"layer {label} expects {mod.in_features} input features but gets {x.shape[-1]} for input {size}: "
            f"this network's fully connected layers fix its input size; use its reference input size."
        )


def _explain_error(exc: RuntimeError, stack: list[str], layers: dict[str, RawLayer],
                   input_shape: tuple[int, ...]) -> Exception:
    """Turn a shape error of the meta forward into a message naming the layer."""
    msg = str(exc).splitlines()[0]
    where = stack[-1] if stack else ""
    rec = layers.get(where)
    label = f"{where} ({rec.type})" if rec and where else (rec.type if rec else "the network")
    at = f" whose input is {'x'.join(map(str, rec.input_shapes[0][1:]))}" if rec and rec.input_shapes else ""
    size = "x".join(map(str, input_shape[1:]))
    m = _CHAN_ERR.search(msg)
    if m:
        return InspectError(
            f"channel mismatch at layer {label}: it expects {m.group(1)} input channels but got {m.group(2)}. "
            f"Build the model with in_chans={m.group(2)} or give an input with {m.group(1)} channels."
        )
    if _SIZE_ERR.search(msg):
        return InputTooSmallError(
            f"input {size} is too small for this network: at layer {label}{at} the spatial size reaches zero "
            f"({msg}). Use a larger input size."
        )
    return InspectError(f"the forward pass failed at layer {label}{at} for input {size}: {msg}")
