"""SMS notices to customers: the notification outbox and the job that sends it.

**Queueing** (inside the command's transaction, e.g. declaring an outage): one row per
customer, outage and kind (``notification_outbox``, unique on the three), so a redrawn area,
a second declaration or a retried command never texts anybody twice. A customer is reached
through the phones of their accounts at the affected premises: the earliest linked phone
(ties: the lower number) that has not opted out. A customer whose every phone opted out gets a row marked
``opted_out`` and no text — counted, not silently missing.

**Sending** (:class:`NotificationSender`, a job of its own): due rows in order; opt-out is
checked again at send time (a TD reply may have come in since queueing); per-number limits
(``NumberLimits``: carriers and gateways throttle and block numbers that get too many texts,
typically 1 a minute, 5 an hour, 10 a day) defer a row to when the number's window allows;
the gateway's own rate (a token bucket, texts per second) paces the whole job. The row's
id is the gateway's idempotency key: a send repeated after a crash is sent once.
A refused text (bad number, content) is ``failed`` and not retried; a text the gateway
throttled (its own per-number limit, code ``Throttled``) waits ``throttled_for``; an
unavailable gateway is retried with doubling delays up to ``max_attempts``.

The gateway is the ``SmsGateway`` of ``servicehall.platform.sms`` (this package may not
import it; :class:`Gateway` is the same shape). Its errors are told apart by shape: an
exception with a string ``code`` is a refusal (``SmsRefused``), any other is "unavailable,
try later" (``SmsUnavailable``). Texts and full numbers are never logged.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from servicedb.engine import make_session_factory
from servicedb.models import (
    Account,
    AccountPhone,
    AccountStatus,
    Notification,
    NotificationKind,
    NotificationStatus,
)
from servicedb.types import utcnow

log = logging.getLogger(__name__)

_CHUNK = 2000  # ids per IN (...): far below SQLite's and PostgreSQL's parameter limits


class Gateway(Protocol):
    def send(self, phone: str, text: str, *, key: str) -> str:
        """Send ``text`` to ``phone`` once per ``key``; return the gateway's message id."""
        ...


