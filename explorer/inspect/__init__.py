"""Per-layer inspection: shapes, parameters, MACs/FLOPs, memory and receptive fields.

The names load on first use (PEP 562, explorer.lazy), so the `inspect` and `profile` commands register
without importing torch."""

from __future__ import annotations

from explorer.lazy import lazy_names

_LAZY = {"InputTooSmallError": "collect", "InspectError": "collect",
         **dict.fromkeys(["LayerRecord", "Summary", "human", "mb", "parse_input_size", "summarize"], "summary")}
__getattr__, __dir__ = lazy_names(__name__, _LAZY)
__all__ = sorted(_LAZY)
