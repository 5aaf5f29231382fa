"""Hand-written networks that no library ships: LeNet-5 (1998), the seeds' Keras LeNet, the
2012 AlexNet of the seed table, and Network in Network."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

# LeNet-5's C3 connection table (LeCun et al. 1998, Table I): column j lists the S2 maps that
# C3 map j reads. 6 maps read 3 neighbours, 6 read 4 neighbours, 3 read 4 non-neighbours, 1 reads all.
C3_TABLE: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)


class Subsampling(nn.Module):
    """LeNet-5's S-layer: sum of each 2x2 block times a trainable weight plus a trainable bias,
    one weight and one bias per map (2 parameters per map), then tanh."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the weighted 2x2 sum pooling and squash."""
        s = F.avg_pool2d(x, 2) * 4.0
        return torch.tanh(s * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1))


class SparseConv2d(nn.Module):
    """C3: a 5x5 convolution where each output map sees only the input maps of a connection
    table; each output map has its own (len(inputs) x 5 x 5) kernel and one bias."""

    is_conv2d = True  # a 2-D convolution that is no nn.Conv2d: explain lists it with the conv layers by this flag

    def __init__(self, table: tuple[tuple[int, ...], ...] = C3_TABLE, kernel_size: int = 5) -> None:
        super().__init__()
        self.table = table
        self.kernel_size = kernel_size
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.randn(1, len(cols), kernel_size, kernel_size) * (1.0 / (len(cols) * 25) ** 0.5))
             for cols in table]
        )
        self.bias = nn.Parameter(torch.zeros(len(table)))
        for j, cols in enumerate(table):
            self.register_buffer(f"idx{j}", torch.tensor(cols), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Convolve each output map with its subset of input maps."""
        outs = [F.conv2d(x.index_select(1, getattr(self, f"idx{j}")), w)
                for j, w in enumerate(self.weights)]
        return torch.cat(outs, dim=1) + self.bias.view(1, -1, 1, 1)


class LeNet5(nn.Module):
    """LeNet-5 as in LeCun et al. (1998): 32x32 input, C1-S2-C3(sparse)-S4-C5-F6-output.

    The RBF output layer of the paper is replaced by a linear layer (84*K + K parameters), as
    every modern reproduction does, so it can be trained with cross-entropy.
    """

    def __init__(self, num_classes: int = 10, in_chans: int = 1) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(in_chans, 6, 5)
        self.s2 = Subsampling(6)
        self.c3 = SparseConv2d(C3_TABLE)
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify a batch of (N, 1, 32, 32) images."""
        x = self.s2(torch.tanh(self.c1(x)))
        x = self.s4(torch.tanh(self.c3(x)))
        x = torch.tanh(self.c5(x)).flatten(1)
        x = torch.tanh(self.f6(x))
        return self.output(x)


class LeNetKeras(nn.Sequential):
    """The seeds' Keras LeNet variant: Conv(6,5x5,tanh)-MaxPool-Conv(16,5x5,tanh)-MaxPool-
    Flatten-Dense(120)-Dense(84)-Dense(K) on 28x28x1 input (44,426 parameters for K=10)."""

    def __init__(self, num_classes: int = 10, in_chans: int = 1) -> None:
        super().__init__(
            nn.Conv2d(in_chans, 6, 5), nn.Tanh(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * 4 * 4, 120), nn.Tanh(),
            nn.Linear(120, 84), nn.Tanh(),
            nn.Linear(84, num_classes),
        )


class AlexNet2012(nn.Module):
    """AlexNet as in the seed table (Krizhevsky et al. 2012, single tower): 227x227x3 input,
    96-256-384-384-256 convolutions, LRN after the first two, 4096-4096-K fully connected."""

    def __init__(self, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 96, 11, stride=4), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2), nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
            nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2), nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0),
            nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, 2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify a batch of (N, 3, 227, 227) images."""
        return self.classifier(self.features(x))


def _nin_block(cin: int, cout: int, kernel: int, stride: int, padding: int) -> nn.Sequential:
    """One mlpconv block: a spatial conv followed by two 1x1 convs, each with ReLU."""
    return nn.Sequential(
        nn.Conv2d(cin, cout, kernel, stride, padding), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 1), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 1), nn.ReLU(inplace=True),
    )


class NiN(nn.Module):
    """Network in Network (Lin et al. 2013), ImageNet layout: four mlpconv blocks, the last
    one with K channels, then global average pooling instead of fully connected layers.

    `small_input=True` gives the 28x28 stem: the first block uses a 5x5 stride-1 convolution.
    """

    def __init__(self, num_classes: int = 1000, in_chans: int = 3, small_input: bool = False,
                 dropout: float = 0.5) -> None:
        super().__init__()
        first = _nin_block(in_chans, 96, 5, 1, 2) if small_input else _nin_block(in_chans, 96, 11, 4, 0)
        self.features = nn.Sequential(
            first, nn.MaxPool2d(3, 2),
            _nin_block(96, 256, 5, 1, 2), nn.MaxPool2d(3, 2),
            _nin_block(256, 384, 3, 1, 1), nn.MaxPool2d(3, 2),
            nn.Dropout(dropout),
            _nin_block(384, num_classes, 3, 1, 1),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify a batch of images; the class scores are the averaged last feature maps."""
        return self.flatten(self.pool(self.features(x)))


class SmallCNN(nn.Module):
    """The quick default letters model: two conv-BN-ReLU-pool stages (as in the seeds'
    Fashion-MNIST design: 5x5 kernels, padding 2) and a linear head. About a minute to a
    useful model on CPU."""

    def __init__(self, num_classes: int = 26, in_chans: int = 1, width: int = 24) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, width, 5, padding=2, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 5, padding=2, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 4 * width, 3, padding=1, bias=False), nn.BatchNorm2d(4 * width),
            nn.ReLU(inplace=True),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * width, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify a batch of (N, 1, 28, 28) letters."""
        return self.head(self.pool(self.features(x)))
