"""The zoo: every architecture of the seed documents as a table of entries (card + how to build it), no torch.

torchvision and timm builders are used wherever they exist (their numbers are the reference);
hand-written networks (explorer.models.classic) only where no library has them. The registry
(explorer.models.registry) indexes ENTRIES; explorer.models.build turns an entry's `Build` into a network.
torchvision's published figures (TV_META) are data here, so listing the zoo imports no torchvision;
tests/test_models_registry.py checks them against `torchvision.models.get_weight(...).meta`.
"""

from __future__ import annotations

from explorer.models.cards import Adaptation, Build, Entry, ModelCard

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


# torchvision weights.meta: ImageNet-1k top-1, top-5, num_params, _ops (GMACs), min_size.
TV_META: dict[str, tuple[float, float, int, float, int]] = {
    "AlexNet_Weights.IMAGENET1K_V1": (56.522, 79.066, 61100840, 0.714, 63),
    "VGG11_Weights.IMAGENET1K_V1": (69.02, 88.628, 132863336, 7.609, 32),
    "VGG11_BN_Weights.IMAGENET1K_V1": (70.37, 89.81, 132868840, 7.609, 32),
    "VGG13_Weights.IMAGENET1K_V1": (69.928, 89.246, 133047848, 11.308, 32),
    "VGG13_BN_Weights.IMAGENET1K_V1": (71.586, 90.374, 133053736, 11.308, 32),
    "VGG16_Weights.IMAGENET1K_V1": (71.592, 90.382, 138357544, 15.47, 32),
    "VGG16_BN_Weights.IMAGENET1K_V1": (73.36, 91.516, 138365992, 15.47, 32),
    "VGG19_Weights.IMAGENET1K_V1": (72.376, 90.876, 143667240, 19.632, 32),
    "VGG19_BN_Weights.IMAGENET1K_V1": (74.218, 91.842, 143678248, 19.632, 32),
    "GoogLeNet_Weights.IMAGENET1K_V1": (69.778, 89.53, 6624904, 1.498, 15),
    "Inception_V3_Weights.IMAGENET1K_V1": (77.294, 93.45, 27161264, 5.713, 75),
    "ResNet18_Weights.IMAGENET1K_V1": (69.758, 89.078, 11689512, 1.814, 1),
    "ResNet34_Weights.IMAGENET1K_V1": (73.314, 91.42, 21797672, 3.664, 1),
    "ResNet50_Weights.IMAGENET1K_V1": (76.13, 92.862, 25557032, 4.089, 1),
    "ResNet101_Weights.IMAGENET1K_V1": (77.374, 93.546, 44549160, 7.801, 1),
    "ResNet152_Weights.IMAGENET1K_V1": (78.312, 94.046, 60192808, 11.514, 1),
    "ResNeXt50_32X4D_Weights.IMAGENET1K_V1": (77.618, 93.698, 25028904, 4.23, 1),
    "Wide_ResNet50_2_Weights.IMAGENET1K_V1": (78.468, 94.086, 68883240, 11.398, 1),
    "DenseNet121_Weights.IMAGENET1K_V1": (74.434, 91.972, 7978856, 2.834, 29),
    "DenseNet169_Weights.IMAGENET1K_V1": (75.6, 92.806, 14149480, 3.36, 29),
    "DenseNet201_Weights.IMAGENET1K_V1": (76.896, 93.37, 20013928, 4.291, 29),
    "MobileNet_V2_Weights.IMAGENET1K_V1": (71.878, 90.286, 3504872, 0.301, 1),
    "MobileNet_V3_Large_Weights.IMAGENET1K_V1": (74.042, 91.34, 5483032, 0.217, 1),
    "MobileNet_V3_Small_Weights.IMAGENET1K_V1": (67.668, 87.402, 2542856, 0.057, 1),
    "EfficientNet_B0_Weights.IMAGENET1K_V1": (77.692, 93.532, 5288548, 0.386, 1),
    "EfficientNet_B1_Weights.IMAGENET1K_V1": (78.642, 94.186, 7794184, 0.687, 1),
    "EfficientNet_B2_Weights.IMAGENET1K_V1": (80.608, 95.31, 9109994, 1.088, 1),
    "EfficientNet_B3_Weights.IMAGENET1K_V1": (82.008, 96.054, 12233232, 1.827, 1),
    "EfficientNet_B4_Weights.IMAGENET1K_V1": (83.384, 96.594, 19341616, 4.394, 1),
    "EfficientNet_B5_Weights.IMAGENET1K_V1": (83.444, 96.628, 30389784, 10.266, 1),
    "EfficientNet_B6_Weights.IMAGENET1K_V1": (84.008, 96.916, 43040704, 19.068, 1),
    "EfficientNet_B7_Weights.IMAGENET1K_V1": (84.122, 96.908, 66347960, 37.746, 1),
    "SqueezeNet1_0_Weights.IMAGENET1K_V1": (58.092, 80.42, 1248424, 0.819, 21),
    "SqueezeNet1_1_Weights.IMAGENET1K_V1": (58.178, 80.624, 1235496, 0.349, 17),
    "ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1": (69.362, 88.316, 2278604, 0.145, 1),
    "MNASNet1_0_Weights.IMAGENET1K_V1": (73.456, 91.51, 4383312, 0.314, 1),
}


