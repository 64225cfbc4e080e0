"""JSON as RFC 8259 and I-JSON (RFC 7493) define it, or a typed refusal — never a guess.

Python's ``json`` is lenient where a guess becomes a misreading: it accepts ``NaN`` and
``Infinity`` (not JSON), lone surrogates (``"\\ud800"``, which no UTF-8 text can hold and
which fail later, deep in a database driver or a response encoder), duplicate member
names (it silently keeps the last; another parser may keep the first), integers of any
size (beyond what any column stores), and, given bytes, UTF-16 and surrogates smuggled in
as UTF-8. ``loads_strict`` refuses each of those with a reason a client can act on.
"""

from __future__ import annotations

import enum
import json
import re
from typing import Any

# What a database column (BIGINT, SQLite INTEGER) holds: signed 64 bits.
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
MAX_DEPTH = 64  # far beyond any request of ours; bounds the work a hostile body can ask for

_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonFault(enum.StrEnum):
    NOT_UTF8 = "not-utf8"
    SYNTAX = "syntax"
    NOT_A_NUMBER = "not-a-number"
    NUMBER_OUT_OF_RANGE = "number-out-of-range"
    LONE_SURROGATE = "lone-surrogate"
    DUPLICATE_NAME = "duplicate-name"
    TOO_DEEP = "too-deep"

    @property
    def explain(self) -> str:
        return _EXPLAIN[self]


_EXPLAIN = {
    JsonFault.NOT_UTF8: "the body is not UTF-8 text",
    JsonFault.SYNTAX: "the body is not JSON",
    JsonFault.NOT_A_NUMBER: "NaN and Infinity are not JSON numbers",
    JsonFault.NUMBER_OUT_OF_RANGE: "a number is beyond the 64-bit range",
    JsonFault.LONE_SURROGATE: "a string holds a lone UTF-16 surrogate",
    JsonFault.DUPLICATE_NAME: "an object names the same member twice",
    JsonFault.TOO_DEEP: f"values are nested deeper than {MAX_DEPTH} levels",
}


class JsonRefused(ValueError):
    def __init__(self, fault: JsonFault) -> None:
        super().__init__(fault.explain)
        self.fault = fault


def _integer(literal: str) -> int:
    # Checked on the digits first: int() of a 5,000-digit literal is itself an error (and work).
    if len(literal.lstrip("-")) > 19:
        raise JsonRefused(JsonFault.NUMBER_OUT_OF_RANGE)
    value = int(literal)
    if not INT_MIN <= value <= INT_MAX:
        raise JsonRefused(JsonFault.NUMBER_OUT_OF_RANGE)
    return value


def _real(literal: str) -> float:
    value = float(literal)
    if value in (float("inf"), float("-inf")):  # 1e400: a finite literal no double can hold
        raise JsonRefused(JsonFault.NUMBER_OUT_OF_RANGE)
    return value


def _constant(_literal: str) -> Any:
    raise JsonRefused(JsonFault.NOT_A_NUMBER)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise JsonRefused(JsonFault.DUPLICATE_NAME)
    return value


def _check_strings_and_depth(document: Any) -> None:
    """One pass over the parsed value (iterative: the depth is what is being checked)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise JsonRefused(JsonFault.LONE_SURROGATE)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise JsonRefused(JsonFault.TOO_DEEP)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _SURROGATE.search(key):
                    raise JsonRefused(JsonFault.LONE_SURROGATE)
                stack.append((item, depth + 1))


def loads_strict(data: bytes) -> Any:
    """Parse one JSON text (UTF-8, RFC 8259 / I-JSON) or raise ``JsonRefused`` saying why."""
    try:
        # Strict UTF-8: no BOM sniffing, no UTF-16/32, no encoded surrogates ("surrogatepass").
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise JsonRefused(JsonFault.NOT_UTF8) from err
    try:
        document = json.loads(
            text,
            parse_int=_integer,
            parse_float=_real,
            parse_constant=_constant,
            object_pairs_hook=_object,
        )
    except RecursionError as err:
        raise JsonRefused(JsonFault.TOO_DEEP) from err
    except json.JSONDecodeError as err:
        raise JsonRefused(JsonFault.SYNTAX) from err
    _check_strings_and_depth(document)
    return document
