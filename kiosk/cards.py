"""What a swipe at the kiosk can be: a bank card, the utility's customer card, or a VIP card.

Bank cards are ISO/IEC 7813 (track 1 format code ``B``, and/or track 2) and are parsed by
``devices.cardreader.protocol.parse_swipe``, which checks the LRC, the Luhn digit and the
expiry. The utility's own magnetic cards are not bank cards; this project gives them a
track 1 of their own, in ISO/IEC 7813's framing and character set (``%`` … ``?`` [LRC]):

- customer card (用户卡): ``%U`` card number (12–19 digits) ``^`` account number
  (``XC000000001``) ``^`` ``?`` — proof of identity for that account (``VerifyIn``);
- VIP card (贵宾卡): ``%V`` card number (4–32 of ``A–Z 0–9 -``) ``^`` ``?``.

Anything else is refused with a typed reason (``CardReadError`` and its subclasses), never
misread. A customer card number is proof of identity: it is shown and logged masked only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from devices.cardreader.card import SwipedCard
from devices.cardreader.errors import CardReadError, SwipeAgain
from devices.cardreader.protocol import TRACK1_MAX, lrc_track1, parse_swipe

_CUSTOMER = re.compile(r"%U(?P<card>[0-9]{12,19})\^(?P<account>[A-Z]{2}[0-9]{9})\^\?")
_VIP = re.compile(r"%V(?P<card>[A-Z0-9-]{4,32})\^\?")


class NotACustomerCard(CardReadError):
    message_zh = "这不是本公司的用户卡，请刷用户卡或输入户号"
    message_en = (
        "This is not our customer card. Swipe your customer card or type the account number"
    )


class NotAVipCard(CardReadError):
    message_zh = "这不是贵宾卡，请刷贵宾卡"
    message_en = "This is not a VIP card. Please swipe your VIP card"


@dataclass(frozen=True)
class BankSwipe:
    card: SwipedCard  # holds the PAN in memory only; forget() after the payment call


@dataclass(frozen=True)
class CustomerCardSwipe:
    card_number: str = ""
    account_no: str = ""

    def __repr__(self) -> str:
        return f"CustomerCardSwipe({mask_card_number(self.card_number)}, {self.account_no})"


@dataclass(frozen=True)
class VipCardSwipe:
    card_number: str

    def __repr__(self) -> str:
        return f"VipCardSwipe({self.card_number[:4]}…)"


Swipe = BankSwipe | CustomerCardSwipe | VipCardSwipe


def mask_card_number(number: str) -> str:
    return number[:4] + "*" * max(len(number) - 8, 0) + number[-4:] if len(number) > 8 else "****"


def parse_kiosk_swipe(data: bytes, *, today: date) -> Swipe:
    """One line from the card reader → the kind of card, or a ``CardReadError``."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise SwipeAgain("the reader sent bytes that are not ASCII") from None
    text = text.strip("\r\n\x00 ")
    if text[:2] in ("%U", "%V"):
        return _utility_card(text)
    return BankSwipe(parse_swipe(data, today=today))


def _utility_card(text: str) -> Swipe:
    if any(not (0x20 <= ord(c) <= 0x5F) for c in text):
        raise SwipeAgain("the card's track holds characters outside track 1's set")
    end = text.find("?")
    if end < 0:
        raise SwipeAgain("the track has no end sentinel (half a swipe?)")
    track, rest = text[: end + 1], text[end + 1 :]
    if len(track) > TRACK1_MAX:
        raise SwipeAgain("the track is longer than the standard allows")
    if rest and rest != lrc_track1(track):
        raise SwipeAgain("the LRC check failed")
    customer = _CUSTOMER.fullmatch(track)
    if customer:
        return CustomerCardSwipe(customer["card"], customer["account"])
    vip = _VIP.fullmatch(track)
    if vip:
        return VipCardSwipe(vip["card"])
    raise SwipeAgain("the card's track does not follow the customer or VIP card layout")


def customer_card_track(card_number: str, account_no: str) -> str:
    """The track a customer card carries (for simulators and card issuing)."""
    track = f"%U{card_number}^{account_no}^?"
    if not _CUSTOMER.fullmatch(track):
        raise ValueError("a customer card holds a 12–19 digit number and an account number")
    return track + lrc_track1(track)


def vip_card_track(card_number: str) -> str:
    track = f"%V{card_number}^?"
    if not _VIP.fullmatch(track):
        raise ValueError("a VIP card number is 4–32 of A–Z, 0–9 and '-'")
    return track + lrc_track1(track)
