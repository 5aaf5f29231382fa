"""Live prediction: one image -> the model's tensor -> top-k letters with probabilities (core.py).

Package face: the names load on first use (PEP 562, explorer.lazy), so the `predict` command registers
without importing torch. load_run_model, WeightsError and check_weights are explorer.run_models' (re-exported).
"""

from __future__ import annotations

from explorer.lazy import lazy_names

_LAZY = dict.fromkeys(["Prediction", "WeightsError", "check_weights", "clear_model_cache", "format_top",
                       "load_run_model", "predict_from_image", "predict_image", "runs_for_prediction"], "core")
__getattr__, __dir__ = lazy_names(__name__, _LAZY)
__all__ = sorted(_LAZY)
