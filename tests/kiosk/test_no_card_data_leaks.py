"""After the kiosk's payments (one with a PIN) and an SMS proof, no full card number, track
data, PIN, PIN block or SMS code is in any file the kiosk wrote (its journals, the
acquirer's journal, the printer's receipts) or in any log line, at DEBUG.

tests/kiosk/test_kiosk_process.py checks the same for a whole run of the kiosk process
against a real hall (its database included); tests/devices/test_no_card_data_leaks.py for
the reader and printer alone.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

import pytest

from devices.cardreader.simulator import VISA
from kiosk.screens import Purpose, ScreenName
from tests.kiosk.fakes import ACCOUNT, SMS_CODE
from tests.kiosk.rig import UNIONPAY_PIN, Rig, on, swipe_of

pytestmark = pytest.mark.integration
PIN = "123456"


def pay(rig: Rig, card: object) -> None:
    core = rig.core
    core.reset()
    core.tap(ScreenName.HOME, lambda: core.p.account.open(Purpose.PAY))
    for key in ACCOUNT[2:]:
        core.press(ScreenName.ACCOUNT, partial(core.p.account.key, key))
    rig.hall.ledger.clear()  # owes again: each payment is a new one
    core.tap(ScreenName.ACCOUNT, core.p.account.submit)
    core.press(ScreenName.BILL, core.p.card.open)
    core.swiped(card)  # type: ignore[arg-type]
    assert on(core, ScreenName.PAID), core.notice


def test_nothing_secret_is_left_anywhere(
    rig: Rig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log_file = tmp_path / "kiosk.log"
    handler = logging.FileHandler(log_file)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    blocks: list[bytes] = []
    request_pin = rig.pinpad.request_pin

    def recording_pin_pad(*args: object, **kwargs: object) -> bytes:
        block = request_pin(*args, **kwargs)  # type: ignore[arg-type]
        blocks.append(block)
        return block

    rig.pinpad.request_pin = recording_pin_pad  # type: ignore[method-assign]
    try:
        rig.core.beat()
        pay(rig, swipe_of(VISA))
        rig.pinpad.will_type(PIN)
        pay(rig, swipe_of(UNIONPAY_PIN))
        core = rig.core
        core.reset()
        core.tap(ScreenName.HOME, lambda: core.p.account.open(Purpose.RECORDS))
        for key in ACCOUNT[2:]:
            core.press(ScreenName.ACCOUNT, partial(core.p.account.key, key))
        core.tap(ScreenName.ACCOUNT, core.p.account.submit)
        core.tap(ScreenName.PROOF, core.p.proof.send_code)
        for key in SMS_CODE:
            core.press(ScreenName.PROOF, partial(core.p.proof.key, key))
        core.tap(ScreenName.PROOF, core.p.proof.submit)
        assert on(core, ScreenName.RECORDS)
        assert rig.printer_sim.wait_for_receipts(2)
    finally:
        root.removeHandler(handler)
        handler.close()

    assert len(blocks) == 1 and rig.acquirer_sim.charged_fen() == 2 * 9_400
    secrets: list[bytes] = [
        s.encode()
        for card in (VISA, UNIONPAY_PIN)
        for s in (card.pan, card.track1(), card.track2(), card.track2()[1:-1], f"{card.pan}=")
    ]
    secrets += [blocks[0], blocks[0].hex().encode(), blocks[0].hex().upper().encode()]
    secrets += [PIN.encode(), SMS_CODE.encode()]
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert log_file in written
    assert any("payments" in p.parts for p in written) and any(
        "acquirer" in p.parts for p in written
    )
    assert any(p.name.startswith("receipt-") for p in written)
    for path in written:
        content = path.read_bytes()
        for secret in secrets:
            assert secret not in content, f"{secret[:6]!r}… found in {path.relative_to(tmp_path)}"
    for secret in secrets:
        assert secret.decode("latin-1") not in caplog.text
    # The masked forms are what the receipts and journals hold.
    receipt = (tmp_path / "paper" / "receipt-001.txt").read_text(encoding="utf-8")
    assert "411111******1111" in receipt
