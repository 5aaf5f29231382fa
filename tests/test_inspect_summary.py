"""summarize(): leaves the model untouched, counts shared parameters once, clear errors."""

import math
import re

import pytest
import torch
from torch import nn

from explorer.inspect import InputTooSmallError, InspectError, parse_input_size, summarize
from explorer.inspect.arithmetic import (
    arithmetic_layers,
    bottleneck_examples,
    output_size,
    separable_examples,
)
from explorer.inspect.graph import block_diagram
from explorer.models import build_letters_model, build_model


def test_real_model_is_left_exactly_as_it_was():
    torch.manual_seed(0)
    model = build_model("resnet18", num_classes=10)
    model.train()
    model.layer1.eval()  # a mixed mode that must be restored exactly
    before = {k: v.clone() for k, v in model.state_dict().items()}
    modes = {n: m.training for n, m in model.named_modules()}
    s = summarize(model, (3, 64, 64))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # incl. BN running stats
    assert {n: m.training for n, m in model.named_modules()} == modes
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert all(p.device.type == "cpu" for p in model.parameters())
    assert s.params == sum(p.numel() for p in model.parameters())
    assert s.output_shape == [1, 10]


def test_shared_parameters_counted_once():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(8, 8)
            self.b = nn.Linear(8, 8)
            self.b.weight = self.a.weight  # tied

        def forward(self, x):
            return self.b(self.a(x.flatten(1)))

    s = summarize(Tied(), (2, 2, 2))
    assert s.params == 64 + 8 + 8
    assert s.macs == 2 * 64


def test_trainable_and_frozen():
    model = build_model("resnet18", num_classes=26)
    for p in model.parameters():
        p.requires_grad = False
    for p in model.fc.parameters():
        p.requires_grad = True
    s = summarize(model, (3, 32, 32))
    assert s.trainable_params == 512 * 26 + 26
    assert s.frozen_params == s.params - s.trainable_params
    fc = next(r for r in s.layers if r.name == "fc")
    assert fc.trainable_params == fc.params and fc.frozen_params == 0


def test_batch_size_scales_macs_and_memory_not_params():
    one = summarize("resnet18", (3, 64, 64), record_ops=False)
    eight = summarize("resnet18", (3, 64, 64), batch_size=8, record_ops=False)
    assert eight.params == one.params
    assert eight.macs == 8 * one.macs and eight.flops == 2 * eight.macs
    assert eight.activation_bytes == 8 * one.activation_bytes
    assert eight.output_shape == [8, 1000]
    assert eight.training_bytes("adam") > eight.inference_bytes()


def test_receptive_fields_vgg():
    s = summarize("vgg16", (3, 224, 224), record_ops=False)
    convs = [r for r in s.layers if r.type == "Conv2d"]
    # Two stacked 3x3 convs see 5x5, then pool (2x2, stride 2): 6, then 3x3 at jump 2: 10, 14 ...
    assert [c.rf_label() for c in convs[:4]] == ["3", "5", "10", "14"]
    assert [r for r in s.layers if r.type == "Linear"][0].rf_label() == "global"


def test_depth_control_and_filter():
    s = summarize("resnet18", (3, 224, 224), record_ops=False)
    d1 = s.to_dataframe(depth=1)
    assert list(d1["Layer"]) == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
                                 "avgpool", "fc"]
    assert d1["Params"].sum() == s.params  # depth-1 rows partition the network
    leaves = s.to_dataframe()
    assert leaves["Params"].sum() == s.params and leaves["MACs"].sum() == s.macs
    convs = s.to_dataframe(query="conv")
    assert len(convs) == 20 and set(convs["Type"]) == {"Conv2d"}


@pytest.mark.parametrize("bad", ["3,0,224", "3,-1,224", "3,22.5,224", "3,224", "a,b,c", (3, 224, 224, 1)])
def test_bad_sizes_are_clear(bad):
    with pytest.raises(InspectError):
        parse_input_size(bad)


def test_bad_size_messages():
    with pytest.raises(InspectError, match="H=0 must be positive"):
        summarize("resnet18", "3,0,224")
    with pytest.raises(InspectError, match="whole number"):
        summarize("resnet18", (3, 22.5, 224))
    with pytest.raises(InspectError, match="batch size"):
        summarize("resnet18", (3, 32, 32), batch_size=0)


