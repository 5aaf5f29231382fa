"""Block diagram of a network as Graphviz DOT text (rendered by st.graphviz_chart in the browser;
no system binary needed), with the tensor shape on each edge, like the figures in the seeds."""

from __future__ import annotations

from dataclasses import dataclass

from explorer.inspect.collect import Collected
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


RESIDUAL = {"add"}  # a join of two paths that a block is drawn open for (ResNet, MobileNet v2, EfficientNet)


def block_diagram(summary: Summary, depth: int = 2, rankdir: str = "TB") -> Diagram:
    """Contract the recorded op graph to modules at `depth` and return it as DOT.

    Ops that run directly in a container shown expanded (a residual `+`, a DenseNet `concat`) become small
    operator nodes; view-like ops pass tensors through. A block whose own forward adds two paths (ResNet's
    BasicBlock: body + skip) is drawn open at its own depth, as a box around its layers and the `+`, so the skip
    connection shows at every depth that reaches the block; a box above that depth says how many `+` it holds.
    A module called more than once (a BasicBlock's one ReLU, used after bn1 and after the add) is one node per
    call, so no arrow loops back into it.
    """
    col = summary.collected
    if col is None:
        raise ValueError("this summary was made without recording ops; call summarize(..., record_ops=True)")
    g = _Contraction(col, depth)
    g.run()
    return Diagram(dot=_dot(g.nodes, g.edges, rankdir, g.clusters, g.owner), nodes=len(g.nodes), edges=len(g.edges))


def _merging(col: Collected) -> dict[str, int]:
    """Module -> how many residual adds its own forward runs on two or more tensors (a concat, as in Inception
    or DenseNet, does not open its block: those stay boxes at their depth, as before)."""
    out: dict[str, int] = {}
    for op in col.ops:
        inner = [n for n in op.stack if n]
        if inner and _base(op.op) in RESIDUAL and len(set(op.inputs)) >= 2:
            out[inner[-1]] = out.get(inner[-1], 0) + 1
    return out


def _base(op: str) -> str:
    """add_ -> add (in-place ops count as their plain op)."""
    return op[:-1] if op.endswith("_") and not op.startswith("_") else op


