"""An invite's QR image as a card to print and hand out: the code's QR, and under it the person's name, their unit
and the code in letters, so a stack of printed cards can be sorted and a code typed when a camera fails."""

from __future__ import annotations

import importlib.util
from io import BytesIO
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

MARGIN = 24
LINE_GAP = 10
FONT_SIZES = (30, 26, 34)  # name, unit, code
WRAP_CHARS = 34


def _font_path() -> Path | None:
    """DejaVu Sans, which has every Vietnamese letter: matplotlib's copy (a dependency) or the system's."""
    spec = importlib.util.find_spec("matplotlib")  # found, not imported: that would cost ~27 MB
    places = (spec.submodule_search_locations or []) if spec else []
    candidates = [Path(p) / "mpl-data/fonts/ttf/DejaVuSans.ttf" for p in places]
    candidates.append(Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"))
    return next((p for p in candidates if p.exists()), None)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_path()
    return ImageFont.truetype(str(path), size) if path else ImageFont.load_default(size)


def _wrap(text: str) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= WRAP_CHARS:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def card_png(content: str, name: str, unit: str | None, code: str) -> bytes:
    """A PNG: the QR code of `content` above the person's name, their unit and the code."""
    qr = qrcode.make(content).get_image().convert("RGB")
    texts = [(line, FONT_SIZES[0]) for line in _wrap(name)]
    texts += [(line, FONT_SIZES[1]) for line in _wrap(unit or "")] if unit else []
    texts.append((code, FONT_SIZES[2]))
    fonts = [(text, _font(size)) for text, size in texts]
    heights = [round(size * 1.2) for _, size in texts]  # one line height per size: descenders and marks fit
    widths = [int(font.getlength(text)) for text, font in fonts]
    width = max(qr.width, *(w + 2 * MARGIN for w in widths))
    height = qr.height + sum(h + LINE_GAP for h in heights) + MARGIN
    card = Image.new("RGB", (width, height), "white")
    card.paste(qr, ((width - qr.width) // 2, 0))
    draw = ImageDraw.Draw(card)
    y = qr.height
    for (text, font), w, h in zip(fonts, widths, heights, strict=True):
        draw.text(((width - w) // 2, y), text, fill="black", font=font)
        y += h + LINE_GAP
    buffer = BytesIO()
    card.save(buffer, format="PNG")
    return buffer.getvalue()
