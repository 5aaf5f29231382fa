"""The breakdown as lines of text (the CLI's output; the page renders the same Steps itself)."""

from __future__ import annotations

import numpy as np

from explorer.learn.breakdown import TOLERANCE, Breakdown
from explorer.learn.conv import ConvCell
from explorer.learn.linear import LinearCell, Softmax
from explorer.learn.ops import fmt
from explorer.learn.record import Trace


def unit_text(b: Breakdown) -> str:
    """'channel 3, row 5, column 7 of 64×14×14' or 'unit 12 of 26'."""
    shape = "×".join(map(str, b.shape))
    if len(b.unit) == 3:
        return f"channel {b.unit[0]}, row {b.unit[1]}, column {b.unit[2]} of {shape}"
    return f"unit {b.unit[0]} of {shape}"


def check_text(b: Breakdown) -> str:
    """The last line: recomputed vs the model's activation."""
    verdict = f"equal within {TOLERANCE:g}" if b.ok else f"DIFFERENT (more than {TOLERANCE:g})"
    return (f"= {fmt(b.value)} recomputed; the model's activation is {fmt(b.model)} "
            f"(difference {b.difference:.1e}): {verdict}")


def breakdown_lines(b: Breakdown, channels: int = 5) -> list[str]:
    """Numbered steps with their formulas, the largest per-channel sums of a convolution, the check."""
    lines = [f"layer {b.layer} ({b.layer_type}) · {unit_text(b)}"]
    for i, s in enumerate(b.steps, 1):
        lines.append(f"{i}. {s.title}")
        lines += [f"   {n}" for n in s.notes]
        lines.append(f"   {s.formula}")
        if isinstance(s.detail, ConvCell) and len(s.detail.channel_sums) > 1:
            d = s.detail
            top = np.argsort(-np.abs(d.channel_sums), kind="stable")[:channels]
            lines.append("   largest per-channel sums: " + ", ".join(
                f"ch {d.in_channels[j]}: {fmt(d.channel_sums[j])}" for j in top))
        if isinstance(s.detail, LinearCell):
            d = s.detail
            lines += [f"   {src}: {fmt(d.inputs[j])} × {fmt(d.weights[j])} = {fmt(d.contributions[j])}"
                      for j, src in zip(d.top[:channels], d.sources, strict=False)]
    lines += [f"note: {n}" for n in b.notes]
    lines.append(check_text(b))
    return lines


def softmax_lines(s: Softmax, top: int = 5) -> list[str]:
    """The softmax of the output layer with the real logits."""
    lines = ["softmax: p_k = e^(z_k) / Σ_j e^(z_j) (computed as e^(z_k − max z) / Σ e^(z_j − max z), same value)"]
    lines += [f"   {s.formula(int(k))}" for k in s.order[:top]]
    lines.append(f"   Σ p = {s.sum:.6f} over {len(s.probs)} classes")
    return lines


def layer_lines(tr: Trace) -> list[str]:
    """Every layer with its type and output shape, in the order it runs."""
    return [f"{lay.name:50s} {lay.type:24s} {'×'.join(map(str, lay.shape))}" for lay in tr.ordered()]
