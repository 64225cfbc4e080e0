"""A card reader on a pseudo-terminal that swipes the cards you give it, faults included."""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass
from pathlib import Path

from devices.cardreader.protocol import lrc_track1, lrc_track2
from devices.pty_port import PtyPort


@dataclass(frozen=True)
class SimCard:
    """Test cards that pass the Luhn check and belong to no one."""

    pan: str
    name: str = "ZHANG/WEI"
    expiry: str = "3012"  # YYMM
    service_code: str = "101"
    discretionary: str = "0000000000"

    def track1(self) -> str:
        return f"%B{self.pan}^{self.name}^{self.expiry}{self.service_code}{self.discretionary}?"

    def track2(self) -> str:
        return f";{self.pan}={self.expiry}{self.service_code}{self.discretionary}?"


VISA = SimCard("4111111111111111")
MASTERCARD = SimCard("5555555555554444", name="LI/NA", service_code="201")
EXPIRED = SimCard("4111111111111111", expiry="2001")
UNIONPAY_LIKE = SimCard("6222021000000000017", name="WANG/FANG")  # passes Luhn, owned by no one
NAMED = {"visa": VISA, "mastercard": MASTERCARD, "expired": EXPIRED, "unionpay": UNIONPAY_LIKE}


class CardReaderSimulator:
    """Writes swipes into the master side of a pty; the real driver reads the other side."""

    def __init__(self, link_dir: Path | None = None, *, byte_delay_s: float = 0.0) -> None:
        self.port = PtyPort(link_dir, name="ttyCARD")
        self.byte_delay_s = byte_delay_s

    @property
    def path(self) -> str:
        return str(self.port.path)

    def swipe(
        self,
        card: SimCard,
        *,
        tracks: tuple[int, ...] = (1, 2),
        with_lrc: bool = True,
        bad_lrc: bool = False,
        ending: bytes = b"\r\n",
    ) -> None:
        text = ""
        if 1 in tracks:
            track = card.track1()
            text += track + (self._lrc(lrc_track1(track), bad_lrc) if with_lrc else "")
        if 2 in tracks:
            track = card.track2()
            text += track + (self._lrc(lrc_track2(track), bad_lrc) if with_lrc else "")
        self.send(text.encode("ascii") + ending)

    def half_swipe(self, card: SimCard) -> None:
        """The card was pulled too fast: the track stops in the middle."""
        track = card.track2()
        self.send(track[: len(track) // 2].encode("ascii") + b"\r\n")

    def garbage(self, size: int = 32, seed: int = 0) -> None:
        rng = random.Random(seed)  # noqa: S311 - test noise
        self.send(bytes(rng.randrange(256) for _ in range(size)) + b"\r\n")

    def send(self, data: bytes) -> None:
        if self.byte_delay_s <= 0:
            os.write(self.port.master_fd, data)
            return
        for byte in data:
            os.write(self.port.master_fd, bytes([byte]))
            time.sleep(self.byte_delay_s)

    def unplug(self) -> None:
        self.port.unplug()

    def replug(self) -> None:
        self.port.replug()

    def close(self) -> None:
        self.port.close()

    @staticmethod
    def _lrc(good: str, corrupt: bool) -> str:
        if not corrupt:
            return good
        return (
            chr(((ord(good) - 0x30 + 1) % 16) + 0x30)
            if "0" <= good <= "?"
            else chr(((ord(good) - 0x20 + 1) % 64) + 0x20)
        )
