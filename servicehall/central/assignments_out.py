"""Orders out to the technicians' phones over MQTT, and their progress back into the order.

**Out.** When an order is dispatched to a crew, one ``assignment`` message per technician of
the crew goes to ``servicehall/v1/technicians/<tracker_user>/orders`` (QoS 1, not retained;
the phone's persistent session keeps it while the phone is offline — Mosquitto's
``persistence`` keeps it across a broker restart). It is written to the ``assignment_messages``
outbox *inside the dispatch's transaction* (an in-transaction bus listener), and published
after the commit; a row not yet handed to the broker — central stopped, or its MQTT link was
down — is published by the next ``publish_pending`` (every few seconds, and at start). The
message id is derived from (order, crew, dispatch time), so every copy — another technician
of the crew, a republish, a QoS 1 redelivery — carries the same id and the phone shows it
once.

**In.** Phones report on ``servicehall/v1/technicians/<user>/progress``. The reporter is the
topic's user (the broker's ACL lets only that user write there), its crew is looked up at
that moment, and the report becomes the order event of ``field_dispatch.orders`` whose id
is the report's id — a report sent twice is applied once. The event goes to the work-order
service's transition API (:class:`OrderProgress`), and the phone gets an ``ack`` on its
orders topic: applied, ignored (duplicate or stale), refused (with the reason in Chinese and
English), or rejected (unreadable). A report that could not be applied at all (the database
was unreachable) gets no ack: the phone keeps it and sends it again, and its id makes that
harmless.

Seams to the work-order service (branch dispatch-central): its ``WorkOrderDispatched``
event is anything with ``order_id``, ``crew_id`` and ``at`` (:class:`DispatchedOrder`) —
``listen(bus, WorkOrderDispatched)``; until it lands, :class:`CrewAssigned` stands in. Its
transition API is :class:`OrderProgress`; until it lands, :class:`WorkOrderRowProgress`
applies the pure status machine to the ``work_orders`` row alone (no event history).
"""

from __future__ import annotations

import collections
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from domain.bus import EventBus
from domain.events import Event
from field_dispatch import orders
from field_dispatch.assignments import (
    PROGRESS_SUBSCRIPTION,
    Ack,
    AckResult,
    Assignment,
    ProgressReport,
    Step,
    encode_ack,
    encode_assignment,
    orders_topic,
    parse_progress,
    progress_user,
)
from field_dispatch.owntracks import Rejected
from field_dispatch.vocabulary import Actor, Category, Status
from gis.coords import amap_marker_url
from servicedb.engine import make_session_factory
from servicedb.models import (
    AssignmentMessage,
    Premises,
    Technician,
    WorkOrder,
    WorkOrderStatus,
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


@dataclass(frozen=True)
class CrewAssigned(Event):
    """Stand-in for dispatch-central's ``WorkOrderDispatched`` until it is on main."""

    order_id: uuid.UUID
    crew_id: uuid.UUID


class OrderProgress(Protocol):
    """The work-order service's transition API, as the field reaches it."""

    def apply(self, order_id: uuid.UUID, event: orders.OrderEvent) -> orders.Outcome: ...


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
    AckResult.APPLIED: ("已收到", "Received"),
    AckResult.IGNORED: ("已记录，无需重复发送", "Already recorded"),
    AckResult.REJECTED: (
        "无法识别的报告，请重新发送",
        "The report could not be read; send it again",
    ),
}


def order_event(report: ProgressReport, crew_id: uuid.UUID) -> orders.OrderEvent:
    """The order event a technician's report stands for; its id is the report's."""
    event_id, order_id, at = report.report_id, report.order_id, report.at
    actor, crew = Actor.TECHNICIAN, str(crew_id)
    match report.step:
        case Step.ACCEPTED:
            return orders.OrderAccepted(
                event_id=event_id, order_id=order_id, at=at, actor=actor, crew_id=crew
            )
        case Step.DECLINED:
            return orders.OrderDeclined(
                event_id=event_id,
                order_id=order_id,
                at=at,
                reason=report.reason,
                actor=actor,
                crew_id=crew,
            )
        case Step.EN_ROUTE:
            return orders.CrewSetOff(
                event_id=event_id, order_id=order_id, at=at, actor=actor, crew_id=crew
            )
        case Step.ON_SITE:
            return orders.CrewArrived(
                event_id=event_id, order_id=order_id, at=at, actor=actor, crew_id=crew
            )
        case Step.RESOLVED:
            assert report.result is not None  # noqa: S101 - ProgressReport guarantees it
            return orders.OrderResolved(
                event_id=event_id,
                order_id=order_id,
                at=at,
                result=report.result,
                note=report.note,
                actor=actor,
                crew_id=crew,
            )


