"""One step of how a number comes about (a convolution's sum, BatchNorm's affine step, an activation, a
residual addition...), as plain data: what it computes, its formula with the real numbers, the value
recomputed here and the value the model produced at that point."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any

import numpy as np


@dataclass
class Step:
    """One step of the chain that ends in the chosen unit."""

    kind: str  # conv | pool | mean | linear | bn | activation | add | residual | scale | concat | input | op
    title: str  # e.g. "Convolution net.conv1 (5×5, stride 1, padding 2)"
    module: str  # the module that ran it ('' for a functional op at the top level)
    formula: str  # with the numbers filled in
    value: float  # recomputed here (from the step's input and the module's weights)
    model: float  # what the model produced at this point (its recorded activation)
    value_in: float | None = None  # the number this step starts from (None for a computing step)
    detail: Any = None  # kind-specific arrays: ConvCell, PoolCell, LinearCell
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (arrays as nested lists)."""
        d = {k: v for k, v in asdict(self).items() if k != "detail"}
        d["detail"] = to_plain(self.detail)
        return d


def to_plain(obj: Any) -> Any:
    """Dataclasses, numpy arrays and numbers -> JSON-ready lists, dicts and floats."""
    if obj is None or isinstance(obj, (str, bool, int)):
        return obj
    if isinstance(obj, float):
        return obj if np.isfinite(obj) else str(obj)
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind == "f":
            return [to_plain(float(v)) for v in obj.ravel()] if obj.ndim == 1 else [to_plain(r) for r in obj]
        return obj.tolist()
    if isinstance(obj, np.generic):
        return to_plain(obj.item())
    if is_dataclass(obj):
        return {k: to_plain(getattr(obj, k)) for k in obj.__dataclass_fields__}
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    return str(obj)
