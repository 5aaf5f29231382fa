"""Registry entries: every architecture of the seed documents, with its card beside its builder.

torchvision and timm builders are used wherever they exist (their numbers are the reference);
hand-written networks (explorer.models.classic) only where no library has them.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from explorer.models import classic
from explorer.models.registry import (
    Adaptation,
    ModelCard,
    load_pretrained,
    load_state_dict_file,
    local_weights_file,
    register,
    weights_dir,
)

# ------------------------------------------------------------------------------------------
# Module surgery shared by the builders.


def _get(model: nn.Module, path: str) -> nn.Module:
    return model.get_submodule(path)


def _set(model: nn.Module, path: str, module: nn.Module) -> None:
    parent, _, leaf = path.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, leaf, module)


def _replace_conv(model: nn.Module, path: str, in_chans: int, stride: int | None = None,
                  kernel: int | None = None) -> None:
    """Replace the conv at `path` by one taking `in_chans` channels (optionally new stride/kernel).
    Where the kernel shape is kept, pretrained RGB filters are summed into the new channel(s)."""
    old = _get(model, path)
    assert isinstance(old, nn.Conv2d), f"{path} is not a Conv2d"
    k = kernel or old.kernel_size[0]
    s = stride or old.stride[0]
    pad = k // 2 if (kernel or stride) else old.padding
    new = nn.Conv2d(in_chans, old.out_channels, k, stride=s, padding=pad, bias=old.bias is not None,
                    groups=1, device=old.weight.device, dtype=old.weight.dtype)
    if new.weight.device.type != "meta" and k == old.kernel_size[0] and old.weight.shape[1] == 3:
        with torch.no_grad():
            w = old.weight.sum(1, keepdim=True) / in_chans
            new.weight.copy_(w.expand(-1, in_chans, -1, -1))
            if old.bias is not None:
                new.bias.copy_(old.bias)
    _set(model, path, new)


def _maybe_load(model: nn.Module, filename: str | None, pretrained: bool) -> None:
    if pretrained:
        if filename is None:
            raise ValueError("no ImageNet weights exist for this network; train it from scratch")
        load_pretrained(model, load_state_dict_file(local_weights_file(filename)))


# ------------------------------------------------------------------------------------------
# Builders.


def _torchvision(fn: str, weights: str, first_conv: str, stem_kernel: int | None = None,
                 **kw) -> Callable[..., nn.Module]:
    """A builder over torchvision.models.<fn>; `first_conv` (the card's) is the conv that takes
    `in_chans` and that the small-input stem replaces (stride 1, optionally `stem_kernel`)."""

    def build(num_classes: int, in_chans: int, small_input: bool, pretrained: bool) -> nn.Module:
        import torchvision

        extra = dict(kw)
        if fn in ("inception_v3", "googlenet"):
            extra.setdefault("init_weights", True)
            if fn == "inception_v3":
                # torchvision's reference Inception-v3 (27,161,264 parameters) carries the auxiliary
                # classifier; it only runs in training mode, so letters models leave it out.
                extra["aux_logits"] = num_classes == 1000 and in_chans == 3 and not small_input
        model = torchvision.models.get_model(fn, weights=None, num_classes=num_classes, **extra)
        if pretrained:
            w = torchvision.models.get_weight(weights)
            _maybe_load(model, w.url.rsplit("/", 1)[-1], True)
        if small_input:
            _replace_conv(model, first_conv, in_chans, stride=1, kernel=stem_kernel)
        elif in_chans != 3:
            _replace_conv(model, first_conv, in_chans)
        return model

    return build


def _timm(name: str, first_conv: str) -> Callable[..., nn.Module]:
    """A builder over timm.create_model(name); pretrained weights from <weights_dir>/<name>.safetensors;
    the small-input stem replaces `first_conv` (the card's)."""

    def build(num_classes: int, in_chans: int, small_input: bool, pretrained: bool) -> nn.Module:
        import timm

        model = timm.create_model(name, pretrained=False, num_classes=num_classes,
                                  in_chans=3 if small_input else in_chans)
        if pretrained:
            fname = f"{name}.safetensors" if (weights_dir() / f"{name}.safetensors").exists() else f"{name}.pth"
            _maybe_load(model, fname, True)
        if small_input:
            _replace_conv(model, first_conv, in_chans, stride=1)
        return model

    return build


def _classic(cls: type[nn.Module], **kw) -> Callable[..., nn.Module]:
    def build(num_classes: int, in_chans: int, small_input: bool, pretrained: bool) -> nn.Module:
        _maybe_load(nn.Module(), None, pretrained)
        if small_input:
            return cls(num_classes=num_classes, in_chans=in_chans, small_input=True, **kw)
        return cls(num_classes=num_classes, in_chans=in_chans, **kw)

    return build


def _tv_meta(weights: str) -> dict:
    import torchvision

    w = torchvision.models.get_weight(weights)
    m = w.meta
    acc = m["_metrics"]["ImageNet-1K"]
    return dict(top1=acc["acc@1"], top5=acc["acc@5"], ref_params=m["num_params"], ref_gmacs=m["_ops"],
                min_size=m["min_size"][0], weights=weights,
                accuracy_source=f"torchvision {weights} (ImageNet-1k val, single crop)")


# ------------------------------------------------------------------------------------------
# Cards. Key ideas follow the seed documents.

STEM28 = Adaptation("stem", (1, 28, 28))


def _resize(size: int, note: str = "") -> Adaptation:
    return Adaptation("resize", (3, size, size), note)


PAPERS = {
    "lenet": (1998, "Gradient-Based Learning Applied to Document Recognition (LeCun, Bottou, Bengio, Haffner)",
              "http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf"),
    "alexnet": (2012, "ImageNet Classification with Deep Convolutional Neural Networks (Krizhevsky, Sutskever, Hinton)",
                "https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks"),
    "vgg": (2014, "Very Deep Convolutional Networks for Large-Scale Image Recognition (Simonyan, Zisserman)",
            "https://arxiv.org/abs/1409.1556"),
    "nin": (2013, "Network In Network (Lin, Chen, Yan)", "https://arxiv.org/abs/1312.4400"),
    "googlenet": (2014, "Going Deeper with Convolutions (Szegedy et al.)", "https://arxiv.org/abs/1409.4842"),
    "inception_v3": (2015, "Rethinking the Inception Architecture for Computer Vision (Szegedy et al.)",
                     "https://arxiv.org/abs/1512.00567"),
    "inception_v4": (2016, "Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning "
                     "(Szegedy, Ioffe, Vanhoucke, Alemi)", "https://arxiv.org/abs/1602.07261"),
    "resnet": (2015, "Deep Residual Learning for Image Recognition (He, Zhang, Ren, Sun)",
               "https://arxiv.org/abs/1512.03385"),
    "resnext": (2016, "Aggregated Residual Transformations for Deep Neural Networks (Xie et al.)",
                "https://arxiv.org/abs/1611.05431"),
    "wrn": (2016, "Wide Residual Networks (Zagoruyko, Komodakis)", "https://arxiv.org/abs/1605.07146"),
    "densenet": (2016, "Densely Connected Convolutional Networks (Huang, Liu, van der Maaten, Weinberger)",
                 "https://arxiv.org/abs/1608.06993"),
    "xception": (2016, "Xception: Deep Learning with Depthwise Separable Convolutions (Chollet)",
                 "https://arxiv.org/abs/1610.02357"),
    "mobilenet_v1": (2017, "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications "
                     "(Howard et al.)", "https://arxiv.org/abs/1704.04861"),
    "mobilenet_v2": (2018, "MobileNetV2: Inverted Residuals and Linear Bottlenecks (Sandler et al.)",
                     "https://arxiv.org/abs/1801.04381"),
    "mobilenet_v3": (2019, "Searching for MobileNetV3 (Howard et al.)", "https://arxiv.org/abs/1905.02244"),
    "efficientnet": (2019, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks (Tan, Le)",
                     "https://arxiv.org/abs/1905.11946"),
    "squeezenet": (2016, "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters (Iandola et al.)",
                   "https://arxiv.org/abs/1602.07360"),
    "shufflenet": (2018, "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design (Ma et al.)",
                   "https://arxiv.org/abs/1807.11164"),
    "mnasnet": (2018, "MnasNet: Platform-Aware Neural Architecture Search for Mobile (Tan et al.)",
                "https://arxiv.org/abs/1807.11626"),
    "small_cnn": (2024, "CNN Explorer's quick model, after the course notes' Fashion-MNIST design "
                  "(CONV-BN-ReLU-POOL x2, 5x5 kernels, padding 2)", ""),
}

IDEAS = {
    "lenet": "Local receptive fields, shared weights and subsampling: a few thousand weights read digits "
             "anywhere in the image. C3 connects each map to a subset of S2's maps to break symmetry.",
    "alexnet": "A deeper, wider LeNet trained on GPUs: ReLU instead of tanh (6x faster convergence), "
               "dropout, overlapping max pooling, data augmentation and local response normalisation.",
    "vgg": "Depth from uniform 3x3 convolutions (stride 1, same padding) and 2x2 max pooling: two 3x3 "
           "layers see like one 5x5, three like one 7x7, with fewer parameters (27C² vs 49C²) and more ReLUs.",
    "nin": "Micro networks (mlpconv: a conv followed by 1x1 convolutions) replace linear filters, and "
           "global average pooling over one map per class replaces fully connected layers.",
    "googlenet": "The Inception module: 1x1, 3x3, 5x5 convolutions and 3x3 pooling side by side, with 1x1 "
                 "bottlenecks cutting the cost (the course notes' 5x5 example: 120M -> 12.4M multiplies); global "
                 "average pooling instead of fully connected layers.",
    "inception_v3": "Factorised convolutions: a 5x5 becomes two 3x3, an nxn becomes 1xn then nx1 (33% "
                    "cheaper for 3x3); grid-size reduction without bottlenecks; label smoothing; BN in the "
                    "auxiliary classifier.",
    "inception_v4": "A uniform, deeper Inception with dedicated stem and reduction blocks (Reduction-A "
                    "k,l,m,n = 192,224,256,384).",
    "inception_resnet_v2": "Inception blocks with residual connections; residuals scaled by 0.1-0.3 before "
                           "the addition to keep very wide residual networks stable.",
    "resnet": "Residual learning: blocks learn F(x) = H(x) - x and output F(x) + x through identity "
              "shortcuts, so gradients flow and very deep networks train without degradation; bottleneck "
              "(1x1-3x3-1x1) blocks from 50 layers on.",
    "resnext": "Cardinality as a new dimension: the bottleneck's 3x3 becomes a grouped convolution with 32 "
               "paths of width 4 (32x4d), better than going deeper or wider at the same cost.",
    "wrn": "Width over depth: residual blocks with twice the channels in the bottleneck train faster and "
           "match much deeper ResNets.",
    "densenet": "Each layer receives the concatenated feature maps of all preceding layers in its dense block "
                "(X_l = H_l([X_0..X_l-1])), with growth rate k=32; 1x1 bottlenecks and transition layers "
                "(1x1 conv + 2x2 average pool) keep it compact.",
    "xception": "'Extreme Inception': depthwise separable convolutions fully decouple spatial and cross-channel "
                "correlations; entry, middle and exit flows with residual connections.",
    "mobilenet_v1": "Depthwise separable convolutions: a depthwise 3x3 then a pointwise 1x1 cost "
                    "1/N + 1/Dk² of a standard convolution (8-9x less for 3x3).",
    "mobilenet_v2": "Inverted residuals with linear bottlenecks: expand with 1x1 (ReLU6), depthwise 3x3, "
                    "project with a linear 1x1; shortcuts connect the narrow layers.",
    "mobilenet_v3": "Architecture search on MobileNetV2 blocks with squeeze-and-excitation and hard-swish.",
    "efficientnet": "Compound scaling: depth, width and resolution grow together by fixed ratios (alpha, beta, "
                    "gamma) from a searched MBConv baseline, B0 to B7.",
    "squeezenet": "Fire modules (1x1 squeeze then 1x1/3x3 expand) give AlexNet-level accuracy with 50x fewer "
                  "parameters.",
    "shufflenet": "Channel split and channel shuffle, designed by measured speed (memory access cost), not "
                  "FLOPs alone.",
    "mnasnet": "Mobile architecture found by reinforcement-learning search with latency in the reward.",
    "small_cnn": "The smallest useful letters CNN: three conv-BN-ReLU stages, global average pooling and a "
                 "linear head; trains to a useful model in about a minute on a CPU.",
}


def _card(name: str, title: str, family: str, paper_key: str, source: str, input_size: tuple[int, int, int],
          letters: Adaptation, idea_key: str | None = None, **kw) -> ModelCard:
    year, paper, url = PAPERS[paper_key]
    return ModelCard(name=name, title=title, family=family, year=year, paper=paper, url=url,
                     key_idea=IDEAS[idea_key or paper_key], source=source, input_size=input_size,
                     letters=letters, **kw)


def _tv_entry(name: str, title: str, family: str, paper_key: str, weights: str, letters: Adaptation,
              first_conv: str, classifier: str, stem_kernel: int | None = None, idea_key: str | None = None,
              size: int = 224, notes: str = "", **build_kw) -> None:
    register(
        _card(name, title, family, paper_key, "torchvision", (3, size, size), letters, idea_key=idea_key,
              notes=notes, first_conv=first_conv, classifier=classifier, **_tv_meta(weights)),
        _torchvision(name, weights, first_conv, stem_kernel=stem_kernel, **build_kw),
    )


def _register_all() -> None:
    # LeNet: hand-written (no library ships it).
    register(_card("lenet5", "LeNet-5 (1998)", "LeNet", "lenet", "explorer", (1, 32, 32),
                   Adaptation("pad", (1, 32, 32)),
                   notes="Faithful to the paper: C3 uses the sparse connection table (1,516 parameters) and "
                         "S2/S4 are trainable subsampling layers (2 parameters per map). The RBF output layer "
                         "(84x10 = 840 parameters) is replaced by a linear layer (850 for 10 classes).",
                   tags=("classic", "hand-written"), first_conv="c1", classifier="output", ref_classes=10,
                   ref_task="handwritten digits"),
             _classic(classic.LeNet5))
    register(_card("lenet_keras", "LeNet (Keras variant)", "LeNet", "lenet", "explorer", (1, 28, 28),
                   Adaptation("native", (1, 28, 28)),
                   notes="The Keras LeNet of the course notes: 28x28x1 input, max pooling, dense C5; 44,426 parameters "
                         "for 10 classes.", tags=("classic", "hand-written"), first_conv="0", classifier="11",
                   ref_classes=10, ref_task="Fashion-MNIST / MNIST"),
             _classic(classic.LeNetKeras))
    register(_card("small_cnn", "Quick CNN", "Quick CNN", "small_cnn", "explorer", (1, 28, 28),
                   Adaptation("native", (1, 28, 28)), tags=("letters", "hand-written"),
                   first_conv="features.0", classifier="head.2", ref_classes=26, ref_task="letters"),
             _classic(classic.SmallCNN))
    # AlexNet.
    _tv_entry("alexnet", "AlexNet (torchvision)", "AlexNet", "alexnet", "AlexNet_Weights.IMAGENET1K_V1",
              STEM28, first_conv="features.0", classifier="classifier.6", stem_kernel=3,
              notes="torchvision's AlexNet follows the 'one weird trick' variant (64-192-384-256-256 filters, "
                    "61.1M parameters); the 2012 single-tower layout of the course notes' table is 'alexnet_2012'.")
    register(_card("alexnet_2012", "AlexNet (2012 paper layout)", "AlexNet", "alexnet", "explorer",
                   (3, 227, 227), _resize(227, "The fully connected layers fix the input at 227x227."),
                   top1=59.3, top5=81.8, accuracy_source="Krizhevsky et al. 2012, one CNN, ILSVRC-2012 val "
                   "(40.7% / 18.2% error)",
                   notes="Single-tower 96-256-384-384-256 layout with LRN, as in the course notes' AlexNet table (62.4M "
                         "parameters; the notes' total 62,369,152 omits the fully connected biases).",
                   tags=("classic", "hand-written"), first_conv="features.0", classifier="classifier.7"),
             _classic(classic.AlexNet2012))
    # VGG.
    for depth in (11, 13, 16, 19):
        for bn in (False, True):
            n = f"vgg{depth}{'_bn' if bn else ''}"
            _tv_entry(n, f"VGG-{depth}{' (BN)' if bn else ''}", "VGG", "vgg",
                      f"VGG{depth}{'_BN' if bn else ''}_Weights.IMAGENET1K_V1",
                      _resize(32, "Five 2x2 poolings need at least 32x32."),
                      first_conv="features.0", classifier="classifier.6")
    # NiN: hand-written.
    register(_card("nin", "Network in Network", "NiN", "nin", "explorer", (3, 224, 224), STEM28,
                   notes="ImageNet layout as in d2l.ai (96-256-384-K mlpconv blocks); the 28x28 stem uses a "
                         "5x5 stride-1 first convolution.", tags=("classic", "hand-written"),
                   first_conv="features.0.0", classifier="features.7.4"),
             _classic(classic.NiN))
    # Inception family.
    _tv_entry("googlenet", "GoogLeNet (Inception v1)", "Inception", "googlenet", "GoogLeNet_Weights.IMAGENET1K_V1",
              STEM28, first_conv="conv1.conv", classifier="fc", aux_logits=False)
    _tv_entry("inception_v3", "Inception-v3", "Inception", "inception_v3", "Inception_V3_Weights.IMAGENET1K_V1",
              _resize(75, "75x75 is the smallest input Inception v3 accepts (299 is its reference)."), size=299,
              first_conv="Conv2d_1a_3x3.conv", classifier="fc")
    for n, title, idea, top1, top5, first_conv, classifier in (
        ("inception_v4", "Inception-v4", "inception_v4", 80.0, 95.0, "features.0.conv", "last_linear"),
        ("inception_resnet_v2", "Inception-ResNet-v2", "inception_resnet_v2", 80.1, 95.1, "conv2d_1a.conv", "classif"),
    ):
        register(_card(n, title, "Inception", "inception_v4", "timm", (3, 299, 299),
                       _resize(75, "75x75 is the smallest input the stem and reduction blocks accept."),
                       idea_key=idea, top1=top1, top5=top5,
                       accuracy_source="Szegedy et al. 2016, Table 2 (single crop, ILSVRC-2012 val)", min_size=75,
                       first_conv=first_conv, classifier=classifier),
                 _timm(n, first_conv))
    # ResNet family.
    for depth in (18, 34, 50, 101, 152):
        _tv_entry(f"resnet{depth}", f"ResNet-{depth}", "ResNet", "resnet", f"ResNet{depth}_Weights.IMAGENET1K_V1",
                  Adaptation("stem", (1, 28, 28), "As in the EMNIST-letters report: conv1 is a 3x3 stride-1 convolution "
                                                  "followed by BN, ReLU and max pooling."),
                  first_conv="conv1", classifier="fc", stem_kernel=3)
    _tv_entry("resnext50_32x4d", "ResNeXt-50 32x4d", "ResNet", "resnext", "ResNeXt50_32X4D_Weights.IMAGENET1K_V1",
              STEM28, first_conv="conv1", classifier="fc", stem_kernel=3)
    _tv_entry("wide_resnet50_2", "Wide ResNet-50-2", "ResNet", "wrn", "Wide_ResNet50_2_Weights.IMAGENET1K_V1",
              STEM28, first_conv="conv1", classifier="fc", stem_kernel=3)
    # DenseNet.
    for depth in (121, 169, 201):
        _tv_entry(f"densenet{depth}", f"DenseNet-{depth}", "DenseNet", "densenet",
                  f"DenseNet{depth}_Weights.IMAGENET1K_V1",
                  _resize(64, "64x64 RGB as in the EMNIST-letters report's DenseNet-121 recipe."),
                  first_conv="features.conv0", classifier="classifier")
    # Xception (timm's port of the original Keras model).
    register(_card("xception", "Xception", "Xception", "xception", "timm", (3, 299, 299),
                   _resize(71, "71x71x3 as in the EMNIST-letters report (the smallest Keras Xception accepts)."),
                   top1=79.0, top5=94.5, accuracy_source="Chollet 2017, Table 1 (ImageNet val)", min_size=71,
                   notes="timm 'legacy_xception': the original Keras architecture.",
                   first_conv="conv1", classifier="fc"),
             _timm("legacy_xception", "conv1"))
    # MobileNets.
    register(_card("mobilenet_v1", "MobileNet v1", "MobileNet", "mobilenet_v1", "timm", (3, 224, 224), STEM28,
                   top1=70.6, accuracy_source="Howard et al. 2017, Table 8 (1.0 MobileNet-224)",
                   notes="timm 'mobilenetv1_100'.", first_conv="conv_stem", classifier="classifier"),
             _timm("mobilenetv1_100", "conv_stem"))
    _tv_entry("mobilenet_v2", "MobileNet v2", "MobileNet", "mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V1",
              STEM28, first_conv="features.0.0", classifier="classifier.1")
    _tv_entry("mobilenet_v3_large", "MobileNet v3 Large", "MobileNet", "mobilenet_v3",
              "MobileNet_V3_Large_Weights.IMAGENET1K_V1", STEM28, first_conv="features.0.0",
              classifier="classifier.3")
    _tv_entry("mobilenet_v3_small", "MobileNet v3 Small", "MobileNet", "mobilenet_v3",
              "MobileNet_V3_Small_Weights.IMAGENET1K_V1", STEM28, first_conv="features.0.0",
              classifier="classifier.3")
    # EfficientNet B0..B7 (reference resolutions from torchvision's weights).
    for b, size in enumerate((224, 240, 288, 300, 380, 456, 528, 600)):
        _tv_entry(f"efficientnet_b{b}", f"EfficientNet-B{b}", "EfficientNet", "efficientnet",
                  f"EfficientNet_B{b}_Weights.IMAGENET1K_V1", STEM28, first_conv="features.0.0",
                  classifier="classifier.1", size=size)
    # Small mobile nets.
    _tv_entry("squeezenet1_0", "SqueezeNet 1.0", "SqueezeNet", "squeezenet", "SqueezeNet1_0_Weights.IMAGENET1K_V1",
              STEM28, first_conv="features.0", classifier="classifier.1")
    _tv_entry("squeezenet1_1", "SqueezeNet 1.1", "SqueezeNet", "squeezenet", "SqueezeNet1_1_Weights.IMAGENET1K_V1",
              STEM28, first_conv="features.0", classifier="classifier.1")
    _tv_entry("shufflenet_v2_x1_0", "ShuffleNet V2 1.0x", "ShuffleNet", "shufflenet",
              "ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1", STEM28, first_conv="conv1.0", classifier="fc")
    _tv_entry("mnasnet1_0", "MNASNet 1.0", "MNASNet", "mnasnet", "MNASNet1_0_Weights.IMAGENET1K_V1",
              STEM28, first_conv="layers.0", classifier="classifier.1")


_register_all()