class _Contraction:
    """The op graph contracted to displayed modules: nodes, shape-labelled edges, clusters (open blocks)."""

    def __init__(self, col: Collected, depth: int) -> None:
        self.col, self.depth, self.layers = col, depth, col.layers
        self.called_children = {n.rsplit(".", 1)[0] if "." in n else "" for n, r in self.layers.items()
                                if n and r.calls}
        self.joins = _merging(col)
        self.nodes: dict[str, str] = {"input": f"input\\n{_shape(col.shapes.get(col.input_id))}"}
        self.edges: dict[tuple[str, str], str] = {}
        self.clusters: dict[str, str] = {}  # open block -> its label
        self.owner: dict[str, str] = {}  # node -> the open block it is drawn inside

    def is_open(self, name: str) -> bool:
        """Drawn as its parts: a container above the chosen depth, or a joining block at the chosen depth."""
        rec = self.layers[name]
        if name not in self.called_children:
            return False
        return rec.depth < self.depth or (rec.depth == self.depth and name in self.joins)

    def node_for(self, stack: tuple[str, ...], calls: tuple[int, ...]) -> tuple[str | None, str | None]:
        """(displayed node key, its module) for an op run with this module stack; (None, block): a loose op."""
        inner = [(n, calls[i] if i < len(calls) else 0) for i, n in enumerate(stack) if n]
        for name, call in inner:
            if not self.is_open(name):
                return (name if call == 0 else f"{name}#{call + 1}"), name
        return None, None

    def block_of(self, stack: tuple[str, ...]) -> str | None:
        """The innermost open joining block an op runs in (its cluster)."""
        for name in reversed([n for n in stack if n]):
            if name in self.joins and self.is_open(name):
                return name
        return None

    def run(self) -> None:
        producer: dict[int, str] = {self.col.input_id: "input"}
        op_count = 0
        for op in self.col.ops:
            node, module = self.node_for(op.stack, op.calls)
            srcs = [producer[i] for i in op.inputs if i in producer]
            if node is None:
                if op.op in _ALIAS or (len(set(srcs)) <= 1 and _base(op.op) not in _OP_LABEL):
                    for o in op.outputs:  # pass-through: keep the producer
                        if srcs:
                            producer[o] = srcs[0]
                    continue
                op_count += 1
                node = f"op{op_count}"
                self.nodes[node] = _OP_LABEL.get(_base(op.op), op.op)
            elif node not in self.nodes:
                rec = self.layers[module]
                again = f" (call {node.rsplit('#', 1)[1]})" if "#" in node else ""
                inside = self._inside(module)
                self.nodes[node] = f"{module}\\n{rec.type}{again}{inside}"
            block = self.block_of(op.stack)
            if block is not None and node not in self.owner:
                self.owner[node] = block
                self.clusters.setdefault(block, f"{block} · {self.layers[block].type}")
            for i in op.inputs:
                src = producer.get(i)
                if src is not None and src != node:
                    self.edges.setdefault((src, node), _shape(self.col.shapes.get(i) or _lookup_shape(self.col, i)))
            for o in op.outputs:
                producer[o] = node
            if len(self.nodes) > MAX_NODES:
                break
        _add_output(self.col, producer, self.nodes, self.edges)

    def _inside(self, module: str) -> str:
        """For a closed box: the joins its descendants hold ("\\n2 × + inside"), so depth 1 still says so."""
        counts: dict[str, int] = {}
        for op in self.col.ops:
            inner = [n for n in op.stack if n]
            if module in inner and inner[-1] != module and _base(op.op) in RESIDUAL and len(set(op.inputs)) >= 2:
                label = _OP_LABEL.get(_base(op.op), op.op)
                counts[label] = counts.get(label, 0) + 1
        if not counts:
            return ""
        return "\\n" + ", ".join(f"{n} × {lab}" for lab, n in counts.items()) + " inside"


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


def _dot(nodes: dict[str, str], edges: dict[tuple[str, str], str], rankdir: str,
         clusters: dict[str, str] | None = None, owner: dict[str, str] | None = None) -> str:
    """Graphviz DOT text: module boxes, operator circles, input/output ellipses; an open block (a residual
    block drawn as its layers and its +) is a labelled box around them."""
    clusters, owner = clusters or {}, owner or {}
    lines = [
        "digraph G {",
        f'  rankdir={rankdir}; nodesep=0.25; ranksep=0.3;',
        '  node [shape=box, style="rounded,filled", fillcolor="#eef2ff", color="#6366f1", '
        'fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8, color="#64748b"];',
    ]

    def node_line(key: str, label: str) -> str:
        if key.startswith("op"):
            return (f'"{key}" [label="{label}", shape=circle, fillcolor="#fef3c7", color="#d97706", width=0.3, '
                    'fixedsize=false];')
        if key in ("input", "output"):
            return f'"{key}" [label="{label}", shape=ellipse, fillcolor="#dcfce7", color="#16a34a"];'
        return f'"{key}" [label="{label}"];'

    for key, label in nodes.items():
        if key not in owner:
            lines.append("  " + node_line(key, label))
    for block, label in clusters.items():
        lines.append(f'  subgraph "cluster_{block}" {{ label="{label}"; style="rounded,dashed"; color="#94a3b8"; '
                     'fontname="Helvetica"; fontsize=9; labeljust=l;')
        lines += ["    " + node_line(k, nodes[k]) for k, b in owner.items() if b == block and k in nodes]
        lines.append("  }")
    for (src, dst), label in edges.items():
        lines.append(f'  "{src}" -> "{dst}" [label=" {label}"];')
    lines.append("}")
    return "\n".join(lines)


def _lookup_shape(col, tensor_id: int) -> tuple[int, ...] | None:
    for rec in col.layers.values():
        if tensor_id in rec.output_ids and rec.output_shapes:
            return rec.output_shapes[rec.output_ids.index(tensor_id)]
    return None
