"""Alpha protocol: the published vector, round trips through the sign simulator, Chinese as bitmaps."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import DeviceError, DeviceTimeout, ProtocolError
from devices.health import HealthState
from devices.ledboard import alpha
from devices.ledboard.bitmap import render_rows
from devices.ledboard.board import AlphaBoard, BoardMessage, BoardRejected, Colour
from devices.ledboard.simulator import (
    AlphaSignSimulator,
    SignState,
    apply,
    render_png,
    terminal_view,
)


@pytest.mark.unit
def test_published_hello_packet_byte_for_byte() -> None:
    expected = (
        bytes.fromhex("0000000000 01")
        + b"Z00"
        + b"\x02AA\x1b b"
        + b"HELLO"
        + b"\x03"
        + b"0298"
        + b"\x04"
    )
    packet = alpha.packet(
        alpha.write_text("A", b"HELLO", position=alpha.Position.MIDDLE, mode=alpha.Mode.HOLD)
    )
    assert packet == expected


@pytest.mark.unit
def test_checksum_is_sum_from_stx_through_etx() -> None:
    assert alpha.checksum(b"\x02AA\x1b bHELLO\x03") == "0298"


@pytest.mark.unit
def test_priority_file_and_its_clearing() -> None:
    assert alpha.write_priority_text(b"X") == b"A0\x1b0cX"
    assert alpha.write_priority_text(b"") == b"A0"


@pytest.mark.unit
def test_memory_configuration_entries_are_eleven_characters() -> None:
    command = alpha.memory_configuration(
        [alpha.FileSpec("A", "A", size=128), alpha.FileSpec("a", "D", height=16, width=160)]
    )
    assert command == b"E$" + b"AAU0080FFFF" + b"aDU10A02000"


@pytest.mark.unit
def test_small_dots_picture_bytes() -> None:
    picture = alpha.Picture(("0110", "1001"))
    assert alpha.write_small_dots("a", picture) == b"Ia0204" + b"0110\r1001\r"


@pytest.mark.unit
def test_parse_packet_round_trip_and_errors() -> None:
    packet = alpha.packet(alpha.write_text("B", b"Hi"), address="01")
    parsed, used = alpha.parse_packet(packet + b"rest")
    assert (parsed.type_code, parsed.address, parsed.command, used) == (
        "Z",
        "01",
        b"AB\x1b0bHi",
        len(packet),
    )
    with pytest.raises(ProtocolError, match="checksum"):
        alpha.parse_packet(packet[:-3] + b"00\x04")
    with pytest.raises(alpha.IncompletePacket):
        alpha.parse_packet(packet[:-4])


@pytest.mark.unit
@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=120))
def test_random_bytes_never_crash_the_packet_parser_or_the_sign(data: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        packet, _ = alpha.parse_packet(data)
        apply(SignState(), packet.command)


@pytest.mark.unit
@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=60))
def test_random_commands_are_applied_or_refused(command: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        apply(SignState(), command)


@pytest.mark.unit
def test_chinese_renders_with_ink_in_every_glyph() -> None:
    rows = render_rows("请 A023 号到 3 号窗口", height=16)
    assert len(rows) == 16 and all(len(r) == len(rows[0]) for r in rows)
    lit = sum(row.count("1") for row in rows)
    assert lit > 200  # a blank or tofu render would light far fewer dots
    assert rows[0].count("1") < len(rows[0]) // 2  # not a solid block


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[AlphaSignSimulator, AlphaBoard]]:
    simulator = AlphaSignSimulator(tmp_path)
    # A pty carries 8N1 only; a real Alpha sign is usually 7E1 (the driver's default).
    board = AlphaBoard(simulator.path, bytesize=8, parity="N", width=200, ack_timeout_s=0.5)
    yield simulator, board
    board.close()
    simulator.close()


@pytest.mark.integration
def test_a_call_reaches_the_board_as_its_bitmap(
    rig: tuple[AlphaSignSimulator, AlphaBoard], tmp_path: Path
) -> None:
    simulator, board = rig
    board.show([BoardMessage("请 A023 号到 3 号窗口", mode=alpha.Mode.FLASH)])
    shown = simulator.frame()
    expected = render_rows("请 A023 号到 3 号窗口", height=16)
    assert [row[: len(expected[0])] for row in shown] == expected
    assert simulator.state.texts["A"].mode == alpha.Mode.FLASH.value
    assert board.health.state is HealthState.CONNECTED
    assert render_png(shown, tmp_path / "board.png").stat().st_size > 1000
    assert "█" in terminal_view(shown)


@pytest.mark.integration
def test_priority_notice_interrupts_and_is_dropped(
    rig: tuple[AlphaSignSimulator, AlphaBoard],
) -> None:
    simulator, board = rig
    board.show([BoardMessage("A023 -> 3")])
    normal = simulator.frame()
    board.show_priority(BoardMessage("停水通知：金融大街 9:00-17:00", colour=Colour.AMBER))
    notice = simulator.frame()
    assert notice != normal and any("3" in row for row in notice)  # amber dots
    board.show_priority(None)
    assert simulator.frame() == normal


@pytest.mark.integration
def test_ascii_goes_as_text(rig: tuple[AlphaSignSimulator, AlphaBoard]) -> None:
    simulator, board = rig
    board.show([BoardMessage("A023 -> 3"), BoardMessage("B007 -> 5")])
    assert simulator.state.texts["A"].message == b"A023 -> 3"
    assert simulator.state.sequence == ["A", "B"]


@pytest.mark.integration
def test_no_ack_and_nak_are_reported(rig: tuple[AlphaSignSimulator, AlphaBoard]) -> None:
    simulator, board = rig
    board.configure()
    simulator.acks = False
    with pytest.raises(DeviceTimeout):
        board.show([BoardMessage("X")])
    silent = board.health
    simulator.acks = True
    simulator.nak_everything = True
    with pytest.raises(BoardRejected):
        board.show([BoardMessage("X")])
    refused = board.health
    simulator.nak_everything = False
    board.show([BoardMessage("X")])
    assert (silent.state, silent.reason) == (
        HealthState.DEGRADED,
        "the board does not acknowledge packets",
    )
    assert (refused.state, refused.reason) == (
        HealthState.DEGRADED,
        "the board rejected a packet (NAK)",
    )
    assert board.health.state is HealthState.CONNECTED


@pytest.mark.integration
def test_unplug_then_replug(rig: tuple[AlphaSignSimulator, AlphaBoard]) -> None:
    from devices.errors import DeviceConnectionError

    simulator, board = rig
    board.show([BoardMessage("A001")])
    simulator.unplug()
    with pytest.raises(DeviceConnectionError):
        board.show([BoardMessage("A002")])
    assert board.health.state is HealthState.FAULT
    simulator.replug()
    import time

    deadline = time.monotonic() + 10
    while True:
        try:
            board.show([BoardMessage("A003")])
            break
        except DeviceConnectionError:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert simulator.state.texts["A"].message == b"A003"


@pytest.mark.integration
def test_a_line_setting_the_port_refuses_is_a_clear_connection_error(tmp_path: Path) -> None:
    from devices.errors import DeviceConnectionError

    simulator = AlphaSignSimulator(tmp_path)
    try:
        first = AlphaBoard(simulator.path)  # 7E1: a pty silently keeps 8N1 the first time
        with contextlib.suppress(DeviceError):
            first.show([BoardMessage("A")])
        first.close()
        second = AlphaBoard(simulator.path, ack_timeout_s=0.2)
        with pytest.raises(DeviceConnectionError, match="at 9600 7E1"):
            second.show([BoardMessage("A")])
        assert second.health.state is HealthState.FAULT
    finally:
        simulator.close()


@pytest.mark.integration
def test_stored_phrases_make_a_call_a_few_dozen_bytes(tmp_path: Path) -> None:
    simulator = AlphaSignSimulator(tmp_path)
    board = AlphaBoard(
        simulator.path, bytesize=8, parity="N", width=200, phrases=("请", "号到", "号窗口")
    )
    try:
        board.configure()
        before = set(simulator.state.pictures)
        board.show_priority(BoardMessage("请 A023 号到 3 号窗口", mode=alpha.Mode.FLASH))
        priority = simulator.state.priority
        assert priority is not None
        assert priority.message == b"\x14Q A023 \x14R 3 \x14S"
        assert set(simulator.state.pictures) == before  # no picture was sent for the call
        shown = simulator.frame()
        assert sum(row.count("1") for row in shown) > 100  # the stored glyphs are on the board
        # Text that is not made of stored phrases is still drawn whole.
        board.show_priority(BoardMessage("停水通知"))
        assert simulator.state.priority is not None and simulator.state.priority.message.startswith(
            b"\x14p"
        )
    finally:
        board.close()
        simulator.close()


@pytest.mark.integration
def test_garbage_answers_from_the_board_are_reported(
    rig: tuple[AlphaSignSimulator, AlphaBoard],
) -> None:
    simulator, board = rig
    board.configure()
    simulator.garbage_answers = True
    with pytest.raises(BoardRejected, match="not ACK"):
        board.show([BoardMessage("X")])
    assert board.health.state is HealthState.DEGRADED