def message_id(order_id: uuid.UUID, crew_id: uuid.UUID, at: datetime) -> uuid.UUID:
    return uuid.uuid5(_MESSAGES, f"{order_id}/{crew_id}/{at.isoformat()}")


class AssignmentPublisher:
    """One per central process. ``attach`` to the link before it starts; ``listen`` on the
    bus the work-order service commits through; ``start`` after the link is up."""

    def __init__(
        self,
        engine: Engine,
        link: Link,
        progress: OrderProgress,
        health: HealthBoard | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        connected: Callable[[], bool] = lambda: True,
        retry_every_s: float = 5.0,
    ) -> None:
        self._engine = engine
        self._link = link
        self._progress = progress
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

    def listen(self, bus: EventBus, event_type: type[Event] = CrewAssigned) -> None:
        """Outbox rows inside the dispatch's transaction; publishing after its commit."""
        bus.subscribe_in_transaction(event_type, self._record_event)
        bus.subscribe(event_type, lambda _event: self._wake.set())

    def start(self) -> None:
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
        msg_id = message_id(event.order_id, event.crew_id, event.at)
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
                due_at=order.due_at,
                address=address,
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
        for tech_id, user in technicians:
            if session.get(AssignmentMessage, (msg_id, tech_id)) is not None:
                continue  # the same dispatch recorded again: one message is enough
            session.add(
                AssignmentMessage(
                    id=msg_id,
                    technician_id=tech_id,
                    order_id=order.id,
                    crew_id=event.crew_id,
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
            outcome = self._progress.apply(uuid.UUID(report.order_id), order_event(report, crew_id))
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


def _answer(report: ProgressReport, outcome: orders.Outcome) -> Ack:
    if isinstance(outcome, orders.Refused):
        return Ack(
            report.report_id,
            report.order_id,
            AckResult.REFUSED,
            outcome.reason.value,
            None,
            outcome.message_zh,
            outcome.message_en,
        )
    result = AckResult.APPLIED if isinstance(outcome, orders.Applied) else AckResult.IGNORED
    reason = outcome.reason.value if isinstance(outcome, orders.Ignored) else ""
    return Ack(
        report.report_id, report.order_id, result, reason, outcome.state.status, *_ACK_TEXT[result]
    )


class WorkOrderRowProgress:
    """Applies a field report to the ``work_orders`` row: a stand-in for the work-order
    service's transition API until it is on main.

    It has no event history, so the order's state is rebuilt from the row alone: a repeated
    report is still harmless (the order is already at or past that step: ``STALE``), but
    "made before this dispatch" cannot be judged, and ``opened_at`` is the row's creation.
    """

    def __init__(self, engine: Engine) -> None:
        # Read then write: on SQLite the write lock is taken at BEGIN (IMMEDIATE), or a
        # concurrent writer (the GPS ingest) makes the upgrade fail with "database is locked".
        self._sessions = make_session_factory(engine, serialised_writes=True)

    def apply(self, order_id: uuid.UUID, event: orders.OrderEvent) -> orders.Outcome:
        with self._sessions() as session, session.begin():
            row = session.get(WorkOrder, order_id, with_for_update=True)
            if row is None:
                return orders.Refused(orders.RefusalReason.WRONG_ORDER, f"no order {order_id}")
            state = orders.OrderState(
                order_id=str(row.id),
                category=Category(row.category.value),
                priority=row.priority,
                status=Status(row.status.value),
                opened_at=row.created_at,
                sla_priority=row.priority,
                crew_id=None if row.crew_id is None else str(row.crew_id),
            )
            outcome = orders.transition(state, event)
            if isinstance(outcome, orders.Applied):
                row.status = WorkOrderStatus(outcome.state.status.value)
                crew = outcome.state.crew_id
                row.crew_id = None if crew is None else uuid.UUID(crew)
            return outcome
