"""The seeds' per-layer tables, reproduced by explorer.inspect on the registry's networks."""

import torch

from explorer.inspect import summarize


def by_name(summary):
    return {r.name: r for r in summary.layers}


def test_lenet5_1998_table():
    s = summarize("lenet5", (1, 32, 32), num_classes=10)
    L = by_name(s)
    # Seed: C1 156, S2 12, C3 1,516 (sparse table), S4 32, C5 48,120, F6 10,164.
    assert [L[n].params for n in ("c1", "s2", "c3", "s4", "c5", "f6")] == [156, 12, 1516, 32, 48120, 10164]
    assert L["c1"].output_shape == [1, 6, 28, 28]
    assert L["s2"].output_shape == [1, 6, 14, 14]
    assert L["c3"].output_shape == [1, 16, 10, 10]
    assert L["s4"].output_shape == [1, 16, 5, 5]
    assert L["c5"].output_shape == [1, 120, 1, 1]
    assert L["f6"].output_shape == [1, 84]
    # Connections as the seed counts them: C1 122,304 = 156 * 28 * 28; C3 151,600 = 1,516 * 10 * 10.
    assert L["c1"].macs + 6 * 28 * 28 == 122_304
    assert L["c3"].macs + 16 * 10 * 10 == 151_600
    # The RBF output (840) is a linear layer here: 84*10 + 10.
    assert L["output"].params == 850
    assert s.params == 156 + 12 + 1516 + 32 + 48120 + 10164 + 850


def test_keras_lenet_summary():
    s = summarize("lenet_keras", (1, 28, 28), num_classes=10)
    rows = [r for r in s.rows() if r.type in ("Conv2d", "MaxPool2d", "Flatten", "Linear")]
    got = [(r.type, r.output_shape[1:], r.params) for r in rows]
    # Keras prints NHWC; the seed's (None, 24, 24, 6) is our 6x24x24.
    assert got == [
        ("Conv2d", [6, 24, 24], 156), ("MaxPool2d", [6, 12, 12], 0),
        ("Conv2d", [16, 8, 8], 2416), ("MaxPool2d", [16, 4, 4], 0),
        ("Flatten", [256], 0), ("Linear", [120], 30840), ("Linear", [84], 10164), ("Linear", [10], 850),
    ]
    assert s.params == s.trainable_params == 44_426


def test_alexnet_2012_seed_table():
    s = summarize("alexnet_2012", (3, 227, 227), num_classes=1000)
    convs = [r for r in s.layers if r.type == "Conv2d"]
    fcs = [r for r in s.layers if r.type == "Linear"]
    assert [r.params for r in convs] == [34_944, 614_656, 885_120, 1_327_488, 884_992]
    assert [r.output_shape[1:] for r in convs] == [[96, 55, 55], [256, 27, 27], [384, 13, 13],
                                                  [384, 13, 13], [256, 13, 13]]
    pools = [r.output_shape[1:] for r in s.layers if r.type == "MaxPool2d"]
    assert pools == [[96, 27, 27], [256, 13, 13], [256, 6, 6]]
    # The seed's "forward computation" counts the bias as one multiply-add per output.
    seed_forward = [105_705_600, 448_084_224, 149_585_280, 224_345_472, 149_563_648]
    assert [r.macs + r.output_shape[1] * r.output_shape[2] * r.output_shape[3] for r in convs] == seed_forward
    # The seed's FC figures are weights only (no biases): 37,748,736 / 16,777,216 / 4,096,000.
    assert [r.params - r.output_shape[1] for r in fcs] == [37_748_736, 16_777_216, 4_096_000]
    assert s.params - sum(r.output_shape[1] for r in fcs) == 62_369_152


def test_vgg16_two_class_head():
    s = summarize("vgg16", (3, 224, 224), num_classes=2)
    assert s.params == 134_268_738
    convs = [r for r in s.layers if r.type == "Conv2d"]
    assert [r.params for r in convs] == [1792, 36928, 73856, 147584, 295168, 590080, 590080, 1180160,
                                        2359808, 2359808, 2359808, 2359808, 2359808]
    assert [r.output_shape[1:] for r in convs][::3] == [[64, 224, 224], [128, 112, 112], [256, 56, 56],
                                                      [512, 28, 28], [512, 14, 14]]
    fcs = [r.params for r in s.layers if r.type == "Linear"]
    assert fcs == [102_764_544, 16_781_312, 8_194]


def test_resnet_letters_stem_matches_seed_report():
    """Seed report: Conv1 3x3 + BN + ReLU + MaxPool, then 2 blocks each of 64/128/256/512 filters."""
    from explorer.models import build_letters_model

    with torch.device("meta"):
        m = build_letters_model("resnet18")
    s = summarize(m, (1, 28, 28))
    L = by_name(s)
    assert L["net.conv1"].config["kernel"] == [3, 3] and L["net.conv1"].config["stride"] == [1, 1]
    assert L["net.maxpool"].output_shape == [1, 64, 14, 14]
    assert [L[f"net.layer{i}"].output_shape[1] for i in range(1, 5)] == [64, 128, 256, 512]
    assert s.output_shape == [1, 26]
