"""What the terminal must remember across a restart: its STAN counter and its attempts.

Both live in small files written atomically (write a temporary file, fsync, rename, fsync the
folder), so a power cut leaves either the old or the new content, never half of one. An
attempt is written *before* its 0200 leaves, so a restart finds every request that may have
reached the acquirer. Nothing here holds a PAN, track data or a PIN block: only the masked
card, the amount, the STAN, the times, the RRN and the caller's idempotency key.
"""

from __future__ import annotations

import enum
import json
import os
import re
import threading
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

MAX_STAN = 999_999
_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MASKED = re.compile(r"[0-9]{6}\**[0-9]{4}")


class JournalCorrupt(RuntimeError):
    """A journal file cannot be read. Never skipped: it may stand for money to give back."""


def write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class StanCounter:
    """System trace audit numbers 1…999999, persisted before use so a restart never repeats one."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._last = 0
        if path.exists():
            try:
                self._last = int(json.loads(path.read_text(encoding="utf-8"))["last"])
            except (ValueError, KeyError, TypeError) as err:
                raise JournalCorrupt(f"{path}: {err}") from None

    def next(self) -> int:
        with self._lock:
            stan = self._last % MAX_STAN + 1
            write_atomically(self._path, json.dumps({"last": stan}))
            self._last = stan
            return stan


class Stage(enum.StrEnum):
    """Where an attempt stands. The first four are not finished and need ``recover()`` after a crash."""

    IN_FLIGHT = "in_flight"  # the 0200 may have left; no usable answer recorded yet
    APPROVED = "approved"  # 0210 with 00; the hall has not confirmed it recorded the payment
    REVERSAL_PENDING = "reversal_pending"  # must be reversed; no 0410 yet
    NOT_SENT = "not_sent"  # no connection: the 0200 never left (final)
    DECLINED = "declined"  # final
    REVERSED = "reversed"  # final: the acquirer has nothing of it
    CONFIRMED = "confirmed"  # final: approved and recorded by the hall

    @property
    def finished(self) -> bool:
        return self in (Stage.NOT_SENT, Stage.DECLINED, Stage.REVERSED, Stage.CONFIRMED)


@dataclass(frozen=True)
class Attempt:
    """One authorisation attempt, keyed by the caller's idempotency key."""

    idempotency_key: str
    stan: int
    amount_fen: int
    masked_pan: str
    transmitted: str  # the 0200's field 7, for a reversal's field 90
    started_at: datetime
    stage: Stage
    response_code: str | None = None
    rrn: str | None = None
    auth_code: str | None = None
    problem: str | None = None  # why the answer was unusable: timeout, cut, garbage, bad_mac …
    reversal_reason: str | None = None  # field 39 of the 0400
    reversal_sends: int = 0  # 0400/0401 messages sent so far

    def __post_init__(self) -> None:
        # The last line of defence: a full card number never reaches a journal file.
        if not _MASKED.fullmatch(self.masked_pan):
            raise ValueError("an attempt keeps only a masked card number")

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        data["started_at"] = self.started_at.isoformat()
        data["stage"] = self.stage.value
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Attempt:
        data = json.loads(text)
        data["started_at"] = datetime.fromisoformat(data["started_at"])
        data["stage"] = Stage(data["stage"])
        return cls(**data)

    def moved(self, stage: Stage, **changes: Any) -> Attempt:
        return replace(self, stage=stage, **changes)


def check_key(idempotency_key: str) -> str:
    if not _KEY.fullmatch(idempotency_key):
        raise ValueError("an idempotency key is 1–64 letters, digits, '-' or '_' (a UUID fits)")
    return idempotency_key


class AttemptJournal:
    """One file per attempt under ``directory``; an in-memory copy answers reads."""

    def __init__(self, directory: Path) -> None:
        self._dir = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._attempts: dict[str, Attempt] = {}
        for path in sorted(directory.glob("*.json")):
            try:
                attempt = Attempt.from_json(path.read_text(encoding="utf-8"))
            except (ValueError, KeyError, TypeError) as err:
                raise JournalCorrupt(f"{path.name}: {err}") from None
            self._attempts[attempt.idempotency_key] = attempt

    def get(self, idempotency_key: str) -> Attempt | None:
        with self._lock:
            return self._attempts.get(idempotency_key)

    def put(self, attempt: Attempt) -> Attempt:
        path = self._dir / f"{check_key(attempt.idempotency_key)}.json"
        with self._lock:
            write_atomically(path, attempt.to_json())
            self._attempts[attempt.idempotency_key] = attempt
        return attempt

    def unfinished(self) -> list[Attempt]:
        with self._lock:
            pending = [a for a in self._attempts.values() if not a.stage.finished]
        return sorted(pending, key=lambda a: a.started_at)

    def prune(self, before: datetime) -> int:
        """Forget finished attempts started before ``before``; unfinished ones always stay."""
        with self._lock:
            old = [a for a in self._attempts.values() if a.stage.finished and a.started_at < before]
            for attempt in old:
                (self._dir / f"{attempt.idempotency_key}.json").unlink(missing_ok=True)
                del self._attempts[attempt.idempotency_key]
        return len(old)


KEEP_FINISHED = timedelta(days=7)  # long enough to answer a duplicate after any kiosk retry
