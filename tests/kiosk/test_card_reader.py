"""The kiosk's card reader on a real pty, with the simulator's bytes: every kind of card, a
swipe split across two reads, a swipe cut short, garbage, and an unplug and replug."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from devices.cardreader.errors import CardReadError, SwipeAgain
from devices.cardreader.simulator import VISA, CardReaderSimulator
from devices.errors import DeviceConnectionError
from devices.health import HealthState
from kiosk.card_reader import KioskCardReader
from kiosk.cards import (
    BankSwipe,
    CustomerCardSwipe,
    VipCardSwipe,
    customer_card_number,
    customer_card_track,
    vip_card_track,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[CardReaderSimulator, KioskCardReader]]:
    simulator = CardReaderSimulator(tmp_path)
    reader = KioskCardReader(simulator.path, today=lambda: date(2026, 11, 23), min_backoff_s=0.05)
    reader.probe()  # open, as the kiosk's reader loop does at start (opening drops old input)
    yield simulator, reader
    reader.close()
    simulator.close()


def read(reader: KioskCardReader, timeout_s: float = 3.0) -> object:
    """The next swipe (a reader polls; None between swipes is normal)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        swipe = reader.read_swipe(0.2)
        if swipe is not None:
            return swipe
    raise AssertionError("no swipe came")


def test_three_kinds_of_card(pair: tuple[CardReaderSimulator, KioskCardReader]) -> None:
    simulator, reader = pair
    simulator.swipe(VISA)
    bank = read(reader)
    assert isinstance(bank, BankSwipe) and bank.card.summary.masked_pan == "411111******1111"
    number = customer_card_number("XC000000042")
    simulator.send(customer_card_track(number).encode() + b"\r\n")
    assert read(reader) == CustomerCardSwipe(number, "XC000000042")
    simulator.send(vip_card_track("VIP-XC-0001").encode() + b"\r")
    assert read(reader) == VipCardSwipe("VIP-XC-0001")
    assert reader.health.state is HealthState.CONNECTED


def test_a_swipe_split_across_two_reads_is_read_whole(
    pair: tuple[CardReaderSimulator, KioskCardReader],
) -> None:
    simulator, reader = pair
    data = (VISA.track1() + VISA.track2()).encode() + b"\r\n"
    simulator.send(data[:30])
    assert reader.read_swipe(0.05) is None  # the read's time ran out mid-swipe
    simulator.send(data[30:])
    swipe = read(reader)
    assert isinstance(swipe, BankSwipe) and swipe.card.summary.last4 == "1111"


def test_a_swipe_cut_short_is_refused_not_kept(
    pair: tuple[CardReaderSimulator, KioskCardReader],
) -> None:
    simulator, reader = pair
    simulator.send(VISA.track2()[:12].encode())  # no end, no CR: the reader lost the rest
    with pytest.raises(SwipeAgain):
        read(reader)
    simulator.half_swipe(VISA)
    with pytest.raises(SwipeAgain):
        read(reader)
    simulator.swipe(VISA)  # the next swipe is read on its own
    assert isinstance(read(reader), BankSwipe)


def test_garbage_is_refused(pair: tuple[CardReaderSimulator, KioskCardReader]) -> None:
    simulator, reader = pair
    simulator.garbage(seed=3)
    with pytest.raises(CardReadError):
        read(reader)


def test_unplugged_and_plugged_back(pair: tuple[CardReaderSimulator, KioskCardReader]) -> None:
    simulator, reader = pair
    simulator.swipe(VISA)
    assert isinstance(read(reader), BankSwipe)
    simulator.unplug()
    with pytest.raises(DeviceConnectionError):
        read(reader)
    assert reader.health.state is HealthState.FAULT
    simulator.replug()
    deadline = time.monotonic() + 5
    while reader.probe().state is not HealthState.CONNECTED:  # reopens after its backoff
        assert time.monotonic() < deadline, reader.health.reason
        time.sleep(0.02)  # the port reopens on its own backoff schedule; nothing to wait on
    simulator.swipe(VISA)
    assert isinstance(read(reader), BankSwipe)
