"""Chinese on an LED board: render text with a CJK font into 1-bit rows of colour digits."""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw
from PIL.ImageFont import FreeTypeFont

from devices.fonts import cjk_font

_REFERENCE = "国號窗gÁ"  # tall, deep and wide glyphs: what every line must fit


@lru_cache(maxsize=16)
def _fitted(height: int) -> tuple[FreeTypeFont, int]:
    """The largest CJK font whose ink fits ``height`` rows, and the y offset that centres it."""
    for size in range(height + 4, 5, -1):
        font = cjk_font(size)
        _, top, _, bottom = font.getbbox(_REFERENCE)
        if bottom - top <= height:
            return font, int((height - (bottom - top)) // 2 - top)
    font = cjk_font(6)
    return font, 0


def render_rows(text: str, *, height: int, colour: str = "1", threshold: int = 110) -> list[str]:
    """The text as ``height`` rows of '0'/colour digits, as wide as the text needs."""
    font, y = _fitted(height)
    left, _, right, _ = font.getbbox(text or " ")
    width = max(1, int(right - left) + 1)
    image = Image.new("L", (width, height), 0)
    ImageDraw.Draw(image).text((-left, y), text, font=font, fill=255)
    data = image.tobytes()
    return [
        "".join(colour if data[row * width + x] >= threshold else "0" for x in range(width))
        for row in range(height)
    ]


def split_columns(rows: list[str], width: int) -> list[list[str]]:
    """Cut wide rows into pictures of exactly ``width`` columns (the last padded with '0')."""
    total = len(rows[0])
    pieces = []
    for start in range(0, max(total, 1), width):
        pieces.append([row[start : start + width].ljust(width, "0") for row in rows])
    return pieces
