"""One real forward pass of a letters model, recorded op by op, so any number in it can be followed back.

The model runs once, in eval mode, on one image, under a TorchDispatchMode that sees every aten op the
model really executes (conv, batch norm, the functional `F.relu` of DenseNet, the `out += identity` of a
ResNet block, a `torch.cat`, a view) and keeps, for each op, a snapshot of its output (a clone: in-place
ops such as `relu_` overwrite their input, so a tensor's id is not enough - each version is its own node)
and references to its inputs: the nodes that produced them, or the module parameters and buffers
(weights, biases, BatchNorm statistics). Forward hooks record which module runs each op and which node
each module returns. Hooks are removed and train/eval flags restored in `finally`.

The inspector (explorer.inspect.collect) records producers on meta tensors for the block diagram; it
has no values and keys tensors by id, which in-place ops reuse, so the values are traced here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

from explorer.inspect.collect import hooked
from explorer.learn.errors import LearnError

MAX_TRACE_BYTES = 1 << 30  # snapshots of one forward: refuse a model/input that would need more than 1 GiB


@dataclass(frozen=True)
class Ref:
    """A tensor argument of an op: a node of the trace, or a constant (parameter, buffer, literal tensor)."""

    node: int | None = None  # node id when the tensor was produced inside the traced forward
    const: torch.Tensor | None = None
    name: str = ""  # the parameter/buffer's module path (e.g. "net.conv1.weight"), else ""


@dataclass
class Node:
    """One tensor value of the forward: the input, or one output of one aten op."""

    id: int
    op: str  # aten op name without the overload ("convolution", "relu_", "add", ...); "input" for the image
    func: Any  # the aten OpOverload (None for the input)
    args: tuple  # the op's arguments, each tensor replaced by a Ref
    kwargs: dict
    value: torch.Tensor  # snapshot (N, ...) of this output
    out_index: int  # which output of the op (batch norm and max pool return several)
    stack: tuple[str, ...]  # names of the modules running when the op ran, outermost first

    @property
    def module(self) -> str:
        """The innermost module running this op ('' at the top level)."""
        return self.stack[-1] if self.stack else ""

    def inputs(self) -> list[Ref]:
        """Every tensor argument, in order."""
        flat, _ = tree_flatten((self.args, self.kwargs))
        return [a for a in flat if isinstance(a, Ref)]


@dataclass
class Layer:
    """A module of the model as Learn shows it: its first call's output node."""

    name: str
    type: str
    depth: int
    order: int  # call order of its first call
    node: int  # the node its first call returned
    shape: tuple[int, ...]  # output shape without the batch dimension
    calls: int = 1
    input_nodes: tuple[int, ...] = ()

    @property
    def spatial(self) -> bool:
        """Output is channel maps (C, H, W)."""
        return len(self.shape) == 3

    @property
    def vector(self) -> bool:
        """Output is a vector of numbers (K,) (a fully connected layer, the logits)."""
        return len(self.shape) == 1


@dataclass
class Trace:
    """The recorded forward: nodes in execution order, the layers (modules) and the model's output node."""

    nodes: list[Node]
    layers: dict[str, Layer]
    input_node: int
    output_node: int
    modules: dict[str, nn.Module] = field(default_factory=dict)
    model_name: str = ""

    def node(self, i: int) -> Node:
        """The node with id `i`."""
        return self.nodes[i]

    def value(self, ref: Ref) -> torch.Tensor:
        """The tensor a Ref stands for (a node's snapshot or the constant)."""
        return self.nodes[ref.node].value if ref.node is not None else ref.const  # type: ignore[return-value]

    def spatial_layers(self) -> list[Layer]:
        """Layers with channel-map output, in call order."""
        return [lay for lay in self.ordered() if lay.spatial]

    def ordered(self) -> list[Layer]:
        """Every layer in the order it first ran."""
        return sorted(self.layers.values(), key=lambda lay: lay.order)

    @property
    def logits(self) -> torch.Tensor:
        """The model's output (1, K)."""
        return self.nodes[self.output_node].value


