"""Alpha protocol: the published vector, round trips through the sign simulator, Chinese as bitmaps."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alphasign import Packet as ReferencePacket
from alphasign.commands import WriteSpecialFunction, WriteText
from alphasign.protocol import DELAY, Color, DisplayMode, DisplayPosition
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.errors import DeviceConnectionError, DeviceError, DeviceTimeout, ProtocolError
from devices.health import HealthState
from devices.ledboard import alpha
from devices.ledboard.bitmap import render_rows
from devices.ledboard.board import (
    AlphaBoard,
    BoardColour,
    BoardMessage,
    BoardMode,
    BoardRejected,
    open_alpha_board,
)
from devices.ledboard.connection import SerialBoardConnection
from devices.ledboard.simulator import (
    AlphaSign,
    AlphaSignSimulator,
    SignConnection,
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
        alpha.write_text(
            "A", b"HELLO", position=alpha.Position.MIDDLE, mode=alpha.Mode.HOLD, colour=None
        )
    )
    assert packet == expected


@pytest.mark.unit
def test_checksum_is_sum_from_stx_through_etx() -> None:
    assert alpha.checksum(b"\x02AA\x1b bHELLO\x03") == "0298"


@pytest.mark.unit
def test_priority_file_and_its_clearing() -> None:
    # A, label 0, ESC, position fill "0", mode flash "c", CTRL-\ + "1" (red), the text.
    assert alpha.write_priority_text(b"X") == b"A0\x1b0c\x1c1X"
    assert alpha.write_priority_text(b"") == b"A0"


def _reference(command: object) -> bytes:
    """The packet as alphasignpy (an independent implementation) frames it, without its
    in-band 100 ms pause markers (0xFF), which are never sent to the sign."""
    framed: bytes = ReferencePacket(type_code=b"Z", address="00").add(command).to_bytes()
    return framed.replace(DELAY, b"")


@pytest.mark.unit
def test_a_coloured_text_file_matches_an_independent_implementation() -> None:
    ours = alpha.packet(alpha.write_text("A", b"A023 to counter 3", colour=alpha.TextColour.GREEN))
    # alphasignpy leaves the colour to the caller; its DisplayPosition names are shifted
    # against Table 12, so the fill position "0" (30H) is its TOP_LINE member.
    theirs = _reference(
        WriteText(
            Color.GREEN.value + b"A023 to counter 3",
            label="A",
            position=DisplayPosition.TOP_LINE,
            mode=DisplayMode.HOLD,
        )
    )
    assert ours == theirs


@pytest.mark.unit
def test_switching_ack_responses_matches_an_independent_implementation() -> None:
    assert alpha.packet(alpha.ack_responses(True)) == _reference(
        WriteSpecialFunction.enable_ack_nak(True)
    )
    assert alpha.ack_responses(False) == b"Es0"


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
        b"AB\x1b0b\x1c1Hi",
        len(packet),
    )
    with pytest.raises(ProtocolError, match="checksum"):
        alpha.parse_packet(packet[:-3] + b"00\x04")
    with pytest.raises(alpha.IncompletePacket):
        alpha.parse_packet(packet[:-4])


_labels = st.sampled_from("ABCDEFGHIJabcdefQRS")
_text = st.binary(max_size=40).map(lambda b: bytes(c for c in b if 0x20 <= c < 0x7F))
_picture = st.integers(1, 6).flatmap(
    lambda w: st.lists(st.text("0123", min_size=w, max_size=w), min_size=1, max_size=4)
)
# Structurally valid commands of every kind the sign understands, so that the mutations
# below land in the deep paths of the parser and the sign (random bytes rarely get past SOH).
_commands = st.one_of(
    st.builds(
        lambda label, body, position, mode, colour: alpha.write_text(
            label, body, position=position, mode=mode, colour=colour
        ),
        _labels,
        _text,
        st.sampled_from(alpha.Position),
        st.sampled_from(alpha.Mode),
        st.none() | st.sampled_from(alpha.TextColour),
    ),
    st.builds(lambda body: alpha.write_priority_text(body), _text),
    st.builds(
        lambda label, rows: alpha.write_small_dots(label, alpha.Picture(tuple(rows))),
        _labels,
        _picture,
    ),
    st.builds(
        lambda labels: alpha.memory_configuration(
            [alpha.FileSpec(label, "A", size=64) for label in labels]
        ),
        st.lists(_labels, min_size=1, max_size=4, unique=True),
    ),
    st.builds(alpha.run_sequence, st.lists(_labels, min_size=1, max_size=5)),
    st.builds(alpha.ack_responses, st.booleans()),
    st.just(alpha.soft_reset()),
)


@pytest.mark.unit
@settings(max_examples=300, deadline=None)
@given(_commands, st.sampled_from(["Z", "!", "f"]), st.sampled_from(["00", "01", "1F"]))
def test_valid_packets_parse_back_exactly_and_the_sign_applies_them(
    command: bytes, type_code: str, address: str
) -> None:
    data = alpha.packet(command, type_code=type_code, address=address)
    parsed, used = alpha.parse_packet(data + b"\x00\x00\x01")
    assert (parsed.type_code, parsed.address, parsed.command, used) == (
        type_code,
        address,
        command,
        len(data),
    )
    state = SignState()
    apply(state, command)
    if command[:1] == b"A" and command[1:2] != b"0":
        assert state.texts[chr(command[1])].message == command[5:]
    if command[:2] == b"E$":  # entries of 11 characters: label, type "A", ...
        assert state.allocated == {chr(label): "A" for label in command[2::11]}


@st.composite
def _mutated_packets(draw: st.DrawFn) -> tuple[bytes, bytes, bool]:
    """A valid packet with one mutation; says whether its checksum matches the mutated bytes."""
    command = draw(_commands)
    kind = draw(st.sampled_from(["replace", "insert", "delete", "truncate"]))
    where = draw(st.integers(0, len(command) - 1))
    byte = draw(st.integers(0, 255))
    if kind == "replace":
        mutated = command[:where] + bytes([byte]) + command[where + 1 :]
    elif kind == "insert":
        mutated = command[:where] + bytes([byte]) + command[where:]
    elif kind == "delete":
        mutated = command[:where] + command[where + 1 :]
    else:
        mutated = command[:where]
    reseal = draw(st.booleans())
    if reseal:
        return alpha.packet(mutated), mutated, True
    # Keep the original checksum: the sign must notice the change (or the framing break).
    original = alpha.packet(command)
    start = original.index(alpha.STX)
    framed = original[: start + 1] + mutated + original[start + 1 + len(command) :]
    # A sum cannot see every change (an inserted NUL, two bytes swapped): say when it cannot.
    same_sum = alpha.checksum(alpha.STX + mutated + alpha.ETX) == alpha.checksum(
        alpha.STX + command + alpha.ETX
    )
    return framed, mutated, same_sum


@pytest.mark.unit
@settings(max_examples=600, deadline=None)
@given(_mutated_packets())
def test_mutated_packets_are_refused_or_read_as_exactly_what_they_say(
    case: tuple[bytes, bytes, bool],
) -> None:
    data, command, checksum_matches = case
    sign = AlphaSign()
    answers = sign.receive(data)
    try:
        parsed, _ = alpha.parse_packet(data)
    except alpha.IncompletePacket:
        assert answers == b""  # the sign waits for the rest
        return
    except ProtocolError as err:
        assert str(err) and answers[:1] == bytes([alpha.NAK])
        return
    # Parsed: then the checksum really matched and the command is the bytes that were sent.
    assert checksum_matches or alpha.ETX[0] in command or alpha.EOT[0] in command
    if alpha.ETX[0] not in command:
        assert parsed.command == command
    assert answers[:1] in (bytes([alpha.ACK]), bytes([alpha.NAK]))


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
    # No backoff before reopening, so a replug is usable at the very next call.
    connection = SerialBoardConnection(
        simulator.path, bytesize=8, parity="N", timeout_s=0.5, min_backoff_s=0
    )
    board = AlphaBoard(connection, width=200, ack_timeout_s=0.5)
    yield simulator, board
    board.close()
    simulator.close()


@pytest.mark.integration
def test_a_call_reaches_the_board_as_its_bitmap(
    rig: tuple[AlphaSignSimulator, AlphaBoard], tmp_path: Path
) -> None:
    simulator, board = rig
    board.show([BoardMessage("请 A023 号到 3 号窗口", mode=BoardMode.FLASH)])
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
    board.show_priority(BoardMessage("停水通知：金融大街 9:00-17:00", colour=BoardColour.AMBER))
    notice = simulator.frame()
    assert notice != normal and any("3" in row for row in notice)  # amber dots
    board.show_priority(None)
    assert simulator.frame() == normal


@pytest.mark.integration
def test_ascii_goes_as_text_in_its_colour(rig: tuple[AlphaSignSimulator, AlphaBoard]) -> None:
    simulator, board = rig
    board.show([BoardMessage("A023 -> 3"), BoardMessage("B007 -> 5", colour=BoardColour.GREEN)])
    assert simulator.state.texts["A"].message == b"\x1c1A023 -> 3"
    assert simulator.state.texts["B"].message == b"\x1c2B007 -> 5"
    assert simulator.state.sequence == ["A", "B"]


@pytest.mark.integration
def test_an_english_call_shows_in_red_not_the_signs_default_colour(
    rig: tuple[AlphaSignSimulator, AlphaBoard],
) -> None:
    simulator, board = rig
    board.show_priority(BoardMessage("A023 to counter 3", mode=BoardMode.FLASH))
    lit = {dot for row in simulator.frame() for dot in row} - {"0"}
    assert lit == {"1"}  # red, as the Chinese half of the call
    assert simulator.state.priority is not None and simulator.state.priority.mode == "c"


@pytest.mark.unit
def test_every_text_file_write_carries_the_messages_colour() -> None:
    connection = SignConnection(AlphaSign())
    board = AlphaBoard(connection, width=200, phrases=("请", "号到", "号窗口"))
    board.show(
        [
            BoardMessage("Open 8:30-17:00", colour=BoardColour.AMBER),
            BoardMessage("请 A023 号到 3 号窗口"),
        ]
    )
    board.show_priority(BoardMessage("A023 to counter 3", colour=BoardColour.RED))
    texts: list[bytes] = []
    data = bytes(connection.written)
    while data.strip(b"\x00"):
        packet, used = alpha.parse_packet(data)
        data = data[used:]
        if packet.command[:1] == b"A":
            texts.append(packet.command)
    assert texts == [
        b"AA\x1b0b\x1c3Open 8:30-17:00",
        b"AB\x1b0b\x1c1\x14Q A023 \x14R 3 \x14S",
        b"A0\x1b0b\x1c1A023 to counter 3",
    ]


@pytest.mark.unit
def test_a_sign_that_never_acks_is_not_degraded_when_acks_are_off() -> None:
    sign = AlphaSign(acks=False)
    board = AlphaBoard(SignConnection(sign), expect_ack=False)
    board.show([BoardMessage("A001")])
    assert board.health.state is HealthState.CONNECTED
    assert sign.state.texts["A"].message == b"\x1c1A001"


@pytest.mark.unit
def test_the_board_can_switch_the_signs_ack_responses_on() -> None:
    sign = AlphaSign(acks=False)  # Alpha 2.0+ sign with its ACK/NAK responses off
    board = AlphaBoard(SignConnection(sign), enable_ack=True)
    board.show([BoardMessage("A001")])
    assert sign.state.ack_responses
    assert board.health.state is HealthState.CONNECTED
    assert board.health.reason == "acknowledging"


@pytest.mark.integration
def test_a_board_behind_a_tcp_adapter() -> None:
    sign = AlphaSign()
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        client, _ = server.accept()
        with client:
            while data := client.recv(4096):
                client.sendall(sign.receive(data))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    board = open_alpha_board(f"tcp://127.0.0.1:{server.getsockname()[1]}", width=200)
    try:
        board.show([BoardMessage("A023 -> 3")])
        assert sign.state.texts["A"].message == b"\x1c1A023 -> 3"
        assert board.health.state is HealthState.CONNECTED
    finally:
        board.close()
        thread.join(5)
        server.close()


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
    simulator, board = rig
    board.show([BoardMessage("A001")])
    simulator.unplug()
    with pytest.raises(DeviceConnectionError):
        board.show([BoardMessage("A002")])
    unplugged = board.health
    simulator.replug()  # the port is back when this returns; the rig has no reopen backoff
    board.show([BoardMessage("A003")])
    assert unplugged.state is HealthState.FAULT
    assert simulator.state.texts["A"].message == b"\x1c1A003"
    assert board.health.state is HealthState.CONNECTED


@pytest.mark.integration
def test_a_line_setting_the_port_refuses_is_a_clear_connection_error(tmp_path: Path) -> None:
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
        board.show_priority(BoardMessage("请 A023 号到 3 号窗口", mode=BoardMode.FLASH))
        priority = simulator.state.priority
        assert priority is not None
        assert priority.message == b"\x1c1\x14Q A023 \x14R 3 \x14S"
        assert set(simulator.state.pictures) == before  # no picture was sent for the call
        shown = simulator.frame()
        assert sum(row.count("1") for row in shown) > 100  # the stored glyphs are on the board
        # Text that is not made of stored phrases is still drawn whole.
        board.show_priority(BoardMessage("停水通知"))
        assert simulator.state.priority is not None and simulator.state.priority.message.startswith(
            b"\x1c1\x14p"
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
