"""One preprocessing path: any user image -> the exact (1, 28, 28) tensor the datasets hold.

EMNIST's conversion (Cohen et al. 2017, fig. 1), applied to every source here -- the canvas,
uploads, the built-in generator and scikit-learn's digits -- so that they all look alike:

1. light ink on a dark background (the polarity of an upload is detected from its border);
2. crop to the ink's bounding box (the "region of interest");
3. scale it, aspect ratio kept, so that its longer side fills the 24x24 inner square of a
   28x28 frame (a 2-pixel border as in EMNIST/MNIST), centred by its bounding box -- EMNIST
   centres the box, not the centre of mass (``center="mass"`` does the latter instead);
4. Gaussian blur with sigma = 1 at 4x resolution, then bicubic downsampling to 28x28
   (EMNIST blurs its 128x128 NIST frames with sigma = 1 and downsamples bicubically);
5. intensities rescaled so the brightest pixel is 255; the model tensor is uint8 / 255.
"""

from __future__ import annotations

import io
import sys
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

if TYPE_CHECKING:
    import torch

SIZE = 28  # output frame (pixels)
MARGIN = 2  # empty border kept around the letter's bounding box (pixels)
SUPERSAMPLE = 4  # work at 4x resolution before the final bicubic downsampling
MAX_UPLOAD_BYTES = 25 * 1024 * 1024  # .streamlit/config.toml server.maxUploadSize (MB) matches this
MAX_PIXELS = 16_000_000  # refused from the header, before decoding (a 12-megapixel phone photo fits)
MAX_SIDE = 1024  # larger images are shrunk to this longer side before any array is made
# Raster formats only, named to Image.open: EPS/PS (Ghostscript), PDF, SVG and the rest never get a parser.
RASTER_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP", "TIFF")
UPLOAD_TYPES = ["png", "jpg", "jpeg", "bmp", "gif", "webp", "tif", "tiff"]  # the file-name list for uploaders
INK_THRESHOLD = 0.2  # fraction of the strongest ink that counts as ink for the bounding box
MIN_CONTRAST = 0.08  # below this (0..1) the image is considered blank
SIXTEEN_BIT_MODES = {"I;16", "I;16B", "I;16L", "I;16N", "I", "F"}


class ImageError(ValueError):
    """An input image that cannot be used; the message says what is wrong and how to fix it."""


class BlankImageError(ImageError):
    """The image has no ink: nothing was drawn."""

    def __init__(self, message: str = "The image is blank: draw a letter first.") -> None:
        super().__init__(message)


