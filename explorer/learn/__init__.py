"""Learn: how each layer computes its numbers, on the user's own drawing and own trained run.

record.py records one real forward op by op; breakdown.py follows one unit back to the op that computed it and
forwards again (conv.py, pooling.py, linear.py break the computing ops down; ops.py and route.py classify
ops and route data movement); overview.py folds the network into rows; sizes.py, playground.py, slide.py
and course.py are the convolution/pooling playground, the kernel slide and the course's worked examples;
network.py loads the model and the input; text.py writes a breakdown as lines (the CLI). No streamlit here
(explorer.ui.learn renders it).

The names below load on first use (PEP 562), so `explorer --help` importing explorer.learn.cli imports no torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "CONV_PRESETS": "course", "DESIGNS": "course", "Bottleneck": "course", "ConvPreset": "course", "Design": "course",
    "volume_1x1": "course", "LearnError": "errors", "TOLERANCE": "breakdown", "Breakdown": "breakdown",
    "check_unit": "breakdown", "follow": "breakdown", "resolve_layer": "breakdown", "Softmax": "linear",
    "softmax_view": "linear", "Network": "network", "as_input": "network", "example_letters": "network",
    "from_run": "network", "image_input": "network", "open_network": "network", "untrained": "network",
    "Row": "overview", "maps": "overview", "overview_rows": "overview", "KERNELS": "playground",
    "POOL_MODES": "playground", "convolve": "playground", "downsample": "playground", "matrix_text": "playground",
    "parse_matrix": "playground", "pool": "playground", "SizeFit": "sizes", "Slide": "slide", "kernel_slide": "slide",
    "Step": "step", "Layer": "record", "Trace": "record", "trace": "record",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    """Import the module that owns `name` on first use."""
    if name not in _WHERE:
        raise AttributeError(f"module 'explorer.learn' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"explorer.learn.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
