"""The classic lineage of architectures, one row each: reference cost and accuracy, and cost as letters models."""

from __future__ import annotations

import torch

from explorer.inspect.summary import summarize

CLASSIC_LINEAGE = ["lenet5", "alexnet", "vgg16", "nin", "googlenet", "inception_v3", "resnet18", "resnet50",
                   "densenet121", "xception", "mobilenet_v2", "efficientnet_b0"]


def architecture_row(name: str) -> dict:
    """One row: the card's facts, params/GMACs of the published network (its input size and its number of classes:
    LeNet-5's 10 digits, 60,850 parameters, not 145,000 with an ImageNet head), the letters model's params/MMACs."""
    from explorer.models import build_letters_model, get_card

    card = get_card(name)
    ref = summarize(card.name, card.input_size, num_classes=card.ref_classes, record_ops=False)
    with torch.device("meta"):
        letters = build_letters_model(card.name)
    let = summarize(letters, (1, 28, 28), record_ops=False)
    return {
        "model": card.name, "title": card.title, "family": card.family, "year": card.year,
        "input": "×".join(map(str, card.input_size)), "classes": card.ref_classes, "params": ref.params, "params_m": ref.params / 1e6,
        "gmacs": ref.macs / 1e9, "top1": card.top1, "top5": card.top5,
        "letters policy": card.letters.policy, "letters input": "×".join(map(str, card.letters.input_size)),
        "letters params": let.params, "letters MMACs": let.macs / 1e6,
    }
