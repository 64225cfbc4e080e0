"""A receipt as ESC/POS bytes: each command written out from the Epson ESC/POS reference.

Per line: ``ESC a n`` (alignment), ``ESC E n`` (bold), ``GS ! n`` (character size), the text,
``LF``. Text is sent as GB18030 inside the printer's Chinese mode (``FS &`` … ``FS .``) when
it has any non-ASCII character; python-escpos would guess a code page per string, which
garbles a line such as "¥12.30" that has no Chinese character to trigger GB18030. The QR
code is the printer's own (``GS ( k``, model 2), the same bytes python-escpos's ``qr(native=
True)`` sends (a test holds them to it).
"""

from __future__ import annotations

from devices.printer.receipts import Align, Line, Receipt

INIT = b"\x1b\x40"  # ESC @
CHINESE_ON = b"\x1c\x26"  # FS &
CHINESE_OFF = b"\x1c\x2e"  # FS .
PARTIAL_CUT_WITH_FEED = b"\x1d\x56\x42\x00"  # GS V 66 0
LF = b"\n"
QR_MODULE_SIZE = 6

_ALIGN = {Align.LEFT: 0, Align.CENTER: 1, Align.RIGHT: 2}

# Characters GBK has no code for. GB18030 encodes them in four bytes, which printers whose
# Chinese font is GBK (most kiosk printers) print as two wrong glyphs. The yen/yuan sign
# U+00A5 is the one that matters: its fullwidth form U+FFE5 is GBK/GB2312 A3 A4, which
# every Chinese printer shows as ￥. Superscript digits become plain ones (m³ → m3).
_GBK_SAFE = str.maketrans({"¥": "￥", "²": "2", "³": "3"})


def _text(text: str) -> bytes:
    text = text.translate(_GBK_SAFE)
    encoded = text.encode("gb18030")
    if text.isascii():
        return encoded
    return CHINESE_ON + encoded + CHINESE_OFF


def _style(align: Align, *, bold: bool = False, size: int = 1) -> bytes:
    size = max(1, min(8, size))
    return (
        b"\x1ba" + bytes([_ALIGN[align]])  # ESC a n
        + b"\x1bE" + bytes([1 if bold else 0])  # ESC E n
        + b"\x1d!" + bytes([(size - 1) << 4 | (size - 1)])  # GS ! n: width, height
    )  # fmt: skip


def _line(line: Line) -> bytes:
    return _style(line.align, bold=line.bold, size=line.size) + _text(line.text) + LF


def _qr_function(fn: int, data: bytes) -> bytes:
    """``GS ( k pL pH cn=49 fn data``: one function of the printer's QR code symbol."""
    length = len(data) + 2
    return b"\x1d(k" + bytes([length & 0xFF, length >> 8, 49, fn]) + data


def qr_code(data: str, *, module_size: int = QR_MODULE_SIZE) -> bytes:
    payload = data.encode("utf-8")
    if len(payload) > 7089:
        raise ValueError("a QR code holds at most 7089 bytes")
    return (
        _qr_function(65, b"\x32\x00")  # fn 165: model 2
        + _qr_function(67, bytes([module_size]))  # fn 167: module size in dots
        + _qr_function(69, b"\x30")  # fn 169: error correction L
        + _qr_function(80, b"\x30" + payload)  # fn 180: store the data
        + _qr_function(81, b"\x30")  # fn 181: print the stored symbol
    )


def receipt_bytes(receipt: Receipt) -> bytes:
    data = INIT + b"".join(_line(line) for line in receipt.lines)
    if receipt.qr:
        data += _style(Align.CENTER) + qr_code(receipt.qr) + LF
    data += b"".join(_line(line) for line in receipt.footer)
    # Feed the last line past the cutter, then a partial cut.
    return data + _style(Align.LEFT) + LF * 3 + PARTIAL_CUT_WITH_FEED
