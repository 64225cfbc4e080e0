"""Orders out to the technicians' phones over MQTT, and their progress back into the order.

**Out.** When an order is dispatched to a crew, one ``assignment`` message per technician of
the crew goes to ``servicehall/v1/technicians/<tracker_user>/orders`` (QoS 1, not retained;
the phone's persistent session keeps it while the phone is offline — Mosquitto's
``persistence`` keeps it across a broker restart). It is written to the ``assignment_messages``
outbox *inside the dispatch's transaction* (an in-transaction bus listener), and published
after the commit; a row not yet handed to the broker — central stopped, or its MQTT link was
down — is published by the next ``publish_pending`` (every few seconds, and at start). Every copy
— another technician of the crew, a republish, a QoS 1 redelivery — carries the same
message id, and the phone shows it once.

**In.** Phones report on ``servicehall/v1/technicians/<user>/progress``. The reporter is the
topic's user (the broker's ACL lets only that user write there), its crew is looked up at
that moment, and the report goes to the work-order service as a ``FieldReport`` whose
event id is the report's id — a report sent twice is applied once
(``domain.work_orders.WorkOrders.report``). The phone gets an ``ack`` on its orders topic:
applied, ignored (duplicate or stale), refused (with the reason in Chinese and English), or
rejected (unreadable). A report that could not be applied at all (the database was
unreachable) gets no ack: the phone keeps it and sends it again, and its id makes that
harmless.

Wiring (``servicehall.bootstrap``): ``attach`` before the MQTT link connects, ``serve(orders,
bus)`` with central's work-order service and its bus (``WorkOrderDispatched``), ``start``.
The message id is the event's ``event_key`` (the same when a dispatch is announced again),
else derived from (order, crew, dispatch time).
"""

from __future__ import annotations

import collections
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast

from sqlalchemy import Engine, Row, select, update
from sqlalchemy.orm import Session

from domain.bus import EventBus
from domain.dispatch_events import WorkOrderDispatched
from domain.events import Event
from domain.work_order_commands import FieldReport, ReportKind
from domain.work_orders import ReportOutcome
from field_dispatch.assignments import (
    PROGRESS_SUBSCRIPTION,
    Ack,
    AckResult,
    Assignment,
    ProgressReport,
    Step,
    Withdrawal,
    encode_ack,
    encode_assignment,
    encode_withdrawal,
    orders_topic,
    parse_progress,
    progress_user,
)
from field_dispatch.owntracks import Rejected
from field_dispatch.vocabulary import Category, Status
from gis.coords import amap_marker_url
from servicedb.models import (
    AssignmentMessage,
    Premises,
    Technician,
    WorkOrder,
)
from servicedb.types import utcnow
from servicehall.platform.health import HealthBoard

log = logging.getLogger(__name__)

COMPONENT = "assignments"
# uuid5 namespace for assignment message ids (fixed: the same dispatch gives the same id).
_MESSAGES = uuid.UUID("5b0c6f2e-3f7e-4d55-9a41-8f2f7c1d0e60")


class DispatchedOrder(Protocol):
    """What a "work order dispatched" event must carry for the order to reach the crew."""

    @property
    def order_id(self) -> uuid.UUID: ...
    @property
    def crew_id(self) -> uuid.UUID: ...
    @property
    def at(self) -> datetime: ...


class ReportsProgress(Protocol):
    """The work-order service's side of a technician's report (``WorkOrders.report``)."""

    def report(self, report: FieldReport) -> ReportOutcome: ...


class Link(Protocol):
    """What this needs of the process's MQTT link (``platform.mqtt_link.MqttLink``)."""

    def subscribe(self, topic: str, handler: Callable[[str, bytes], None], qos: int = 1) -> None:
        """Call ``handler(topic, payload)`` for every message on ``topic``."""

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Hand a message to the broker (queued while disconnected)."""


@dataclass
class AssignmentCounters:
    published: int = 0
    applied: int = 0
    ignored: int = 0
    refused: int = 0
    rejected: int = 0  # unreadable reports (answered)
    unknown_user: int = 0  # a progress topic of nobody we know (not answered)


_ACK_TEXT = {
    AckResult.REJECTED: (
        "无法识别的报告，请重新发送",
        "The report could not be read; send it again",
    ),
}


_KINDS = {
    Step.ACCEPTED: ReportKind.ACCEPTED,
    Step.DECLINED: ReportKind.DECLINED,
    Step.EN_ROUTE: ReportKind.SET_OFF,
    Step.ON_SITE: ReportKind.ARRIVED,
    Step.RESOLVED: ReportKind.RESOLVED,
}


# A phone's time is whole seconds; the dispatch's is not. A report made in the second the
# order was dispatched must not read as made before it (the order would ignore it as
# stale), so a report counts as made at the end of its second.
_END_OF_SECOND = timedelta(microseconds=999_999)


def field_report(report: ProgressReport, crew_id: uuid.UUID, user: str) -> FieldReport:
    """The work-order service's report for a phone's: its id is the report's."""
    return FieldReport(
        event_id=report.report_id,
        order_id=uuid.UUID(report.order_id),
        crew_id=crew_id,
        kind=_KINDS[report.step],
        at=report.at + _END_OF_SECOND,
        by=user,
        result=report.result,
        note=report.reason if report.step is Step.DECLINED else report.note,
    )


