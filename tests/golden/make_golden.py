"""Regenerate the golden summaries: `python tests/golden/make_golden.py` (review the diff before committing)."""

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from explorer.inspect import summarize
from explorer.models import build_letters_model

HERE = Path(__file__).parent
CASES = {
    "lenet5_1x32x32_10": ("lenet5", (1, 32, 32), 10, False),
    "lenet_keras_1x28x28_10": ("lenet_keras", (1, 28, 28), 10, False),
    "resnet18_3x224x224_1000": ("resnet18", (3, 224, 224), 1000, False),
    "googlenet_3x224x224_1000": ("googlenet", (3, 224, 224), 1000, False),
    "mobilenet_v2_letters": ("mobilenet_v2", (1, 28, 28), 26, True),
    "densenet121_letters": ("densenet121", (1, 28, 28), 26, True),
}


def make(case: str) -> dict:
    """The JSON summary of one golden case."""
    name, size, classes, letters = CASES[case]
    if letters:
        with torch.device("meta"):
            model = build_letters_model(name, num_classes=classes)
        return summarize(model, size).to_json()
    return summarize(name, size, num_classes=classes).to_json()


if __name__ == "__main__":
    for case in CASES:
        (HERE / f"{case}.json").write_text(json.dumps(make(case), indent=1) + "\n")
        print("wrote", case)
