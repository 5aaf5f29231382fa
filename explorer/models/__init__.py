"""The model registry: every architecture of the seed documents, with its card; the one inference path.

Package face: the zoo is a table (zoo.py, no torch) indexed by registry.py, so listing names and cards
imports no torch; the names that build or run networks (build.py, from_config.py, inference.py) load on
first use (PEP 562, explorer.lazy).
"""

from __future__ import annotations

from explorer.lazy import lazy_names
from explorer.models import designs  # noqa: F401  (the user's designs register themselves as a source on import)
from explorer.models.cards import POLICIES, Adaptation, Build, Entry, ModelCard
from explorer.models.registry import (
    UnknownModelError,
    WeightsNotFoundError,
    get_card,
    get_entry,
    letters_input_size,
    list_cards,
    list_models,
    model_card,
    model_spec,
    resolve_name,
)

_LAZY = {
    **dict.fromkeys(["LettersAdapter", "LettersModel", "build_letters_model", "build_model", "weights_dir"], "build"),
    "build_from_config": "from_config",
    **dict.fromkeys(["eval_mode", "model_device", "model_lock", "probabilities", "softmax_output", "to_batch"],
                    "inference"),
}
__getattr__, __dir__ = lazy_names(__name__, _LAZY)

__all__ = [
    "POLICIES",
    "Adaptation",
    "Build",
    "Entry",
    "ModelCard",
    "UnknownModelError",
    "WeightsNotFoundError",
    "get_card",
    "get_entry",
    "letters_input_size",
    "list_cards",
    "list_models",
    "model_card",
    "model_spec",
    "resolve_name",
    *_LAZY,
]
