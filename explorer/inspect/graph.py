"""Block diagram of a network as Graphviz DOT text (rendered by st.graphviz_chart in the browser;
no system binary needed), with the tensor shape on each edge, like the figures in the seeds."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.inspect.collect import Collected, RawLayer
from explorer.inspect.summary import Summary

_ALIAS = {
    "view", "_unsafe_view", "reshape", "flatten", "t", "transpose", "permute", "expand", "squeeze",
    "unsqueeze", "alias", "detach", "clone", "contiguous", "_to_copy", "slice", "select", "empty_like",
    "split", "split_with_sizes", "unbind", "chunk", "narrow", "dropout", "native_dropout",
}
_OP_LABEL = {"add": "+", "mul": "×", "cat": "concat", "sub": "−", "div": "÷", "mean": "mean", "stack": "stack"}
MAX_NODES = 400


@dataclass
class Diagram:
    """Nodes and edges of a block diagram, plus its DOT text."""

    dot: str
    nodes: int
    edges: int


def _shape(shape: tuple[int, ...] | None) -> str:
    return "×".join(str(s) for s in shape[1:]) if shape else ""


def block_diagram(summary: Summary, depth: int = 2, rankdir: str = "TB") -> Diagram:
    """Contract the recorded op graph to modules at `depth` and return it as DOT.

    Ops that run directly in a container shown expanded (a residual `+`, a DenseNet `concat`)
    become small operator nodes; view-like ops pass tensors through.
    """
    col = summary.collected
    if col is None:
        raise ValueError("this summary was made without recording ops; call summarize(..., record_ops=True)")
    nodes, edges = _contract(col, depth)
    return Diagram(dot=_dot(nodes, edges, rankdir), nodes=len(nodes), edges=len(edges))


def _node_for(stack: tuple[str, ...], layers: dict[str, RawLayer], called_children: set[str],
              depth: int) -> str | None:
    """The displayed module for an op executed with this module stack (None: loose op)."""
    inner = [s for s in stack if s]
    if not inner:
        return None
    for name in inner:
        rec = layers[name]
        if rec.depth == depth or (rec.depth < depth and name not in called_children):
            return name
    deepest = inner[-1]
    return None if layers[deepest].depth < depth and deepest in called_children else deepest


def _contract(col: Collected, depth: int) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Node labels and shape-labelled edges of the op graph contracted to modules at `depth`."""
    layers = col.layers
    called_children = {n.rsplit(".", 1)[0] if "." in n else "" for n, r in layers.items() if n and r.calls}
    producer: dict[int, str] = {col.input_id: "input"}
    nodes: dict[str, str] = {"input": f"input\\n{_shape(col.shapes.get(col.input_id))}"}
    edges: dict[tuple[str, str], str] = {}
    op_count = 0
    for op in col.ops:
        node = _node_for(op.stack, layers, called_children, depth)
        srcs = [producer[i] for i in op.inputs if i in producer]
        if node is None:
            if op.op in _ALIAS or (len(set(srcs)) <= 1 and op.op not in _OP_LABEL):
                for o in op.outputs:  # pass-through: keep the producer
                    if srcs:
                        producer[o] = srcs[0]
                continue
            op_count += 1
            node = f"op{op_count}"
            nodes[node] = _OP_LABEL.get(op.op, op.op)
        elif node not in nodes:
            rec = layers[node]
            nodes[node] = f"{node}\\n{rec.type}"
        for i in op.inputs:
            src = producer.get(i)
            if src is not None and src != node:
                edges.setdefault((src, node), _shape(col.shapes.get(i) or _lookup_shape(col, i)))
        for o in op.outputs:
            producer[o] = node
        if len(nodes) > MAX_NODES:
            break
    _add_output(col, producer, nodes, edges)
    return nodes, edges


def _add_output(col: Collected, producer: dict[int, str], nodes: dict[str, str],
                edges: dict[tuple[str, str], str]) -> None:
    """The output node, and edge labels from module output shapes where the op-level map lacks them."""
    for oid in col.output_ids:
        src = producer.get(oid)
        if src:
            nodes["output"] = f"output\\n{_shape(col.shapes.get(oid))}"
            edges.setdefault((src, "output"), _shape(col.shapes.get(oid)))
    layers = col.layers
    for (src, dst), label in list(edges.items()):
        if not label and src in layers and layers[src].output_shapes:
            edges[(src, dst)] = _shape(layers[src].output_shapes[0])


def _dot(nodes: dict[str, str], edges: dict[tuple[str, str], str], rankdir: str) -> str:
    """Graphviz DOT text: module boxes, operator circles, input/output ellipses."""
    lines = [
        "digraph G {",
        f'  rankdir={rankdir}; nodesep=0.25; ranksep=0.3;',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef2ff", color="#6366f1", '
        'fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8, color="#64748b"];',
    ]
    for key, label in nodes.items():
        if key.startswith("op"):
            lines.append(f'  "{key}" [label="{label}", shape=circle, fillcolor="#fef3c7", color="#d97706", '
                         f'width=0.3, fixedsize=false];')
        elif key in ("input", "output"):
            lines.append(f'  "{key}" [label="{label}", shape=ellipse, fillcolor="#dcfce7", color="#16a34a"];')
        else:
            lines.append(f'  "{key}" [label="{label}"];')
    for (src, dst), label in edges.items():
        lines.append(f'  "{src}" -> "{dst}" [label=" {label}"];')
    lines.append("}")
    return "\n".join(lines)


def _lookup_shape(col, tensor_id: int) -> tuple[int, ...] | None:
    for rec in col.layers.values():
        if tensor_id in rec.output_ids and rec.output_shapes:
            return rec.output_shapes[rec.output_ids.index(tensor_id)]
    return None
