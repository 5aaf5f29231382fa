"""Draw the example letters of assets/examples/ with real strokes, as a user draws them on the canvas.

Each letter is a list of pen strokes (polylines from the single-stroke Hershey fonts, given a hand-made
wobble and slant by a fixed seed); the strokes are saved to strokes.json and drawn like the Draw page's
canvas draws them: white round-capped lines, 18 px wide, on a black 280x280 square. The Draw and Explain
pages offer the PNGs as "try an example". Run `make examples` (or this file) to redraw them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "assets" / "examples"
SIZE = 280  # the Draw page's canvas (explorer.ui.draw.CANVAS_SIZE)
WIDTH = 18  # the Draw page's default stroke width
# (file stem, character, Hershey font): capitals and lower case, print and cursive, easy and confusable ones.
LETTERS = [
    ("A", "A", "futural"), ("B", "B", "futural"), ("G", "G", "futural"), ("Q", "Q", "futural"),
    ("R", "R", "futural"), ("S", "S", "scripts"), ("a_lower", "a", "futural"), ("e_lower", "e", "scripts"),
    ("h_lower", "h", "futural"), ("y_lower", "y", "scripts"),
]


def letter_strokes(ch: str, font: str, rng: np.random.Generator) -> list[list[list[float]]]:
    """The strokes of one hand-drawn character in canvas pixels: a list of [[x, y], ...] polylines."""
    from HersheyFonts import HersheyFonts

    hf = HersheyFonts()
    hf.load_default_font(font)
    polys = [np.asarray(s, dtype=np.float64) for s in hf.strokes_for_text(ch) if len(s) >= 2]
    pts = np.concatenate(polys)
    lo, hi = pts.min(0), pts.max(0)
    scale = 0.62 * SIZE / float((hi - lo).max())
    slant, angle = rng.uniform(-0.15, 0.25), np.deg2rad(rng.uniform(-6, 6))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    mat = rot @ np.array([[1.0, slant], [0.0, 1.0]])
    phase = rng.uniform(0, 2 * np.pi, 2)
    strokes = []
    for p in polys:
        # a pen path: densify to ~3 px steps, then slant, rotate and let the hand wobble a little
        dense = [p[0]] + [a + t * (b - a) for a, b in zip(p[:-1], p[1:], strict=True)
                          for t in np.linspace(0, 1, max(2, int(np.hypot(*(b - a)) * scale / 3)))[1:]]
        q = (np.asarray(dense) - (lo + hi) / 2) * scale
        q = q @ mat.T
        q += 3.0 * np.sin(q[:, ::-1] / 23.0 + phase)  # smooth tremor
        q += SIZE / 2
        strokes.append(np.round(q, 1).tolist())
    # the glyph's y axis (Hershey: down) is already the canvas' y axis
    return strokes


def draw_strokes(strokes: list[list[list[float]]], size: int = SIZE, width: int = WIDTH) -> Image.Image:
    """Draw strokes as the canvas does: white, round caps and joints, on black; a grayscale image."""
    img = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(img)
    r = width / 2
    for stroke in strokes:
        pen.line([tuple(p) for p in stroke], fill=255, width=width, joint="curve")
        for x, y in stroke:
            pen.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return img


def main() -> None:
    """Write assets/examples/<stem>.png for every letter and strokes.json with all the strokes."""
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(13)
    record = {}
    for stem, ch, font in LETTERS:
        strokes = letter_strokes(ch, font, rng)
        draw_strokes(strokes).save(OUT / f"{stem}.png", optimize=True)
        record[stem] = {"char": ch, "font": font, "strokes": strokes}
    (OUT / "strokes.json").write_text(json.dumps(record, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {len(LETTERS)} letters to {OUT}")


if __name__ == "__main__":
    main()
