"""Find a CJK font for rendering Chinese (receipts, LED bitmaps). Roboto has no Chinese glyphs."""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont
from PIL.ImageFont import FreeTypeFont

from devices.errors import DeviceError

_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


class FontMissing(DeviceError):
    pass


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    for candidate in _CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    if shutil.which("fc-match"):
        found = subprocess.run(
            ["fc-match", "-f", "%{file}", ":lang=zh-cn"],  # noqa: S607 - found on PATH just above
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        if found and Path(found).exists() and "cjk" in found.lower():
            return Path(found)
    raise FontMissing(
        "no Chinese font found: install Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk)"
    )


def cjk_font(size: int, *, bold: bool = False) -> FreeTypeFont:
    """A Simplified-Chinese face at ``size`` pixels (Noto Sans CJK SC where installed)."""
    path = cjk_font_path()
    if bold:
        bold_path = path.with_name(path.name.replace("Regular", "Bold"))
        if bold_path.exists():
            path = bold_path
    for index in range(8):
        try:
            font = ImageFont.truetype(str(path), size, index=index)
        except OSError:
            break
        if (font.getname()[0] or "").endswith(" SC"):
            return font
    return ImageFont.truetype(str(path), size)
