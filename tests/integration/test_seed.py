"""The demo city: deterministic, geographically consistent, billed to the fen by the tariff."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from domain.billing.tiered import Tier, charge
from gis.geojson import from_geojson
from servicedb.models import (
    Account,
    Bill,
    BillLine,
    Payment,
    Premises,
    Site,
    TariffTier,
    Zone,
)
from servicehall.demo.seed import AlreadySeeded, seed_city

pytestmark = pytest.mark.integration

AS_OF = date(2026, 11, 22)


def _fingerprint(engine: Engine) -> tuple[object, ...]:
    with engine.connect() as connection:
        return tuple(
            connection.execute(text(sql)).scalar_one()
            for sql in (
                "SELECT count(*) FROM premises",
                "SELECT sum(amount_fen) FROM bills",
                "SELECT sum(amount_fen) FROM payments",
                "SELECT min(account_no) || max(address_zh) FROM accounts JOIN premises ON premises.id = premises_id",
                "SELECT sum(register_litres) FROM meter_readings",
            )
        )


def test_seed_is_deterministic_and_refuses_a_second_run(migrated: Engine, sqlite_url: str) -> None:
    report = seed_city(migrated, premises=300, as_of=AS_OF)
    assert (report.premises, report.bills, report.readings) == (300, 300 * 12, 300 * 13)
    from servicedb import migrate
    from servicedb.engine import make_engine

    other = make_engine(sqlite_url.replace("hall.db", "again.db"))
    migrate.upgrade(other)
    seed_city(other, premises=300, as_of=AS_OF)
    assert _fingerprint(other) == _fingerprint(migrated)
    with pytest.raises(AlreadySeeded):
        seed_city(migrated, premises=1, as_of=AS_OF)
    other.dispose()


def test_premises_lie_in_their_zone(migrated: Engine) -> None:
    seed_city(migrated, premises=200, as_of=AS_OF)
    with Session(migrated) as session:
        zones = {z.id: from_geojson(z.area_geojson) for z in session.scalars(select(Zone))}
        assert len(zones) == 16
        from shapely.geometry import Point

        for premises in session.scalars(select(Premises)):
            assert premises.zone_id in zones
            assert zones[premises.zone_id].covers(Point(premises.lon, premises.lat))


def test_bills_are_the_tariff_applied_to_the_readings(migrated: Engine) -> None:
    seed_city(migrated, premises=150, as_of=AS_OF)
    with Session(migrated) as session:
        for account in session.scalars(select(Account).limit(40)):
            tiers = tuple(
                Tier(t.upper_litres, t.price_fen_per_m3)
                for t in session.scalars(
                    select(TariffTier)
                    .where(TariffTier.tariff_id == account.tariff_id)
                    .order_by(TariffTier.seq)
                )
            )
            bills = session.scalars(
                select(Bill).where(Bill.account_id == account.id).order_by(Bill.period_start)
            ).all()
            assert len(bills) == 12
            year_used = 0
            for bill in bills:
                if bill.period_start.month == 1:
                    year_used = 0
                prior = year_used if len(tiers) > 1 else 0
                assert (
                    bill.amount_fen
                    == charge(tiers, prior_litres=prior, litres=bill.consumption_litres).total.fen
                )
                lines = session.scalars(select(BillLine).where(BillLine.bill_id == bill.id)).all()
                assert sum(line.amount_fen for line in lines) == bill.amount_fen
                year_used += bill.consumption_litres


def test_payments_cover_bills_at_most_once_and_mask_cards(migrated: Engine) -> None:
    seed_city(migrated, premises=200, as_of=AS_OF)
    with Session(migrated) as session:
        over = session.execute(
            select(Payment.bill_id).group_by(Payment.bill_id).having(func.count() > 1)
        ).all()
        assert over == []
        masked = session.scalars(
            select(Payment.card_masked).where(Payment.card_masked.is_not(None))
        ).all()
        assert masked, "some seeded payments are by bank card"
        assert all(m and re.fullmatch(r"\d{6}\*{6}\d{4}", m) for m in masked)
        assert {s.code for s in session.scalars(select(Site))} == {
            "central",
            "hall-xicheng",
            "hall-guanganmen",
        }
