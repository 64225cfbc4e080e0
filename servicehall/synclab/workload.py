"""What a hall does all day, for the fault-injection soak: tickets served at a counter, card
payments of bills, fault reports, each through the domain's own commands and so each in its
own business transaction with its outbox rows.

Test and benchmark tooling, not production code (``servicehall.synclab.testbed`` runs it in a hall process).
The hall's clock is its own: ``offset`` puts it hours or days away from central's, because
sync must never order anything by a clock.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.accounts import bills_due
from domain.bus import EventBus
from domain.kiosk_site import KioskSite
from domain.payments import CardApproval, PaymentLedger
from domain.queueing.engine import HallQueue
from domain.queueing.errors import CalledNotResolved, QueueError
from domain.uow import UnitsOfWork
from domain.work_orders_intake import FaultIntake, Report, ReportReceipt
from servicedb.models import Account, Street
from servicedb.types import utcnow
from servicehall.demo.seed.city import DEMO_STAFF_PIN

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Each reading of the hall's clock moves it on this much: thousands of operations stay
# inside one day's opening hours (08:00-17:00 in the demo city).
TICK = timedelta(milliseconds=200)
KINDS = ("ticket", "payment", "fault")


def opening_hours_clock(offset: timedelta = timedelta(0)) -> datetime:
    """10:00 today in the hall (a weekday), moved by ``offset``."""
    today = datetime.now(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0)
    while today.weekday() >= 5:
        today += timedelta(days=1)
    return today.astimezone(UTC) + offset


@dataclass
class HallWork:
    engine: Engine
    site: str
    rng: random.Random
    offset: timedelta = timedelta(0)
    done: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    refused: int = 0

    def __post_init__(self) -> None:
        # A restarted hall starts at 10:00 again: its clock goes back, as after an NTP fix.
        self._now = opening_hours_clock(self.offset)
        units = UnitsOfWork(self.engine, EventBus())
        self.queue = HallQueue(self.engine, self.site, clock=self.clock, units=units)
        self.kiosk = KioskSite.load(units, self.site)
        self.ledger = PaymentLedger(self.kiosk)
        self.faults = FaultIntake(self.kiosk)
        self._signed = False

    def clock(self) -> datetime:
        self._now += TICK
        return self._now

    def step(self) -> str:
        """One operation of a random kind; its name."""
        kind = self.rng.choices(KINDS, weights=(5, 3, 1))[0]
        if kind == "ticket":
            self.ticket()
        elif kind == "payment":
            if not self.payment():
                kind = "ticket"
                self.ticket()
        else:
            self.fault_report()
        self.done[kind] += 1
        return kind

    def ticket(self) -> None:
        if not self._signed:
            try:
                self.queue.sign_in(1, "S001", DEMO_STAFF_PIN)
            except Exception:
                self.refused += 1
            self._signed = True
        self.queue.take_ticket(self.rng.choice(["payment", "enquiry"]))
        try:
            called = self.queue.call_next(1)
        except CalledNotResolved:
            # The previous process was killed between calling a ticket and finishing it.
            with contextlib.suppress(QueueError):
                self.queue.start(1)
            self.queue.finish(1)
            called = self.queue.call_next(1)
        if called is not None:
            self.queue.start(1)
            self.queue.finish(1)

    def payment(self) -> bool:
        """Pay the oldest bill due of a random account of this hall's slice; False if none."""
        with Session(self.engine) as session:
            accounts = session.execute(select(Account.id, Account.account_no)).all()
            chosen = None
            for account_id, number in self.rng.sample(accounts, min(8, len(accounts))):
                due = bills_due(session, account_id)
                if due:
                    chosen = (number, due[0])
                    break
            if chosen is None:
                return False
            account_no, bill = chosen
        approval = CardApproval(
            card_masked="622848******1234",
            terminal_id="T0000001",
            merchant_id="M00000000000001",
            stan=f"{self.rng.randrange(1, 999999):06d}",
            rrn=f"{self.rng.randrange(10**11, 10**12)}",
            auth_code=f"{self.rng.randrange(10**5, 10**6)}",
            approved_at=utcnow(),
        )
        self.ledger.record_card(
            key=str(uuid.uuid4()),
            kiosk="kiosk-1",
            account_no=account_no,
            bill_ids=[bill.bill_id],
            amount_fen=bill.due_fen,
            approval=approval,
        )
        return True

    def fault_report(self) -> ReportReceipt:
        with Session(self.engine) as session:
            street = session.scalar(select(Street.code).limit(1))
        return self.faults.report(
            Report(
                key=str(uuid.uuid4()),
                kind="repair",
                category="no_water",
                account_no=None,
                street_code=street,
                contact_phone="13800138000",
                details=[],
            ),
            "kiosk-1",
        )
