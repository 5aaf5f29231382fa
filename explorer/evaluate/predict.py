"""Run a model over images to get the probabilities that explorer.evaluate works on."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn


def predict_proba(model: nn.Module, images: Any, batch_size: int = 512, device: str | None = None) -> np.ndarray:
    """Return softmax probabilities (N, K) float32 for uint8 (N, 28, 28) or float (N, 1, 28, 28) images.

    The model is run in eval mode under inference_mode and its training flag is restored after.
    """
    x = torch.as_tensor(np.asarray(images)) if not isinstance(images, torch.Tensor) else images
    if x.dtype == torch.uint8:
        x = x.float().div_(255.0)
    if x.ndim == 3:
        x = x.unsqueeze(1)
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W) or (N, C, H, W), got shape {tuple(x.shape)}")
    if device is None:
        p = next(model.parameters(), None)
        device = str(p.device) if p is not None else "cpu"
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.inference_mode():
            for i in range(0, x.shape[0], batch_size):
                logits = model(x[i : i + batch_size].to(device, torch.float32))
                out.append(torch.softmax(logits.float(), dim=1).cpu())
    finally:
        model.train(was_training)
    if not out:
        raise ValueError("no images to predict")
    return torch.cat(out).numpy().astype(np.float32)
