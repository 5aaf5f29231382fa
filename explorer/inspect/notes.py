"""What the inspector's pages say beside the numbers, as plain text and keys (no streamlit): what a FLOP
count counts, where the receptive field covers the input, and the cache key of what a model name builds."""

from __future__ import annotations

import json

from explorer.inspect.summary import Summary

__all__ = ["FLOPS_NOTE", "model_content", "rf_note"]

FLOPS_NOTE = (
    "**MACs vs FLOPs.** One multiply-accumulate (MAC) is one multiplication and one addition; here "
    "FLOPs = 2 × MACs. Papers' \"FLOPs\" are usually MACs (ResNet-50's \"3.8×10⁹ FLOPs\" are multiply-adds). "
    "Counted: convolutions, linear layers and matrix products (torch.utils.flop_counter, as torchvision's "
    "`_ops`); batch norm, activations, pooling and additions are not counted."
)


def model_content(name: str) -> str:
    """A cache key for what a model name builds: "" for a built-in network, a design's JSON for design:NAME."""
    from explorer.models import model_spec

    try:
        spec = model_spec(name)
    except KeyError:
        return ""
    return json.dumps(spec, sort_keys=True) if spec else ""


def rf_note(s: Summary) -> str:
    """Where the receptive field first grows past the input: from there each unit sees the whole image."""
    size = max(s.input_size[1:])
    for r in s.layers:
        rf = r.receptive_field
        if rf and r.called and r.is_leaf and max(rf) > size:
            if r.rf_label() == "global":
                return f"From **{r.name}** on, each output sees the whole {size}-pixel input (global receptive field)."
            return (f"From **{r.name}** on, the receptive field ({r.rf_label()} px) is larger than the {size}-pixel "
                    "input: each output there sees the whole image (the part beyond the edge is padding).")
    return ""
