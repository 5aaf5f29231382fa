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
