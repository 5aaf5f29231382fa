"""The model registry: every architecture of the seeds, exact torchvision numbers, letters adaptation."""

import pytest
import torch
import torchvision

from explorer.inspect import summarize
from explorer.models import (
    POLICIES,
    UnknownModelError,
    WeightsNotFoundError,
    build_letters_model,
    build_model,
    get_card,
    list_cards,
    list_models,
)

DESIGN_LIST = [
    "lenet5", "lenet_keras", "alexnet", "vgg11", "vgg13", "vgg16", "vgg19", "vgg11_bn", "vgg16_bn", "nin",
    "googlenet", "inception_v3", "inception_v4", "inception_resnet_v2", "resnet18", "resnet34", "resnet50",
    "resnet101", "resnet152", "resnext50_32x4d", "wide_resnet50_2", "densenet121", "densenet169",
    "densenet201", "xception", "mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small",
    *[f"efficientnet_b{i}" for i in range(8)], "squeezenet1_0", "shufflenet_v2_x1_0", "mnasnet1_0",
]
TV = [c.name for c in list_cards() if c.source == "torchvision"]


def test_registry_has_every_model_of_the_design():
    names = set(list_models())
    assert set(DESIGN_LIST) <= names
    assert len(TV) >= 35


@pytest.mark.parametrize("name", TV)
def test_torchvision_entries_match_weights_meta(name):
    card = get_card(name)
    s = summarize(name, card.input_size, num_classes=1000, record_ops=False)
    meta = torchvision.models.get_weight(card.weights).meta
    assert s.params == meta["num_params"]
    assert s.macs / 1e9 == pytest.approx(meta["_ops"], rel=0.01)
    assert s.output_shape == [1, 1000]


def test_every_card_is_complete():
    for card in list_cards():
        assert card.year >= 1989 and card.paper and card.key_idea
        assert card.letters.policy in POLICIES
        assert card.letters.describe().startswith(POLICIES[card.letters.policy].capitalize()[:20])
        assert len(card.input_size) == 3
        if card.source == "torchvision":
            assert card.top1 is not None and card.ref_gmacs is not None


@pytest.mark.parametrize("name", list_models())
def test_card_names_first_conv_and_classifier_of_the_built_net(name):
    card = get_card(name)
    for in_chans, small in ((card.letters.input_size[0], card.letters.policy == "stem"), (3, False)):
        with torch.device("meta"):
            net = build_model(name, num_classes=7, in_chans=in_chans, small_input=small)
        first = net.get_submodule(card.first_conv)
        assert isinstance(first, torch.nn.Conv2d) and first.in_channels == in_chans
        convs = [n for n, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)]
        assert convs[0] == card.first_conv, (name, convs[:2])
        head = net.get_submodule(card.classifier)
        assert isinstance(head, torch.nn.Linear | torch.nn.Conv2d), type(head)
        out = head.out_features if isinstance(head, torch.nn.Linear) else head.out_channels
        assert out == 7
        if isinstance(head, torch.nn.Conv2d):  # only the all-convolutional nets end in a 1x1 conv
            assert card.family in ("SqueezeNet", "NiN") and head.kernel_size == (1, 1)


@pytest.mark.parametrize("name", list_models())
def test_letters_models_take_28x28(name):
    with torch.device("meta"):
        model = build_letters_model(name)
        y = model.eval()(torch.empty(3, 1, 28, 28))
    assert tuple(y.shape) == (3, 26)
    assert model.adapter.size == get_card(name).letters.input_size


def test_letters_model_runs_for_real_and_adapter_sizes():
    model = build_letters_model("densenet121").eval()
    x = torch.rand(2, 1, 28, 28)
    seen = model.adapter(x)
    assert tuple(seen.shape) == (2, 3, 64, 64)  # the seed report's 64x64 RGB
    assert tuple(build_letters_model("lenet5").adapter(x).shape) == (2, 1, 32, 32)
    assert tuple(build_letters_model("xception").adapter(x).shape) == (2, 3, 71, 71)
    small = build_letters_model("resnet18").eval()
    assert small.net.conv1.kernel_size == (3, 3) and small.net.conv1.stride == (1, 1)
    assert small.net.conv1.in_channels == 1
    with torch.no_grad():
        assert tuple(small(x).shape) == (2, 26)


def test_unknown_name_lists_close_matches():
    with pytest.raises(UnknownModelError) as e:
        get_card("resnet-19")
    assert "resnet18" in str(e.value) and "python -m explorer models" in str(e.value)
    assert get_card("ResNet-18").name == "resnet18"


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_class_counts(bad):
    with pytest.raises(ValueError, match="num_classes"):
        build_model("resnet18", num_classes=bad)


def test_pretrained_weights_only_from_local_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(WeightsNotFoundError) as e:
        build_model("resnet18", pretrained=True)
    assert "resnet18-f37072fd.pth" in str(e.value) and str(tmp_path) in str(e.value)
    # Put weights where the cache expects them: they are loaded, never downloaded.
    ref = torchvision.models.resnet18()
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(ref.state_dict(), tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth")
    model = build_model("resnet18", pretrained=True, num_classes=26)
    assert torch.equal(model.layer1[0].conv1.weight, ref.layer1[0].conv1.weight)
    assert model.fc.out_features == 26  # new head, not loaded
    gray = build_model("resnet18", pretrained=True, in_chans=1)
    assert torch.allclose(gray.conv1.weight, ref.conv1.weight.sum(1, keepdim=True))


def test_no_pretrained_weights_for_hand_written_nets():
    with pytest.raises(ValueError, match="from scratch"):
        build_model("lenet5", pretrained=True)
