"""The hall's sync agent: push the outbox, pull central's pages, with back-off.

It runs beside the hall and never blocks it: the hall writes its outbox in its own
transactions whether central is there or not. One cycle pushes until the outbox is empty
(or a batch fails), then pulls until central has nothing more.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy import Engine

from servicedb.types import utcnow
from sync import drift, hall_side
from sync.answers import checked
from sync.wire import (
    CONTENT_TYPE,
    DownPage,
    Refused,
    check_versions,
    encode_up,
    parse_rows,
    unpack,
)

log = logging.getLogger(__name__)

Report = Callable[[str, str], None]
HELD_RETRIES = 20
HELD_WAIT_S = 0.1  # (state, detail) for the health board


@dataclass
class AgentSettings:
    central_url: str
    site: str
    site_id: uuid.UUID
    token: str
    schema: str
    batch_rows: int = hall_side.DEFAULT_BATCH_ROWS
    idle_s: float = 2.0
    timeout_s: float = 10.0
    backoff_min_s: float = 1.0
    backoff_max_s: float = 15.0  # jittered: 200 halls back after an outage do not come at once
    drift_every_s: float = 3600.0  # compare with central this often, when caught up


@dataclass
class CycleResult:
    sent_rows: int = 0
    received_rows: int = 0
    error: str | None = None
    repaired: list[str] = field(default_factory=list)


@dataclass
class SyncAgent:
    engine: Engine
    settings: AgentSettings
    report: Report = field(default=lambda state, detail: None)
    client: httpx.Client | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _wake: threading.Event = field(default_factory=threading.Event)
    # Provisioning or the last run left the hall matching: the first check waits its turn.
    _last_drift_check: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = httpx.Client(
                base_url=self.settings.central_url.rstrip("/"),
                timeout=self.settings.timeout_s,
                headers={
                    "Authorization": f"Bearer {self.settings.token}",
                    "X-Servicehall-Site": self.settings.site,
                },
            )

    # --- one cycle (also what tests and the soak call directly) -------------------------
    def push(self) -> int:
        """Send batches until the outbox is empty; the rows sent. Raises on any failure."""
        assert self.client is not None  # noqa: S101 - set in __post_init__
        sent = 0
        while not self._stop.is_set():
            batch = hall_side.build_batch(
                self.engine,
                self.settings.site,
                self.settings.site_id,
                self.settings.schema,
                self.settings.batch_rows,
            )
            if batch is None:
                return sent
            response = self.client.post(
                "/api/v1/sync/up", content=encode_up(batch), headers={"Content-Type": CONTENT_TYPE}
            )
            body = _json_object(response)
            acked = body.get("acked_seq")
            if not isinstance(acked, int):
                raise Refused("protocol", "central's acknowledgement has no acked_seq", 502)
            hall_side.acknowledge(self.engine, min(acked, batch.last_seq))
            sent += len(batch.rows)
        return sent

    def pull(self) -> int:
        """Apply central's pages until it has nothing more; the rows received."""
        assert self.client is not None  # noqa: S101
        received = 0
        waits = 0
        while not self._stop.is_set():
            cursor = hall_side.down_cursor(self.engine)
            response = self.client.get(
                "/api/v1/sync/down",
                params={"txid": cursor[0], "seq": cursor[1], "limit": self.settings.batch_rows},
            )
            document = unpack(checked(response).content)
            check_versions(document, self.settings.schema, we_are="hall")
            nxt = document.get("next")
            if not (
                isinstance(nxt, dict)
                and all(
                    isinstance(nxt.get(k), int) and not isinstance(nxt.get(k), bool) and nxt[k] >= 0
                    for k in ("txid", "seq")
                )
                and isinstance(document.get("more"), bool)
            ):
                raise Refused("corrupt", "central's page has no valid next cursor", 502)
            page = DownPage(
                str(document["schema"]),
                parse_rows(document),
                nxt["txid"],
                nxt["seq"],
                document["more"],
            )
            received += hall_side.apply_down(self.engine, page, cursor)
            held = document.get("held", 0)
            if not page.more:
                if isinstance(held, int) and held > 0 and waits < HELD_RETRIES:
                    # Central holds committed changes behind a transaction still running;
                    # they are usually free within milliseconds.
                    waits += 1
                    self._stop.wait(HELD_WAIT_S)
                    continue
                return received
        return received

    def cycle(self) -> CycleResult:
        result = CycleResult()
        try:
            result.sent_rows = self.push()
            hall_side.record_attempt(self.engine, hall_side.UP, None)
        except (httpx.HTTPError, Refused) as err:
            result.error = _describe(err)
            hall_side.record_attempt(self.engine, hall_side.UP, result.error)
            return result
        try:
            result.received_rows = self.pull()
            hall_side.record_attempt(self.engine, hall_side.DOWN_CURSOR, None)
        except (httpx.HTTPError, Refused) as err:
            result.error = _describe(err)
            hall_side.record_attempt(self.engine, hall_side.DOWN_CURSOR, result.error)
            return result
        if time.monotonic() - self._last_drift_check >= self.settings.drift_every_s:
            result.repaired = self.check_drift()
        return result

    def check_drift(self) -> list[str]:
        """Count and hash each central-owned table on both sides; re-fetch those that differ."""
        if hall_side.pending(self.engine).changes:
            return []  # rows in flight would read as drift
        try:
            repaired = drift.check_and_repair(self.engine, self.client, self.settings.site_id)
        except (httpx.HTTPError, Refused) as err:
            log.warning("drift check failed: %s", _describe(err))
            return []
        self._last_drift_check = time.monotonic()
        if repaired:
            log.warning("drift repaired in %s", ", ".join(repaired))
        return repaired

    # --- the background loop ------------------------------------------------------------
    def start(self) -> SyncAgent:
        self._thread = threading.Thread(target=self._run, name="sync-agent", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Something was written: sync now rather than at the next idle tick."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.settings.timeout_s + 2)
        if self.client is not None:
            self.client.close()

    def _run(self) -> None:
        delay = self.settings.backoff_min_s
        rng = random.Random()  # noqa: S311 - jitter, not a secret
        while not self._stop.is_set():
            try:
                result = self.cycle()
            except Exception as err:  # a bug or a full disk: keep the hall running, say it
                log.exception("sync cycle failed")
                result = CycleResult(error=_describe(err))
            if result.error is None:
                pending = hall_side.pending(self.engine)
                self.report("connected", _detail(pending))
                delay = self.settings.backoff_min_s
                wait = self.settings.idle_s
            else:
                self.report("disconnected", result.error)
                wait = delay * (0.5 + rng.random())
                delay = min(delay * 2, self.settings.backoff_max_s)
            self._wake.wait(wait)
            self._wake.clear()


def _detail(pending: hall_side.Pending) -> str:
    if pending.changes == 0:
        return "up to date"
    age = ""
    if pending.oldest_at is not None:
        age = f", oldest {(utcnow() - pending.oldest_at).total_seconds():.0f} s"
    return f"{pending.changes} change(s) to send{age}"


def _json_object(response: httpx.Response) -> dict[str, object]:
    try:
        body = checked(response).json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise Refused("protocol", "central's answer is not an object", 502)
    return body


def _describe(err: BaseException) -> str:
    if isinstance(err, Refused):
        return f"{err.code}: {err}"
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
