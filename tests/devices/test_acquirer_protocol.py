"""ISO 8583 bytes ⇄ typed messages: hand-assembled frames, refusals, MAC vectors, fuzzing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.acquirer import codes
from devices.acquirer.keys import DEMO_KEYS, TerminalKeys
from devices.acquirer.mac import retail_mac
from devices.acquirer.protocol import (
    EchoRequest,
    EchoResponse,
    FinancialRequest,
    FinancialResponse,
    MessageRefused,
    OriginalData,
    RefusalReason,
    ReversalRequest,
    ReversalResponse,
    Stamp,
    answer_tpdu,
    decode,
    encode,
    frame,
    frame_length,
)

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent.parent / "fixtures" / "iso8583"
KEY = DEMO_KEYS.mac_key
STAMP = Stamp("1123020304", "100304", "1123")
TID, MID = "KIOSK001", "898110048160001"


def fixture(name: str) -> bytes:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    hex_digits = "".join(re.sub(r"#.*", "", line) for line in text.splitlines())
    return bytes.fromhex(hex_digits.replace(" ", ""))


REQUEST = FinancialRequest(
    stan=1,
    amount_fen=12345,
    terminal_id=TID,
    merchant_id=MID,
    stamp=STAMP,
    pan="4111111111111111",
    expiry="3012",
    track2="4111111111111111=30121010000000000",
    pin_block=bytes.fromhex("1122334455667788"),
)
RESPONSE = FinancialResponse(
    stan=1,
    amount_fen=12345,
    terminal_id=TID,
    merchant_id=MID,
    stamp=STAMP,
    response_code="00",
    rrn="261123000001",
    auth_code="007919",
)
REVERSAL = ReversalRequest(
    stan=1,
    amount_fen=12345,
    terminal_id=TID,
    merchant_id=MID,
    stamp=Stamp("1123020334", "100334", "1123"),
    reason_code="98",
    original=OriginalData("0200", 1, "1123020304"),
)


# --- the MAC against published vectors ----------------------------------------------------


@pytest.mark.parametrize(
    ("key", "data", "mac"),
    [
        # ISO/IEC 9797-1:2011 Annex B.4 (MAC algorithm 3, padding method 1)
        ("0123456789ABCDEFFEDCBA9876543210", b"Now is the time for all ", "A1C72E74EA3FA9B6"),
        ("0123456789ABCDEFFEDCBA9876543210", b"Now is the time for it", "2E2B1428CC78254F"),
        # Bouncy Castle's ISO9797Alg3MacTest
        ("7CA110454A1A6E570131D9619DC1376E", b"Hello World !!!!", "F09B856213BAB83B"),
    ],
)
def test_retail_mac_matches_published_vectors(key: str, data: bytes, mac: str) -> None:
    assert retail_mac(bytes.fromhex(key), data) == bytes.fromhex(mac)


# --- hand-assembled frames ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message", "tpdu"),
    [
        ("0200_visa_track2_pin.hex", REQUEST, "6000030000"),
        ("0210_approved.hex", RESPONSE, "6000000003"),
        ("0400_reversal_timeout.hex", REVERSAL, "6000030000"),
        ("0800_echo_test.hex", EchoRequest(9, TID, MID, "1123020304"), "6000030000"),
    ],
)
def test_encode_and_decode_match_the_hand_assembled_frames(
    name: str, message: object, tpdu: str
) -> None:
    raw = fixture(name)
    assert encode(message, KEY, tpdu=bytes.fromhex(tpdu)) == raw  # type: ignore[arg-type]
    assert decode(raw, KEY) == message


def test_decoded_request_reads_each_field() -> None:
    request = decode(fixture("0200_visa_track2_pin.hex"), KEY)
    assert isinstance(request, FinancialRequest)
    assert request.pan == "4111111111111111"
    assert request.track2 == "4111111111111111=30121010000000000"
    assert request.amount_fen == 12345
    assert request.entry_mode == "021"
    assert request.pin_block == bytes.fromhex("1122334455667788")
    assert request.masked_pan == "411111******1111"


def test_card_data_never_shows_in_repr() -> None:
    text = repr(REQUEST) + str(REQUEST)
    assert "4111111111111111" not in text
    assert "1122334455667788" not in text
    assert "3012101" not in text


def test_reversal_tpdu_and_repeat_mti() -> None:
    assert answer_tpdu(bytes.fromhex("6000030000")) == bytes.fromhex("6000000003")
    repeat = ReversalRequest(**{**REVERSAL.__dict__, "repeat": True})
    raw = encode(repeat, KEY)
    assert raw[5:7] == bytes.fromhex("0401")
    decoded = decode(raw, KEY)
    assert isinstance(decoded, ReversalRequest) and decoded.repeat


def test_echo_answer_round_trip() -> None:
    answer = EchoResponse(9, TID, MID, "1123020304", "00")
    assert decode(encode(answer, KEY), KEY) == answer


def test_reversal_response_round_trip_without_rrn() -> None:
    answer = ReversalResponse(
        stan=1, amount_fen=1, terminal_id=TID, merchant_id=MID, stamp=STAMP, response_code="25"
    )
    assert decode(encode(answer, KEY), KEY) == answer


# --- refusals ----------------------------------------------------------------------------


def refusal(raw: bytes, key: bytes = KEY) -> RefusalReason:
    with pytest.raises(MessageRefused) as caught:
        decode(raw, key)
    return caught.value.reason


def test_a_wrong_mac_is_refused_whatever_the_message_says() -> None:
    raw = fixture("0210_approved.hex")
    assert refusal(raw[:-1] + bytes([raw[-1] ^ 1])) is RefusalReason.BAD_MAC
    other_key = TerminalKeys(mac_key=bytes(range(16)), pin_key=DEMO_KEYS.pin_key).mac_key
    assert refusal(raw, other_key) is RefusalReason.BAD_MAC
    # The amount changed on the way: still "approved", but the MAC no longer fits.
    tampered = raw.replace(bytes.fromhex("000000012345"), bytes.fromhex("000000000001"), 1)
    assert refusal(tampered) is RefusalReason.BAD_MAC


def test_a_message_without_a_mac_is_refused() -> None:
    raw = bytearray(fixture("0210_approved.hex")[:-8])
    raw[14] &= 0xFE  # clear bit 64 in the bitmap (byte 8 of the bitmap after TPDU + MTI)
    assert refusal(bytes(raw)) is RefusalReason.NO_MAC


def test_refusal_reasons() -> None:
    raw = fixture("0210_approved.hex")
    assert refusal(raw[:10]) is RefusalReason.TOO_SHORT
    assert refusal(b"\x61" + raw[1:]) is RefusalReason.BAD_TPDU
    assert refusal(raw[:5] + b"\x09\x99" + raw[7:]) is RefusalReason.UNKNOWN_MTI
    assert refusal(raw[:-3]) is RefusalReason.MALFORMED
    # Bit 5 (amount, settlement) is not a field we use.
    bitmap_set_5 = raw[:7] + bytes([raw[7] | 0x08]) + raw[8:]
    assert refusal(bitmap_set_5) is RefusalReason.UNEXPECTED_FIELD


def test_field_contents_are_checked_after_the_mac() -> None:
    # A 0210 whose field 39 is two control characters, correctly MACed: still refused.
    raw = bytearray(fixture("0210_approved.hex"))
    at = raw.index(b"00KIOSK001")
    raw[at : at + 2] = b"\x01\x02"
    raw[-8:] = retail_mac(KEY, bytes(raw[5:-8]))
    assert refusal(bytes(raw)) is RefusalReason.BAD_FIELD


def test_encode_checks_formats_as_decode_does() -> None:
    with pytest.raises(ValueError, match="37"):
        encode(FinancialResponse(**{**RESPONSE.__dict__, "rrn": "short"}), KEY)


def test_encode_refuses_bad_input_before_anything_is_sent() -> None:
    for change in ({"pan": "4111"}, {"amount_fen": 0}, {"stan": 1_000_000}, {"terminal_id": "K1"}):
        with pytest.raises(ValueError):
            encode(FinancialRequest(**{**REQUEST.__dict__, **change}), KEY)


def test_framing() -> None:
    payload = fixture("0210_approved.hex")
    framed = frame(payload)
    assert framed[:2] == len(payload).to_bytes(2, "big")
    assert frame_length(framed[:2]) == len(payload)
    with pytest.raises(MessageRefused) as caught:
        frame_length(b"\xff\xff")
    assert caught.value.reason is RefusalReason.TOO_LONG
    with pytest.raises(MessageRefused) as caught:
        frame_length(b"\x00\x03")
    assert caught.value.reason is RefusalReason.TOO_SHORT


def test_response_code_meanings_are_bilingual_and_only_00_approves() -> None:
    for code, zh in (("05", "拒绝"), ("51", "余额不足"), ("54", "过期"), ("55", "密码错误")):
        meaning = codes.meaning(code)
        assert zh in meaning.message_zh and meaning.message_en
    unknown = codes.meaning("Q7")
    assert "Q7" in unknown.message_zh and "Q7" in unknown.message_en
    assert FinancialResponse(**{**RESPONSE.__dict__, "response_code": "11"}).approved is False


# --- fuzzing -----------------------------------------------------------------------------

VALID = [fixture(n) for n in sorted(p.name for p in FIXTURES.glob("*.hex"))]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_random_bytes_are_refused_with_a_reason(data: bytes) -> None:
    try:
        decode(data, KEY)
    except MessageRefused as err:
        assert isinstance(err.reason, RefusalReason)
    else:  # pragma: no cover - a random MAC matching has probability 2**-64
        pytest.fail("random bytes decoded as a message")


@settings(max_examples=400)
@given(
    st.sampled_from(VALID),
    st.integers(min_value=5),
    st.integers(min_value=1, max_value=255),
)
def test_any_changed_byte_is_refused_never_misread(raw: bytes, position: int, flip: int) -> None:
    at = 5 + position % (len(raw) - 5)  # anywhere the MAC protects, MAC included
    changed = raw[:at] + bytes([raw[at] ^ flip]) + raw[at + 1 :]
    with pytest.raises(MessageRefused):
        decode(changed, KEY)


@settings(max_examples=300)
@given(st.sampled_from(VALID), st.data())
def test_cut_or_lengthened_frames_are_refused(raw: bytes, data: st.DataObject) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
    extra = data.draw(st.binary(min_size=1, max_size=20))
    for broken in (raw[:cut], raw + extra):
        with pytest.raises(MessageRefused):
            decode(broken, KEY)


@st.composite
def requests(draw: st.DrawFn) -> FinancialRequest:
    pan = draw(st.text(alphabet="0123456789", min_size=12, max_size=19))
    month = draw(st.integers(1, 12))
    track_tail = draw(st.text(alphabet="0123456789", max_size=37 - len(pan) - 5))
    expiry = f"{draw(st.integers(0, 99)):02d}{month:02d}"
    return FinancialRequest(
        stan=draw(st.integers(1, 999_999)),
        amount_fen=draw(st.integers(1, 10**12 - 1)),
        terminal_id=draw(
            st.text(
                alphabet=st.characters(min_codepoint=32, max_codepoint=126), min_size=8, max_size=8
            )
        ),
        merchant_id=draw(
            st.text(
                alphabet=st.characters(min_codepoint=32, max_codepoint=126),
                min_size=15,
                max_size=15,
            )
        ),
        stamp=Stamp(
            f"{month:02d}{draw(st.integers(1, 31)):02d}{draw(st.integers(0, 23)):02d}5959",
            f"{draw(st.integers(0, 23)):02d}0000",
            f"{month:02d}01",
        ),
        pan=pan,
        expiry=draw(st.none() | st.just(expiry)),
        track2=draw(st.none() | st.just(f"{pan}={expiry}{track_tail}")),
        pin_block=draw(st.none() | st.binary(min_size=8, max_size=8)),
    )


@settings(max_examples=300)
@given(requests())
def test_any_valid_request_survives_the_round_trip(request: FinancialRequest) -> None:
    assert decode(encode(request, KEY), KEY) == request