def load_image_bytes(data: bytes, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open PNG/JPEG/... bytes as a PIL image with safety checks: size and pixel count from the header
    before decoding, raster formats only, no animation or 16-bit; shrunk to at most MAX_SIDE pixels a side.
    The one place where images from users are opened (uploads, the CLI)."""
    if not data:
        raise ImageError("The file is empty (0 bytes); upload a PNG or JPEG image of one letter.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError(
            f"The file is {len(data) / 2**20:.1f} MiB; the limit is {MAX_UPLOAD_BYTES / 2**20:.0f} MiB. "
            "Upload a smaller image of one letter."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=RASTER_FORMATS)  # lazy: reads the header only
            width, height = image.size
            if width * height > max_pixels:
                raise ImageError(
                    f"The image is {width}x{height} = {width * height:,} pixels; the limit is {max_pixels:,} "
                    f"(about {max_pixels / 1e6:.0f} megapixels). A letter needs far fewer: crop or shrink it "
                    "and upload it again."
                )
            if getattr(image, "is_animated", False) or getattr(image, "n_frames", 1) > 1:
                raise ImageError(
                    f"The image is animated ({image.format}, {getattr(image, 'n_frames', '?')} frames); "
                    "upload a still PNG or JPEG of one letter."
                )
            if image.mode in SIXTEEN_BIT_MODES:
                raise ImageError(
                    f"The image has {image.mode!r} pixels (16/32-bit); save it as an 8-bit grayscale or RGB "
                    "PNG/JPEG and upload it again."
                )
            if image.format == "JPEG":
                image.draft(image.mode, (MAX_SIDE, MAX_SIDE))  # decode JPEG at a reduced scale
            image.load()
            image = ImageOps.exif_transpose(image)
            if max(image.size) > MAX_SIDE:
                image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.BOX)
    except ImageError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageError(f"The image is too large (a possible decompression bomb): {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageError(
            f"The file is not an image in a supported format ({', '.join(RASTER_FORMATS)}); "
            "upload a PNG or JPEG of one letter."
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"The image file is corrupt or truncated ({exc}); upload it again.") from exc
    return image


def _gray_from_pil(image: Image.Image) -> np.ndarray:
    """PIL image -> float32 luminance in [0, 1]; transparency becomes background."""
    if image.mode in SIXTEEN_BIT_MODES:
        raise ImageError(f"The image has {image.mode!r} pixels (16/32-bit); use an 8-bit image.")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        return _gray_from_rgba(np.asarray(image.convert("RGBA")))
    return np.asarray(image.convert("L"), dtype=np.float32) / 255.0


def _gray_from_rgba(rgba: np.ndarray) -> np.ndarray:
    """RGBA uint8 (H, W, 4) -> float32 luminance in [0, 1].

    Where pixels are transparent (a canvas with no background, a PNG with alpha) the drawing is
    the opaque part: it is composited over the colour opposite to its own mean colour, so white
    strokes and black strokes on a transparent canvas both come out as ink.
    """
    rgb = rgba[..., :3].astype(np.float32) / 255.0
    alpha = rgba[..., 3].astype(np.float32) / 255.0
    lum = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if alpha.min() >= 0.999:
        return lum
    opaque = alpha > 0.5
    ink_mean = float(lum[opaque].mean()) if opaque.any() else 1.0
    background = 0.0 if ink_mean >= 0.5 else 1.0
    return lum * alpha + background * (1.0 - alpha)


def to_gray(image: Any) -> np.ndarray:
    """Any supported image (PIL, numpy HxW/HxWx3/HxWx4, torch, PNG/JPEG bytes) -> float32 (H, W) in [0, 1]."""
    if isinstance(image, bytes | bytearray | memoryview):
        image = load_image_bytes(bytes(image))
    if isinstance(image, Image.Image):
        return _gray_from_pil(image)
    torch_mod = sys.modules.get("torch")  # a tensor can only exist once torch is imported
    if torch_mod is not None and isinstance(image, torch_mod.Tensor):
        image = image.detach().cpu().numpy()
    if not isinstance(image, np.ndarray):
        raise ImageError(
            f"Unsupported image type {type(image).__name__}; give a PIL image, a numpy array or PNG/JPEG bytes."
        )
    arr = image
    if arr.ndim == 3 and arr.shape[0] in (1, 3, 4) and arr.shape[-1] not in (1, 3, 4):
        arr = np.moveaxis(arr, 0, -1)  # CHW -> HWC
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)) or min(arr.shape[:2]) < 1:
        raise ImageError(f"Expected an image array of shape HxW, HxWx3 or HxWx4, got {arr.shape}.")
    if arr.dtype == np.uint8:
        arr8 = arr
    elif arr.dtype == np.bool_:
        arr8 = arr.astype(np.uint8) * 255
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ImageError("The image array holds NaN or infinite values.")
        scale = 255.0 if arr.max() <= 1.0 else 1.0
        arr8 = np.clip(arr * scale, 0, 255).round().astype(np.uint8)
    elif np.issubdtype(arr.dtype, np.integer):
        if arr.max() > 255 or arr.min() < 0:
            raise ImageError(
                f"The image array has values up to {arr.max()} ({arr.dtype}); 16-bit images are not "
                "supported -- scale it to 0..255 (uint8) first."
            )
        arr8 = arr.astype(np.uint8)
    else:
        raise ImageError(f"Unsupported image array dtype {arr.dtype}.")
    if arr8.ndim == 2:
        return arr8.astype(np.float32) / 255.0
    if arr8.shape[-1] == 4:
        return _gray_from_rgba(arr8)
    return arr8.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32) / 255.0


def to_ink(image: Any) -> np.ndarray:
    """Any supported image -> float32 (H, W) ink map in [0, 1], light strokes on dark, background at 0."""
    gray = to_gray(image)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    background = float(np.median(border))
    if background > 0.5:  # dark ink on light paper: invert
        gray = 1.0 - gray
        background = 1.0 - background
    ink = np.clip((gray - background) / max(1.0 - background, 1e-6), 0.0, 1.0)
    return ink.astype(np.float32)


def ink_bbox(ink: np.ndarray, threshold: float = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """Bounding box (top, left, bottom, right; exclusive) of pixels above threshold x max ink, or None.

    `ink` is float in [0, 1] or uint8 in [0, 255], light on dark.
    """
    peak = float(ink.max()) if ink.size else 0.0
    if peak < MIN_CONTRAST * (255 if ink.dtype == np.uint8 else 1):
        return None
    mask = ink >= threshold * peak
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def frame_ink(ink: np.ndarray, center: str = "box") -> np.ndarray:
    """EMNIST's conversion of an ink map (light on dark, any size; float in [0, 1] or uint8) -> uint8 (28, 28).

    center="box" centres the bounding box as EMNIST does; "mass" then shifts the letter so its
    centre of mass is at the frame centre (as MNIST does), keeping the ink inside the frame.
    """
    if center not in ("box", "mass"):
        raise ValueError(f"center must be 'box' or 'mass', got {center!r}")
    bbox = ink_bbox(ink)
    if bbox is None:
        raise BlankImageError()
    top, left, bottom, right = bbox
    roi = ink[top:bottom, left:right]
    h, w = roi.shape
    inner = (SIZE - 2 * MARGIN) * SUPERSAMPLE
    scale = inner / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    if roi.dtype != np.uint8:
        roi = (np.clip(roi, 0.0, 1.0) * 255).round().astype(np.uint8)
    roi_img = Image.fromarray(np.ascontiguousarray(roi), mode="L")
    resample = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    roi_img = roi_img.resize((new_w, new_h), resample)
    big = SIZE * SUPERSAMPLE
    frame = Image.new("L", (big, big), 0)
    frame.paste(roi_img, ((big - new_w) // 2, (big - new_h) // 2))
    frame = frame.filter(ImageFilter.GaussianBlur(radius=1.0))
    small = np.asarray(frame.resize((SIZE, SIZE), Image.Resampling.BICUBIC), dtype=np.float32)
    peak = small.max()
    if peak <= 0:
        raise BlankImageError()
    out = np.clip(small * (255.0 / peak), 0, 255).round().astype(np.uint8)
    if center == "mass":
        out = _center_by_mass(out)
    return out


def _center_by_mass(img: np.ndarray) -> np.ndarray:
    """Shift a uint8 frame by whole pixels so its centre of mass is central, ink kept in frame."""
    weights = img.astype(np.float64)
    total = weights.sum()
    ys, xs = np.indices(img.shape)
    cy, cx = (weights * ys).sum() / total, (weights * xs).sum() / total
    nz_rows, nz_cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    dy = int(np.clip(round((SIZE - 1) / 2 - cy), -nz_rows[0], SIZE - 1 - nz_rows[-1]))
    dx = int(np.clip(round((SIZE - 1) / 2 - cx), -nz_cols[0], SIZE - 1 - nz_cols[-1]))
    return np.roll(img, (dy, dx), axis=(0, 1))


def preprocess_array(image: Any, center: str = "box") -> np.ndarray:
    """Any supported image -> uint8 (28, 28), light strokes on dark, as the datasets store it."""
    return frame_ink(to_ink(image), center=center)


def preprocess_image(image: Any, center: str = "box") -> torch.Tensor:
    """Any supported image (canvas RGBA, upload bytes, PIL, array) -> float32 (1, 28, 28) in [0, 1].

    Raises ImageError for unusable input and BlankImageError ("draw a letter") when there is no ink.
    """
    import torch

    return torch.from_numpy(preprocess_array(image, center=center)).float().div_(255.0).unsqueeze(0)
