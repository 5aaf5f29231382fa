"""`explorer learn RUN_OR_MODEL --input test:0 --layer NAME --unit C,Y,X [--json]`: how one number of a layer
comes about (the same breakdown as the Learn page), checked against the model's activation."""

from __future__ import annotations

import argparse
import json
from typing import Any


def parse_unit(text: str | None) -> tuple[int, ...] | None:
    """'3,5,7' -> (3, 5, 7); '12' -> (12,); a ValueError for anything else."""
    if text is None:
        return None
    try:
        return tuple(int(p) for p in text.replace(" ", "").split(","))
    except ValueError:
        raise ValueError(f"--unit must be C,Y,X (three whole numbers, e.g. 0,5,7) or K for a vector layer, "
                         f"got {text!r}") from None


def cmd_learn(args: argparse.Namespace) -> int:
    """Print the breakdown of one unit (or the layer list)."""
    import torch

    from explorer.learn import follow, image_input, open_network, softmax_view, trace
    from explorer.learn.text import breakdown_lines, layer_lines, softmax_lines

    unit = parse_unit(args.unit)
    net = open_network(args.model, which=args.which)
    x, described = image_input(args.input, net)
    tr = trace(net.model, x[None])
    if args.list_layers:
        print("\n".join(layer_lines(tr)))
        return 0
    layer = args.layer or _first_conv(net, tr)
    if unit is None:  # the strongest unit of the layer
        lay = tr.layers.get(layer) or tr.layers.get(f"net.{layer}")
        if lay is not None:
            v = tr.node(lay.node).value[0].abs()
            i = int(torch.argmax(v))
            unit = tuple(int(u) for u in torch.unravel_index(torch.tensor(i), v.shape))
        else:
            unit = (0, 0, 0)
    b = follow(tr, layer, unit)
    is_output = tr.layers[b.layer].node == tr.output_node
    soft = softmax_view(tr, net.classes) if is_output else None
    if args.json:
        out: dict[str, Any] = {"network": net.title, "arch": net.arch, "trained": net.trained, "input": described,
                               **b.to_dict()}
        if soft is not None:
            out["softmax"] = {"classes": soft.classes, "logits": soft.logits.tolist(), "probabilities": soft.probs.tolist(),
                              "sum": soft.sum}
        print(json.dumps(out, indent=1))
    else:
        print(f"{net.title} · input: {described}")
        print("\n".join(breakdown_lines(b)))
        if soft is not None:
            print("\n".join(softmax_lines(soft)))
    return 0 if b.ok else 1


def _first_conv(net: Any, tr: Any) -> str:
    from explorer.models import model_card

    name = f"net.{model_card(net.model).first_conv}"
    return name if name in tr.layers else tr.spatial_layers()[0].name


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register `learn`."""
    p = sub.add_parser("learn", help="how one number of a layer comes about, step by step, checked against the model",
                       description=__doc__.splitlines()[0])
    p.add_argument("model", metavar="RUN_OR_MODEL", help="a run id or folder, or a registry model name (untrained)")
    p.add_argument("--input", default="test:0",
                   help="test:N (the run's test split), example:X (assets/examples), or an image file (default test:0)")
    p.add_argument("--layer", help="layer name as `--list-layers` prints it (default: the first convolution)")
    p.add_argument("--unit", help="C,Y,X (channel, row, column) of a map, or K of a vector layer "
                                  "(default: the layer's strongest unit)")
    p.add_argument("--which", choices=("best", "last"), default="best", help="a run's weights (default best)")
    p.add_argument("--list-layers", action="store_true", help="list the layers and their output shapes")
    p.add_argument("--json", action="store_true", help="print the breakdown as JSON")
    p.set_defaults(func=cmd_learn)
