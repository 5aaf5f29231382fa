"""Where a number of a data-movement op (view, flatten, transpose, cat, pad, index_select, channel shuffle,
dropout in eval) came from: the op is run again on "index tensors" (each input's positions numbered 1, 2, ...,
offset per input), so the output holds, at every position, the number of the input position it copied
(0 = a constant such as zero padding). Any op that only moves numbers is answered the same way."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.utils._pytree import tree_flatten, tree_map

from explorer.learn.ops import kind
from explorer.learn.record import Node, Ref, Trace


@dataclass(frozen=True)
class Source:
    """Where one output number of a movement op came from: a node and a position in it, or a constant."""

    node: int | None  # None: a constant (padding)
    pos: tuple[int, ...]
    via: str  # the op name
    concat: bool = False  # it came through a concatenation (worth telling the user)


def _inputs(node: Node) -> list[Ref]:
    flat, _ = tree_flatten((node.args, node.kwargs))
    return [a for a in flat if isinstance(a, Ref) and a.node is not None]


def source(trace: Trace, node: Node, pos: tuple[int, ...]) -> Source:
    """The input position that movement node `node` copied to output position `pos`."""
    refs = _inputs(node)
    offsets: dict[int, int] = {}
    shapes: dict[int, tuple[int, ...]] = {}
    total = 0
    for r in refs:
        if r.node in offsets:
            continue
        shape = tuple(trace.node(r.node).value.shape)
        offsets[r.node], shapes[r.node] = total, shape
        total += max(1, int(torch.Size(shape).numel()))

    def swap(a):
        if isinstance(a, Ref):
            if a.node is not None and a.node in offsets:
                n = int(torch.Size(shapes[a.node]).numel())
                return (torch.arange(1, n + 1, dtype=torch.float64) + offsets[a.node]).reshape(shapes[a.node])
            return a.const
        return a

    args = tree_map(swap, node.args)
    kwargs = tree_map(swap, node.kwargs)
    with torch.inference_mode():
        out = node.func(*args, **kwargs)
    outs, _ = tree_flatten(out)
    tensors = [t for t in outs if isinstance(t, torch.Tensor)]
    index = int(round(float(tensors[min(node.out_index, len(tensors) - 1)][pos])))
    concat = node.op in ("cat", "concat", "stack")
    if index == 0:
        return Source(None, (), node.op, concat)
    g = index - 1
    for nid, off in offsets.items():
        n = max(1, int(torch.Size(shapes[nid]).numel()))
        if off <= g < off + n:
            flat = g - off
            coords = []
            for s in reversed(shapes[nid]):
                coords.append(flat % s)
                flat //= s
            return Source(nid, tuple(reversed(coords)), node.op, concat)
    return Source(None, (), node.op, concat)


def through_movement(trace: Trace, node_id: int, pos: tuple[int, ...]) -> tuple[int | None, tuple[int, ...], list[Source]]:
    """Follow `pos` of node `node_id` back through movement ops to the node that computed it.

    Returns (node, position, the concatenations passed on the way); node None means a constant (padding)."""
    hops: list[Source] = []
    while True:
        node = trace.node(node_id)
        if kind(node) != "movement":
            return node_id, pos, hops
        src = source(trace, node, pos)
        if src.concat:
            hops.append(src)
        if src.node is None:
            return None, (), hops
        node_id, pos = src.node, src.pos
