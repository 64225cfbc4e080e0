"""Migrations bring empty SQLite and PostgreSQL databases to head, and agree with the models."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from servicedb import migrate
from servicedb.base import Base
from servicedb.engine import make_engine
from servicedb.models import (
    Account,
    Customer,
    Payment,
    PaymentKind,
    Premises,
    Site,
    SiteKind,
    Tariff,
)
from servicedb.models.billing import PaymentMethod, TierPeriod
from servicedb.models.customers import ServiceKind

pytestmark = pytest.mark.integration


def test_empty_database_upgrades_to_head_and_matches_models(db_url: str) -> None:
    engine = make_engine(db_url)
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    migrate.check(engine)  # raises if the models and the migrations disagree
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_downgrade_to_base_and_up_again(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    assert inspect(engine).get_table_names() == ["alembic_version"]
    migrate.upgrade(engine)
    assert migrate.is_at_head(engine)
    engine.dispose()


def _account(session: Session) -> Account:
    site = Site(code="central", kind=SiteKind.CENTRAL, name_zh="中心", name_en="Centre")
    tariff = Tariff(
        code="T",
        name_zh="水价",
        name_en="Water",
        service_kind=ServiceKind.WATER,
        tier_period=TierPeriod.ANNUAL,
        valid_from=date(2024, 1, 1),
    )
    session.add_all([site, tariff])
    session.flush()
    customer = Customer(origin_site_id=site.id, name="王伟")
    premises = Premises(
        origin_site_id=site.id,
        address_zh="北京市西城区",
        address_en="Xicheng, Beijing",
        lon=116.36,
        lat=39.91,
    )
    session.add_all([customer, premises])
    session.flush()
    account = Account(
        origin_site_id=site.id,
        account_no="XC1",
        service_kind=ServiceKind.WATER,
        customer_id=customer.id,
        premises_id=premises.id,
        tariff_id=tariff.id,
        opened_at=datetime(2024, 1, 1, tzinfo=UTC),
    )
    session.add(account)
    session.flush()
    return account


def _payment(account: Account, fen: int, key: str) -> Payment:
    return Payment(
        origin_site_id=account.origin_site_id,
        idempotency_key=key,
        account_id=account.id,
        kind=PaymentKind.PAYMENT,
        method=PaymentMethod.COUNTER,
        amount_fen=fen,
        paid_at=datetime.now(UTC),
    )


@pytest.mark.parametrize("fen", [1, 99, 123_456_789_012, 2**62, -(2**62)])
def test_money_round_trips_exactly(migrated: Engine, fen: int) -> None:
    with Session(migrated) as session:
        account = _account(session)
        session.add(_payment(account, fen, f"k{fen}"))
        session.commit()
    with migrated.connect() as connection:
        stored = connection.execute(text("SELECT amount_fen FROM payments")).scalar_one()
        assert stored == fen and isinstance(stored, int)
        if migrated.dialect.name == "sqlite":
            kind = connection.execute(text("SELECT typeof(amount_fen) FROM payments")).scalar_one()
            assert kind == "integer"  # never REAL


def test_no_money_column_is_floating_point() -> None:
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if "fen" in column.name:
                assert column.type.python_type is int, f"{table.name}.{column.name}"


def test_payment_ledger_refuses_update_and_delete(migrated: Engine) -> None:
    with Session(migrated) as session:
        account = _account(session)
        session.add(_payment(account, 500, "once"))
        session.commit()
    for statement in ("UPDATE payments SET amount_fen = 1", "DELETE FROM payments"):
        with migrated.connect() as connection, pytest.raises(DBAPIError, match="append-only"):
            connection.execute(text(statement))
    with migrated.connect() as connection:
        assert connection.execute(text("SELECT amount_fen FROM payments")).scalar_one() == 500


def test_idempotency_key_lands_once(migrated: Engine) -> None:
    with Session(migrated) as session:
        account = _account(session)
        session.add(_payment(account, 500, "retry-me"))
        session.commit()
        session.add(_payment(account, 500, "retry-me"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_timestamps_are_aware_utc_and_naive_ones_are_refused(migrated: Engine) -> None:
    with Session(migrated) as session:
        account = _account(session)
        session.commit()
        session.expire_all()
        reread = session.get(Account, account.id)
        assert reread is not None and reread.opened_at.tzinfo is not None
        assert reread.opened_at == datetime(2024, 1, 1, tzinfo=UTC)
        reread.opened_at = datetime(2024, 1, 1)
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


def test_foreign_keys_are_enforced(migrated: Engine) -> None:
    with Session(migrated) as session:
        session.add(Customer(origin_site_id=uuid.uuid4(), name="nobody's"))
        with pytest.raises(IntegrityError):
            session.commit()