def _card(name: str, title: str, family: str, paper_key: str, source: str, input_size: tuple[int, int, int],
          letters: Adaptation, idea_key: str | None = None, **kw) -> ModelCard:
    year, paper, url = PAPERS[paper_key]
    return ModelCard(name=name, title=title, family=family, year=year, paper=paper, url=url,
                     key_idea=IDEAS[idea_key or paper_key], source=source, input_size=input_size,
                     letters=letters, **kw)


def _hand(cls: str, name: str, title: str, family: str, paper_key: str, input_size: tuple[int, int, int],
          letters: Adaptation, **kw) -> Entry:
    """A hand-written network: class `cls` of explorer.models.classic."""
    return Entry(_card(name, title, family, paper_key, "explorer", input_size, letters, **kw), Build("explorer", cls))


def _timm(target: str, name: str, title: str, family: str, paper_key: str, input_size: tuple[int, int, int],
          letters: Adaptation, **kw) -> Entry:
    """A timm network: timm.create_model(target)."""
    return Entry(_card(name, title, family, paper_key, "timm", input_size, letters, **kw), Build("timm", target))


def _tv(name: str, title: str, family: str, paper_key: str, weights: str, letters: Adaptation, first_conv: str,
        classifier: str, stem_kernel: int | None = None, idea_key: str | None = None, size: int = 224,
        notes: str = "", **options) -> Entry:
    """A torchvision network: torchvision.models.get_model(name); its figures from TV_META[weights]."""
    top1, top5, params, gmacs, min_size = TV_META[weights]
    card = _card(name, title, family, paper_key, "torchvision", (3, size, size), letters, idea_key=idea_key,
                 notes=notes, first_conv=first_conv, classifier=classifier, top1=top1, top5=top5,
                 ref_params=params, ref_gmacs=gmacs, min_size=min_size, weights=weights,
                 accuracy_source=f"torchvision {weights} (ImageNet-1k val, single crop)")
    return Entry(card, Build("torchvision", name, stem_kernel, tuple(sorted(options.items()))))


RESNET_STEM = Adaptation("stem", (1, 28, 28), "As in the EMNIST-letters report: conv1 is a 3x3 stride-1 convolution "
                                              "followed by BN, ReLU and max pooling.")
RESIZE75 = _resize(75, "75x75 is the smallest input the stem and reduction blocks accept.")

