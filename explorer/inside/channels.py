"""What each channel looks for: one batched pass over the test split with a hook on one layer keeps,
for every channel, the k test images whose strongest unit in that channel fires most, and where that
unit is. The patch shown is the crop of the input under that unit's receptive field: size and jump
(input pixels between neighbouring units) come from the inspector (explorer.inspect.collect); the
unit grid is taken as centred on the 28x28 input, exact for same-padded convolutions and pooling on
even sizes, otherwise within half a jump. The result is stored in the run folder (Run.derived.write_arrays)."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.devices import resolve_device
from explorer.inside.common import (
    InsideError,
    Progress,
    no_progress,
    on_device,
    run_model,
    test_split,
    usable_run,
)

IMAGE = 28
PAD_VALUE = 64  # grey for the part of a receptive field that lies outside the image
VERSION = 1


class _Stop(Exception):
    """Raised by the hook once the layer has run: the rest of the network is not needed."""


@dataclass(frozen=True)
class Geometry:
    """Where a layer's units look in the 28x28 input: receptive field, jump and grid size."""

    layer: str
    channels: int
    height: int
    width: int
    rf: tuple[float, float]  # (h, w) input pixels; inf = the whole image
    jump: tuple[float, float]

    def centre(self, i: int, j: int) -> tuple[float, float]:
        """Centre (y, x) in input pixels of unit (i, j), the grid centred on the image."""
        mid = (IMAGE - 1) / 2
        return (mid + (i - (self.height - 1) / 2) * self.jump[0], mid + (j - (self.width - 1) / 2) * self.jump[1])

    def box(self, i: int, j: int) -> tuple[int, int, int, int]:
        """(y0, x0, y1, x1), end exclusive, of unit (i, j)'s receptive field; may reach outside the image."""
        out = []
        for c, r in zip(self.centre(i, j), self.rf, strict=True):
            size = IMAGE if math.isinf(r) else max(1, int(round(r)))
            start = 0 if math.isinf(r) else int(math.floor(c - (size - 1) / 2 + 0.5))
            out.append((start, start + size))
        (y0, y1), (x0, x1) = out
        return y0, x0, y1, x1


def spatial_layers(model: nn.Module) -> list[tuple[str, tuple[int, int, int]]]:
    """Layers of the network (not its input adapter) whose output is (C, h, w) with h*w > 1, in run order."""
    found: dict[str, tuple[int, int, int]] = {}
    handles = []

    def make(name: str) -> Any:
        def hook(_m: nn.Module, _i: Any, o: Any) -> None:
            if isinstance(o, torch.Tensor) and o.dim() == 4 and o.shape[2] * o.shape[3] > 1 and name not in found:
                found[name] = (int(o.shape[1]), int(o.shape[2]), int(o.shape[3]))
        return hook

    from explorer.models.inference import eval_mode, model_device

    skip = ("", "adapter", "net")
    try:
        for name, m in model.named_modules():
            if name not in skip and not name.startswith("adapter."):
                handles.append(m.register_forward_hook(make(name)))
        with eval_mode(model), torch.inference_mode():
            model(torch.zeros(1, 1, IMAGE, IMAGE, device=model_device(model)))
    finally:
        for h in handles:
            h.remove()
    return list(found.items())


def geometry(model: nn.Module, layer: str) -> Geometry:
    """The layer's receptive field and jump (from the inspector) and its output grid; InsideError when
    the layer does not exist or has no spatial extent (naming layers that do)."""
    layers = dict(spatial_layers(model))
    if layer not in layers:
        names = [n for n, _ in layers.items()]
        exists = layer in dict(model.named_modules())
        why = "has no spatial extent (its output is not a grid of more than one unit)" if exists else "does not exist"
        raise InsideError(f"layer {layer!r} {why}; layers with spatial extent: {', '.join(names[:12])}"
                          + (f" ... ({len(names)} in all)" if len(names) > 12 else ""))
    from explorer.inspect.collect import collect

    raw = collect(model, (1, 1, IMAGE, IMAGE), record_ops=False).layers.get(layer)
    rf = raw.rf if raw is not None and raw.rf else (float("inf"), float("inf"))
    jump = raw.jump if raw is not None and raw.jump else (1.0, 1.0)
    c, h, w = layers[layer]
    return Geometry(layer, c, h, w, (float(rf[0]), float(rf[1])), (float(jump[0]), float(jump[1])))


