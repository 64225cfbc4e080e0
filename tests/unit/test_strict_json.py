"""Strict JSON (RFC 8259, I-JSON RFC 7493): parsed right, or refused with a typed reason."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicehall.platform.strict_json import (
    INT_MAX,
    INT_MIN,
    MAX_DEPTH,
    JsonFault,
    JsonRefused,
    loads_strict,
)

pytestmark = pytest.mark.unit

# Text as JSON may carry it: any code point but a surrogate (hypothesis never makes those).
scalars = (
    st.none()
    | st.booleans()
    | st.integers(INT_MIN, INT_MAX)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def _refusal(data: bytes) -> JsonFault:
    with pytest.raises(JsonRefused) as refused:
        loads_strict(data)
    return refused.value.fault


@given(documents, st.booleans())
def test_every_json_document_reads_back_as_written(document: Any, ascii_only: bool) -> None:
    data = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8")
    assert loads_strict(data) == document


@given(st.binary(max_size=200))
def test_any_bytes_are_parsed_or_refused_with_a_reason(data: bytes) -> None:
    try:
        loads_strict(data)
    except JsonRefused as refused:
        assert isinstance(refused.fault, JsonFault)


json_like = documents.map(json.dumps) | st.text(
    alphabet='[]{}":,-+.0123456789eE\\ud tnrfalsu', max_size=60
)


@given(json_like)
def test_whatever_is_accepted_is_read_as_the_framework_reads_it(text: str) -> None:
    # FastAPI parses the body with json.loads(bytes); the check must never pass a body that
    # the route would read differently from what was checked.
    data = text.encode("utf-8", "surrogatepass")
    try:
        document = loads_strict(data)
    except JsonRefused:
        return
    assert json.dumps(json.loads(data), sort_keys=True) == json.dumps(document, sort_keys=True)


@given(documents, st.sampled_from(["\\ud800", "\\udbff", "\\udc00", "\\udfff"]))
def test_a_lone_surrogate_anywhere_is_refused(document: Any, escape: str) -> None:
    as_text = json.dumps(document)
    for where in (f'["{escape}", {as_text}]', f'{{"{escape}": {as_text}}}', f'"a{escape}b"'):
        assert _refusal(where.encode()) is JsonFault.LONE_SURROGATE


@given(st.integers(min_value=INT_MAX + 1) | st.integers(max_value=INT_MIN - 1))
def test_integers_beyond_64_bits_are_refused(number: int) -> None:
    assert _refusal(f'{{"n": {number}}}'.encode()) is JsonFault.NUMBER_OUT_OF_RANGE


@given(st.integers(INT_MIN, INT_MAX))
def test_integers_within_64_bits_are_kept_exactly(number: int) -> None:
    assert loads_strict(f"[{number}]".encode()) == [number]


@given(st.dictionaries(st.text(), scalars, min_size=1), st.data())
def test_a_member_named_twice_is_refused(members: dict[str, Any], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(members)))
    pairs = [*(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in members.items())]
    pairs.append(f"{json.dumps(name)}: 0")
    assert _refusal(("{" + ", ".join(pairs) + "}").encode()) is JsonFault.DUPLICATE_NAME


@pytest.mark.parametrize(
    ("data", "fault"),
    [
        (b"NaN", JsonFault.NOT_A_NUMBER),
        (b"[Infinity]", JsonFault.NOT_A_NUMBER),
        (b'{"a": -Infinity}', JsonFault.NOT_A_NUMBER),
        (b"1e400", JsonFault.NUMBER_OUT_OF_RANGE),
        (b"-1e400", JsonFault.NUMBER_OUT_OF_RANGE),
        (b"9" * 5000, JsonFault.NUMBER_OUT_OF_RANGE),
        (b"9223372036854775808", JsonFault.NUMBER_OUT_OF_RANGE),
        (b"-9223372036854775809", JsonFault.NUMBER_OUT_OF_RANGE),
        (b'"\xed\xa0\x80"', JsonFault.NOT_UTF8),  # a surrogate encoded as UTF-8
        (b'"\xc0\xaf"', JsonFault.NOT_UTF8),  # an overlong encoding
        ('{"a": 1}'.encode("utf-16"), JsonFault.NOT_UTF8),
        (b"\xef\xbb\xbf{}", JsonFault.SYNTAX),  # RFC 8259 §8.1: no byte order mark
        (b"", JsonFault.SYNTAX),
        (b"{'a': 1}", JsonFault.SYNTAX),
        (b"[1,]", JsonFault.SYNTAX),
        (b"01", JsonFault.SYNTAX),
        (b"[1] [2]", JsonFault.SYNTAX),
        (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), JsonFault.TOO_DEEP),
        (b"[" * 100_000 + b"]" * 100_000, JsonFault.TOO_DEEP),
        (b'{"a": 1, "a": 1}', JsonFault.DUPLICATE_NAME),
    ],
)
def test_refusals(data: bytes, fault: JsonFault) -> None:
    assert _refusal(data) is fault


@pytest.mark.parametrize(
    ("data", "value"),
    [
        (b"9223372036854775807", INT_MAX),
        (b"-9223372036854775808", INT_MIN),
        (b"1e308", 1e308),
        (b"-0", 0),
        (b'"\\ud83d\\ude00"', "\U0001f600"),  # a surrogate pair is one character
        ('"西城营业厅"'.encode(), "西城营业厅"),
        (b' \t\r\n{"a": [1, 2.5, true, null]} \n', {"a": [1, 2.5, True, None]}),
        (b"-0.0", -0.0),
    ],
)
def test_edges_that_are_json(data: bytes, value: Any) -> None:
    parsed = loads_strict(data)
    assert parsed == value and type(parsed) is type(value)
    if isinstance(value, float):
        assert math.copysign(1, parsed) == math.copysign(1, value)


def test_nesting_up_to_the_limit_is_json() -> None:
    nested: list[Any] = []
    for _ in range(MAX_DEPTH - 1):
        nested = [nested]
    assert loads_strict(json.dumps(nested).encode()) == nested
