"""Draw decoded receipt events as a PNG a person can look at (80 mm paper, 576 dots wide)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw
from PIL.ImageFont import FreeTypeFont

from devices.fonts import cjk_font
from devices.printer.decode import Event, Qr, Text

PAPER_WIDTH = 576  # dots on 80 mm paper at 203 dpi
MARGIN = 16
BASE_SIZE = 24


def render_receipt(events: Sequence[Event], path: Path) -> Path:
    import qrcode

    blocks: list[Image.Image] = []
    for event in events:
        if isinstance(event, Text):
            size = BASE_SIZE * max(1, min(event.size, 4))
            font = cjk_font(size, bold=event.bold)
            # A real printer wraps at the paper's edge; so does the picture.
            for piece in _wrap(event.text, font, PAPER_WIDTH - 2 * MARGIN):
                width = int(font.getlength(piece))
                block = Image.new("L", (PAPER_WIDTH, int(size * 1.5)), 255)
                x = {
                    "center": (PAPER_WIDTH - width) // 2,
                    "right": PAPER_WIDTH - MARGIN - width,
                }.get(event.align, MARGIN)
                ImageDraw.Draw(block).text((max(MARGIN, x), 0), piece, font=font, fill=0)
                blocks.append(block)
        elif isinstance(event, Qr):
            code = qrcode.make(event.data, box_size=6, border=2).get_image().convert("L")
            block = Image.new("L", (PAPER_WIDTH, code.height + 8), 255)
            block.paste(code, ((PAPER_WIDTH - code.width) // 2, 4))
            blocks.append(block)
    height = sum(block.height for block in blocks) + 2 * MARGIN
    paper = Image.new("L", (PAPER_WIDTH, max(height, 64)), 255)
    y = MARGIN
    for block in blocks:
        paper.paste(block, (0, y))
        y += block.height
    # The cut: a dashed line at the bottom edge.
    draw = ImageDraw.Draw(paper)
    for x in range(0, PAPER_WIDTH, 16):
        draw.line([(x, paper.height - 2), (x + 8, paper.height - 2)], fill=128, width=2)
    paper.save(path)
    return path


def _wrap(text: str, font: FreeTypeFont, width: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for char in text:
        if current and font.getlength(current + char) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    pieces.append(current)
    return pieces
