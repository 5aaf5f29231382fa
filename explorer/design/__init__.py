"""Designs: networks the user builds layer by layer, as data (spec.py: types from a fixed list, bounded numbers,
checked like an untrusted file), worked out with the course's formula before anything is built (shapes.py,
sizes.py), built into torch modules (build.py), saved under the data folder (store.py) and started from the
course's, LeNet-5's and a Tiny VGG's designs (starters.py). explorer.models registers saved designs as
design:NAME; nothing above it needs to know that a model is a design.

torch is imported only by build.py (loaded on first use), so listing and checking designs stays cheap."""

from __future__ import annotations

from typing import Any

from explorer.design.shapes import CLASSIFIER, Check, Row, check, layer_label, module_names, shape_text
from explorer.design.spec import (
    ACTIVATIONS,
    LAYERS,
    MAX_LAYERS,
    Design,
    DesignError,
    Setting,
    check_layer,
    check_name,
    default_layer,
    layer_title,
    parse_design,
    settings,
)
from explorer.design.starters import empty, starter, starter_names
from explorer.design.store import (
    delete_design,
    design_json,
    designs_root,
    export_design,
    import_design,
    list_designs,
    load_design,
    read_design_bytes,
    read_design_file,
    save_design,
    saved_designs,
)

PREFIX = "design:"


def __getattr__(name: str) -> Any:
    """build_net, first_layer, ResidualBlock, InceptionBlock load torch on first use."""
    if name in ("build_net", "build_fitting", "first_layer", "ResidualBlock", "InceptionBlock"):
        from explorer.design import build

        return getattr(build, name)
    raise AttributeError(f"module 'explorer.design' has no attribute {name!r}")


__all__ = [
    "ACTIVATIONS", "CLASSIFIER", "LAYERS", "MAX_LAYERS", "PREFIX", "Check", "Design", "DesignError", "Row",
    "Setting", "check", "check_layer", "check_name", "default_layer", "delete_design", "design_json",
    "designs_root", "empty", "export_design", "import_design", "layer_label", "layer_title", "list_designs",
    "load_design", "module_names", "parse_design", "read_design_bytes", "read_design_file", "save_design",
    "saved_designs", "settings", "shape_text", "starter", "starter_names",
]