@dataclass(frozen=True)
class ChannelTops:
    """Per channel, its k strongest test images: value, image index (into the test split), unit (i, j)."""

    geometry: Geometry
    values: np.ndarray  # float32 (C, k), descending
    index: np.ndarray  # int64 (C, k)
    unit_i: np.ndarray  # int64 (C, k)
    unit_j: np.ndarray  # int64 (C, k)
    mean: np.ndarray  # float32 (C,) mean over the test split of each channel's strongest unit

    @property
    def k(self) -> int:
        """Images kept per channel."""
        return int(self.values.shape[1])


def top_units(model: nn.Module, images: np.ndarray, layer: str, k: int = 9, batch_size: int = 256,
              device: str | None = None, progress: Progress = no_progress) -> ChannelTops:
    """One batched pass with a hook on `layer` (stopped right after it): each channel's top-k images."""
    from explorer.models.inference import eval_mode, to_batch

    geo = geometry(model, layer)
    dev = resolve_device(device)
    net = on_device(model, dev)
    module = dict(net.named_modules())[layer]
    k = max(1, min(int(k), len(images)))
    grabbed: list[torch.Tensor] = []

    def hook(_m: nn.Module, _i: Any, o: torch.Tensor) -> None:
        grabbed.append(o)
        raise _Stop

    best_v = torch.full((k, geo.channels), -float("inf"), device=dev)
    best_n = torch.zeros((k, geo.channels), dtype=torch.long, device=dev)
    best_p = torch.zeros((k, geo.channels), dtype=torch.long, device=dev)
    total = torch.zeros(geo.channels, device=dev, dtype=torch.float64)
    handle = module.register_forward_hook(hook)
    try:
        with eval_mode(net), torch.inference_mode():
            for start in range(0, len(images), batch_size):
                x = to_batch(images[start:start + batch_size]).to(dev)
                grabbed.clear()
                with contextlib.suppress(_Stop):
                    net(x)
                a = grabbed[0].float().flatten(2)  # (B, C, h*w)
                v, p = a.max(2)
                total += v.sum(0, dtype=torch.float64)
                n = torch.arange(start, start + len(x), device=dev)[:, None].expand_as(v)
                all_v, all_n, all_p = torch.cat([best_v, v]), torch.cat([best_n, n]), torch.cat([best_p, p])
                best_v, order = all_v.topk(k, dim=0)
                best_n, best_p = all_n.gather(0, order), all_p.gather(0, order)
                progress(min(1.0, (start + len(x)) / len(images)), f"{start + len(x):,} / {len(images):,} images")
    finally:
        handle.remove()
    p = best_p.T.cpu().numpy()
    return ChannelTops(geo, best_v.T.cpu().numpy().astype(np.float32), best_n.T.cpu().numpy(),
                       p // geo.width, p % geo.width, (total / max(1, len(images))).cpu().numpy().astype(np.float32))


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The part of a uint8 (28, 28) image under `box`; what lies outside the image is PAD_VALUE grey."""
    y0, x0, y1, x1 = box
    out = np.full((y1 - y0, x1 - x0), PAD_VALUE, dtype=np.uint8)
    sy0, sx0, sy1, sx1 = max(y0, 0), max(x0, 0), min(y1, image.shape[0]), min(x1, image.shape[1])
    if sy1 > sy0 and sx1 > sx0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = image[sy0:sy1, sx0:sx1]
    return out


def channel_patches(tops: ChannelTops, images: np.ndarray, channel: int) -> tuple[list[np.ndarray], np.ndarray]:
    """(crops of the channel's top-k images under their strongest unit, the mean of those crops as uint8)."""
    geo = tops.geometry
    crops = [crop(images[int(n)], geo.box(int(i), int(j)))
             for n, i, j, v in zip(tops.index[channel], tops.unit_i[channel], tops.unit_j[channel],
                                   tops.values[channel], strict=True) if np.isfinite(v)]
    mean = np.mean(np.stack(crops).astype(np.float32), axis=0) if crops else np.zeros((1, 1), np.float32)
    return crops, mean.round().astype(np.uint8)


def first_filters(model: nn.Module, layer: str) -> np.ndarray | None:
    """The layer's filters (C, kh, kw), channel-averaged, when `layer` is the network's first convolution."""
    from explorer.explain.core import first_layer_filters

    try:
        name, w = first_layer_filters(model)
    except ValueError:
        return None
    return w.mean(axis=1) if name == layer else None


# ------------------------------------------------------------------------------------ stored
def _view_name(layer: str, k: int) -> str:
    """Stored-view name for a layer and k."""
    import re

    return f"channels-{re.sub(r'[^a-z0-9_.-]', '_', layer.lower())[:80]}-k{k}"


def _from_store(stored: Any, layer: str, n_images: int) -> ChannelTops | None:
    """The stored result (read under this version, weights stamp and layer) when its arrays are consistent."""
    if stored is None:
        return None
    arrays, meta = stored
    try:
        geo = Geometry(layer, int(meta["channels"]), int(meta["height"]), int(meta["width"]),
                       tuple(float(v) for v in meta["rf"]), tuple(float(v) for v in meta["jump"]))
        v, n, i, j, mean = (arrays[key] for key in ("values", "index", "unit_i", "unit_j", "mean"))
        shape = v.shape
        ok = (v.ndim == 2 and shape[0] == geo.channels and all(a.shape == shape for a in (n, i, j))
              and mean.shape == (geo.channels,) and n.min(initial=0) >= 0 and n.max(initial=0) < n_images
              and i.min(initial=0) >= 0 and i.max(initial=0) < geo.height
              and j.min(initial=0) >= 0 and j.max(initial=0) < geo.width)
    except (KeyError, TypeError, ValueError):
        return None
    if not ok:
        return None
    return ChannelTops(geo, v.astype(np.float32), n.astype(np.int64), i.astype(np.int64), j.astype(np.int64),
                       mean.astype(np.float32))


def run_channels(ref: Any, layer: str, k: int = 9, device: str | None = None, progress: Progress = no_progress,
                 compute: bool = True) -> tuple[ChannelTops | None, bool]:
    """A run's channel view for `layer` (stored result when valid, else computed and stored unless
    compute=False, then None) -> (tops, was_stored)."""
    run = usable_run(ref)
    key, name = {"version": VERSION, "stamp": run.weights_stamp(), "layer": layer}, _view_name(layer, k)
    split = test_split(run)
    tops = _from_store(run.derived.read_arrays(name, key), layer, len(split.images))
    if tops is not None or not compute:
        return tops, tops is not None
    model = run_model(run)
    tops = top_units(model, split.images, layer, k=k, device=device, progress=progress)
    g = tops.geometry
    run.derived.write_arrays(name, key, {"values": tops.values, "index": tops.index, "unit_i": tops.unit_i,
                                         "unit_j": tops.unit_j, "mean": tops.mean},
                             {"channels": g.channels, "height": g.height, "width": g.width, "rf": list(g.rf),
                              "jump": list(g.jump)})
    return tops, False


def channel_strip(crops: list[np.ndarray], mean: np.ndarray, filt: np.ndarray | None = None,
                  size: int = 56) -> np.ndarray:
    """One RGB row for a channel: [filter] [mean patch] | top-k crops, each resized to size x size."""
    from PIL import Image

    def tile(a: np.ndarray, tint: tuple[int, int, int] | None = None) -> np.ndarray:
        img = np.asarray(Image.fromarray(a).resize((size, size), Image.NEAREST))
        rgb = np.repeat(img[..., None], 3, axis=2)
        return (rgb * (np.asarray(tint) / 255.0)).astype(np.uint8) if tint else rgb

    gap = np.full((size, 6, 3), 255, np.uint8)
    parts: list[np.ndarray] = []
    if filt is not None:
        f = filt - filt.min()
        parts += [tile((f / (f.max() or 1.0) * 255).astype(np.uint8), (255, 200, 120)), gap]
    parts += [tile(mean, (160, 220, 255)), gap, gap]
    for c in crops:
        parts += [tile(c), np.full((size, 2, 3), 255, np.uint8)]
    return np.concatenate(parts, axis=1)
