"""Scans of a known text, as a scanner or a phone would make them: A4 pages at 200 dpi, turned a degree or two,
with speckle noise, as PNG, JPEG or an image-only PDF (no text layer). Tests and `bench scans` feed them to the
OCR and compare what comes back with the text's own fields.

The font is DejaVu Sans (it has every Vietnamese letter) from matplotlib's bundled fonts, so this runs anywhere
the project installs."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import numpy as np
from matplotlib import font_manager
from PIL import Image, ImageDraw, ImageFont

DPI = 200
_A4_INCHES = (8.27, 11.69)
_MARGIN = 0.9  # inch
_POINTS = 13
_MARKDOWN = re.compile(r"[*#\\]|^\s*-{3,}\s*$", re.MULTILINE)


def sample_lines(text: str) -> list[str]:
    """The text as printed: markdown marks dropped, blank lines kept as paragraph gaps."""
    return [line.strip() for line in _MARKDOWN.sub("", text).strip().splitlines()]


def render_pages(
    text: str, *, dpi: int = DPI, angle: float = 1.5, noise: float = 14.0, seed: int = 7
) -> list[Image.Image]:
    """The text on A4 pages at `dpi`, each turned by about `angle` degrees, with Gaussian noise of `noise`."""
    width, height = round(_A4_INCHES[0] * dpi), round(_A4_INCHES[1] * dpi)
    margin = round(_MARGIN * dpi)
    font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), round(_POINTS * dpi / 72))
    step = round(font.size * 1.4)
    pages: list[Image.Image] = []
    page, draw, y = _blank(width, height), None, margin
    draw = ImageDraw.Draw(page)
    for line in _wrapped(sample_lines(text), font, width - 2 * margin):
        if y + step > height - margin:
            pages.append(page)
            page, y = _blank(width, height), margin
            draw = ImageDraw.Draw(page)
        if line:
            draw.text((margin, y), line, font=font, fill=0)
        y += step if line else step // 2
    pages.append(page)
    rng = random.Random(seed)
    return [_scanned(p, angle * rng.choice((-1, 1)) * rng.uniform(0.7, 1.0), noise, rng) for p in pages]


def to_pdf(pages: list[Image.Image], dpi: int = DPI) -> bytes:
    """An image-only PDF, as a scanner writes one."""
    out = io.BytesIO()
    pages[0].save(out, "PDF", resolution=float(dpi), save_all=True, append_images=pages[1:])
    return out.getvalue()


def to_image(page: Image.Image, kind: str = "JPEG", dpi: int = DPI) -> bytes:
    out = io.BytesIO()
    page.save(out, kind, dpi=(dpi, dpi), **({"quality": 85} if kind == "JPEG" else {}))
    return out.getvalue()


def sample_text(name: str) -> str:
    return (Path(__file__).parent.parent / "sandbox" / "samples" / name).read_text(encoding="utf-8")


def _blank(width: int, height: int) -> Image.Image:
    return Image.new("L", (width, height), 255)


def _wrapped(lines: list[str], font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    out: list[str] = []
    for line in lines:
        current = ""
        for word in line.split():
            candidate = f"{current} {word}".strip()
            if current and font.getlength(candidate) > width:
                out.append(current)
                current = word
            else:
                current = candidate
        out.append(current)
    return out


def _scanned(page: Image.Image, angle: float, noise: float, rng: random.Random) -> Image.Image:
    turned = page.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    pixels = np.asarray(turned, dtype=np.float32)
    generator = np.random.default_rng(rng.randrange(1 << 30))
    pixels = pixels + generator.normal(0.0, noise, pixels.shape)
    # A few dark specks, as dust on the glass leaves.
    specks = generator.random(pixels.shape) < 0.0005
    pixels[specks] = 0
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