class _Recorder(TorchDispatchMode):
    """Records every aten op with real values (see the module docstring)."""

    def __init__(self, names: dict[int, str]) -> None:
        super().__init__()
        self.names = names  # id(parameter or buffer) -> its path
        self.nodes: list[Node] = []
        self.current: dict[int, int] = {}  # id(live tensor) -> node of its current value
        self.keep: list[torch.Tensor] = []  # live tensors stay alive so their ids are never reused
        self.stack: list[str] = []
        self.bytes = 0

    def add(self, op: str, func: Any, args: tuple, kwargs: dict, t: torch.Tensor, index: int) -> int:
        """A new node for tensor `t` (its current value) and make it the tensor's current version."""
        snap = t.detach().clone()
        self.bytes += snap.numel() * snap.element_size()
        if self.bytes > MAX_TRACE_BYTES:
            raise LearnError(f"this model's activations for one image exceed {MAX_TRACE_BYTES >> 20} MiB; "
                             "Learn cannot follow its numbers")
        node = Node(len(self.nodes), op, func, args, kwargs, snap, index, tuple(self.stack))
        self.nodes.append(node)
        self.current[id(t)] = node.id
        self.keep.append(t)
        return node.id

    def ref(self, a: Any) -> Any:
        """An argument as the node records it: tensors become Refs."""
        if not isinstance(a, torch.Tensor):
            return a
        node = self.current.get(id(a))
        if node is not None:
            return Ref(node=node)
        return Ref(const=a.detach(), name=self.names.get(id(a), ""))

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        rargs = tree_map(self.ref, args)  # before the op: an in-place op changes what args[0] holds
        rkwargs = tree_map(self.ref, kwargs)
        out = func(*args, **kwargs)
        name = func._overloadpacket.__name__
        outs, _ = tree_flatten(out)
        for i, t in enumerate(outs):
            if isinstance(t, torch.Tensor) and t.is_floating_point():
                self.add(name, func, rargs, rkwargs, t, i)
        return out


def _param_names(model: nn.Module) -> dict[int, str]:
    names = {id(p): n for n, p in model.named_parameters(remove_duplicate=False)}
    names.update({id(b): n for n, b in model.named_buffers(remove_duplicate=False)})
    return names


def trace(model: nn.Module, x: torch.Tensor) -> Trace:
    """Run `model` once on `x` (1, 1, 28, 28) in eval mode and record every op and module output."""
    if x.dim() != 4 or x.shape[0] != 1:
        raise LearnError(f"Learn follows one image at a time: give a (1, 1, 28, 28) batch, got {tuple(x.shape)}")
    named = [(n, m) for n, m in model.named_modules()]
    mode = _Recorder(_param_names(model))
    layers: dict[str, Layer] = {}
    modules: dict[str, nn.Module] = {}
    module_names: dict[int, str] = {}
    for n, m in named:
        if id(m) not in module_names:
            module_names[id(m)] = n
            modules[n] = m
    order = [0]

    def pre(mod: nn.Module, inputs: Any) -> None:
        name = module_names[id(mod)]
        mode.stack.append(name)
        if name not in layers:
            flat, _ = tree_flatten(inputs)
            ins = tuple(mode.current[id(t)] for t in flat if isinstance(t, torch.Tensor) and id(t) in mode.current)
            layers[name] = Layer(name, type(mod).__name__, 0 if not name else name.count(".") + 1, order[0], -1, (),
                                 0, ins)
            order[0] += 1

    def post(mod: nn.Module, inputs: Any, output: Any) -> None:
        name = module_names[id(mod)]
        if mode.stack and mode.stack[-1] == name:
            mode.stack.pop()
        lay = layers[name]
        lay.calls += 1
        if lay.calls == 1:
            out = output[0] if isinstance(output, (tuple, list)) and output else output
            if isinstance(out, torch.Tensor) and id(out) in mode.current:
                lay.node = mode.current[id(out)]
                lay.shape = tuple(int(s) for s in out.shape[1:])

    from explorer.models import model_lock  # shared between Streamlit sessions: hook it under its lock

    with model_lock(model):
        return _run(model, x, named, mode, layers, modules, pre, post)


def _run(model: nn.Module, x: torch.Tensor, named: list, mode: _Recorder, layers: dict[str, Layer],
         modules: dict[str, nn.Module], pre: Any, post: Any) -> Trace:
    """The hooked forward itself (explorer.inspect.collect.hooked removes the hooks and restores the
    train/eval flags; the kept tensors are let go in `finally`)."""
    try:
        with hooked(model, named, pre, post):
            with torch.inference_mode():
                x = x.detach().clone()
                with mode:
                    mode.add("input", None, (), {}, x, 0)
                    try:
                        out = model(x)
                    except RuntimeError as exc:  # a model that cannot take this input: say where, never a traceback
                        where = f" in {mode.stack[-1]}" if mode.stack and mode.stack[-1] else ""
                        raise LearnError(f"the forward pass of {type(model).__name__} failed{where}: "
                                         f"{str(exc).splitlines()[0]}") from None
            out = out[0] if isinstance(out, (tuple, list)) else out
            if not isinstance(out, torch.Tensor) or id(out) not in mode.current:
                raise LearnError(f"{type(model).__name__}'s output is not a tensor of class scores")
            output_node = mode.current[id(out)]
    finally:
        mode.keep.clear()
    kept = {n: lay for n, lay in layers.items() if n and lay.node >= 0}
    return Trace(nodes=mode.nodes, layers=kept, input_node=0, output_node=output_node, modules=modules,
                 model_name=str(getattr(model, "name", type(model).__name__)))
