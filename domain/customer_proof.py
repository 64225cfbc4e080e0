"""Proof that the person at the kiosk owns the account: a one-time code by SMS, or the
utility's customer card. Either gives a short customer session bound to the account and
the kiosk.

One-time codes: 6 digits, 5 minutes of life, at most one sent per 60 s and five per hour
per account, five wrong tries burn the code, a newer code replaces an older one. Only a
salted scrypt hash is stored; the code is in memory only until the SMS is handed to the
gateway, and never logged.

The customer card (客户卡) is the utility's own magnetic-stripe card, not a bank card.
Track 2 (ISO/IEC 7813 character set, so any reader that reads bank cards reads it)::

    ;  NNNNNNNNNNNNNNNNNNN  =  =  ?
       └ 19 digits: IIN 990086 · the account's 9 digits · 3 issue digits · 1 guard digit

The guard digit is the Luhn check digit plus 5 (mod 10), so the number always FAILS the
Luhn check: a bank-card reader classifies it as "not a bank card" and it can never be sent
to an acquirer. The two ``=`` mark the empty expiry and service-code fields. The kiosk sends
the 19 digits as ``card_number``; the hall keeps only a SHA-256 of issued card numbers.
Five wrong cards for an account within an hour lock card proof for that hour.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select, update

from domain.accounts import find_account, first_phone
from domain.kiosk_errors import (
    CodeNotSent,
    NoPhoneOnAccount,
    ProofLocked,
    SessionRequired,
    TooManyCodes,
    WrongProof,
)
from domain.kiosk_events import CustomerVerified
from domain.kiosk_site import KioskSite, mask_phone
from domain.uow import UnitOfWork
from servicedb.models import CustomerCard, CustomerSession, OneTimeCode, ProofFailure
from servicedb.models.customers import Account

CODE_LIFE = timedelta(minutes=5)
RESEND_AFTER = timedelta(seconds=60)
CODES_PER_HOUR = 5
WRONG_TRIES = 5
SESSION_LIFE = timedelta(minutes=10)
CARD_IIN = "990086"
CARD_FAILURES_PER_HOUR = 5


class SmsSendFailed(Exception):
    """Raised by an ``SmsSender`` when the text could not be handed over (either reason)."""


class SmsSender(Protocol):
    def send(self, phone: str, text: str, *, key: str) -> str: ...


@dataclass(frozen=True)
class CodeSent:
    phone_masked: str
    expires_in_s: int
    resend_after_s: int


@dataclass(frozen=True)
class CustomerSessionGrant:
    session: str
    expires_at: datetime


@dataclass(frozen=True)
class ProvenCustomer:
    account_id: uuid.UUID
    account_no: str


def hash_code(code: str, salt: str) -> str:
    return hashlib.scrypt(code.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1).hex()


def _luhn_digit(payload: str) -> int:
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def customer_card_number(account_no: str, issue: int) -> str:
    """The 19 digits of a customer card for ``account_no`` (XC000000001) and an issue number."""
    payload = f"{CARD_IIN}{account_no[-9:]}{issue % 1000:03d}"
    return payload + str((_luhn_digit(payload) + 5) % 10)


def is_customer_card(number: str) -> bool:
    """Our layout: 19 digits, IIN 990086, and the guard digit that fails Luhn on purpose."""
    return (
        len(number) == 19
        and number.isdigit()
        and number.startswith(CARD_IIN)
        and int(number[-1]) == (_luhn_digit(number[:-1]) + 5) % 10
    )


def customer_card_track2(number: str) -> str:
    """What the card's track 2 holds (for issuing cards and for simulators)."""
    return f";{number}==?"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class CustomerProof:
    def __init__(self, site: KioskSite, sms: SmsSender, *, sender_name: str = "自来水") -> None:
        self._site = site
        self._sms = sms
        self._sender_name = sender_name

    # --- one-time codes -----------------------------------------------------------------
    def request_code(self, account_no: str, kiosk: str) -> CodeSent:
        now = self._site.clock()
        with self._site.work() as uow:
            session = uow.session
            account = find_account(session, account_no)
            phone = first_phone(session, account.id)
            if phone is None:
                raise NoPhoneOnAccount(f"{account_no} has no phone")
            recent = session.execute(
                select(func.count(), func.max(OneTimeCode.sent_at)).where(
                    OneTimeCode.account_id == account.id,
                    OneTimeCode.sent_at > now - timedelta(hours=1),
                )
            ).one()
            count, last = int(recent[0]), recent[1]
            if last is not None and now - last < RESEND_AFTER:
                raise TooManyCodes(f"last code {int((now - last).total_seconds())} s ago")
            if count >= CODES_PER_HOUR:
                raise TooManyCodes(f"{count} codes in the last hour")
            session.execute(
                update(OneTimeCode)
                .where(OneTimeCode.account_id == account.id, OneTimeCode.spent_at.is_(None))
                .values(spent_at=now)
            )
            code = f"{secrets.randbelow(10**6):06d}"
            salt = secrets.token_hex(16)
            row = OneTimeCode(
                account_id=account.id,
                device_name=kiosk,
                salt=salt,
                code_hash=hash_code(code, salt),
                sent_at=now,
                expires_at=now + CODE_LIFE,
            )
            session.add(row)
            session.flush()
            text = (
                f"【{self._sender_name}】您的验证码为 {code}，5 分钟内有效，请勿告诉他人。"
                f"Your code is {code}, valid for 5 minutes."
            )
            try:
                # Inside the transaction: a code that was not sent is not kept or counted.
                self._sms.send(phone, text, key=row.id.hex)
            except SmsSendFailed as err:
                raise CodeNotSent(str(err)) from None
            finally:
                del code, text
        return CodeSent(
            mask_phone(phone), int(CODE_LIFE.total_seconds()), int(RESEND_AFTER.total_seconds())
        )

    def verify_code(self, account_no: str, kiosk: str, code: str) -> CustomerSessionGrant:
        now = self._site.clock()
        with self._site.units() as uow:
            session = uow.session
            account = find_account(session, account_no)
            row = session.scalars(
                select(OneTimeCode)
                .where(OneTimeCode.account_id == account.id, OneTimeCode.spent_at.is_(None))
                .order_by(OneTimeCode.sent_at.desc())
            ).first()
            if row is None or row.expires_at <= now or row.device_name != kiosk:
                raise WrongProof("no live code for this account at this kiosk")
            if not hmac.compare_digest(hash_code(code, row.salt), row.code_hash):
                row.wrong_tries += 1
                burned = row.wrong_tries >= WRONG_TRIES
                if burned:
                    row.spent_at = now
                uow.commit()
                if burned:
                    raise ProofLocked(f"{WRONG_TRIES} wrong tries: the code is burned")
                raise WrongProof(f"wrong code ({row.wrong_tries} of {WRONG_TRIES})")
            row.spent_at = now
            grant = self._open_session(uow, account, kiosk, "sms", now)
            uow.commit()
            return grant

    # --- the customer card --------------------------------------------------------------
    def issue_card(self, account_no: str) -> str:
        """Issue a customer card for the account; returns its number (printed on the card once)."""
        now = self._site.clock()
        with self._site.work() as uow:
            account = find_account(uow.session, account_no)
            number = customer_card_number(account.account_no, secrets.randbelow(1000))
            uow.session.add(
                CustomerCard(card_sha256=_digest(number), account_id=account.id, issued_at=now)
            )
        return number

    def verify_card(self, account_no: str, kiosk: str, card_number: str) -> CustomerSessionGrant:
        now = self._site.clock()
        with self._site.units() as uow:
            session = uow.session
            account = find_account(session, account_no)
            failures = session.scalar(
                select(func.count()).where(
                    ProofFailure.account_id == account.id,
                    ProofFailure.method == "customer_card",
                    ProofFailure.at > now - timedelta(hours=1),
                )
            )
            if (failures or 0) >= CARD_FAILURES_PER_HOUR:
                raise ProofLocked("too many wrong customer cards in the last hour")
            card = None
            if is_customer_card(card_number) and card_number[6:15] == account.account_no[-9:]:
                card = session.scalars(
                    select(CustomerCard).where(
                        CustomerCard.card_sha256 == _digest(card_number),
                        CustomerCard.account_id == account.id,
                        CustomerCard.active.is_(True),
                    )
                ).first()
            if card is None:
                session.add(ProofFailure(account_id=account.id, method="customer_card", at=now))
                uow.commit()
                raise WrongProof("not a customer card of this account")
            grant = self._open_session(uow, account, kiosk, "customer_card", now)
            uow.commit()
            return grant

    # --- sessions -----------------------------------------------------------------------
    def check_session(self, token: str | None, account_no: str, kiosk: str) -> ProvenCustomer:
        """The session's account, if the token is live, for this account, at this kiosk."""
        if not token:
            raise SessionRequired("no customer session")
        now = self._site.clock()
        with self._site.units() as uow:
            row = uow.session.get(CustomerSession, _digest(token))
            if row is None or row.expires_at <= now or row.device_name != kiosk:
                raise SessionRequired("the customer session is unknown, expired or elsewhere")
            account = find_account(uow.session, account_no)
            if account.id != row.account_id:
                raise SessionRequired("the customer session is for another account")
            return ProvenCustomer(account.id, account.account_no)

    def _open_session(
        self, uow: UnitOfWork, account: Account, kiosk: str, method: str, now: datetime
    ) -> CustomerSessionGrant:
        token = secrets.token_urlsafe(32)
        expires = now + SESSION_LIFE
        uow.session.add(
            CustomerSession(
                token_sha256=_digest(token),
                account_id=account.id,
                device_name=kiosk,
                method=method,
                created_at=now,
                expires_at=expires,
            )
        )
        uow.record(CustomerVerified(now, account.account_no, method, kiosk))
        return CustomerSessionGrant(token, expires)
