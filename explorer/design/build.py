"""A checked design -> a torch network (nn.Sequential of named layers, the classifier last as `classifier`).

Only a design that `explorer.design.shapes.check` passes is built; nothing here evaluates text."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

from explorer.design.shapes import CLASSIFIER, Check, check, module_names
from explorer.design.spec import Design


class ResidualBlock(nn.Module):
    """Two 3x3 convs (BN, ReLU between) plus the shortcut (a 1x1 conv + BN when the shape changes), then ReLU."""

    def __init__(self, cin: int, filters: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, filters, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(filters)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(filters, filters, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(filters)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != filters:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, filters, 1, stride, bias=False), nn.BatchNorm2d(filters))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))."""
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        out = out + self.shortcut(x)
        return self.relu(out)


class InceptionBlock(nn.Module):
    """Parallel 1x1, 3x3, 5x5 and 3x3-max-pool + 1x1 branches (each conv followed by ReLU), concatenated."""

    def __init__(self, cin: int, b1: int, reduce3: int, b3: int, reduce5: int, b5: int, pool: int) -> None:
        super().__init__()

        def branch(k: int, n: int, red: int) -> nn.Sequential:
            mods: list[nn.Module] = []
            c = cin
            if red:
                mods += [nn.Conv2d(cin, red, 1), nn.ReLU(inplace=True)]
                c = red
            return nn.Sequential(*mods, nn.Conv2d(c, n, k, padding=k // 2), nn.ReLU(inplace=True))

        self.b1 = branch(1, b1, 0)
        self.b3 = branch(3, b3, reduce3)
        self.b5 = branch(5, b5, reduce5)
        self.pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, pool, 1), nn.ReLU(inplace=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The four branches concatenated along the channels."""
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.pool(x)], dim=1)


def _module(layer: dict[str, Any], shape: tuple[int, ...]) -> nn.Module:
    k = layer["type"]
    c = shape[0]
    if k == "conv":
        return nn.Conv2d(c, layer["filters"], layer["kernel"], layer["stride"], layer["padding"], layer["dilation"],
                         layer["groups"], bias=layer["bias"])
    if k == "batchnorm":
        return nn.BatchNorm2d(c)
    if k == "maxpool":
        return nn.MaxPool2d(layer["kernel"], layer["stride"], layer["padding"])
    if k == "avgpool":
        return nn.AvgPool2d(layer["kernel"], layer["stride"], layer["padding"])
    if k == "adaptive_avgpool":
        return nn.AdaptiveAvgPool2d(layer["size"])
    if k == "adaptive_maxpool":
        return nn.AdaptiveMaxPool2d(layer["size"])
    if k == "dropout":
        return nn.Dropout(layer["p"])
    if k == "flatten":
        return nn.Flatten()
    if k == "linear":
        return nn.Linear(c, layer["features"])
    if k == "residual":
        return ResidualBlock(c, layer["filters"], layer["stride"])
    if k == "inception":
        return InceptionBlock(c, *(layer[x] for x in ("b1", "reduce3", "b3", "reduce5", "b5", "pool")))
    simple = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU}
    if k in simple:
        return simple[k]()
    if k == "leakyrelu":
        return nn.LeakyReLU(layer["slope"])
    raise ValueError(f"unknown layer type {k!r}")


def build_net(design: Design, num_classes: int = 26, in_chans: int = 1) -> nn.Sequential:
    """The design as an untrained nn.Sequential (DesignError naming the layer when it does not fit)."""
    result = check(design, num_classes, in_chans)
    result.raise_for_error()
    net = build_fitting(result)
    net.add_module(CLASSIFIER, nn.Linear(result.rows[-1].in_shape[0], num_classes))  # type: ignore[index]
    return net


def build_fitting(result: Check) -> nn.Sequential:
    """The layers of a checked design up to the first that does not fit (no classifier): what the builder page
    can count while the design is being fixed."""
    mods: OrderedDict[str, nn.Module] = OrderedDict()
    for layer, name, row in zip(result.design.layers, module_names(result.design), result.rows[1:], strict=False):
        if row.problem or row.kind == CLASSIFIER:
            break
        mods[name] = _module(layer, row.in_shape or ())
    return nn.Sequential(mods)


def first_layer(design: Design) -> str:
    """Module path of the first layer with weights that takes the image (a conv; else the first Linear)."""
    for layer, name in zip(design.layers, module_names(design), strict=True):
        if layer["type"] == "conv":
            return name
        if layer["type"] == "residual":
            return f"{name}.conv1"
        if layer["type"] == "inception":
            return f"{name}.b1.0"
        if layer["type"] == "linear":
            return name
    return CLASSIFIER
