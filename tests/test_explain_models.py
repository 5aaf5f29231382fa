"""Grad-CAM on every registry family, with no per-model code: untrained letters models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import explorer.models.build as registry

NAMES = ["lenet5", "alexnet", "vgg11", "resnet18", "densenet121", "inception_v3", "xception",
         "mobilenet_v2", "efficientnet_b0"]
SLOW = {"densenet121", "inception_v3", "efficientnet_b0"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in NAMES]
)
def test_gradcam_every_family(name):
    from explorer.explain import conv_layers, explain

    torch.manual_seed(0)
    model = registry.build_letters_model(name, num_classes=26)
    x = torch.rand(1, 1, 28, 28)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    inplace = [getattr(m, "inplace", None) for m in model.modules()]
    ex = explain(model, x, "gradcam")
    assert ex.heatmap.shape == (28, 28)
    assert np.isfinite(ex.heatmap).all() and ex.heatmap.min() >= 0 and ex.heatmap.max() <= 1
    assert ex.probs.shape == (26,)
    info = {i.name: i for i in conv_layers(model)}
    assert info[ex.layer].spatial
    # it is the last conv layer that still has spatial extent
    assert not any(i.spatial for i in list(info.values())[list(info).index(ex.layer) + 1 :])
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())
    assert inplace == [getattr(m, "inplace", None) for m in model.modules()]
    assert not any(m._forward_hooks or m._backward_hooks or m._forward_pre_hooks for m in model.modules())


def test_first_layer_filters_from_the_card():
    """The filters shown are those of the conv the model card names (`first_conv`), in the letters model's net."""
    from dataclasses import replace

    from explorer.explain import ExplainError, card_layer, first_layer_filters
    from explorer.models import model_card

    model = registry.build_letters_model("lenet5", num_classes=26)
    card = model_card(model)
    name, w = first_layer_filters(model)
    assert name == f"net.{card.first_conv}" and w.shape == tuple(model.net.get_submodule(card.first_conv).weight.shape)
    assert card_layer(model, "classifier") == f"net.{card.classifier}"
    model.card = replace(card, first_conv="")
    with pytest.raises(ExplainError, match="names no first_conv"):
        first_layer_filters(model)
    model.card = replace(card, first_conv="no.such")
    with pytest.raises(ExplainError, match="no layer named 'net.no.such'"):
        first_layer_filters(model)
