"""The course's worked examples equal the document's numbers (shared/seeds: the CNN unit and the Network-in-Network
slides), and the playground's convolution, pooling, output-size arithmetic and kernel slide equal PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from explorer.learn import (
    CONV_PRESETS,
    DESIGNS,
    Bottleneck,
    LearnError,
    SizeFit,
    convolve,
    downsample,
    kernel_slide,
    parse_matrix,
    pool,
    volume_1x1,
)


def torch_conv(x: np.ndarray, k: np.ndarray, stride: int = 1, padding: int = 0, dilation: int = 1) -> np.ndarray:
    t = torch.as_tensor(x, dtype=torch.float64)[None, None]
    w = torch.as_tensor(k, dtype=torch.float64)[None, None]
    return F.conv2d(t, w, stride=stride, padding=padding, dilation=dilation)[0, 0].numpy()


def test_the_5x5_image_and_3x3_kernel_give_4_in_the_first_cell():
    p = CONV_PRESETS["kernel_5x5"]
    res = p.run()
    assert res.output[0, 0] == 4 == p.document["first_cell"]  # the document's picture: first cell 4
    assert res.shape == (3, 3) == (p.document["out_side"],) * 2  # (n - m + 1) = 5 - 3 + 1
    assert np.array_equal(res.output, [[4, 3, 4], [2, 4, 3], [2, 3, 4]])
    assert np.array_equal(res.output, torch_conv(p.x, p.kernel))


def test_a_6x6_input_and_3x3_kernel_give_a_4x4_map():
    p = CONV_PRESETS["conv_6x6"]
    res = p.run()
    assert p.x.shape == (6, 6) and p.kernel.shape == (3, 3) and res.shape == (4, 4) == (p.document["out_side"],) * 2
    assert res.fit_w.formula("W") == "W_out = (6 − 3 + 2(0))/1 + 1 = 4"
    assert np.array_equal(res.output, torch_conv(p.x, p.kernel))


def test_1x1_convolution_of_the_6x6_matrix_with_2():
    p = CONV_PRESETS["one_by_one"]
    res = p.run()
    assert res.output[0, 0] == 2 == p.document["first_cell"] and res.shape == (6, 6)
    assert np.array_equal(res.output, 2 * p.x)


def test_1x1_convolution_over_32_channels_is_a_dot_product_then_relu():
    v = volume_1x1()
    assert v.x.shape == (32, 6, 6) and v.output.shape == (6, 6)  # 36 positions, 32 numbers each
    conv = F.relu(F.conv2d(torch.as_tensor(v.x)[None], torch.as_tensor(v.filt).view(1, 32, 1, 1)))[0, 0].numpy()
    assert np.array_equal(v.output, conv)
    nums, filt, dot, relu = v.position(2, 3)
    assert len(nums) == len(filt) == 32 and dot == float(nums @ filt) and relu == max(0.0, dot)
    assert (v.pre_relu < 0).any() and (v.output >= 0).all()  # the ReLU does something here


def test_the_bottleneck_costs_120_million_and_12_4_million():
    b = Bottleneck()
    assert b.direct == 28 * 28 * 32 * 5 * 5 * 192 == 120_422_400 and round(b.direct / 1e6) == 120
    assert b.bottleneck == 28 * 28 * 16 * 192 + 28 * 28 * 32 * 5 * 5 * 16 == 12_443_648
    assert round(b.bottleneck / 1e6, 1) == 12.4
    assert b.shrink_shape() == (32, 28, 28)  # 32 filters of 1x1x192 shrink 192 channels to 32


def test_the_worked_design_28_28_14_14_7():
    d = DESIGNS["fashion_mnist"]
    assert [lay.out for lay in d.layers] == d.document == [(28, 28, 16), (14, 14, 16), (14, 14, 32), (7, 7, 32)]
    assert [lay.formula(s) for lay, s in zip(d.layers, d.symbols, strict=True)] == [
        "W2 = (28 − 5 + 2(2))/1 + 1 = 28", "H3 = (28 − 2)/2 + 1 = 14", "W4 = (14 − 5 + 2(2))/1 + 1 = 14",
        "W5 = (14 − 2)/2 + 1 = 7"]
    drawing = torch.rand(1, 28, 28)
    assert d.real_shapes(drawing) == d.document  # the real torch layers on a drawing agree


def test_alexnets_first_layers_227_to_6():
    d = DESIGNS["alexnet"]
    assert [lay.out for lay in d.layers] == d.document
    assert d.layers[0].formula("W1") == "W1 = (227 − 11 + 2(0))/4 + 1 = 55"
    assert d.real_shapes() == d.document


def test_a_size_that_does_not_fit_says_why_and_what_would():
    f = SizeFit(28, 5, 0, 2)
    assert not f.fits and f.exact == 12.5 and f.out == 12
    msg = f.problem()
    assert msg.startswith("(28 − 5 + 0)/2 + 1 = 12.5: no whole number of steps; use S=1, or F=4 or F=6")
    assert "padding cannot help" in msg and "PyTorch floors it to 12" in msg
    out = F.conv2d(torch.zeros(1, 1, 28, 28), torch.zeros(1, 1, 5, 5), stride=2)
    assert out.shape[-1] == f.out
    for good in (SizeFit(28, 5, 0, 1), SizeFit(28, 4, 0, 2), SizeFit(28, 5, 2, 1)):
        assert good.fits and good.problem() is None
    assert "larger than the padded input" in SizeFit(3, 5).problem()
    assert SizeFit(8, 3, 0, 3).problem().startswith(  # (8 - 3 + 2·2)/3 + 1 = 4 with two rings of padding
        "(8 − 3 + 0)/3 + 1 = 2.67: no whole number of steps; use P=2 or S=1")


@pytest.mark.parametrize("stride,padding,dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 0, 1), (2, 2, 2)])
def test_playground_convolution_equals_torch(stride, padding, dilation):
    rng = np.random.default_rng(stride * 10 + padding)
    x, k = rng.normal(size=(9, 11)), rng.normal(size=(3, 3))
    res = convolve(x, k, stride, padding, dilation)
    assert np.allclose(res.output, torch_conv(x, k, stride, padding, dilation), atol=1e-12)


def test_playground_pooling_equals_torch():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(7, 7))
    t = torch.as_tensor(x)[None, None]
    assert np.allclose(pool(x, "max", 2, 2).output, F.max_pool2d(t, 2)[0, 0].numpy())
    assert np.allclose(pool(x, "avg", 3, 2, 1).output, F.avg_pool2d(t, 3, 2, 1)[0, 0].numpy())
    assert np.allclose(pool(x, "min", 2, 1).output, -F.max_pool2d(-t, 2, 1)[0, 0].numpy())
    assert np.allclose(pool(x, "adaptive avg", out_size=3).output, F.adaptive_avg_pool2d(t, 3)[0, 0].numpy())
    assert np.allclose(pool(x, "adaptive max", out_size=2).output, F.adaptive_max_pool2d(t, 2)[0, 0].numpy())
    res = pool(x, "max", 2, 2)
    assert res.problem and "3.5" in res.problem  # (7 - 2)/2 + 1 = 3.5: said, and PyTorch's floor shown
    assert "more than half the window" in pool(x, "max", 2, 2, 2).problem


def test_the_kernel_slides_one_position_per_step():
    p = CONV_PRESETS["kernel_5x5"]
    sl = kernel_slide(p.x, p.kernel, stride=2, padding=1, dilation=1)
    assert sl.steps == 9 and sl.padded().shape == (7, 7)
    step = sl.at(4)  # the middle of the 3x3 output
    assert (step.y, step.x) == (1, 1) and step.cells[0] == (2, 2) and step.cells[-1] == (4, 4)
    assert np.isnan(step.filled.ravel()[5:]).all() and np.allclose(step.filled.ravel()[:5], sl.result.output.ravel()[:5])
    assert step.cell.value == sl.result.output[1, 1]
    dil = kernel_slide(p.x, p.kernel, dilation=2)
    assert dil.steps == 1 and dil.at(0).cells == [(r, c) for r in (0, 2, 4) for c in (0, 2, 4)]
    with pytest.raises(LearnError, match="outside 1..9"):
        sl.at(9)


def test_a_typed_matrix_with_text_in_it_gets_one_clear_message():
    assert parse_matrix("1 0 1\n0, 1, 0; −1 2 3").tolist() == [[1, 0, 1], [0, 1, 0], [-1, 2, 3]]
    with pytest.raises(LearnError, match=r"row 2, entry 3 is 'x', not a number"):
        parse_matrix("1 2 3\n4 5 x")
    with pytest.raises(LearnError, match=r"different lengths \(row 1 has 3, row 2 has 2\)"):
        parse_matrix("1 2 3\n4 5")
    with pytest.raises(LearnError, match="is empty"):
        parse_matrix("  \n ")
    with pytest.raises(LearnError, match="use finite numbers"):
        parse_matrix("1 nan")
    with pytest.raises(LearnError, match="at most 64×64"):
        parse_matrix("\n".join(["1 " * 65] * 2))


def test_the_drawing_downsampled_keeps_the_block_means():
    img = np.arange(28 * 28, dtype=float).reshape(28, 28)
    assert downsample(img, 14)[0, 0] == img[:2, :2].mean() and downsample(img, 7).shape == (7, 7)
    with pytest.raises(LearnError):
        downsample(img, 9)