# The zoo, in lineage order (the order every list shows).
ENTRIES: tuple[Entry, ...] = (
    # LeNet: hand-written (no library ships it).
    _hand("LeNet5", "lenet5", "LeNet-5 (1998)", "LeNet", "lenet", (1, 32, 32), Adaptation("pad", (1, 32, 32)),
          notes="Faithful to the paper: C3 uses the sparse connection table (1,516 parameters) and "
                "S2/S4 are trainable subsampling layers (2 parameters per map). The RBF output layer "
                "(84x10 = 840 parameters) is replaced by a linear layer (850 for 10 classes).",
          tags=("classic", "hand-written"), first_conv="c1", classifier="output", ref_classes=10,
          ref_task="handwritten digits"),
    _hand("LeNetKeras", "lenet_keras", "LeNet (Keras variant)", "LeNet", "lenet", (1, 28, 28),
          Adaptation("native", (1, 28, 28)),
          notes="The Keras LeNet of the course notes: 28x28x1 input, max pooling, dense C5; 44,426 parameters "
                "for 10 classes.", tags=("classic", "hand-written"), first_conv="0", classifier="11",
          ref_classes=10, ref_task="Fashion-MNIST / MNIST"),
    _hand("SmallCNN", "small_cnn", "Quick CNN", "Quick CNN", "small_cnn", (1, 28, 28),
          Adaptation("native", (1, 28, 28)), tags=("letters", "hand-written"),
          first_conv="features.0", classifier="head.2", ref_classes=26, ref_task="letters"),
    # AlexNet.
    _tv("alexnet", "AlexNet (torchvision)", "AlexNet", "alexnet", "AlexNet_Weights.IMAGENET1K_V1",
        STEM28, first_conv="features.0", classifier="classifier.6", stem_kernel=3,
        notes="torchvision's AlexNet follows the 'one weird trick' variant (64-192-384-256-256 filters, "
              "61.1M parameters); the 2012 single-tower layout of the course notes' table is 'alexnet_2012'."),
    _hand("AlexNet2012", "alexnet_2012", "AlexNet (2012 paper layout)", "AlexNet", "alexnet", (3, 227, 227),
          _resize(227, "The fully connected layers fix the input at 227x227."),
          top1=59.3, top5=81.8, accuracy_source="Krizhevsky et al. 2012, one CNN, ILSVRC-2012 val "
          "(40.7% / 18.2% error)",
          notes="Single-tower 96-256-384-384-256 layout with LRN, as in the course notes' AlexNet table (62.4M "
                "parameters; the notes' total 62,369,152 omits the fully connected biases).",
          tags=("classic", "hand-written"), first_conv="features.0", classifier="classifier.7"),
    # VGG.
    *(_tv(f"vgg{depth}{'_bn' if bn else ''}", f"VGG-{depth}{' (BN)' if bn else ''}", "VGG", "vgg",
          f"VGG{depth}{'_BN' if bn else ''}_Weights.IMAGENET1K_V1", _resize(32, "Five 2x2 poolings need at least 32x32."),
          first_conv="features.0", classifier="classifier.6")
      for depth in (11, 13, 16, 19) for bn in (False, True)),
    # NiN: hand-written.
    _hand("NiN", "nin", "Network in Network", "NiN", "nin", (3, 224, 224), STEM28,
          notes="ImageNet layout as in d2l.ai (96-256-384-K mlpconv blocks); the 28x28 stem uses a "
                "5x5 stride-1 first convolution.", tags=("classic", "hand-written"),
          first_conv="features.0.0", classifier="features.7.4"),
    # Inception family.
    _tv("googlenet", "GoogLeNet (Inception v1)", "Inception", "googlenet", "GoogLeNet_Weights.IMAGENET1K_V1",
        STEM28, first_conv="conv1.conv", classifier="fc", aux_logits=False),
    _tv("inception_v3", "Inception-v3", "Inception", "inception_v3", "Inception_V3_Weights.IMAGENET1K_V1",
        _resize(75, "75x75 is the smallest input Inception v3 accepts (299 is its reference)."), size=299,
        first_conv="Conv2d_1a_3x3.conv", classifier="fc"),
    _timm("inception_v4", "inception_v4", "Inception-v4", "Inception", "inception_v4", (3, 299, 299), RESIZE75,
          top1=80.0, top5=95.0, accuracy_source="Szegedy et al. 2016, Table 2 (single crop, ILSVRC-2012 val)",
          min_size=75, first_conv="features.0.conv", classifier="last_linear"),
    _timm("inception_resnet_v2", "inception_resnet_v2", "Inception-ResNet-v2", "Inception", "inception_v4",
          (3, 299, 299), RESIZE75, idea_key="inception_resnet_v2", top1=80.1, top5=95.1,
          accuracy_source="Szegedy et al. 2016, Table 2 (single crop, ILSVRC-2012 val)", min_size=75,
          first_conv="conv2d_1a.conv", classifier="classif"),
    # ResNet family.
    *(_tv(f"resnet{depth}", f"ResNet-{depth}", "ResNet", "resnet", f"ResNet{depth}_Weights.IMAGENET1K_V1",
          RESNET_STEM, first_conv="conv1", classifier="fc", stem_kernel=3)
      for depth in (18, 34, 50, 101, 152)),
    _tv("resnext50_32x4d", "ResNeXt-50 32x4d", "ResNet", "resnext", "ResNeXt50_32X4D_Weights.IMAGENET1K_V1",
        STEM28, first_conv="conv1", classifier="fc", stem_kernel=3),
    _tv("wide_resnet50_2", "Wide ResNet-50-2", "ResNet", "wrn", "Wide_ResNet50_2_Weights.IMAGENET1K_V1",
        STEM28, first_conv="conv1", classifier="fc", stem_kernel=3),
    # DenseNet.
    *(_tv(f"densenet{depth}", f"DenseNet-{depth}", "DenseNet", "densenet", f"DenseNet{depth}_Weights.IMAGENET1K_V1",
          _resize(64, "64x64 RGB as in the EMNIST-letters report's DenseNet-121 recipe."),
          first_conv="features.conv0", classifier="classifier")
      for depth in (121, 169, 201)),
    # Xception (timm's port of the original Keras model).
    _timm("legacy_xception", "xception", "Xception", "Xception", "xception", (3, 299, 299),
          _resize(71, "71x71x3 as in the EMNIST-letters report (the smallest Keras Xception accepts)."),
          top1=79.0, top5=94.5, accuracy_source="Chollet 2017, Table 1 (ImageNet val)", min_size=71,
          notes="timm 'legacy_xception': the original Keras architecture.", first_conv="conv1", classifier="fc"),
    # MobileNets.
    _timm("mobilenetv1_100", "mobilenet_v1", "MobileNet v1", "MobileNet", "mobilenet_v1", (3, 224, 224), STEM28,
          top1=70.6, accuracy_source="Howard et al. 2017, Table 8 (1.0 MobileNet-224)",
          notes="timm 'mobilenetv1_100'.", first_conv="conv_stem", classifier="classifier"),
    _tv("mobilenet_v2", "MobileNet v2", "MobileNet", "mobilenet_v2", "MobileNet_V2_Weights.IMAGENET1K_V1",
        STEM28, first_conv="features.0.0", classifier="classifier.1"),
    _tv("mobilenet_v3_large", "MobileNet v3 Large", "MobileNet", "mobilenet_v3",
        "MobileNet_V3_Large_Weights.IMAGENET1K_V1", STEM28, first_conv="features.0.0", classifier="classifier.3"),
    _tv("mobilenet_v3_small", "MobileNet v3 Small", "MobileNet", "mobilenet_v3",
        "MobileNet_V3_Small_Weights.IMAGENET1K_V1", STEM28, first_conv="features.0.0", classifier="classifier.3"),
    # EfficientNet B0..B7 (reference resolutions from torchvision's weights).
    *(_tv(f"efficientnet_b{b}", f"EfficientNet-B{b}", "EfficientNet", "efficientnet",
          f"EfficientNet_B{b}_Weights.IMAGENET1K_V1", STEM28, first_conv="features.0.0", classifier="classifier.1",
          size=size)
      for b, size in enumerate((224, 240, 288, 300, 380, 456, 528, 600))),
    # Small mobile nets.
    _tv("squeezenet1_0", "SqueezeNet 1.0", "SqueezeNet", "squeezenet", "SqueezeNet1_0_Weights.IMAGENET1K_V1",
        STEM28, first_conv="features.0", classifier="classifier.1"),
    _tv("squeezenet1_1", "SqueezeNet 1.1", "SqueezeNet", "squeezenet", "SqueezeNet1_1_Weights.IMAGENET1K_V1",
        STEM28, first_conv="features.0", classifier="classifier.1"),
    _tv("shufflenet_v2_x1_0", "ShuffleNet V2 1.0x", "ShuffleNet", "shufflenet",
        "ShuffleNet_V2_X1_0_Weights.IMAGENET1K_V1", STEM28, first_conv="conv1.0", classifier="fc"),
    _tv("mnasnet1_0", "MNASNet 1.0", "MNASNet", "mnasnet", "MNASNet1_0_Weights.IMAGENET1K_V1",
        STEM28, first_conv="layers.0", classifier="classifier.1"),
)
