"""`python -m explorer explain RUN IMAGE --method gradcam --out FILE.png`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.devices import DEVICE_HELP
from explorer.explain.methods import METHOD_NAMES

if TYPE_CHECKING:
    import numpy as np
    import torch

    from explorer.explain.core import Explanation

MAX_SCALE = 64  # 28 x 64 = 1,792 pixels high: enough for a poster, small enough never to exhaust memory


def load_image(run: Any, image: str) -> torch.Tensor:
    """Return the (1, 28, 28) float image for IMAGE: a file path, or test:N (the run's N-th test image)."""
    return run.image_ref(image)


def panel(image: torch.Tensor | np.ndarray, ex: Explanation, scale: int = 8) -> np.ndarray:
    """Return an RGB strip: the input image beside the heatmap overlay, each scaled up."""
    import numpy as np

    from explorer.explain.core import overlay

    img = np.squeeze(np.asarray(image, dtype=np.float32))
    grey = (np.clip(img, 0, 1) * 255).round().astype(np.uint8)
    left = np.repeat(grey[..., None], 3, axis=2).repeat(scale, 0).repeat(scale, 1)
    right = overlay(img, ex.heatmap, scale=scale)
    gap = np.full((left.shape[0], 4, 3), 255, dtype=np.uint8)
    return np.concatenate([left, gap, right], axis=1)


def cmd_explain(args: argparse.Namespace) -> int:
    """Explain one image with one method and write the picture."""
    import numpy as np

    from explorer.explain.core import explain, to_png
    from explorer.runs import check_output, open_run

    out = Path(args.out)
    if out.is_dir():
        raise ValueError(f"--out {out} is a folder; give a file name such as {out / 'explain.png'}")
    check_output(out, args.force)
    if not 1 <= args.scale <= MAX_SCALE:
        raise ValueError(f"--scale must be a whole number from 1 to {MAX_SCALE} (the picture is 28 x scale pixels "
                         f"high), got {args.scale}")
    run = open_run(args.run)
    classes = list((run.config or {}).get("classes") or []) or None
    x = load_image(run, args.image)
    from explorer.devices import resolve_device
    from explorer.run_models import load_run_model

    device = resolve_device(args.device)
    model = load_run_model(run, args.which) if device.type == "cpu" else run.load_model(args.which, device=str(device))
    ex = explain(model, x, args.method, target=args.target, layer=args.layer, contrast=args.contrast,
                 classes=classes)
    names = classes or [str(i) for i in range(len(ex.probs))]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(to_png(panel(x, ex, scale=args.scale)))
    order = np.argsort(-ex.probs)[:5]
    print(f"predicted {names[ex.predicted]} ({ex.probs[ex.predicted]:.3f}); explained {names[ex.target]}"
          + (f" vs {names[ex.contrast]}" if ex.contrast is not None else "")
          + f" with {ex.method}" + (f" at layer {ex.layer}" if ex.layer else ""))
    print("top-5: " + ", ".join(f"{names[i]} {ex.probs[i]:.3f}" for i in order))
    print(f"wrote {out}")
    return 0


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Register the `explain` command."""
    p = subparsers.add_parser(
        "explain",
        help="Grad-CAM or another attribution of one image for a run's model",
        description="Explain a run's prediction for one image and write the input beside the heatmap overlay.",
    )
    p.add_argument("run", metavar="RUN", help="run id or run folder")
    p.add_argument("image", metavar="IMAGE", help="an image file, or test:N for the run's N-th test image")
    p.add_argument("--method", default="gradcam", choices=list(METHOD_NAMES), help="attribution method")
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to write the picture")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--target", help="class to explain (name or index; default: the predicted class)")
    p.add_argument("--contrast", help="explain 'why TARGET and not CONTRAST' (name or index)")
    p.add_argument("--layer", help="layer for Grad-CAM (default: last conv layer with spatial output)")
    p.add_argument("--which", default="best", choices=["best", "last"], help="which saved weights")
    p.add_argument("--device", default="cpu", help=f"where the model runs: {DEVICE_HELP} (default cpu)")
    p.add_argument("--scale", type=int, default=8, help=f"upscaling of the 28x28 picture, 1 to {MAX_SCALE} (default 8)")
    p.set_defaults(func=cmd_explain)
