"""Starter designs: the course's worked network, LeNet-5 as the 1998 paper draws it, and a Tiny VGG like
CNN Explainer's (poloclub). Plain data, checked like any file."""

from __future__ import annotations

from typing import Any

from explorer.design.spec import Design, parse_design

CREATED = "2026-12-01 00:00:00"


def _c(filters: int, kernel: int, stride: int = 1, padding: int = 0) -> dict[str, Any]:
    return {"type": "conv", "filters": filters, "kernel": kernel, "stride": stride, "padding": padding}


def _pool(kind: str = "maxpool", kernel: int = 2, stride: int = 2) -> dict[str, Any]:
    return {"type": kind, "kernel": kernel, "stride": stride}


_STARTERS: dict[str, dict[str, Any]] = {
    "course-cnn": {
        "notes": "The CNN course's design ('Designing a Convolutional Neural Network', Fashion-MNIST 28x28x1): "
                 "[CONV 5x5, 16, S1, P2] -> [BATCH NORM] -> [ReLU] -> [POOL 2x2 S2] -> [CONV 5x5, 32, S1, P2] -> "
                 "[BATCH NORM] -> [ReLU] -> [POOL 2x2 S2] -> [FC]: 28x28x16 -> 14x14x16 -> 14x14x32 -> 7x7x32.",
        "layers": [_c(16, 5, 1, 2), {"type": "batchnorm"}, {"type": "relu"}, _pool(),
                   _c(32, 5, 1, 2), {"type": "batchnorm"}, {"type": "relu"}, _pool(), {"type": "flatten"}]},
    "lenet5-1998": {
        "notes": "LeNet-5 as LeCun, Bottou, Bengio and Haffner (1998) draw it: 32x32 input (letters zero-padded), "
                 "C1 6@28x28, S2 6@14x14, C3 16@10x10, S4 16@5x5, C5 120, F6 84, output. Tanh units; the "
                 "subsampling layers as average pools. C3 here connects every S2 map (the paper's sparse table "
                 "is the registry's lenet5); the RBF output is a Linear classifier.",
        "input_size": 32,
        "layers": [_c(6, 5), {"type": "tanh"}, _pool("avgpool"), _c(16, 5), {"type": "tanh"}, _pool("avgpool"),
                   _c(120, 5), {"type": "tanh"}, {"type": "flatten"}, {"type": "linear", "features": 84},
                   {"type": "tanh"}]},
    "tiny-vgg": {
        "notes": "A Tiny VGG like CNN Explainer's (Wang et al. 2020): two blocks of [CONV 3x3, 10] -> ReLU -> "
                 "[CONV 3x3, 10] -> ReLU -> [MAX POOL 2x2], then the classifier. CNN Explainer's takes 64x64x3; "
                 "this one takes the 28x28 letters: 28 -> 26 -> 24 -> 12 -> 10 -> 8 -> 4.",
        "layers": [_c(10, 3), {"type": "relu"}, _c(10, 3), {"type": "relu"}, _pool(),
                   _c(10, 3), {"type": "relu"}, _c(10, 3), {"type": "relu"}, _pool(), {"type": "flatten"}]},
}


def starter_names() -> list[str]:
    """Names of the starter designs."""
    return list(_STARTERS)


def starter(name: str, new_name: str | None = None) -> Design:
    """A starter design (optionally under another name); ValueError listing the starters for an unknown one."""
    if name not in _STARTERS:
        raise ValueError(f"no starter {name!r}; starters are: {', '.join(_STARTERS)}")
    return parse_design({"name": new_name or name, "created": CREATED, **_STARTERS[name]}, f"starter {name}")


def empty(name: str) -> Design:
    """A design with no layers yet (the classifier's row asks for a Flatten)."""
    return parse_design({"name": name, "layers": []})
