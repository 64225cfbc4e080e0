"""Day-end reconciliation: the acquirer's settlement file against the hall's ledger.

A settlement movement and a receipt are the same money when terminal id + STAN + RRN agree.
For each such key the acquirer's net (SALE − RVSL) must equal the ledger's net (the ledger
rows whose ``reference`` is the receipt's number, reversals included). Every difference is
reported: money the acquirer settled that the ledger lacks, ledger money the acquirer never
settled, and amounts that disagree, with the net difference over the day.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select, tuple_

from domain.kiosk_site import KioskSite
from servicedb.models import Payment, PaymentReceipt, ReceiptMethod

Key = tuple[str, str, str]  # terminal id, STAN (6 digits), RRN


@dataclass(frozen=True)
class AcquirerMovement:
    terminal_id: str
    stan: str
    rrn: str
    kind: str  # SALE | RVSL
    amount_fen: int


@dataclass(frozen=True)
class Difference:
    kind: str  # missing_in_ledger | missing_at_acquirer | amount_mismatch
    terminal_id: str
    stan: str
    rrn: str
    acquirer_fen: int
    ledger_fen: int
    receipt_no: str | None


@dataclass
class ReconciliationReport:
    day: date
    acquirer_net_fen: int = 0
    ledger_net_fen: int = 0
    matched: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def net_difference_fen(self) -> int:
        return self.acquirer_net_fen - self.ledger_net_fen

    @property
    def reconciled(self) -> bool:
        return not self.differences and self.net_difference_fen == 0


def reconcile(
    site: KioskSite, day: date, movements: list[AcquirerMovement]
) -> ReconciliationReport:
    acquirer: dict[Key, int] = defaultdict(int)
    for m in movements:
        acquirer[(m.terminal_id, m.stan, m.rrn)] += (
            m.amount_fen if m.kind == "SALE" else -m.amount_fen
        )
    start = datetime.combine(day, time.min, site.timezone)
    end = start + timedelta(days=1)
    with site.read() as session:
        clauses = [PaymentReceipt.paid_at.between(start, end - timedelta(microseconds=1))]
        if acquirer:
            keys = list(acquirer)
            for chunk in range(0, len(keys), 500):
                clauses.append(
                    tuple_(PaymentReceipt.terminal_id, PaymentReceipt.stan, PaymentReceipt.rrn).in_(
                        keys[chunk : chunk + 500]
                    )
                )
        receipts = session.execute(
            select(
                PaymentReceipt.receipt_no,
                PaymentReceipt.terminal_id,
                PaymentReceipt.stan,
                PaymentReceipt.rrn,
                PaymentReceipt.paid_at,
            ).where(
                PaymentReceipt.method == ReceiptMethod.BANK_CARD,
                PaymentReceipt.origin_site_id == site.site_id,
                or_(*clauses),
            )
        ).all()
        nets = (
            dict(
                session.execute(
                    select(Payment.reference, func.sum(Payment.amount_fen))
                    .where(Payment.reference.in_([r.receipt_no for r in receipts]))
                    .group_by(Payment.reference)
                ).all()
            )
            if receipts
            else {}
        )
    report = ReconciliationReport(day)
    ledger: dict[Key, tuple[str, int]] = {}
    for r in receipts:
        key = (r.terminal_id or "", r.stan or "", r.rrn or "")
        ledger[key] = (r.receipt_no, int(nets.get(r.receipt_no, 0)))
    for key in sorted(set(acquirer) | set(ledger)):
        acq = acquirer.get(key, 0)
        receipt_no, led = ledger.get(key, (None, 0))
        report.acquirer_net_fen += acq
        report.ledger_net_fen += led
        if key not in ledger:
            if acq != 0:
                report.differences.append(Difference("missing_in_ledger", *key, acq, 0, None))
        elif key not in acquirer:
            if led != 0:
                report.differences.append(
                    Difference("missing_at_acquirer", *key, 0, led, receipt_no)
                )
        elif acq != led:
            report.differences.append(Difference("amount_mismatch", *key, acq, led, receipt_no))
        else:
            report.matched += 1
    return report
