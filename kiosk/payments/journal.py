"""The kiosk's payment journal: what it must still remember about a payment after a restart.

One small JSON file per attempt, written atomically (``devices.acquirer.journal.
write_atomically``: temporary file, fsync, rename, fsync the folder) *before* each step's
side effect: the attempt before the acquirer sees it, the approval before the hall is asked
to record it. The acquirer keeps its own journal (STAN, reversals); this one holds what only
the kiosk knows — which account and bills the money was for, and the acquirer's answer in
the shape the hall records (``CardAuthorisation``: BIN + last four, never the card number).
"""

from __future__ import annotations

import enum
import json
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from devices.acquirer.journal import JournalCorrupt, check_key, write_atomically
from servicehall.hall.api.kiosk_schemas import CardAuthorisation, PaymentOut

KEEP_FINISHED = timedelta(days=7)


class Step(enum.StrEnum):
    STARTED = "started"  # the key is made and the amount confirmed; the card may be at the bank
    APPROVED = "approved"  # the bank approved; the hall has not yet said it recorded it
    RECORDED = "recorded"  # final: in the hall's ledger
    REFUSED = "refused"  # final: the hall refused to record it, so the bank was told to reverse
    NOT_CHARGED = "not_charged"  # final: declined, unavailable (reversed), or abandoned

    @property
    def finished(self) -> bool:
        return self in (Step.RECORDED, Step.REFUSED, Step.NOT_CHARGED)


@dataclass(frozen=True)
class Entry:
    key: str
    account_no: str
    bill_ids: tuple[str, ...]
    amount_fen: int
    period: str  # for the receipt: 2026-10
    started_at: datetime
    step: Step
    authorisation: CardAuthorisation | None = None
    payment: PaymentOut | None = None
    note: str | None = None  # why it ended as it did, for staff (never card data)

    def moved(self, step: Step, **changes: Any) -> Entry:
        return replace(self, step=step, **changes)

    def to_json(self) -> str:
        return json.dumps(
            {
                "key": self.key,
                "account_no": self.account_no,
                "bill_ids": list(self.bill_ids),
                "amount_fen": self.amount_fen,
                "period": self.period,
                "started_at": self.started_at.isoformat(),
                "step": self.step.value,
                "authorisation": (
                    self.authorisation.model_dump(mode="json") if self.authorisation else None
                ),
                "payment": self.payment.model_dump(mode="json") if self.payment else None,
                "note": self.note,
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> Entry:
        data = json.loads(text)
        authorisation = data.get("authorisation")
        payment = data.get("payment")
        return cls(
            key=check_key(data["key"]),
            account_no=str(data["account_no"]),
            bill_ids=tuple(str(b) for b in data["bill_ids"]),
            amount_fen=int(data["amount_fen"]),
            period=str(data["period"]),
            started_at=datetime.fromisoformat(data["started_at"]),
            step=Step(data["step"]),
            authorisation=(
                CardAuthorisation.model_validate(authorisation) if authorisation else None
            ),
            payment=PaymentOut.model_validate(payment) if payment else None,
            note=data.get("note"),
        )


class PaymentJournal:
    """One file per attempt under ``directory``; reads are answered from memory."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] = {}
        for path in sorted(directory.glob("*.json")):
            try:
                entry = Entry.from_json(path.read_text(encoding="utf-8"))
            except (ValueError, KeyError, TypeError) as err:
                # Never skipped: the file may stand for a customer's money.
                raise JournalCorrupt(f"{path.name}: {err}") from None
            self._entries[entry.key] = entry

    def get(self, key: str) -> Entry | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, entry: Entry) -> Entry:
        path = self._dir / f"{check_key(entry.key)}.json"
        with self._lock:
            write_atomically(path, entry.to_json())
            self._entries[entry.key] = entry
        return entry

    def unfinished(self) -> list[Entry]:
        with self._lock:
            open_ = [e for e in self._entries.values() if not e.step.finished]
        return sorted(open_, key=lambda e: e.started_at)

    def prune(self, before: datetime) -> int:
        """Forget finished entries started before ``before``; unfinished ones always stay."""
        with self._lock:
            old = [e for e in self._entries.values() if e.step.finished and e.started_at < before]
            for entry in old:
                (self._dir / f"{entry.key}.json").unlink(missing_ok=True)
                del self._entries[entry.key]
        return len(old)
