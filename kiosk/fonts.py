"""The Simplified Chinese face for the kiosk's screens, taken out of a TrueType collection.

Kivy's text renderers open the *first* face of a ``.ttc``. In Debian's
``NotoSansCJK-Regular.ttc`` that is Noto Sans CJK **JP**, whose 直, 骨 and 户 are drawn in
their Japanese forms — wrong for a Chinese kiosk. ``extract_face`` copies one face of a
collection into a standalone font file (OpenType "sfnt" layout: an offset table, the table
records, the tables themselves, 4-byte aligned), which Kivy then opens like any ``.otf``.

The face is found by its name (``devices.fonts``' rule: the family ends in " SC") and the
file is written once per font and kept in a cache folder.
"""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

from devices.fonts import cjk_font_path

SFNT_HEADER = struct.Struct(
    ">4sHHHH"
)  # sfntVersion, numTables, searchRange, entrySelector, rangeShift
TABLE_RECORD = struct.Struct(">4sIII")  # tag, checksum, offset, length
HEAD_ADJUSTMENT_AT = 8  # checkSumAdjustment's offset inside the 'head' table
MAGIC = 0xB1B0AFBA


class FontFileError(ValueError):
    """The file is not a TrueType/OpenType collection this code can read."""


def face_count(data: bytes) -> int:
    if data[:4] != b"ttcf" or len(data) < 12:
        raise FontFileError("not a TrueType collection (no 'ttcf' header)")
    (count,) = struct.unpack_from(">I", data, 8)
    if not 0 < count <= 64 or len(data) < 12 + 4 * count:
        raise FontFileError(f"a collection of {count} faces does not fit the file")
    return int(count)


def extract_face(data: bytes, index: int) -> bytes:
    """Face ``index`` of the collection ``data`` as a standalone font file."""
    count = face_count(data)
    if not 0 <= index < count:
        raise FontFileError(f"the collection has {count} faces, not {index + 1}")
    (start,) = struct.unpack_from(">I", data, 12 + 4 * index)
    if start + SFNT_HEADER.size > len(data):
        raise FontFileError("the face's offset table lies outside the file")
    version, tables, search, selector, shift = SFNT_HEADER.unpack_from(data, start)
    records = []
    for n in range(tables):
        at = start + SFNT_HEADER.size + n * TABLE_RECORD.size
        if at + TABLE_RECORD.size > len(data):
            raise FontFileError("the table records run past the end of the file")
        tag, checksum, offset, length = TABLE_RECORD.unpack_from(data, at)
        if offset + length > len(data):
            raise FontFileError(f"table {tag!r} lies outside the file")
        records.append((tag, checksum, offset, length))
    records.sort(key=lambda r: r[0])  # table records are sorted by tag
    position = SFNT_HEADER.size + TABLE_RECORD.size * len(records)
    directory = bytearray(SFNT_HEADER.pack(version, tables, search, selector, shift))
    body = bytearray()
    head_at: int | None = None
    for tag, checksum, offset, length in records:
        if tag == b"head":
            head_at = position + len(body)
        directory += TABLE_RECORD.pack(tag, checksum, position + len(body), length)
        body += data[offset : offset + length]
        body += b"\0" * (-len(body) % 4)
    font = bytearray(directory + body)
    if head_at is not None:
        # The whole file's checksum, made to come out as the magic number (OpenType 'head').
        struct.pack_into(">I", font, head_at + HEAD_ADJUSTMENT_AT, 0)
        total = sum(struct.unpack(f">{len(font) // 4}I", bytes(font))) & 0xFFFFFFFF
        struct.pack_into(">I", font, head_at + HEAD_ADJUSTMENT_AT, (MAGIC - total) & 0xFFFFFFFF)
    return bytes(font)


def simplified_chinese_index(path: Path) -> int:
    """Which face of the collection is the Simplified Chinese one (family "… SC")."""
    from PIL import ImageFont

    for index in range(face_count(path.read_bytes()[:512])):
        family = ImageFont.truetype(str(path), 16, index=index).getname()[0] or ""
        if family.endswith(" SC"):
            return index
    raise FontFileError(f"{path.name} has no Simplified Chinese (SC) face")


def kiosk_font(cache_dir: Path, *, bold: bool = False) -> Path:
    """A standalone Simplified Chinese font file, extracted once into ``cache_dir``."""
    source = cjk_font_path()
    if bold:
        heavier = source.with_name(source.name.replace("Regular", "Bold"))
        source = heavier if heavier.exists() else source
    if source.suffix.lower() != ".ttc":
        return source  # already a single face
    stat = source.stat()
    tag = hashlib.sha256(f"{source}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache_dir / f"{source.stem}-SC-{tag}.otf"
    if not target.exists():
        cache_dir.mkdir(parents=True, exist_ok=True)
        face = extract_face(source.read_bytes(), simplified_chinese_index(source))
        write_bytes_atomically(target, face)
    return target


def write_bytes_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.partial")
    temporary.write_bytes(data)
    temporary.replace(path)
