"""What a swipe at the kiosk can be: a bank card, the utility's customer card, or a VIP card.

Bank cards are ISO/IEC 7813 (track 1 format code ``B``, and/or track 2) and are parsed by
``devices.cardreader.protocol.parse_swipe``, which checks the LRC, the Luhn digit and the
expiry. The utility's own magnetic cards are not bank cards:

- customer card (客户卡), as the hall issues and checks it (``domain/customer_proof.py``):
  track 2 ``;`` 19 digits ``==?`` — IIN 990086, the account's 9 digits, 3 issue digits, and a
  guard digit that is the Luhn digit plus 5 (so the number always *fails* Luhn and can never
  be taken for a bank card). The kiosk puts its area prefix before the 9 digits (XC…) and
  sends the 19 digits as proof (``VerifyIn``);
- VIP card (贵宾卡), a layout of this kiosk's own in track 1's framing and character set:
  ``%V`` card number (4–32 of ``A–Z 0–9 -``) ``^`` ``?`` [LRC].

Anything else is refused with a typed reason (``CardReadError`` and its subclasses), never
misread. A customer card number is proof of identity: it is shown and logged masked only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from devices.cardreader.card import SwipedCard
from devices.cardreader.errors import CardReadError, SwipeAgain
from devices.cardreader.protocol import TRACK1_MAX, TRACK2_MAX, lrc_track1, lrc_track2, parse_swipe

CUSTOMER_IIN = "990086"
_CUSTOMER = re.compile(r";(?P<card>990086[0-9]{13})==\?")
_VIP = re.compile(r"%V(?P<card>[A-Z0-9-]{4,32})\^\?")


class NotACustomerCard(CardReadError):  # said by the screens that want one
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


def luhn_digit(payload: str) -> int:
    """The digit that makes ``payload`` + digit pass the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return (10 - total % 10) % 10


def is_customer_card_number(number: str) -> bool:
    return (
        len(number) == 19
        and number.isascii()
        and number.isdigit()
        and number.startswith(CUSTOMER_IIN)
        and int(number[-1]) == (luhn_digit(number[:-1]) + 5) % 10
    )


def parse_kiosk_swipe(data: bytes, *, today: date, account_prefix: str = "XC") -> Swipe:
    """One line from the card reader → the kind of card, or a ``CardReadError``."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise SwipeAgain("the reader sent bytes that are not ASCII") from None
    text = text.strip("\r\n\x00 ")
    if text.startswith("%V"):
        return _vip_card(text)
    if text.startswith(";" + CUSTOMER_IIN):
        return _customer_card(text, account_prefix)
    return BankSwipe(parse_swipe(data, today=today))


def _track(text: str, charset: tuple[int, int], limit: int, lrc: Callable[[str], str]) -> str:
    low, high = charset
    if any(not (low <= ord(c) <= high) for c in text):
        raise SwipeAgain("the card's track holds characters outside its set")
    end = text.find("?")
    if end < 0:
        raise SwipeAgain("the track has no end sentinel (half a swipe?)")
    track, rest = text[: end + 1], text[end + 1 :]
    if len(track) > limit:
        raise SwipeAgain("the track is longer than the standard allows")
    if rest and rest != lrc(track):
        raise SwipeAgain("the LRC check failed")
    return track


def _customer_card(text: str, account_prefix: str) -> Swipe:
    # Track 2's set is 0x30–0x3F; its start sentinel ';' is 0x3B, inside it.
    track = _track(text, (0x30, 0x3F), TRACK2_MAX, lrc_track2)
    match = _CUSTOMER.fullmatch(track)
    if not match:
        raise SwipeAgain("the card's track does not follow the customer card layout")
    number = match["card"]
    if not is_customer_card_number(number):
        raise SwipeAgain("the customer card's guard digit is wrong (misread?)")
    return CustomerCardSwipe(number, account_prefix + number[6:15])


def _vip_card(text: str) -> Swipe:
    track = _track(text, (0x20, 0x5F), TRACK1_MAX, lrc_track1)
    match = _VIP.fullmatch(track)
    if not match:
        raise SwipeAgain("the card's track does not follow the VIP card layout")
    return VipCardSwipe(match["card"])


def customer_card_number(account_no: str, issue: int = 1) -> str:
    """The 19 digits of the customer card the hall issues for ``account_no`` (XC000000001)."""
    payload = f"{CUSTOMER_IIN}{account_no[-9:]}{issue % 1000:03d}"
    return payload + str((luhn_digit(payload) + 5) % 10)


def customer_card_track(card_number: str) -> str:
    """What a customer card's track 2 holds, with its LRC (for simulators and card issuing)."""
    if not is_customer_card_number(card_number):
        raise ValueError("not a customer card number (IIN 990086, 19 digits, guard digit)")
    track = f";{card_number}==?"
    return track + lrc_track2(track)


def vip_card_track(card_number: str) -> str:
    track = f"%V{card_number}^?"
    if not _VIP.fullmatch(track):
        raise ValueError("a VIP card number is 4–32 of A–Z, 0–9 and '-'")
    return track + lrc_track1(track)
