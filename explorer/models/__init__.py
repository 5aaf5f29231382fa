"""The model registry: every architecture of the seed documents, with its card."""

from explorer.models.from_config import build_from_config
from explorer.models.registry import (
    POLICIES,
    Adaptation,
    LettersAdapter,
    LettersModel,
    ModelCard,
    UnknownModelError,
    WeightsNotFoundError,
    build_letters_model,
    build_model,
    get_card,
    letters_input_size,
    list_cards,
    list_models,
    resolve_name,
    weights_dir,
)

__all__ = [
    "POLICIES",
    "Adaptation",
    "LettersAdapter",
    "LettersModel",
    "ModelCard",
    "UnknownModelError",
    "WeightsNotFoundError",
    "build_from_config",
    "build_letters_model",
    "build_model",
    "get_card",
    "letters_input_size",
    "list_cards",
    "list_models",
    "resolve_name",
    "weights_dir",
]
