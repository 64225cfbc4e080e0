"""Money across sites: a payment taken while central is unreachable is in the hall's ledger
at once and reaches central later exactly once; a bill paid at both sides is counted once
per payment on both, whichever side learns first (the paid state comes from the ledger)."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from domain.accounts import bills_due
from servicedb.models import Account, Payment, PaymentKind, Site
from servicedb.models.billing import PaymentMethod
from servicedb.types import utcnow
from sync.agent import SyncAgent
from tests.sync.harness import Hall, provision_hall, start_central
from tests.sync.workload import HallDay


def _offline(hall: Hall) -> SyncAgent:
    """The same hall's agent, pointed at a central that is not there."""
    dead = httpx.Client(base_url="http://127.0.0.1:9", timeout=0.5)
    return SyncAgent(hall.engine, hall.agent.settings, client=dead)


def _ledger(engine: Engine, origin: uuid.UUID | None = None) -> dict[uuid.UUID, int]:
    with Session(engine) as session:
        query = select(Payment.id, Payment.amount_fen)
        if origin is not None:
            query = query.where(Payment.origin_site_id == origin)
        return {row.id: row.amount_fen for row in session.execute(query)}


def test_offline_payment_reaches_central_once(migrated: Engine, tmp_path: Path) -> None:
    central = start_central(migrated)
    hall = provision_hall(central, "hall-xicheng", tmp_path)
    day = HallDay(hall.engine, "hall-xicheng", random.Random(3))
    offline = _offline(hall)
    assert day.payment()
    paid = _ledger(hall.engine, hall.site_id)
    assert len(paid) == 1  # in the hall's ledger at once
    result = offline.cycle()
    assert result.error is not None  # central unreachable: said, not raised
    assert not set(paid) & set(_ledger(central.engine))

    for _ in range(3):  # catching up, then retrying after a lost answer, then idle
        assert hall.agent.cycle().error is None
    assert _ledger(central.engine, hall.site_id) == paid


def test_bill_paid_at_both_sides_counts_each_payment_once(migrated: Engine, tmp_path: Path) -> None:
    central = start_central(migrated)
    hall = provision_hall(central, "hall-xicheng", tmp_path)
    with Session(hall.engine) as session:
        for account_id in session.scalars(select(Account.id)):
            due = bills_due(session, account_id)
            if due:
                bill = due[0]
                break
    with Session(central.engine) as session:
        central_id = session.scalar(select(Site.id).where(Site.code == "central"))

    # The hall takes half while offline; central takes the other half by another channel.
    half = bill.due_fen // 2
    with Session(hall.engine) as session, session.begin():
        session.add(
            Payment(
                origin_site_id=hall.site_id,
                idempotency_key=f"hall-{uuid.uuid4()}",
                account_id=account_id,
                bill_id=bill.bill_id,
                kind=PaymentKind.PAYMENT,
                method=PaymentMethod.COUNTER,
                amount_fen=half,
                paid_at=utcnow(),
            )
        )
    with Session(central.engine) as session, session.begin():
        session.add(
            Payment(
                origin_site_id=central_id,
                idempotency_key=f"online-{uuid.uuid4()}",
                account_id=account_id,
                bill_id=bill.bill_id,
                kind=PaymentKind.PAYMENT,
                method=PaymentMethod.ONLINE,
                amount_fen=bill.due_fen - half,
                paid_at=utcnow(),
            )
        )
    for _ in range(2):
        assert hall.agent.cycle().error is None

    def owed(engine: Engine) -> int:
        with Session(engine) as session:
            return sum(
                b.due_fen for b in bills_due(session, account_id) if b.bill_id == bill.bill_id
            )

    def count(engine: Engine) -> int:
        with Session(engine) as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(Payment).where(Payment.bill_id == bill.bill_id)
                )
                or 0
            )

    assert owed(hall.engine) == owed(central.engine) == 0
    assert count(hall.engine) == count(central.engine)
    assert _ledger(hall.engine).keys() >= _ledger(central.engine, hall.site_id).keys()
