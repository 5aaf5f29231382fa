"""The whole network at a glance (CNN Explainer's overview): every layer's output for the current input,
in the order the model runs them, with repeated blocks folded so a 121-layer DenseNet stays readable.

Rows follow the module tree: a plain container (nn.Sequential / ModuleList / ModuleDict) with mixed
children is opened in place (VGG's `features`, DenseNet's `features`); a block (a module with children of
its own class: BasicBlock, InvertedResidual, an Inception module, _DenseBlock) is one row that opens on
demand; two or more consecutive blocks of the same class (a ResNet stage, a DenseNet block's layers,
InceptionA x 3) fold into one row "BasicBlock × 2" whose maps are the last block's output."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from torch import nn

from explorer.learn.record import Layer, Trace

PLAIN = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


@dataclass
class Row:
    """One row of the overview: a layer, a block, or a fold of repeated blocks."""

    name: str  # module path; for a fold, its first block's
    label: str  # what the row says ("net.layer1: BasicBlock × 2")
    type: str
    shape: tuple[int, ...]  # output shape (C, H, W) or (K,)
    layer: str  # the layer whose output the row shows (for a fold: the last block)
    kind: str  # layer | block | fold
    children: list[Row] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Layers inside (1 for a leaf)."""
        return 1 + sum(c.count for c in self.children) if self.children else 1

    def walk(self) -> list[Row]:
        """This row and every row inside it, in order."""
        return [self, *(r for c in self.children for r in c.walk())]


def _is_plain(mod: nn.Module) -> bool:
    return type(mod) in PLAIN


def _called_children(trace: Trace, name: str) -> list[Layer]:
    prefix = f"{name}." if name else ""
    depth = name.count(".") + 1 if name else 0
    kids = [lay for lay in trace.layers.values()
            if lay.name.startswith(prefix) and lay.name.count(".") == depth]
    return sorted(kids, key=lambda lay: lay.order)


def _row(trace: Trace, lay: Layer) -> Row:
    kids = _rows(trace, lay.name)
    if len(kids) == 1 and kids[0].kind == "fold":  # a DenseNet block: its layers fold under the block's own row
        inner = kids[0]
        return Row(lay.name, f"{lay.name}: {inner.type} × {len(inner.children)}", lay.type, lay.shape, lay.name,
                   "fold", inner.children)
    kind = "block" if kids else "layer"
    return Row(lay.name, lay.name, lay.type, lay.shape, lay.name, kind, kids)


def _rows(trace: Trace, name: str) -> list[Row]:
    """Rows for the called children of module `name`: plain containers opened, repeats folded."""
    out: list[Row] = []
    for lay in _called_children(trace, name):
        mod = trace.modules.get(lay.name)
        kids = _called_children(trace, lay.name)
        if mod is not None and _is_plain(mod) and kids and len({k.type for k in kids}) > 1:
            out.extend(_rows(trace, lay.name))  # mixed plain container: its children in place
        elif mod is not None and _is_plain(mod) and len(kids) > 1 and _is_block(trace, kids[0]):
            blocks = [_row(trace, k) for k in kids]
            out.append(_fold(blocks, f"{lay.name}: {kids[0].type} × {len(kids)}", lay.name))
        else:
            out.append(_row(trace, lay))
    return _fold_runs(out)


def _is_block(trace: Trace, lay: Layer) -> bool:
    return bool(_called_children(trace, lay.name))


def _fold(blocks: list[Row], label: str, name: str | None = None) -> Row:
    last = blocks[-1]
    return Row(name or blocks[0].name, label, blocks[0].type, last.shape, last.layer, "fold", blocks)


def _fold_runs(rows: list[Row]) -> list[Row]:
    """Fold runs of two or more consecutive blocks of the same class into one row."""
    out: list[Row] = []
    i = 0
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and rows[i].kind == "block" and rows[j + 1].kind == "block" and \
                rows[j + 1].type == rows[i].type:
            j += 1
        if j > i:
            run = rows[i:j + 1]
            out.append(_fold(run, f"{run[0].name} … {run[-1].name}: {run[0].type} × {len(run)}"))
        else:
            out.append(rows[i])
        i = j + 1
    return out


def overview_rows(trace: Trace) -> list[Row]:
    """The overview's top rows: the adapter (the input as the network sees it), then the network's."""
    rows: list[Row] = []
    if "adapter" in trace.layers:
        lay = trace.layers["adapter"]
        rows.append(Row("adapter", "input (after the letters adapter)", lay.type, lay.shape, "adapter", "layer"))
    rows.extend(_rows(trace, "net"))
    return [r for r in rows if r.shape]


def maps(trace: Trace, layer: str) -> np.ndarray:
    """The layer's output for this image: (C, H, W) maps or (K,) numbers, float32."""
    lay = trace.layers[layer]
    return trace.node(lay.node).value[0].float().cpu().numpy()
