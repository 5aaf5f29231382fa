"""Follow one number through the steps the named architectures really take (the quick CNN, LeNet-5, ResNet-18,
MobileNet v2, DenseNet-121, ResNeXt's groups), each step's numbers checked against an independent computation
(torch's own ops on the recorded tensors); the softmax of the real logits; the messages for bad choices."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from explorer.learn import LearnError, follow, softmax_view, trace, untrained
from explorer.learn.conv import ConvCell
from explorer.learn.linear import LinearCell
from explorer.learn.pooling import PoolCell


@pytest.fixture(scope="module")
def letter() -> torch.Tensor:
    from explorer.data import load_dataset

    return load_dataset("letters-builtin", "test", size=20).images[3:4, None].float() / 255.0


def _value(tr, layer: str) -> torch.Tensor:
    return tr.node(tr.layers[layer].node).value[0]


def _strongest(tr, layer: str) -> tuple[int, ...]:
    v = _value(tr, layer).abs()
    return tuple(int(i) for i in np.unravel_index(int(torch.argmax(v)), tuple(v.shape)))


def kinds(b) -> list[str]:
    return [s.kind for s in b.steps]


def test_quick_cnn_conv_bn_relu_pool(letter):
    net = untrained("small_cnn")
    tr = trace(net.model, letter)
    b = follow(tr, "net.features.2", _strongest(tr, "net.features.2"))  # the first ReLU
    assert kinds(b) == ["conv", "bn", "activation"] and b.ok
    conv = b.steps[0].detail
    assert isinstance(conv, ConvCell) and conv.kernel.shape == (1, 5, 5) and conv.padding == (2, 2)
    c, y, x = b.unit
    # layer 1 reads the pixels after the adapter: (x - 0.1722) / 0.3309, zero outside the image
    pixels = ((letter[0, 0] - 0.1722) / 0.3309).double().numpy()
    padded = np.pad(pixels, 2)
    assert np.allclose(conv.patch[0], padded[y:y + 5, x:x + 5])
    w = net.model.net.features[0].weight.detach().double().numpy()[c, 0]
    assert conv.total == pytest.approx(float((padded[y:y + 5, x:x + 5] * w).sum()), abs=1e-9)
    bn = net.model.net.features[1]
    expected = (conv.value - bn.running_mean[c].item()) / (bn.running_var[c].item() + bn.eps) ** 0.5 \
        * bn.weight[c].item() + bn.bias[c].item()
    assert b.steps[1].value == pytest.approx(expected, abs=1e-9)
    assert b.steps[2].value == pytest.approx(max(0.0, expected), abs=1e-9)
    # the pool after it: the window's winner is the max of the ReLU output there
    p = follow(tr, "net.features.3", (c, y // 2, x // 2))
    cell = p.steps[0].detail
    assert kinds(p) == ["pool"] and isinstance(cell, PoolCell)
    relu = _value(tr, "net.features.2")[c].double().numpy()
    window = relu[2 * (y // 2):2 * (y // 2) + 2, 2 * (x // 2):2 * (x // 2) + 2]
    assert cell.value == window.max() and cell.values[cell.winner] == window.max()


def test_lenet5_connection_table_and_subsampling(letter):
    from explorer.models.classic import C3_TABLE

    net = untrained("lenet5")
    tr = trace(net.model, letter)
    b = follow(tr, "net.c3", (6, 3, 4))
    assert kinds(b) == ["conv", "concat", "scale"] and b.ok  # conv per map, concatenated, + the shared bias vector
    conv = b.steps[0].detail
    assert conv.kernel.shape == (4, 5, 5)  # map 6 reads 4 of the 6 S2 maps
    assert any("maps 0, 1, 2, 3 of net.s2" in n for n in b.steps[0].notes), b.steps[0].notes
    assert C3_TABLE[6] == (0, 1, 2, 3)
    s2 = follow(tr, "net.s2", (2, 5, 5))
    assert kinds(s2) == ["pool", "scale", "scale", "scale", "activation"] and s2.ok  # avg·4·w + b, tanh
    assert s2.steps[-1].title.startswith("tanh")


def test_resnet18_block_residual_projection_and_softmax(letter):
    net = untrained("resnet18")
    tr = trace(net.model, letter)
    unit = _strongest(tr, "net.layer1.0")
    b = follow(tr, "net.layer1.0", unit)
    assert kinds(b) == ["conv", "bn", "residual", "activation"] and b.ok
    shortcut = _value(tr, "net.maxpool")[unit].item()  # the identity: the block's input
    bn2 = b.steps[1].value
    assert b.steps[2].value == pytest.approx(bn2 + shortcut, abs=1e-5)
    assert "identity" in b.steps[2].notes[0] and "net.maxpool" in b.steps[2].notes[0]
    assert b.steps[0].module == "net.layer1.0.conv2"
    # the first block of layer 2 adds a projection (downsample) shortcut; its first conv has stride 2
    d = follow(tr, "net.layer2.0", _strongest(tr, "net.layer2.0"))
    assert kinds(d) == ["conv", "bn", "residual", "activation"] and d.ok
    assert "net.layer2.0.downsample" in d.steps[2].notes[0]
    s2 = follow(tr, "net.layer2.0.conv1", (5, 3, 3)).steps[0].detail
    assert s2.stride == (2, 2) and list(s2.rows) == [5, 6, 7]
    # the classifier: its largest contributions and the softmax of the real logits
    fc = follow(tr, "net.fc", (4,))
    cell = fc.steps[0].detail
    assert isinstance(cell, LinearCell) and fc.ok and len(cell.inputs) == 512
    assert cell.value == pytest.approx(float(cell.contributions.sum() + cell.bias), abs=1e-9)
    assert "of net.avgpool" in cell.sources[0]
    s = softmax_view(tr, net.classes)
    assert s.sum == pytest.approx(1.0, abs=1e-12)
    from explorer.models import probabilities

    assert np.allclose(s.probs, probabilities(net.model, letter)[0], atol=1e-6)


def test_mobilenet_v2_depthwise_relu6_and_residual(letter):
    net = untrained("mobilenet_v2")
    tr = trace(net.model, letter)
    dw = follow(tr, "net.features.2.conv.1.0", (17, 4, 6))  # the depthwise 3x3 of block 2 (96 channels)
    cell = dw.steps[0].detail
    assert cell.groups == 96 and cell.in_channels == [17] and cell.kernel.shape == (1, 3, 3) and dw.ok
    assert "depthwise" in dw.steps[0].title.lower()
    act = follow(tr, "net.features.2.conv.1", _strongest(tr, "net.features.2.conv.1"))
    assert kinds(act) == ["conv", "bn", "activation"] and act.steps[2].title.startswith("ReLU6") and act.ok
    res = follow(tr, "net.features.3", _strongest(tr, "net.features.3"))  # x + conv(x): no activation after
    assert kinds(res) == ["conv", "bn", "residual"] and res.ok
    assert res.steps[0].module == "net.features.3.conv.2"  # the projection 1x1, not the identity


def test_densenet121_concatenation_and_transition(letter):
    net = untrained("densenet121")
    tr = trace(net.model, letter)
    b = follow(tr, "net.features.denseblock1.denselayer2.norm1", (70, 3, 3))  # 64 + 32 channels: from layer 1
    assert kinds(b) == ["conv", "concat", "bn"] and b.ok
    assert "denselayer1" in b.steps[1].formula and b.steps[0].module.endswith("denselayer1.conv2")
    first = follow(tr, "net.features.denseblock1.denselayer2.norm1", (10, 3, 3))  # channel 10: the stem's pool
    assert kinds(first) == ["pool", "concat", "bn"] and first.ok
    t = follow(tr, "net.features.transition1.pool", (5, 2, 3))
    cell = t.steps[0].detail
    assert cell.mode == "avg" and cell.divisor == 4 and t.ok


def test_resnext_grouped_convolution_reads_its_groups_channels(letter):
    net = untrained("resnext50_32x4d")
    tr = trace(net.model, letter)
    b = follow(tr, "net.layer1.0.conv2", (9, 2, 2))  # 128 channels in 32 groups of 4: channel 9 is group 2
    cell = b.steps[0].detail
    assert cell.groups == 32 and cell.in_channels == [8, 9, 10, 11] and b.ok


class Odd(nn.Module):
    """Dilation, stride, padding and groups at once, a 'same' conv, an SE-style gate and avg pool with padding."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 4, 3, stride=2, padding=2, dilation=2)
        self.b = nn.Conv2d(4, 6, 3, padding="same", groups=2, bias=False)
        self.gate = nn.Conv2d(6, 6, 1)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.fc = nn.Linear(6 * 7 * 7, 5)
        self.leaky, self.gated = nn.Identity(), nn.Identity()  # name the functional steps' outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.b(self.leaky(F.leaky_relu(self.a(x), 0.1))))
        x = self.gated(x * torch.sigmoid(self.gate(x.mean((2, 3), keepdim=True))))
        return self.fc(self.pool(x).flatten(1))