def mask(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 7 else "****"


# --- queueing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Queued:
    pending: int  # texts that will go out
    opted_out: int  # customers reached by no phone that accepts texts
    already: int  # customers who had this notice already


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> list[NotificationStatus]:
    """Insert outbox rows, skipping (customer, outage, kind) already there; returns the
    statuses of the rows that went in."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    table = Notification.__table__
    statement = (
        (postgresql if dialect == "postgresql" else sqlite)
        .insert(table)
        .on_conflict_do_nothing(index_elements=["customer_id", "outage_id", "kind"])
        .returning(table.c.status)
    )
    return [NotificationStatus(status) for (status,) in session.execute(statement, rows)]


def queue_for_premises(
    session: Session,
    *,
    outage_id: uuid.UUID,
    premises_ids: Sequence[uuid.UUID],
    kind: NotificationKind,
    text: str,
    now: datetime,
) -> Queued:
    """One notice per customer with an active account at any of ``premises_ids``."""
    phones: dict[uuid.UUID, list[tuple[str, bool]]] = {}
    for chunk in _chunks(premises_ids):
        rows = session.execute(
            select(Account.customer_id, AccountPhone.phone, AccountPhone.sms_opt_out)
            .join(AccountPhone, AccountPhone.account_id == Account.id)
            .where(Account.premises_id.in_(chunk), Account.status == AccountStatus.ACTIVE)
            .order_by(AccountPhone.created_at, AccountPhone.phone)
        ).all()
        for customer_id, phone, opted_out in rows:
            phones.setdefault(customer_id, []).append((phone, opted_out))
    return _queue(session, outage_id, kind, text, now, phones)


def _queue(
    session: Session,
    outage_id: uuid.UUID,
    kind: NotificationKind,
    text: str,
    now: datetime,
    phones: dict[uuid.UUID, list[tuple[str, bool]]],
) -> Queued:
    rows: list[dict[str, Any]] = []
    for customer_id, numbers in phones.items():
        reachable = [phone for phone, out in numbers if not out]
        status = NotificationStatus.PENDING if reachable else NotificationStatus.OPTED_OUT
        rows.append(
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "customer_id": customer_id,
                "outage_id": outage_id,
                "kind": kind,
                "phone": (reachable or [numbers[0][0]])[0],
                "text": text,
                "status": status,
                "due_at": now,
                "attempts": 0,
            }
        )
    inserted = [status for chunk in _chunks(rows) for status in _insert_new(session, list(chunk))]
    quiet = inserted.count(NotificationStatus.OPTED_OUT)
    return Queued(len(inserted) - quiet, quiet, len(rows) - len(inserted))


def queue_follow_up(
    session: Session,
    *,
    outage_id: uuid.UUID,
    after: NotificationKind,
    kind: NotificationKind,
    text: str,
    now: datetime,
) -> Queued:
    """A notice to every customer who was *sent* the ``after`` notice, on the same phone
    (the water is back: tell those who were told it was off). Pending ``after`` notices are
    cancelled — no point saying "off" once it is back on."""
    session.execute(
        update(Notification)
        .where(
            Notification.outage_id == outage_id,
            Notification.kind == after,
            Notification.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.CANCELLED, last_error="overtaken")
    )
    told = session.execute(
        select(Notification.customer_id, Notification.phone).where(
            Notification.outage_id == outage_id,
            Notification.kind == after,
            Notification.status == NotificationStatus.SENT,
        )
    ).all()
    return _queue(
        session,
        outage_id,
        kind,
        text,
        now,
        {customer: [(phone, False)] for customer, phone in told},
    )


def set_opt_out(engine: Engine, phone: str, opted_out: bool = True) -> int:
    """退订 (or its undoing) for a number, on every account it is linked to."""
    with Session(engine) as session, session.begin():
        result = session.execute(
            update(AccountPhone).where(AccountPhone.phone == phone).values(sms_opt_out=opted_out)
        )
        return int(getattr(result, "rowcount", 0))


# --- sending ------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumberLimits:
    """At most this many texts to one number in a sliding minute / hour / day."""

    per_minute: int = 1
    per_hour: int = 5
    per_day: int = 10

    def windows(self) -> tuple[tuple[timedelta, int], ...]:
        return (
            (timedelta(minutes=1), self.per_minute),
            (timedelta(hours=1), self.per_hour),
            (timedelta(days=1), self.per_day),
        )

    def next_allowed(self, sent: Sequence[datetime], now: datetime) -> datetime:
        """When one more text to a number that was sent texts at ``sent`` may go: ``now`` or later."""
        allowed = now
        ordered = sorted(sent, reverse=True)
        for window, limit in self.windows():
            recent = [at for at in ordered if at > now - window]
            if len(recent) >= limit:
                # The window frees up when the limit-th most recent text leaves it.
                allowed = max(allowed, recent[limit - 1] + window)
        return allowed


@dataclass
class TokenBucket:
    """``rate`` texts a second on average, ``burst`` at once: the gateway's own throttle."""

    rate: float
    burst: float
    _tokens: float = field(init=False)
    _at: datetime | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a bucket needs a positive rate and room for one")
        self._tokens = self.burst

    def _fill(self, now: datetime) -> None:
        if self._at is not None and now > self._at:
            self._tokens = min(
                self.burst, self._tokens + (now - self._at).total_seconds() * self.rate
            )
        self._at = now if self._at is None or now > self._at else self._at

    def take(self, now: datetime) -> bool:
        self._fill(now)
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def wait_s(self, now: datetime) -> float:
        self._fill(now)
        return max(0.0, (1 - self._tokens) / self.rate)


# Refusal codes that mean "this number, not now" (servicehall.platform.sms's gateway: 429).
THROTTLED = frozenset({"Throttled"})


def is_refusal(error: Exception) -> bool:
    """``SmsRefused`` carries the gateway's ``code``; ``SmsUnavailable`` does not."""
    return isinstance(getattr(error, "code", None), str)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    deferred: int = 0  # a number's limit: due later
    opted_out: int = 0
    paced: bool = False  # stopped early: the gateway's rate, or the gateway is unavailable
    next_due: datetime | None = None


class NotificationSender:
    """Sends due outbox rows through the gateway. Run ``run_once`` in a loop (``start``)."""

    def __init__(
        self,
        engine: Engine,
        gateway: Gateway,
        *,
        clock: Callable[[], datetime] = utcnow,
        rate_per_s: float = 20.0,
        burst: float = 20.0,
        number_limits: NumberLimits | None = None,
        batch: int = 200,
        max_attempts: int = 5,
        retry_after: timedelta = timedelta(minutes=1),
        refusal: Callable[[Exception], bool] = is_refusal,
        throttled_for: timedelta = timedelta(minutes=10),
    ) -> None:
        self._engine = engine
        # Read then write: on SQLite take the write lock at BEGIN.
        self._sessions = make_session_factory(engine, serialised_writes=True)
        self._gateway = gateway
        self._clock = clock
        self._bucket = TokenBucket(rate_per_s, burst)
        self._limits = number_limits or NumberLimits()
        self._batch = batch
        self._max_attempts = max_attempts
        self._retry_after = retry_after
        self._refusal = refusal
        self._throttled_for = throttled_for
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.totals = SendReport()
        self._ran = threading.Condition()
        self._down_until: datetime | None = None

    def run_once(self) -> SendReport:
        report = SendReport()
        now = self._clock()
        if self._down_until is not None and now < self._down_until:
            report.paced = True  # the gateway was unavailable: leave it be for a while
            return report
        with Session(self._engine) as session:
            due = session.execute(
                select(
                    Notification.id, Notification.phone, Notification.text, Notification.attempts
                )
                .where(
                    Notification.status == NotificationStatus.PENDING,
                    Notification.due_at <= now,
                )
                .order_by(Notification.due_at, Notification.created_at)
                .limit(self._batch)
            ).all()
            phones = sorted({row.phone for row in due})
            opted = set(
                session.scalars(
                    select(AccountPhone.phone).where(
                        AccountPhone.phone.in_(phones), AccountPhone.sms_opt_out.is_(True)
                    )
                ).all()
            )
            history: dict[str, list[datetime]] = {phone: [] for phone in phones}
            for phone, sent_at in session.execute(
                select(Notification.phone, Notification.sent_at).where(
                    Notification.phone.in_(phones),
                    Notification.sent_at > now - timedelta(days=1),
                )
            ):
                if sent_at is not None:  # the filter says so; the type cannot
                    history[phone].append(sent_at)
        for row in due:
            now = self._clock()
            if row.phone in opted:
                self._finish(row.id, status=NotificationStatus.OPTED_OUT, error="opted out")
                report.opted_out += 1
                continue
            allowed = self._limits.next_allowed(history[row.phone], now)
            if allowed > now:
                self._finish(row.id, due_at=allowed)
                report.deferred += 1
                continue
            if not self._bucket.take(now):
                report.paced = True
                break
            try:
                message_id = self._gateway.send(row.phone, row.text, key=str(row.id))
            except Exception as err:
                code = getattr(err, "code", "")
                if self._refusal(err) and code in THROTTLED:
                    # The gateway's own per-number limit (it also counts texts others sent
                    # that number, one-time codes say): not a refusal of this text.
                    later = now + self._throttled_for
                    self._finish(row.id, due_at=later, error=str(err), attempt=True)
                    history[row.phone].append(now)
                    report.deferred += 1
                    continue
                if self._refusal(err):
                    log.warning("SMS to %s refused: %s", mask(row.phone), code)
                    self._finish(
                        row.id, status=NotificationStatus.FAILED, error=str(err), attempt=True
                    )
                    report.failed += 1
                    continue
                log.warning("SMS gateway unavailable (to %s): %s", mask(row.phone), err)
                attempts = row.attempts + 1
                if attempts >= self._max_attempts:
                    self._finish(
                        row.id, status=NotificationStatus.FAILED, error=str(err), attempt=True
                    )
                    report.failed += 1
                else:
                    later = now + self._retry_after * 2 ** (attempts - 1)
                    self._finish(row.id, due_at=later, error=str(err), attempt=True)
                    report.retried += 1
                report.paced = True  # do not hammer a gateway that is down
                self._down_until = now + self._retry_after
                break
            self._finish(row.id, status=NotificationStatus.SENT, sent_at=now, message_id=message_id)
            history[row.phone].append(now)
            report.sent += 1
        report.next_due = self._next_due()
        with self._ran:
            for name in ("sent", "failed", "retried", "deferred", "opted_out"):
                setattr(self.totals, name, getattr(self.totals, name) + getattr(report, name))
            self._ran.notify_all()
        return report

    def wait_until(self, condition: Callable[[SendReport], bool], timeout_s: float = 10.0) -> bool:
        """Block until the running totals satisfy ``condition`` (checked after every round)."""
        with self._ran:
            return self._ran.wait_for(lambda: condition(self.totals), timeout_s)

    def _finish(
        self,
        notification_id: uuid.UUID,
        *,
        status: NotificationStatus | None = None,
        due_at: datetime | None = None,
        sent_at: datetime | None = None,
        message_id: str | None = None,
        error: str | None = None,
        attempt: bool = False,
    ) -> None:
        """Record one row's outcome in its own commit: a crash loses at most this one."""
        values: dict[str, Any] = {}
        if status is not None:
            values["status"] = status
        if due_at is not None:
            values["due_at"] = due_at
        if sent_at is not None:
            values["sent_at"] = sent_at
            values["attempts"] = Notification.attempts + 1
        if message_id is not None:
            values["gateway_message_id"] = message_id[:64]
        if error is not None:
            values["last_error"] = error[:200]
        if attempt:
            values["attempts"] = Notification.attempts + 1
        with self._sessions() as session, session.begin():
            session.execute(
                update(Notification).where(Notification.id == notification_id).values(**values)
            )

    def _next_due(self) -> datetime | None:
        with Session(self._engine) as session:
            found: datetime | None = session.scalar(
                select(Notification.due_at)
                .where(Notification.status == NotificationStatus.PENDING)
                .order_by(Notification.due_at)
                .limit(1)
            )
            return found

    # --- the job --------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sms-sender", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            wait_s = 5.0
            try:
                report = self.run_once()
                now = self._clock()
                if report.paced:
                    down = (self._down_until - now).total_seconds() if self._down_until else 0.0
                    wait_s = max(self._bucket.wait_s(now), down, 0.05)
                elif report.next_due is not None:
                    wait_s = min(wait_s, max((report.next_due - now).total_seconds(), 0.05))
            except Exception:
                log.exception("SMS sender: a round failed")
            self._wake.wait(wait_s)
            self._wake.clear()
