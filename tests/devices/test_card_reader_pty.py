"""The real serial driver reads swipes from the simulator over a pty, and survives an unplug."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from devices.cardreader.errors import CardExpired, SwipeAgain
from devices.cardreader.reader import MagstripeSerialReader
from devices.cardreader.simulator import EXPIRED, MASTERCARD, VISA, CardReaderSimulator
from devices.errors import DeviceConnectionError
from devices.health import HealthState

pytestmark = pytest.mark.integration


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[CardReaderSimulator, MagstripeSerialReader]]:
    simulator = CardReaderSimulator(tmp_path)
    reader = MagstripeSerialReader(
        simulator.path, today=lambda: date(2026, 11, 22), min_backoff_s=0
    )
    reader.open()
    yield simulator, reader
    reader.close()
    simulator.close()


def test_swipes_arrive_as_typed_cards(
    rig: tuple[CardReaderSimulator, MagstripeSerialReader],
) -> None:
    simulator, reader = rig
    simulator.swipe(VISA)
    card = reader.read_card(timeout_s=3)
    assert card is not None and card.summary.masked_pan == "411111******1111"
    simulator.swipe(MASTERCARD, tracks=(2,), with_lrc=False, ending=b"\r")
    card = reader.read_card(timeout_s=3)
    assert card is not None and card.summary.last4 == "4444"


def test_bad_swipes_then_a_good_one(rig: tuple[CardReaderSimulator, MagstripeSerialReader]) -> None:
    simulator, reader = rig
    simulator.swipe(VISA, bad_lrc=True)
    with pytest.raises(SwipeAgain):
        reader.read_card(timeout_s=3)
    simulator.half_swipe(VISA)
    with pytest.raises(SwipeAgain):
        reader.read_card(timeout_s=3)
    simulator.garbage()
    with pytest.raises(SwipeAgain):
        reader.read_card(timeout_s=3)
    simulator.swipe(EXPIRED)
    with pytest.raises(CardExpired):
        reader.read_card(timeout_s=3)
    simulator.swipe(VISA)
    assert reader.read_card(timeout_s=3) is not None


def test_no_card_is_none_not_a_hang(rig: tuple[CardReaderSimulator, MagstripeSerialReader]) -> None:
    _, reader = rig
    assert reader.read_card(timeout_s=0.3) is None


def test_slow_line_still_reads(tmp_path: Path) -> None:
    simulator = CardReaderSimulator(tmp_path, byte_delay_s=0.002)
    reader = MagstripeSerialReader(simulator.path)
    reader.open()  # opening a serial port discards what arrived before
    try:
        swiping = threading.Thread(target=simulator.swipe, args=(VISA,))
        swiping.start()
        card = reader.read_card(timeout_s=5)
        swiping.join()
        assert card is not None and card.summary.last4 == "1111"
    finally:
        reader.close()
        simulator.close()


def test_unplug_is_reported_and_replug_recovers(
    rig: tuple[CardReaderSimulator, MagstripeSerialReader],
) -> None:
    simulator, reader = rig
    before = reader.health.state
    simulator.unplug()
    with pytest.raises(DeviceConnectionError):
        reader.read_card(timeout_s=1)
    during = reader.health
    assert before is HealthState.CONNECTED
    assert during.state is HealthState.FAULT and "went away" in during.reason
    simulator.replug()  # the port is back when this returns; the rig has no reopen backoff
    reader.open()
    simulator.swipe(VISA)
    card = reader.read_card(timeout_s=3)
    assert card is not None and card.summary.last4 == "1111"
    assert reader.health.state is HealthState.CONNECTED


def test_a_swipe_straddling_a_read_timeout_is_not_lost(
    rig: tuple[CardReaderSimulator, MagstripeSerialReader],
) -> None:
    """The kiosk polls in short reads; a swipe whose bytes span two reads is one card."""
    simulator, reader = rig
    track = VISA.track2()
    line = track.encode("ascii")
    simulator.send(line[:10])
    assert reader.read_card(timeout_s=0.5) is None  # the rest has not come yet
    simulator.send(line[10:] + b"\r\n")
    card = reader.read_card(timeout_s=3)
    assert card is not None and card.summary.masked_pan == "411111******1111"
