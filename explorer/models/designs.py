"""The user's saved designs as registry entries "design:NAME" (the ONE place a design becomes a model): a card
built from the design's data and a builder; `spec` (a run's design.json) rebuilds the design a run trained."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explorer.design import (
    PREFIX,
    Design,
    DesignError,
    check,
    layer_label,
    list_designs,
    load_design,
    parse_design,
)
from explorer.models.cards import Adaptation, Build, Entry, ModelCard
from explorer.models.registry import Source, UnknownModelError, register_source

if TYPE_CHECKING:
    from torch import nn

FAMILY = "Your designs"


def _policy(side: int) -> Adaptation:
    if side == 28:
        return Adaptation("native", (1, 28, 28))
    if side > 28:
        return Adaptation("pad", (1, side, side), "A design with a larger input sees the letter centred on zeros.")
    return Adaptation("resize", (1, side, side), "A design with a smaller input sees the letter scaled down.")


def design_card(design: Design) -> ModelCard:
    """The model card of a design: the user's, from scratch, its input side, first layer and classifier."""
    from explorer.design.build import first_layer

    result = check(design)
    layers = " → ".join(layer_label(x) for x in design.layers) or "no layers yet"
    side = design.input_size
    first = design.notes.strip().split(". ")[0][:200] if design.notes.strip() else ""
    return ModelCard(
        name=f"{PREFIX}{design.name}", title=f"{design.name} (your design)", family=FAMILY, year=design.year,
        paper="your own design", url="", key_idea=first or f"{len(design.layers)} layers: {layers}",
        source="design", input_size=(1, side, side), letters=_policy(side), min_size=side,
        first_conv=first_layer(design), classifier="classifier",
        notes=f"{layers} → FC. {result.params:,} parameters (by arithmetic).", tags=("design", "yours"),
        ref_classes=26, ref_task="letters",
    )


def _builder(design: Design) -> Any:
    def build(num_classes: int, in_chans: int, small_input: bool = False, pretrained: bool = False) -> nn.Module:
        from explorer.design.build import build_net

        if pretrained:
            raise FileNotFoundError(f"design {design.name!r} has no pretrained weights; it trains from scratch")
        return build_net(design, num_classes, in_chans)

    return build


def _entry(card: ModelCard, design: Design) -> Entry:
    return Entry(card, Build("design", card.name), builder=_builder(design))


def _entries() -> list[Entry]:
    return [_entry(design_card(d), d) for d in list_designs() if check(d).ok]


def _design(name: str, spec: Any) -> Design:
    key = name[len(PREFIX):]
    try:
        design = parse_design(spec, f"the design of {name}") if spec is not None else load_design(key)
    except FileNotFoundError as exc:
        raise UnknownModelError(str(exc)) from None
    except DesignError as exc:
        raise UnknownModelError(f"{name}: {exc}") from None
    problem = check(design).error
    if problem is not None:
        raise UnknownModelError(f"{name} cannot be built yet: {problem.message}")
    return design


def _lookup(name: str, spec: Any) -> Entry:
    design = _design(name, spec)
    card = design_card(design)
    if spec is not None and card.name != name:
        card = ModelCard(**{**card.__dict__, "name": name})
    return _entry(card, design)


def _spec(name: str) -> dict[str, Any]:
    return _design(name, None).to_dict()


register_source(Source(PREFIX, _entries, _lookup, _spec))
