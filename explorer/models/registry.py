"""One registry of networks: name -> card + how to build it (the metadata lives beside the builder, as in timm).

The registry indexes the zoo's table (explorer.models.zoo.ENTRIES) and imports no torch, so names and
cards are listed at once (`explorer models`, the app's pickers); explorer.models.build builds a network
from an entry's `Build` on demand.
"""

from __future__ import annotations

import difflib

from explorer.models.cards import POLICIES, Adaptation, Build, Entry, ModelCard
from explorer.models.zoo import ENTRIES

__all__ = ["POLICIES", "Adaptation", "Build", "Entry", "ModelCard", "UnknownModelError", "WeightsNotFoundError",
           "get_card", "get_entry", "letters_input_size", "list_cards", "list_models", "resolve_name"]


class UnknownModelError(KeyError):
    """Raised for a model name that is not in the registry; the message lists close matches."""

    def __str__(self) -> str:
        return str(self.args[0])


class WeightsNotFoundError(FileNotFoundError):
    """Raised when pretrained weights are asked for but are not in the local torch cache."""


def _index(entries: tuple[Entry, ...]) -> dict[str, Entry]:
    """Name -> entry, in table order; every card names its first conv and classifier, no name twice."""
    out: dict[str, Entry] = {}
    for e in entries:
        if e.card.name in out:
            raise ValueError(f"model {e.card.name!r} is in the zoo twice")
        if not e.card.first_conv or not e.card.classifier:
            raise ValueError(f"model {e.card.name!r}: the card must name its first_conv and classifier modules")
        out[e.card.name] = e
    return out


_REGISTRY = _index(ENTRIES)


def list_models(family: str | None = None) -> list[str]:
    """Names of all registered networks, in lineage order (optionally one family)."""
    return [n for n, e in _REGISTRY.items() if family is None or e.card.family == family]


def list_cards() -> list[ModelCard]:
    """Cards of all registered networks, in lineage order."""
    return [e.card for e in _REGISTRY.values()]


def resolve_name(name: str) -> str:
    """Return the registry name for `name` (case/dash-insensitive) or raise UnknownModelError."""
    if name in _REGISTRY:
        return name
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    squash = key.replace("_", "")
    for n in _REGISTRY:
        if n.lower() == key or n.replace("_", "") == squash:
            return n
    close = difflib.get_close_matches(key, list(_REGISTRY), n=5, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise UnknownModelError(
        f"unknown model {name!r}.{hint} Run `python -m explorer models` for the full list."
    )


def get_entry(name: str) -> Entry:
    """The zoo entry (card + build) of a registered network."""
    return _REGISTRY[resolve_name(name)]


def get_card(name: str) -> ModelCard:
    """The card of a registered network."""
    return get_entry(name).card


def letters_input_size(name: str) -> tuple[int, int, int]:
    """The tensor size the network itself sees for a letter (after the adapter)."""
    return get_card(name).letters.input_size
