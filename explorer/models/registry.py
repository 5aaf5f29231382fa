"""One registry of networks: name -> card + how to build it (the metadata lives beside the builder, as in timm).

The registry indexes the zoo's table (explorer.models.zoo.ENTRIES) and imports no torch, so names and
cards are listed at once (`explorer models`, the app's pickers); explorer.models.build builds a network
from an entry's `Build` on demand.

A *source* (register_source) adds entries that are not known at import: names under its prefix (the user's
designs, "design:NAME", explorer/models/designs.py) are listed after the built-in networks and looked up on
demand; `spec` (a design's data, as a run keeps it) gives the entry a run was trained with.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from explorer.models.cards import POLICIES, Adaptation, Build, Entry, ModelCard
from explorer.models.zoo import ENTRIES

if TYPE_CHECKING:
    from torch import nn

__all__ = ["POLICIES", "Adaptation", "Build", "Entry", "ModelCard", "Source", "UnknownModelError",
           "WeightsNotFoundError", "get_card", "get_entry", "letters_input_size", "list_cards", "list_models",
           "model_card", "model_spec", "register_source", "resolve_name"]


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


@dataclass(frozen=True)
class Source:
    """Registry entries under a name prefix that come from data (the user's designs), not from the zoo."""

    prefix: str
    entries: Callable[[], list[Entry]]  # every entry, in the source's order
    lookup: Callable[[str, Any], Entry]  # (name, spec or None) -> entry; UnknownModelError
    spec: Callable[[str], dict[str, Any]]  # the data a run keeps to rebuild the entry (a design's JSON)


_SOURCES: dict[str, Source] = {}


def register_source(source: Source) -> None:
    """Add a source of entries under `source.prefix` (e.g. "design:")."""
    if source.prefix in _SOURCES:
        raise ValueError(f"source {source.prefix!r} registered twice")
    _SOURCES[source.prefix] = source


def _source(name: str) -> Source | None:
    return next((src for p, src in _SOURCES.items() if isinstance(name, str) and name.startswith(p)), None)


def _all_entries() -> list[Entry]:
    return list(_REGISTRY.values()) + [e for src in _SOURCES.values() for e in src.entries()]


def list_models(family: str | None = None) -> list[str]:
    """Names of all registered networks, in lineage order, then the sources' (optionally one family)."""
    return [e.card.name for e in _all_entries() if family is None or e.card.family == family]


def list_cards() -> list[ModelCard]:
    """Cards of all registered networks, in lineage order, then the sources' (the user's designs)."""
    return [e.card for e in _all_entries()]


def resolve_name(name: str) -> str:
    """Return the registry name for `name` (case/dash-insensitive) or raise UnknownModelError."""
    if name in _REGISTRY:
        return name
    if _source(name) is not None:
        return get_entry(name).card.name
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


def get_entry(name: str, spec: Any = None) -> Entry:
    """The entry (card + build) of a registered network (`spec`: a source entry's data, as a run keeps it)."""
    src = _source(name)
    if src is not None:
        return src.lookup(name, spec)
    return _REGISTRY[resolve_name(name)]


def get_card(name: str, spec: Any = None) -> ModelCard:
    """The card of a registered network (`spec`: see get_entry)."""
    return get_entry(name, spec).card


def model_spec(name: str) -> dict[str, Any] | None:
    """What a run must keep to rebuild `name` later (a design's JSON); None for a built-in network."""
    src = _source(name)
    return None if src is None else src.spec(name)


def model_card(model: nn.Module) -> ModelCard:
    """The card of a built letters model (the one it was built from, even when its design changed since)."""
    card = getattr(model, "card", None)
    return card if isinstance(card, ModelCard) else get_card(getattr(model, "name", ""))


def letters_input_size(name: str, spec: Any = None) -> tuple[int, int, int]:
    """The tensor size the network itself sees for a letter (after the adapter)."""
    return get_card(name, spec).letters.input_size
