"""Progress values of a run (no streamlit): numbers for st.progress, which raises StreamlitValueOutOfRangeError outside [0, 1].

A run's status.json is written by another process at any moment (epoch 0 before the first step,
step 0 of a new epoch, an eval stage, a hand-edited or truncated file), so every value shown on a
progress bar goes through `clamp01`, and the epoch fraction through `epoch_fraction`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def number(value: Any, default: float = 0.0) -> float:
    """`value` as a finite float, or `default` (None, "", "abc", NaN, inf, lists ...)."""
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return default
    return x if math.isfinite(x) else default


def clamp01(value: Any) -> float:
    """`value` clamped into [0.0, 1.0]; NaN or a non-number gives 0.0."""
    return min(1.0, max(0.0, number(value)))


def epoch_fraction(status: Mapping[str, Any], epochs: float | None = None) -> float:
    """Fraction of a run's epochs done, in [0, 1], from status.json (epoch, step, steps; `epochs` overrides).

    Epoch n at step s < steps counts as n - 1 + s/steps; otherwise `epoch` epochs are done (0 before the
    first step, n after epoch n's last step and during its evaluation).
    """
    total = number(status.get("epochs") if epochs is None else epochs)
    if total <= 0:
        return 0.0
    epoch, step, steps = (number(status.get(k)) for k in ("epoch", "step", "steps"))
    if epoch >= 1 and steps > 0 and 0 <= step < steps:
        done = epoch - 1 + step / steps
    else:
        done = epoch
    return clamp01(done / total)


def epoch_text(status: Mapping[str, Any], epochs: float | None = None) -> str:
    """The epoch a run is at, as a person counts: "epoch 1 of 3" while epoch 1 runs (also before its first step:
    "epoch 1 of 3 (starting)", never "epoch 0 of 3"), "epoch 2 of 3 done" between epochs and once a run has
    ended, "no epoch done of 3" for a run that ended before its first."""
    total = int(number(status.get("epochs") if epochs is None else epochs))
    epoch, step, steps = (int(number(status.get(k))) for k in ("epoch", "step", "steps"))
    running = status.get("status") in (None, "running")
    if epoch <= 0:
        return f"epoch 1 of {total} (starting)" if running else f"no epoch done of {total}"
    if running and steps > 0 and 0 <= step < steps:
        return f"epoch {epoch} of {total}"
    return f"epoch {epoch} of {total} done"
