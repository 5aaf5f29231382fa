"""The one preprocessing path: round trip from a canvas-like image, polarity, every bad input."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.data import BlankImageError, ImageError, load_dataset, load_image_bytes, preprocess_image
from explorer.data.preprocess import MARGIN, SIZE, ink_bbox


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> torch.Tensor:
    root = tmp_path_factory.mktemp("data")
    return load_dataset("letters-builtin", "test", root=root, size=10).images  # 260 framed letters


def _png(img: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()


def _canvas(sample: np.ndarray, size: int, top: int, left: int, shape: tuple[int, int], white: bool) -> np.ndarray:
    """Draw a 28x28 sample, upscaled, onto a transparent RGBA canvas (white or black strokes)."""
    big = np.asarray(Image.fromarray(sample).resize((size, size), Image.Resampling.BICUBIC))
    canvas = np.zeros((*shape, 4), np.uint8)
    canvas[top : top + size, left : left + size, :3] = 255 if white else 0
    canvas[top : top + size, left : left + size, 3] = big
    return canvas


@pytest.mark.parametrize("white", [True, False])
def test_round_trip_from_canvas(samples: torch.Tensor, white: bool) -> None:
    errors = []
    for i in range(0, len(samples), 20):
        x = samples[i].numpy()
        canvas = _canvas(x, 180 + i % 60, 30 + i % 50, 100 + i % 70, (320, 420), white)
        y = preprocess_image(canvas)
        assert y.shape == (1, SIZE, SIZE) and y.dtype == torch.float32
        assert 0.0 <= y.min() and y.max() == 1.0
        ref = torch.from_numpy(x).float() / 255
        errors.append((y[0] - ref).abs().mean().item())
        corr = np.corrcoef(y[0].flatten().numpy(), ref.flatten().numpy())[0, 1]
        assert corr > 0.9, f"sample {i}: correlation {corr:.3f}"
    assert np.mean(errors) < 0.05, errors


def test_round_trip_from_dark_on_light_jpeg(samples: torch.Tensor) -> None:
    x = samples[3].numpy()
    big = Image.fromarray(255 - x).resize((150, 150), Image.Resampling.BICUBIC).convert("RGB")
    paper = Image.new("RGB", (500, 260), (245, 245, 240))
    paper.paste(big, (300, 60))
    y = preprocess_image(_png(paper, format="JPEG", quality=90))
    ref = torch.from_numpy(x).float() / 255
    assert (y[0] - ref).abs().mean() < 0.06


def test_framing_matches_emnist_margins(samples: torch.Tensor) -> None:
    for x in samples[:50].numpy():
        top, left, bottom, right = ink_bbox(x.astype(np.float32) / 255)
        assert max(bottom - top, right - left) >= SIZE - 2 * MARGIN - 2  # longer side fills the 24-px box
        assert min(top, left) >= MARGIN - 1 and max(bottom, right) <= SIZE - MARGIN + 1


def test_accepts_pil_modes_and_arrays(samples: torch.Tensor) -> None:
    x = samples[0].numpy()
    ref = preprocess_image(x)
    for variant in (Image.fromarray(x), Image.fromarray(x).convert("RGB"), Image.fromarray(x).convert("P"),
                    x.astype(np.float32) / 255, np.stack([x] * 3, -1), x[None], torch.from_numpy(x)):  # fmt: skip
        assert torch.allclose(preprocess_image(variant), ref, atol=2 / 255)


def test_blank_canvas_says_draw_a_letter() -> None:
    for blank in (np.zeros((280, 280, 4), np.uint8), np.full((280, 280, 4), 255, np.uint8)):
        with pytest.raises(BlankImageError, match="draw a letter"):
            preprocess_image(blank)
    black_opaque = np.zeros((280, 280, 4), np.uint8)
    black_opaque[..., 3] = 255
    with pytest.raises(BlankImageError):
        preprocess_image(black_opaque)
    assert issubclass(BlankImageError, ImageError) and issubclass(ImageError, ValueError)


def test_bad_uploads_have_clear_messages() -> None:
    with pytest.raises(ImageError, match="empty"):
        load_image_bytes(b"")
    with pytest.raises(ImageError, match="not an image"):
        load_image_bytes(b"hello, this is text and not a picture")
    png = _png(Image.new("L", (40, 40), 200))
    with pytest.raises(ImageError, match="corrupt or truncated"):
        load_image_bytes(png[: len(png) // 2])
    with pytest.raises(ImageError, match="16/32-bit"):
        load_image_bytes(_png(Image.fromarray(np.full((20, 20), 40000, np.uint16))))
    frames = [Image.new("L", (20, 20), v) for v in (0, 255)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageError, match="animated"):
        load_image_bytes(buf.getvalue())
    with pytest.raises(ImageError, match="decompression bomb"):
        load_image_bytes(_png_header_only(20_000, 20_000))
    with pytest.raises(ImageError, match="shape"):
        preprocess_image(np.zeros((5, 5, 7), np.uint8))
    with pytest.raises(ImageError, match="16-bit"):
        preprocess_image(np.full((20, 20), 1000, np.int32))


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels (no pixel data needed to trigger the check)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_exif_orientation_is_applied() -> None:
    img = Image.new("L", (60, 30), 255)
    img.paste(0, (5, 5, 20, 25))  # a dark block on the left of a landscape image
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    opened = load_image_bytes(_png(img, format="JPEG", exif=exif.tobytes()))
    assert opened.size == (30, 60)