def test_dilation_stride_padding_groups_gate_and_pool_on_a_handmade_net():
    torch.manual_seed(0)
    model = Odd().eval()
    x = torch.rand(1, 1, 28, 28)
    tr = trace(model, x)
    a = follow(tr, "a", (1, 0, 5)).steps[0].detail
    assert a.dilation == (2, 2) and list(a.rows) == [-1, 0, 2] and list(a.cols) == [8, 10, 12]  # row -2 is padding
    ref = F.conv2d(x.double(), model.a.weight.double(), model.a.bias.double(), 2, 2, 2)[0, 1, 0, 5].item()
    assert a.value == pytest.approx(ref, abs=1e-12)
    b = follow(tr, "b", (4, 7, 7))
    assert b.steps[0].detail.in_channels == [2, 3] and b.steps[0].detail.padding == (1, 1) and b.ok
    assert kinds(b) == ["conv"] and "net" not in b.steps[0].notes[0]
    leaky = follow(tr, "leaky", (2, 3, 0))
    assert kinds(leaky) == ["conv", "activation"] and leaky.steps[1].title.startswith("leaky ReLU") and leaky.ok
    gated = follow(tr, "gated", (5, 6, 6))
    assert kinds(gated) == ["conv", "activation", "scale"] and gated.ok
    gate = torch.sigmoid(tr.node(tr.layers["gate"].node).value[0, 5, 0, 0]).item()
    assert gated.steps[2].value == pytest.approx(gated.steps[1].value * gate, abs=1e-6)
    pool = follow(tr, "pool", (3, 0, 0))  # the pooling counts only the cells inside the input
    assert pool.ok and pool.steps[0].detail.divisor == 4
    fc = follow(tr, "fc", (2,))
    assert fc.ok and "channel" in fc.steps[0].detail.sources[0]


def test_bad_choices_get_one_clear_message(letter):
    net = untrained("small_cnn")
    tr = trace(net.model, letter)
    with pytest.raises(LearnError, match=r"row 30 is outside layer net.features.0's output 24×28×28: rows run from 0 to 27"):
        follow(tr, "net.features.0", (0, 30, 1))
    with pytest.raises(LearnError, match=r"channel 99 is outside"):
        follow(tr, "features.0", (99, 0, 0))  # 'features.0' also finds net.features.0
    with pytest.raises(LearnError, match=r"net.head.2 \(Linear\) has no spatial output: it outputs 26 numbers"):
        follow(tr, "net.head.2", (0, 1, 1))
    with pytest.raises(LearnError, match=r"no layer named 'net.feature.4'.*Did you mean net.features.4"):
        follow(tr, "net.feature.4", (0, 0, 0))
    with pytest.raises(LearnError, match="Learn follows one image at a time"):
        trace(net.model, torch.zeros(2, 1, 28, 28))
