"""The acquirer's daily settlement file: a hand-written sample, refusals and fuzzing."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.acquirer.protocol import CHINA_TIME
from devices.acquirer.settlement import (
    RecordType,
    SettlementFile,
    SettlementRecord,
    SettlementRefused,
    parse,
    render,
)

pytestmark = pytest.mark.unit

SAMPLE = (
    Path(__file__).parent.parent / "fixtures" / "iso8583" / "settlement-48020000000-20261123.txt"
)


def sample() -> bytes:
    return SAMPLE.read_bytes()


def test_the_hand_written_sample_parses_column_by_column() -> None:
    settlement = parse(sample())
    assert settlement.day == date(2026, 11, 23)
    assert settlement.acquirer_id == "48020000000"
    assert settlement.created_at == datetime(2026, 11, 24, 2, 0, tzinfo=CHINA_TIME)
    first, sale, reversal = settlement.records
    assert first == SettlementRecord(
        settlement_date=date(2026, 11, 23),
        terminal_id="KIOSK001",
        merchant_id="898110048160001",
        stan=1,
        rrn="261123000001",
        auth_code="007919",
        kind=RecordType.SALE,
        amount_fen=12345,
        masked_pan="411111******1111",
        at=datetime(2026, 11, 23, 10, 3, 4, tzinfo=CHINA_TIME),
    )
    assert (sale.kind, reversal.kind) == (RecordType.SALE, RecordType.REVERSAL)
    assert reversal.stan == sale.stan == 2
    assert (settlement.sales_fen, settlement.reversals_fen, settlement.net_fen) == (
        12845,
        500,
        12345,
    )


def test_render_gives_back_the_same_bytes() -> None:
    assert render(parse(sample())) == sample()


def replace_line(number: int, line: str) -> bytes:
    lines = sample().decode("ascii").split("\r\n")
    lines[number - 1] = line
    return "\r\n".join(lines).encode("ascii")


def line(number: int) -> str:
    return sample().decode("ascii").split("\r\n")[number - 1]


@pytest.mark.parametrize(
    ("broken", "where"),
    [
        # a full card number where the masked one belongs
        (lambda: replace_line(2, line(2)[:72] + "4111111111111111   " + line(2)[91:]), 2),
        # the trailer's SALE sum is one fen off
        (lambda: replace_line(5, line(5)[:31] + "6" + line(5)[32:]), 5),
        # a record one character short
        (lambda: replace_line(3, line(3)[:-1]), 3),
        # a type that is neither SALE nor RVSL
        (lambda: replace_line(3, line(3)[:56] + "REFD" + line(3)[60:]), 3),
        # a detail for another day
        (lambda: replace_line(2, "D20261122" + line(2)[9:]), 2),
        # letters in the amount
        (lambda: replace_line(4, line(4)[:60] + "00000000O500" + line(4)[72:]), 4),
    ],
)
def test_what_is_wrong_is_refused_with_its_line(broken: object, where: int) -> None:
    with pytest.raises(SettlementRefused) as caught:
        parse(broken())  # type: ignore[operator]
    assert caught.value.line == where


def test_a_file_cut_short_is_refused() -> None:
    with pytest.raises(SettlementRefused):
        parse(sample()[:-50])
    with pytest.raises(SettlementRefused):
        parse(b"")


def test_render_refuses_a_full_card_number() -> None:
    record = parse(sample()).records[0]
    bad = SettlementRecord(**{**record.__dict__, "masked_pan": "4111111111111111"})
    with pytest.raises(ValueError):
        render(SettlementFile(date(2026, 11, 23), "48020000000", datetime.now(CHINA_TIME), (bad,)))


@given(st.binary(max_size=400))
def test_random_bytes_are_refused_with_a_line_number(data: bytes) -> None:
    with pytest.raises(SettlementRefused) as caught:
        parse(data)
    assert caught.value.line >= 0


@given(st.integers(min_value=0), st.sampled_from(b"0123456789 *DHTSALERV\x00\xff"))
def test_a_changed_character_is_refused_or_read_consistently(position: int, byte: int) -> None:
    data = bytearray(sample())
    data[position % len(data)] = byte
    try:
        parsed = parse(bytes(data))
    except SettlementRefused:
        return
    # Whatever was accepted still satisfies the trailer and renders back to the same bytes.
    assert render(parsed) == bytes(data)