def message_id(event: DispatchedOrder) -> uuid.UUID:
    """The same for every copy of one dispatch, and when the dispatch is announced again."""
    key = getattr(event, "event_key", None)
    if isinstance(key, str) and key:
        return uuid.uuid5(_MESSAGES, key)
    return uuid.uuid5(_MESSAGES, f"{event.order_id}/{event.crew_id}/{event.at.isoformat()}")


class AssignmentPublisher:
    """One per central process. ``attach`` to the link before it starts; ``listen`` on the
    bus the work-order service commits through; ``start`` after the link is up."""

    def __init__(
        self,
        engine: Engine,
        link: Link,
        health: HealthBoard | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        connected: Callable[[], bool] = lambda: True,
        retry_every_s: float = 5.0,
    ) -> None:
        self._engine = engine
        self._link = link
        self._progress: ReportsProgress | None = None
        self._health = health
        self._clock = clock
        self._connected = connected
        self._retry_every_s = retry_every_s
        self._reports: collections.deque[tuple[str, bytes]] = collections.deque()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.counters = AssignmentCounters()
        self._changed = threading.Condition()

    # --- wiring ---------------------------------------------------------------------------

    def attach(self) -> None:
        self._link.subscribe(PROGRESS_SUBSCRIPTION, self._offer_report, qos=1)

    def serve(
        self,
        progress: ReportsProgress,
        bus: EventBus,
        event_type: type[Event] = WorkOrderDispatched,
    ) -> None:
        """Reports go to ``progress``; dispatches announced on ``bus`` go to the phones."""
        self._progress = progress
        self.listen(bus, event_type)

    def listen(self, bus: EventBus, event_type: type[Event] = WorkOrderDispatched) -> None:
        """Outbox rows inside the dispatch's transaction; publishing after its commit."""
        bus.subscribe_in_transaction(event_type, self._record_event)
        bus.subscribe(event_type, lambda _event: self._wake.set())

    def start(self) -> None:
        if self._progress is None:
            raise RuntimeError("serve() the work-order service before start()")
        self._count("published", 0)  # on the health board from the start
        self._thread = threading.Thread(target=self._run, name="assignments", daemon=True)
        self._thread.start()
        self._wake.set()  # what an earlier run left unpublished goes out now

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self._retry_every_s)
            self._wake.clear()
            try:
                while self._reports:
                    self.handle_progress(*self._reports.popleft())
                self.publish_pending()
            except Exception:
                log.exception("assignments: a round failed")

    def _offer_report(self, topic: str, payload: bytes) -> None:
        self._reports.append((topic, payload))
        self._wake.set()

    # --- out ------------------------------------------------------------------------------

    def _record_event(self, session: Session, event: Event) -> None:
        missing = [name for name in ("order_id", "crew_id", "at") if not hasattr(event, name)]
        if missing:
            raise TypeError(
                f"{type(event).__name__} lacks {', '.join(missing)}: see DispatchedOrder"
            )
        self.record(session, cast(DispatchedOrder, event))

    def record(self, session: Session, event: DispatchedOrder) -> None:
        """Write the outbox rows for a dispatch, in the dispatch's own transaction."""
        order = session.get(WorkOrder, event.order_id)
        if order is None:
            raise LookupError(f"work order {event.order_id} is not in the database")
        address = None
        if order.premises_id is not None:
            address = session.scalar(
                select(Premises.address_zh).where(Premises.id == order.premises_id)
            )
        msg_id = message_id(event)
        due = getattr(event, "arrive_by", None) or order.arrive_by or order.due_at
        payload = encode_assignment(
            Assignment(
                msg_id=str(msg_id),
                order_id=str(order.id),
                number=order.number,
                crew_id=str(event.crew_id),
                category=Category(order.category.value),
                priority=order.priority,
                description=order.description,
                lon=order.lon,
                lat=order.lat,
                dispatched_at=event.at,
                due_at=due,
                address=address or getattr(event, "address", None),
                map_url=amap_marker_url(order.lon, order.lat, order.number),
            )
        ).decode()
        technicians = session.execute(
            select(Technician.id, Technician.tracker_user).where(
                Technician.crew_id == event.crew_id
            )
        ).all()
        if not technicians:
            log.warning(
                "crew %s has no technicians: order %s reaches no phone", event.crew_id, order.number
            )
        self._queue(session, msg_id, technicians, order.id, event.crew_id, payload)
        previous = getattr(event, "previous_crew_id", None)
        if previous is not None and previous != event.crew_id:
            # The crew it was taken from drops it (改派): their phones would work it otherwise.
            withdrawal_id = uuid.uuid5(_MESSAGES, f"withdrawn/{msg_id}")
            body = encode_withdrawal(
                Withdrawal(
                    msg_id=str(withdrawal_id),
                    order_id=str(order.id),
                    number=order.number,
                    withdrawn_at=event.at,
                )
            ).decode()
            former = session.execute(
                select(Technician.id, Technician.tracker_user).where(Technician.crew_id == previous)
            ).all()
            self._queue(session, withdrawal_id, former, order.id, previous, body)

    def _queue(
        self,
        session: Session,
        msg_id: uuid.UUID,
        technicians: Sequence[Row[uuid.UUID, str]],
        order_id: uuid.UUID,
        crew_id: uuid.UUID,
        payload: str,
    ) -> None:
        for tech_id, user in technicians:
            if session.get(AssignmentMessage, (msg_id, tech_id)) is not None:
                continue  # the same message recorded again: one is enough
            session.add(
                AssignmentMessage(
                    id=msg_id,
                    technician_id=tech_id,
                    order_id=order_id,
                    crew_id=crew_id,
                    topic=orders_topic(user),
                    payload=payload,
                    created_at=self._clock(),
                )
            )

    def publish_pending(self) -> int:
        """Hand every unpublished outbox row to the broker, oldest first.

        A row is marked once handed over; paho then keeps it until the broker acknowledges,
        across reconnects. Dying between the two republishes it: same id, harmless.
        """
        if not self._connected():
            return 0
        with self._lock:
            with Session(self._engine) as session:
                rows = session.execute(
                    select(
                        AssignmentMessage.id,
                        AssignmentMessage.technician_id,
                        AssignmentMessage.topic,
                        AssignmentMessage.payload,
                    )
                    .where(AssignmentMessage.published_at.is_(None))
                    .order_by(AssignmentMessage.created_at)
                    .limit(500)
                ).all()
            for _msg_id, _tech_id, topic, payload in rows:
                self._link.publish(topic, payload.encode(), qos=1, retain=False)
            if rows:
                with Session(self._engine) as session, session.begin():
                    now = self._clock()
                    for msg_id, tech_id, _topic, _payload in rows:
                        session.execute(
                            update(AssignmentMessage)
                            .where(
                                AssignmentMessage.id == msg_id,
                                AssignmentMessage.technician_id == tech_id,
                            )
                            .values(published_at=now)
                        )
        if rows:
            self._count("published", len(rows))
        return len(rows)

    # --- in -------------------------------------------------------------------------------

    def handle_progress(self, topic: str, payload: bytes) -> Ack | None:
        """Apply one report and answer the phone; None when there is nobody to answer."""
        user = progress_user(topic)
        crew_id = None if user is None else self._crew_of(user)
        if user is None or crew_id is None:
            self._count("unknown_user")
            return None
        report = parse_progress(payload, self._clock())
        if isinstance(report, Rejected):
            ack = Ack(
                None,
                None,
                AckResult.REJECTED,
                report.reason.value,
                None,
                *_ACK_TEXT[AckResult.REJECTED],
            )
        else:
            assert self._progress is not None  # noqa: S101 - start() checks it
            outcome = self._progress.report(field_report(report, crew_id, user))
            ack = _answer(report, outcome)
        self._count(ack.result.value)
        self._link.publish(orders_topic(user), encode_ack(ack), qos=1, retain=False)
        return ack

    def _crew_of(self, user: str) -> uuid.UUID | None:
        # Asked afresh for every report: a technician may have moved crews since.
        with Session(self._engine) as session:
            return session.scalar(select(Technician.crew_id).where(Technician.tracker_user == user))

    # --- counters -------------------------------------------------------------------------

    def _count(self, name: str, n: int = 1) -> None:
        with self._changed:
            setattr(self.counters, name, getattr(self.counters, name) + n)
            self._changed.notify_all()
        if self._health is not None:
            c = self.counters
            self._health.set(
                COMPONENT,
                "connected",
                f"published {c.published}; reports applied {c.applied}, ignored {c.ignored}, "
                f"refused {c.refused}, rejected {c.rejected}, unknown_user {c.unknown_user}",
            )

    def wait_until(
        self, condition: Callable[[AssignmentCounters], bool], timeout_s: float = 10.0
    ) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: condition(self.counters), timeout_s)


def _answer(report: ProgressReport, outcome: ReportOutcome) -> Ack:
    result = {
        "applied": AckResult.APPLIED,
        "ignored": AckResult.IGNORED,
    }.get(outcome.outcome, AckResult.REFUSED)
    status = None
    if outcome.status is not None:
        try:
            status = Status(outcome.status)
        except ValueError:
            status = None
    return Ack(
        report.report_id,
        report.order_id,
        result,
        outcome.reason or "",
        status,
        outcome.message_zh,
        outcome.message_en,
    )
