"""A receipt as ESC/POS bytes, built with python-escpos's command set.

Text is sent as GB18030 (the printers' Chinese encoding) inside the printer's Chinese mode
(``FS &`` … ``FS .``): python-escpos would guess a code page per string, which garbles a line
such as "¥12.30" that has no Chinese character to trigger GB18030.
"""

from __future__ import annotations

from typing import Any

from devices.printer.receipts import Align, Line, Receipt

INIT = b"\x1b\x40"
CHINESE_ON = b"\x1c\x26"  # FS &
CHINESE_OFF = b"\x1c\x2e"  # FS .
PARTIAL_CUT_WITH_FEED = b"\x1d\x56\x42\x00"  # GS V 66 0
LF = b"\n"


def _dummy() -> Any:
    try:
        from escpos.printer import Dummy
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        from devices.errors import DeviceError

        raise DeviceError(
            "python-escpos is not installed: pip install 'servicehall[devices]'"
        ) from err
    return Dummy()


def _has_non_ascii(text: str) -> bool:
    return any(ord(char) > 0x7E for char in text)


def _line(printer: Any, line: Line) -> None:
    size = max(1, min(8, line.size))
    printer.set(
        align=line.align.value,
        bold=line.bold,
        custom_size=size > 1,
        width=size,
        height=size,
        normal_textsize=size == 1,
    )
    encoded = line.text.encode("gb18030")
    if _has_non_ascii(line.text):
        printer._raw(CHINESE_ON + encoded + CHINESE_OFF + LF)
    else:
        printer._raw(encoded + LF)


def receipt_bytes(receipt: Receipt) -> bytes:
    printer = _dummy()
    printer._raw(INIT)
    for line in receipt.lines:
        _line(printer, line)
    if receipt.qr:
        printer.set(align="center", normal_textsize=True, bold=False)
        printer.qr(receipt.qr, native=True, size=6)
        printer._raw(LF)
    for line in receipt.footer:
        _line(printer, line)
    printer.set(align=Align.LEFT.value, normal_textsize=True, bold=False)
    printer._raw(LF * 3 + PARTIAL_CUT_WITH_FEED)
    data: bytes = printer.output
    return data
