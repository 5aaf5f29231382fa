"""Follow one number on every registry model: for a test letter, the net's first, middle and last layer with
channel maps (at its strongest unit and at the corner unit, where the padding lies) and the classifier's
strongest output are recomputed from the recorded inputs and the layers' weights, and must equal the model's
own activation within explorer.learn.TOLERANCE. One untrained model and one recorded forward per model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.learn import TOLERANCE, follow, trace, untrained
from explorer.models import list_models

HEAVY = {"vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "alexnet_2012",
         "inception_v3", "inception_v4", "inception_resnet_v2", "resnet101", "resnet152", "densenet169",
         "densenet201", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "wide_resnet50_2"}


@pytest.fixture(scope="module")
def letter() -> torch.Tensor:
    """A test letter of the built-in letters (the split an untrained model's test:N reads)."""
    from explorer.data import load_dataset

    data = load_dataset("letters-builtin", "test", size=20)
    return data.images[7:8, None].float() / 255.0


def _strongest(tr, name: str) -> tuple[int, ...]:
    v = tr.node(tr.layers[name].node).value[0].abs()
    return tuple(int(i) for i in np.unravel_index(int(torch.argmax(v)), tuple(v.shape)))


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n
                                  for n in list_models()])
def test_recomputed_units_equal_the_models_activation(name, letter):
    net = untrained(name)
    tr = trace(net.model, letter)
    with torch.inference_mode():
        assert torch.allclose(tr.logits, net.model(letter), atol=1e-5)  # the traced forward is the model's
    spatial = [lay for lay in tr.spatial_layers() if lay.name.startswith("net.")]
    assert spatial, f"{name} has no layer with channel maps"
    picks = {spatial[0].name, spatial[len(spatial) // 2].name, spatial[-1].name}
    classifier = [lay.name for lay in tr.ordered() if lay.node == tr.output_node][-1]  # "net" itself for SqueezeNet
    units = [(layer, _strongest(tr, layer)) for layer in sorted(picks)]
    units += [(layer, (0, 0, 0)) for layer in sorted(picks)] + [(classifier, _strongest(tr, classifier))]
    for layer, unit in units:
        b = follow(tr, layer, unit)
        assert b.model == pytest.approx(float(tr.node(tr.layers[b.layer].node).value[(0, *unit)]))
        assert abs(b.value - b.model) <= TOLERANCE * max(1.0, abs(b.model)), (layer, unit, b.value, b.model,
                                                                               [s.kind for s in b.steps])
        assert b.ok
        assert all(abs(s.value - s.model) <= TOLERANCE * max(1.0, abs(s.model)) for s in b.steps), \
            [(s.title, s.value, s.model) for s in b.steps]
