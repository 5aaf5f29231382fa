"""The model registry: every architecture of the seed documents, with its card; the one inference path.

Package face: re-exports the registry and imports the model modules eagerly (as timm does), so
every entry is registered before any caller can list or build one.
"""

from explorer.models import designs, zoo  # noqa: F401  (model modules and sources register themselves on import)
from explorer.models.from_config import build_from_config
from explorer.models.inference import (
    eval_mode,
    model_device,
    model_lock,
    probabilities,
    softmax_output,
    to_batch,
)
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
    model_card,
    model_spec,
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
    "eval_mode",
    "get_card",
    "letters_input_size",
    "list_cards",
    "list_models",
    "model_card",
    "model_spec",
    "model_device",
    "model_lock",
    "probabilities",
    "resolve_name",
    "softmax_output",
    "to_batch",
    "weights_dir",
]
