"""What a hall does all day, through the domain's own commands: tickets served at counters,
card payments of bills, fault reports. Used by the sync tests and the soak in bench/."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.accounts import bills_due
from domain.bus import EventBus
from domain.kiosk_site import KioskSite
from domain.payments import CardApproval, PaymentLedger
from domain.queueing.engine import HallQueue
from domain.uow import UnitsOfWork
from domain.work_orders_intake import FaultIntake, Report
from servicedb.models import Account, Street
from servicedb.types import utcnow
from servicehall.demo.seed.city import DEMO_STAFF_PIN

SHANGHAI = ZoneInfo("Asia/Shanghai")


def opening_hours_clock() -> datetime:
    """A weekday at 10:00 in the hall: tickets may be taken."""
    today = datetime.now(SHANGHAI).replace(hour=10, minute=0, second=0, microsecond=0)
    while today.weekday() >= 5:
        today += timedelta(days=1)
    return today.astimezone(UTC)


@dataclass
class HallDay:
    engine: Engine
    site: str
    rng: random.Random

    def __post_init__(self) -> None:
        self._now = opening_hours_clock()
        units = UnitsOfWork(self.engine, EventBus())
        self.queue = HallQueue(self.engine, self.site, clock=self.clock, units=units)
        self.kiosk = KioskSite.load(units, self.site)
        self.ledger = PaymentLedger(self.kiosk)
        self.faults = FaultIntake(self.kiosk)
        self._signed = False

    def clock(self) -> datetime:
        self._now += timedelta(seconds=7)
        return self._now

    def ticket(self) -> None:
        if not self._signed:
            self.queue.sign_in(1, "S001", DEMO_STAFF_PIN)
            self._signed = True
        self.queue.take_ticket(self.rng.choice(["payment", "enquiry"]))
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

    def fault_report(self) -> None:
        with Session(self.engine) as session:
            street = session.scalar(select(Street.code).limit(1))
        self.faults.report(
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
