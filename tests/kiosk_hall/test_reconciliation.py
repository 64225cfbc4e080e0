"""A thousand duplicated payment requests over real HTTP, then the day-end reconciliation
against a settlement file written the way the acquirer writes it."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from devices.acquirer.settlement import RecordType, SettlementFile, SettlementRecord, render
from servicedb.models import Payment, PaymentReceipt
from servicehall.cli.root import cli
from servicehall.hall.api.kiosk_schemas import CardAuthorisation, CardPaymentIn
from servicehall.hall.kiosk_client import new_idempotency_key
from tests.kiosk_hall.conftest import HALL, Rig
from tests.kiosk_hall.town import DUE_FEN

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 23)
TERMINAL, MERCHANT = "KIOSK001", "898110000000001"


def card_payment(rig: Rig, n: int, stan: int) -> CardPaymentIn:
    return CardPaymentIn(
        idempotency_key=new_idempotency_key(),
        account_no=rig.town[n].account_no,
        bill_ids=rig.town[n].due_bills,
        amount_fen=DUE_FEN,
        authorisation=CardAuthorisation(
            card_masked="622202******1234",
            terminal_id=TERMINAL,
            merchant_id=MERCHANT,
            stan=f"{stan:06d}",
            rrn=f"63270000{stan:04d}",
            auth_code="123456",
            approved_at=rig.clock.now,
        ),
    )


def sale(stan: int, amount: int, kind: RecordType = RecordType.SALE) -> SettlementRecord:
    return SettlementRecord(
        DAY,
        TERMINAL,
        MERCHANT,
        stan,
        f"63270000{stan:04d}",
        "123456",
        kind,
        amount,
        "622202******1234",
        datetime(2026, 11, 23, 10, 0, tzinfo=datetime.now().astimezone().tzinfo).astimezone(),
    )


def run_reconcile(rig: Rig, tmp_path: Path, records: list[SettlementRecord]) -> tuple[int, str]:
    settlement = tmp_path / "settlement.txt"
    settlement.write_bytes(
        render(
            SettlementFile(
                DAY, "48020000000", datetime(2026, 11, 24, 1, 0).astimezone(), tuple(records)
            )
        )
    )
    result = CliRunner().invoke(
        cli,
        [
            "payments",
            "reconcile",
            "--day",
            "2026-11-23",
            "--site",
            HALL,
            "--settlement",
            str(settlement),
        ],
        env={"SERVICEHALL_PATHS__DATA_DIR": str(rig.data_dir)},
    )
    return result.exit_code, result.output


def test_a_thousand_duplicated_requests_charge_each_payment_once_and_reconcile_to_zero(
    rig: Rig, tmp_path: Path
) -> None:
    # Two different payments (two accounts), each sent 500 times from 8 threads.
    bodies = [card_payment(rig, 0, 11), card_payment(rig, 1, 12)]
    clients = [rig.client() for _ in range(8)]

    def send(i: int) -> tuple[str, bool]:
        answer = clients[i % 8].record_card_payment(bodies[i % 2])
        return answer.receipt_no, answer.duplicate

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(1000)))
    assert len({receipt for receipt, _ in answers}) == 2
    assert sum(1 for _, duplicate in answers if not duplicate) == 2  # two charges, 998 echoes
    with Session(rig.engine) as session:
        assert session.scalar(select(func.count()).select_from(PaymentReceipt)) == 2
        booked = session.scalar(
            select(func.sum(Payment.amount_fen)).where(Payment.reference.is_not(None))
        )
    assert booked == 2 * DUE_FEN
    code, output = run_reconcile(rig, tmp_path, [sale(11, DUE_FEN), sale(12, DUE_FEN)])
    assert code == 0, output
    assert "平账 reconciled" in output and "相符 matched           2" in output


def test_every_difference_is_reported_and_the_exit_is_one(rig: Rig, tmp_path: Path) -> None:
    kiosk = rig.client()
    kiosk.record_card_payment(card_payment(rig, 0, 21))  # settled with another amount
    kiosk.record_card_payment(card_payment(rig, 1, 22))  # never settled
    records = [
        sale(21, DUE_FEN + 1),
        sale(23, 5_000),  # the acquirer took money the ledger never saw
        sale(24, 700),
        sale(24, 700, RecordType.REVERSAL),  # taken and given back: nets to zero, no difference
    ]
    code, output = run_reconcile(rig, tmp_path, records)
    assert code == 1
    assert "金额不符" in output and "STAN 000021" in output
    assert "收单缺失" in output and "STAN 000022" in output
    assert "账中缺失" in output and "STAN 000023" in output
    assert "STAN 000024" not in output
    # acquirer (8801 + 5000) − ledger (8800 + 8800) = −3799 fen
    assert "差额 net difference    -¥37.99" in output


def test_a_file_that_is_not_a_settlement_file_is_refused_in_one_line(
    rig: Rig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"hello\r\n")
    caplog.set_level(logging.INFO)
    result = CliRunner().invoke(
        cli,
        ["payments", "reconcile", "--day", "2026-11-23", "--site", HALL, "--settlement", str(bad)],
        env={"SERVICEHALL_PATHS__DATA_DIR": str(rig.data_dir)},
    )
    assert result.exit_code not in (0, 1)
    assert "not a settlement file" in result.output
