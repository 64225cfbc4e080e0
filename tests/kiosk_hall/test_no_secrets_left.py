"""After a real card payment (reader parser → acquirer simulator over TCP → hall over HTTP) and
a one-time code, no full card number, track data or code is in any database, log or file —
and the acquirer's own settlement file reconciles with the hall's ledger to 0."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from devices.acquirer.client import Acquirer, Approved
from devices.acquirer.keys import DEMO_KEYS
from devices.acquirer.protocol import CHINA_TIME
from devices.acquirer.simulator import AcquirerSimulator
from devices.cardreader.protocol import parse_swipe
from devices.cardreader.simulator import VISA
from servicehall.cli.root import cli
from servicehall.hall.api.kiosk_schemas import (
    CardAuthorisation,
    CardPaymentIn,
    ProofMethod,
    VerifyIn,
)
from servicehall.hall.kiosk_client import new_idempotency_key
from tests.kiosk_hall.conftest import HALL, Rig
from tests.kiosk_hall.town import DUE_FEN

pytestmark = pytest.mark.integration
TID, MID = "KIOSK001", "898110048160001"


def test_no_card_data_or_code_is_left_anywhere_and_the_day_reconciles(
    rig: Rig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rig.clock.now = datetime.now(UTC)  # the acquirer simulator stamps with the real clock
    log_file = tmp_path / "run.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    sim = AcquirerSimulator()
    terminal_dir = tmp_path / "terminal"
    try:
        kiosk = rig.client()
        # Proof by SMS: the code travels kiosk → hall → gateway → phone, and nowhere else.
        kiosk.request_code("XC000000001")
        assert rig.kiosk.sms_simulator is not None
        code = re.findall(r"\b([0-9]{6})\b", rig.kiosk.sms_simulator.inbox("13800130001")[-1])[0]
        kiosk.verify("XC000000001", VerifyIn(method=ProofMethod.SMS, code=code))
        # A card payment as the kiosk makes it.
        swiped = parse_swipe((VISA.track1() + VISA.track2()).encode(), today=rig.clock.now.date())
        key = new_idempotency_key()
        acquirer = Acquirer(
            sim.host,
            sim.port,
            terminal_id=TID,
            merchant_id=MID,
            keys=DEMO_KEYS,
            state_dir=terminal_dir,
        )
        outcome = acquirer.authorise(swiped, DUE_FEN, key)
        swiped.forget()
        assert isinstance(outcome, Approved)
        recorded = kiosk.record_card_payment(
            CardPaymentIn(
                idempotency_key=key,
                account_no="XC000000001",
                bill_ids=rig.town[0].due_bills,
                amount_fen=DUE_FEN,
                authorisation=CardAuthorisation(
                    card_masked=outcome.masked_pan,
                    terminal_id=TID,
                    merchant_id=MID,
                    stan=f"{outcome.stan:06d}",
                    rrn=outcome.rrn,
                    auth_code=outcome.auth_code or "000000",
                    approved_at=rig.clock.now,
                ),
            )
        )
        acquirer.confirm(key)
        acquirer.close()
        assert recorded.card_masked == outcome.masked_pan
        day = rig.clock.now.astimezone(CHINA_TIME).date()
        settlement = sim.write_settlement(tmp_path / "settlement", day)
    finally:
        sim.close()
        root.removeHandler(handler)
        handler.close()

    result = CliRunner().invoke(
        cli,
        [
            "payments",
            "reconcile",
            "--day",
            day.isoformat(),
            "--site",
            HALL,
            "--settlement",
            str(settlement),
        ],
        env={"SERVICEHALL_PATHS__DATA_DIR": str(rig.data_dir)},
    )
    assert result.exit_code == 0, result.output

    secrets = [VISA.pan, VISA.track2()[1:-1], VISA.track1()[1:-1], code]
    with rig.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
    files = [p for p in [*rig.data_dir.rglob("*"), *tmp_path.rglob("*")] if p.is_file()]
    assert any(p.suffix == ".db" for p in files) and log_file in files
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{path.name} holds a secret"
    for secret in secrets:
        assert secret not in caplog.text
