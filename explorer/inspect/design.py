"""A design's per-layer table: the course's formula and shape of each layer (explorer.design.check) beside the
inspector's parameters and MACs of the built layers (summarize, so the counts equal a torchinfo run), with
running totals. While a layer does not fit, the layers before it are still counted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import torch

from explorer.design import Check, Design, check, shape_text
from explorer.design.build import build_fitting, build_net
from explorer.inspect.summary import Summary, summarize


@dataclass
class DesignTable:
    """A checked design with the inspector's counts per layer."""

    check: Check
    summary: Summary | None  # of the whole network when it fits, else of the layers before the first problem
    params: dict[str, int]  # module name -> parameters (inspector)
    macs: dict[str, int]

    @property
    def ok(self) -> bool:
        """True when the design builds."""
        return self.check.ok

    @property
    def total_params(self) -> int:
        """Parameters of every counted layer."""
        return sum(self.params.values())

    @property
    def total_macs(self) -> int:
        """MACs of every counted layer."""
        return sum(self.macs.values())

    def records(self) -> list[dict[str, Any]]:
        """One dict per row: #, layer, output, formula, params, MACs, running totals, problem."""
        out, tp, tm = [], 0, 0
        for r in self.check.rows:
            p, m = self.params.get(r.module), self.macs.get(r.module)
            tp += p or 0
            tm += m or 0
            counted = r.module in self.params
            out.append({"#": r.index, "layer": r.label, "kind": r.kind, "module": r.module,
                        "output": shape_text(r.out_shape) if not r.problem else "✗",
                        "formula": " · ".join(r.formulas), "params": p if counted else None,
                        "macs": m if counted else None, "params_total": tp if counted or r.index == 0 else None,
                        "macs_total": tm if counted or r.index == 0 else None, "problem": r.message})
        return out

    def to_dataframe(self) -> pd.DataFrame:
        """The table as the builder and `explorer design check` show it."""
        df = pd.DataFrame(self.records())
        for c in ("params", "macs", "params_total", "macs_total"):
            df[c] = df[c].astype("Int64")
        return df

    def to_text(self) -> str:
        """The table with the formula per layer, then the totals or the problem."""
        lines = [f"{'#':>2}  {'layer':34s} {'output':>10s} {'params':>10s} {'MACs':>12s} {'params so far':>13s}  formula"]
        for r in self.records():
            if r["kind"] == "input":
                lines.append(f"{0:>2}  {r['layer']:34s} {r['output']:>10s}")
                continue

            def num(v: Any) -> str:
                return "—" if v is None else f"{v:,}"
            lines.append(f"{r['#']:>2}  {r['layer'][:34]:34s} {r['output']:>10s} {num(r['params']):>10s} "
                         f"{num(r['macs']):>12s} {num(r['params_total']):>13s}  {r['formula']}")
        err = self.check.error
        if err is not None:
            lines.append(f"not built: {err.message}")
        else:
            lines.append(f"total: {self.total_params:,} parameters, {self.total_macs:,} MACs "
                         f"({2 * self.total_macs:,} FLOPs) for one {shape_text((self.check.in_chans, *[self.check.design.input_size] * 2))} input")
        return "\n".join(lines)


def design_table(design: Design, num_classes: int = 26, in_chans: int = 1) -> DesignTable:
    """Check a design and count what builds of it with the inspector (on the meta device: nothing is allocated)."""
    result = check(design, num_classes, in_chans)
    with torch.device("meta"):
        net = build_net(design, num_classes, in_chans) if result.ok else build_fitting(result)
    side = design.input_size
    summary = summarize(net, (in_chans, side, side)) if len(net) else None
    params: dict[str, int] = {}
    macs: dict[str, int] = {}
    if summary is not None:
        for rec in summary.layers:
            if "." not in rec.name and rec.name:
                params[rec.name], macs[rec.name] = int(rec.params), int(rec.macs)
    return DesignTable(result, summary, params, macs)
