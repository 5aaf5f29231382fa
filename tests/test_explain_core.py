"""explorer.explain: heatmaps, layers, model left unchanged, in-place activations, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer.explain import (
    METHODS,
    Attribution,
    ExplainError,
    as_batch,
    conv_layers,
    default_target_layer,
    explain,
    feature_maps,
    first_layer_filters,
    model_guard,
    overlay,
    to_png,
    top_k,
)


class TinyCNN(nn.Module):
    """28x28 -> conv1 (4x28x28) -> conv2 (8x14x14) -> conv3 (8x1x1, no spatial extent) -> 3 classes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.act1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.act2 = nn.ReLU6(inplace=True)
        self.conv3 = nn.Conv2d(8, 8, 7)
        self.act3 = nn.Hardswish(inplace=True)
        self.fc = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(self.act1(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(self.act2(self.conv2(x)), 2)
        return self.fc(self.act3(self.conv3(x)).flatten(1))


class LettersAdapter(nn.Module):
    """Test-local stand-in for a LettersModel: upsample 28->32, repeat to 3 channels, run the net."""

    def __init__(self, net: nn.Module, size: int = 32) -> None:
        super().__init__()
        self.net = net
        self.size = size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return self.net((x.repeat(1, 3, 1, 1) - 0.5) / 0.25)


@pytest.fixture(scope="module")
def tiny() -> nn.Module:
    torch.manual_seed(0)
    return TinyCNN()


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    x = torch.zeros(1, 28, 28)
    x[0, 6:22, 10:14] = 1.0  # a bar, like an "I"
    return (x + 0.1 * torch.rand(1, 28, 28, generator=g)).clamp(0, 1)


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    import torchvision

    torch.manual_seed(0)
    return LettersAdapter(torchvision.models.resnet18(num_classes=26))


def _snapshot(model: nn.Module) -> dict:
    hooks = sum(
        len(getattr(m, name, {}))
        for m in model.modules()
        for name in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
    )
    return {
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "training": [m.training for m in model.modules()],
        "inplace": [getattr(m, "inplace", None) for m in model.modules()],
        "hooks": hooks,
        "grads": [p.grad for p in model.parameters()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
    }


def _assert_same(before: dict, after: dict) -> None:
    assert before["state"].keys() == after["state"].keys()
    for k, v in before["state"].items():
        assert torch.equal(v, after["state"][k]), k
    assert before["training"] == after["training"]
    assert before["inplace"] == after["inplace"]
    assert after["hooks"] == 0
    assert all(g is None for g in after["grads"])
    assert before["requires_grad"] == after["requires_grad"]


def test_conv_layers_and_default(tiny, image):
    layers = conv_layers(tiny)
    assert [(i.name, i.out_shape, i.spatial) for i in layers] == [
        ("conv1", (4, 28, 28), True),
        ("conv2", (8, 14, 14), True),
        ("conv3", (8, 1, 1), False),
    ]
    assert default_target_layer(tiny, image) == "conv2"


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_heatmap(tiny, image, method):
    ex = explain(tiny, image, method)
    assert ex.heatmap.shape == (28, 28) and ex.heatmap.dtype == np.float32
    assert ex.heatmap.min() >= 0.0 and ex.heatmap.max() <= 1.0
    assert ex.heatmap.max() == pytest.approx(1.0)  # normalised (a non-constant map)
    assert ex.probs.shape == (3,) and ex.probs.sum() == pytest.approx(1.0, abs=1e-5)
    assert ex.target == ex.predicted == int(np.argmax(ex.probs))
    assert (ex.layer == "conv2") == METHODS[method].uses_layer


@pytest.mark.parametrize("training", [False, True])
def test_model_unchanged_and_no_hooks(tiny, image, training):
    tiny.train(training)
    before = _snapshot(tiny)
    try:
        for method in METHODS:
            explain(tiny, image, method, target=1)
        feature_maps(tiny, image, "conv1")
        top_k(tiny, image)
        conv_layers(tiny, (1, 28, 28))
        _assert_same(before, _snapshot(tiny))
    finally:
        tiny.eval()


def test_hooks_removed_after_error(tiny, image):
    # a failure half way through an attribution still leaves no hooks and restores the flags
    before = _snapshot(tiny)
    with pytest.raises(RuntimeError, match="boom"), model_guard(tiny):
        assert tiny.act1.inplace is False  # in-place activations are off inside the guard
        tiny.conv1.register_forward_hook(lambda *a: None)
        tiny.conv2.register_full_backward_hook(lambda *a: None)
        raise RuntimeError("boom")
    _assert_same(before, _snapshot(tiny))
    assert tiny.act1.inplace is True


def test_inplace_relu_resnet_gradients(resnet, image):
    # torchvision ResNet reuses one in-place ReLU per block: guided backprop must still work
    assert resnet.net.relu.inplace is True
    before = _snapshot(resnet)
    for method in ("gradcam", "guided_gradcam", "saliency"):
        ex = explain(resnet, image, method)
        assert ex.heatmap.shape == (28, 28)
        assert np.isfinite(ex.heatmap).all()
    _assert_same(before, _snapshot(resnet))
    # at 32x32 the net's layer4 is 1x1, so the default is the last conv of layer3 (2x2)
    assert default_target_layer(resnet, image) == "net.layer3.1.conv2"


def test_layer_without_spatial_extent(tiny, image):
    with pytest.raises(ExplainError, match=r"no spatial extent.*conv2"):
        explain(tiny, image, "gradcam", layer="conv3")
    with pytest.raises(ExplainError, match="no layer named"):
        explain(tiny, image, "gradcam", layer="nope")
    with pytest.raises(ExplainError, match="unknown method"):
        explain(tiny, image, "lime")
    with pytest.raises(ExplainError, match="out of range"):
        explain(tiny, image, "gradcam", target=7)
    with pytest.raises(ExplainError, match="unknown target"):
        explain(tiny, image, "gradcam", target="Z", classes=["A", "B", "C"])
    assert issubclass(ExplainError, ValueError)


def test_chosen_class_differs_from_predicted(resnet, image):
    ex_pred = explain(resnet, image, "gradcam")
    other = (ex_pred.predicted + 1) % 26
    ex_other = explain(resnet, image, "gradcam", target=other)
    assert ex_other.target == other and ex_other.predicted == ex_pred.predicted
    assert not np.allclose(ex_pred.raw, ex_other.raw)
    # "why target and not contrast": attributes logit_t - logit_c, another map again
    ex_why = explain(resnet, image, "gradcam", target=ex_pred.predicted, contrast=other)
    assert ex_why.contrast == other
    assert not np.allclose(ex_why.raw, ex_pred.raw)


def test_class_names_as_target(tiny, image):
    ex = explain(tiny, image, "saliency", target="B", contrast="C", classes=["A", "B", "C"])
    assert (ex.target, ex.contrast) == (1, 2)


def test_explicit_layer_and_custom_attribution(tiny, image):
    ex = explain(tiny, image, "gradcam", layer="conv1")
    assert ex.layer == "conv1" and ex.raw.shape == (1, 28, 28)

    class InputTimesGradient(Attribution):
        name = "input_x_gradient"

        def attribute(self, x):
            from captum.attr import InputXGradient

            return InputXGradient(self.forward).attribute(x.requires_grad_(), target=0)

    raw, heat = InputTimesGradient(tiny)(as_batch(image))
    assert heat.shape == (28, 28) and raw.shape == (1, 1, 28, 28)


def test_feature_maps_filters_topk(tiny, image):
    fm = feature_maps(tiny, image, "conv2")
    assert fm.maps.shape == (8, 14, 14)
    assert list(fm.order) == list(np.argsort(-fm.maps.reshape(8, -1).mean(1), kind="stable"))
    assert fm.mean[fm.order[0]] >= fm.mean[fm.order[-1]]
    assert fm.ordered(3).shape == (3, 14, 14)
    assert feature_maps(tiny, image).layer == "conv2"
    name, w = first_layer_filters(tiny, "conv1")
    assert name == "conv1" and w.shape == (4, 1, 3, 3)
    with pytest.raises(ExplainError, match="carries no model card.*conv1, conv2, conv3"):
        first_layer_filters(tiny)  # the first conv is the card's, never guessed
    with pytest.raises(ExplainError, match="not a 2-D convolution"):
        first_layer_filters(tiny, "bn1")
    top = top_k(tiny, image, k=5, classes=["A", "B", "C"])
    assert len(top) == 3 and top[0][2] >= top[1][2] >= top[2][2]
    assert sum(p for _, _, p in top) == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ExplainError, match="not channel maps"):
        feature_maps(tiny, image, "fc")


def test_overlay_and_png(image):
    heat = np.zeros((28, 28), dtype=np.float32)
    heat[10:14, 10:14] = 1.0
    rgb = overlay(image, heat)
    assert rgb.shape == (28, 28, 3) and rgb.dtype == np.uint8
    assert overlay((image[0].numpy() * 255).astype(np.uint8), heat, scale=4).shape == (112, 112, 3)
    assert overlay(image, np.ones((7, 7))).shape == (28, 28, 3)  # heatmap resized to the image
    assert to_png(rgb)[:8] == b"\x89PNG\r\n\x1a\n"


def test_as_batch_shapes():
    assert as_batch(np.zeros((28, 28), np.uint8)).shape == (1, 1, 28, 28)
    assert as_batch(torch.zeros(1, 28, 28)).shape == (1, 1, 28, 28)
    assert as_batch(torch.zeros(1, 1, 28, 28)).shape == (1, 1, 28, 28)
    assert float(as_batch(np.full((28, 28), 255, np.uint8)).max()) == 1.0
    with pytest.raises(ExplainError):
        as_batch(torch.zeros(2, 1, 28, 28))


def test_concurrent_explanations_on_one_shared_model():
    """Two threads explaining with one cached model (two sessions, or overlapping reruns) must not
    see each other's hooks: each gets a correct map and no hook is left behind."""
    import threading

    from explorer.explain import explain
    from explorer.models import build_letters_model

    torch.manual_seed(0)
    model = build_letters_model("small_cnn").eval()
    x = torch.rand(1, 1, 28, 28)
    ref = explain(model, x, "gradcam").heatmap
    errors, maps = [], []

    def work():
        try:
            for _ in range(5):
                maps.append(explain(model, x, "gradcam").heatmap)
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(maps) == 15 and all(np.allclose(m, ref, atol=1e-5) for m in maps)
    assert all(not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks for m in model.modules())


def test_every_attribution_class_carries_its_title():
    from explorer.explain import METHODS, method_title

    titles = {name: cls.title for name, cls in METHODS.items()}
    assert titles["gradcam"] == "Grad-CAM" and titles["integrated_gradients"] == "Integrated Gradients"
    assert all(titles.values()) and len(set(titles.values())) == len(titles)
    assert method_title("guided_gradcam") == "Guided Grad-CAM" and method_title("nope") == "nope"