def test_too_small_input_names_the_layer():
    with pytest.raises(InputTooSmallError) as e:
        summarize("vgg16", (3, 16, 16))
    assert "features." in str(e.value) and "MaxPool2d" in str(e.value) and "16x16" in str(e.value)
    with pytest.raises(InputTooSmallError, match=r"layer features\.12 \(MaxPool2d\)"):
        summarize("alexnet", (3, 32, 32))


def test_wrong_channel_count_on_a_given_model():
    model = build_model("resnet18")
    with pytest.raises(InspectError, match="expects 3 input channels but got 1"):
        summarize(model, (1, 64, 64))


def test_output_size_formula_matches_every_real_layer():
    for name, size in (("alexnet_2012", 227), ("googlenet", 224), ("resnet50", 224), ("inception_v3", 299)):
        s = summarize(name, (3, size, size), record_ops=False)
        layers = arithmetic_layers(s)
        assert layers
        for rec in layers:
            for step in output_size(rec):
                assert step.w_out == step.actual, (name, rec.name, step.formula())


def test_seed_bottleneck_example_from_googlenet():
    s = summarize("googlenet", (3, 224, 224), record_ops=False)
    ex = next(e for e in bottleneck_examples(s) if e.block == "inception3a.branch3")
    assert (ex.h, ex.c_in, ex.c_reduce, ex.c_out, ex.kernel) == (28, 192, 16, 32, 5)
    assert round(ex.direct / 1e6, 1) == 120.4  # the seeds' "120 Million"
    assert round(ex.bottleneck / 1e6, 1) == 12.4  # the seeds' "12.4 Million"
    assert "3x3" in ex.note


def test_depthwise_separable_ratio_on_mobilenet():
    s = summarize("mobilenet_v1", (3, 224, 224), record_ops=False)
    exs = separable_examples(s)
    assert len(exs) == 13
    for e in exs:
        assert e.ratio == pytest.approx(e.formula_ratio, rel=1e-9)
        assert e.dk == 3
    assert math.isclose(exs[-1].formula_ratio, 1 / 1024 + 1 / 9)


def _into(dot: str, node: str) -> list[str]:
    """Sources of the edges into `node`."""
    return re.findall(rf'"([^"]+)" -> "{re.escape(node)}"', dot)


def test_block_diagram_resnet_and_densenet():
    s = summarize("resnet18", (3, 224, 224))
    for depth in (2, 3):  # the residual add and its skip edge at every depth that reaches a block (issue 23)
        g = block_diagram(s, depth=depth)
        assert g.dot.count("· BasicBlock") == 8  # each block a labelled box around its layers and its +
        adds = re.findall(r'"(op\d+)" \[label="\+"', g.dot)
        assert len(adds) == 8 and all(len(_into(g.dot, a)) == 2 for a in adds)  # body and skip both reach the +
        assert set(_into(g.dot, adds[0])) == {"layer1.0.bn2", "maxpool"}  # identity skip from the block's input
        assert set(_into(g.dot, adds[2])) == {"layer2.0.bn2", "layer2.0.downsample"}  # projection skip
        # the block's one ReLU module is one node per call: after bn1, and after the add (no arrow loops back)
        assert _into(g.dot, "layer1.0.relu") == ["layer1.0.bn1"] and _into(g.dot, "layer1.0.relu#2") == [adds[0]]
    assert '"layer1" [label="layer1\\nSequential\\n2 × + inside"]' in block_diagram(s, depth=1).dot
    d = block_diagram(summarize("densenet121", (3, 224, 224)), depth=3)
    assert 'label="concat"' in d.dot or "_DenseLayer" in d.dot


def test_letters_model_summary_includes_adapter():
    with torch.device("meta"):
        m = build_letters_model("densenet121")
    s = summarize(m, (1, 28, 28))
    adapter = next(r for r in s.layers if r.name == "adapter")
    assert adapter.output_shape == [1, 3, 64, 64]
    assert s.output_shape == [1, 26]


def test_receptive_field_stays_global_after_squeeze_and_excitation():
    """EfficientNet's SE blocks mix a global mean into every position: from there on every layer's
    receptive field is global, never NaN (inf x 0 from a following 1x1 conv)."""
    s = summarize("efficientnet_b0", (3, 224, 224), record_ops=False)
    df = s.to_dataframe()
    labels = list(df["Receptive field"])
    assert "global" in labels and all(lab == "global" or lab.isdigit() for lab in labels if lab)
    first_global = labels.index("global")
    assert all(lab == "global" for lab in labels[first_global:] if lab)
    assert s.to_json()["layers"][-1]["receptive_field"] == "global"
