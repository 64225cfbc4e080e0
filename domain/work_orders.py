"""Central's work orders: intake from every channel, the status machine over the database,
SLA clocks set at intake, escalation sweeps, closing with a result, and the follow-up call.

How it fits together:

- **Intake.** A phone agent, a web form or a dispatcher opens an order here (``open``); a
  hall or kiosk opens one in the hall's database and sync carries the row up, where
  ``adopt`` takes it in — its clocks start when the customer reported it (the row's
  ``created_at``), not when the row arrived. A command on an order not yet taken in takes
  it in first, so nothing depends on the adoption job having run.
- **Categories and priorities.** Categories are ``field_dispatch.vocabulary.Category``; a
  priority not given is the category's default (``DEFAULT_PRIORITY``: a burst main is P1,
  a meter query P4). The SLA spans for (category, priority) are copied onto the order at
  intake (``work_order_store``) and its three deadlines stored beside them.
- **The status machine** is ``field_dispatch.orders.transition``; every applied event is a
  ``work_order_events`` row (append-only; the database refuses edits). A refused command
  raises ``OrderRefused`` with the machine's reason; an ignored one (a duplicate, a stale
  phone report) changes nothing and says so. Technicians' reports come through ``report``,
  which never raises for the machine's answers: a phone gets an outcome back.
- **Optimistic concurrency.** Every change bumps ``version``; a console command may say
  which version it saw (``expected_version``) and is refused with ``OrderChanged`` when
  someone — another dispatcher, the planner — changed the order in between.
- **Escalation** is ``domain.work_order_sla.sweep``, run periodically.
- **Commands** are the plain requests of ``domain.work_order_commands`` (dispatch, resolve,
  close, cancel, reopen, follow up, raise priority); ``command`` applies any of them.

Events recorded (``domain.dispatch_events``): WorkOrderOpened, WorkOrderDispatched,
WorkOrderStatusChanged, WorkOrderEscalated, WorkOrderClosed, WorkOrderFlagged.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import dispatch_events as de
from domain.uow import UnitOfWork, UnitsOfWork
from domain.work_order_commands import (
    Command,
    Dispatch,
    FieldReport,
    report_event,
    to_event,
)
from domain.work_order_store import (
    KIND_OF,
    append,
    event_fields,
    history,
    project,
    replayed,
    target_json,
)
from domain.work_order_views import (
    ACTIVE_STATUSES,
    Alert,
    OrderView,
    TimelineEntry,
    alerts,
    timeline,
    views,
)
from field_dispatch.orders import (
    Applied,
    Ignored,
    OrderClosed,
    OrderDeclined,
    OrderDispatched,
    OrderEvent,
    OrderReopened,
    OrderState,
    Refused,
    new_order,
    transition,
)
from field_dispatch.sla import (
    BEIJING,
    SlaPolicy,
)
from field_dispatch.vocabulary import PRIORITIES, Actor, Category, Status
from servicedb.ids import new_id
from servicedb.models import (
    Account,
    Crew,
    Premises,
    Site,
    Technician,
    WorkOrder,
    WorkOrderCategory,
    WorkOrderEventKind,
    WorkOrderStatus,
)
from servicedb.models.kiosk import KioskReport
from servicedb.types import utcnow

Kind = WorkOrderEventKind

SOURCES = frozenset({"hall", "kiosk", "phone", "web", "dispatcher"})
# What a category means when the person taking the report gives no priority.
DEFAULT_PRIORITY: dict[Category, int] = {
    Category.BURST_MAIN: 1,  # the street floods
    Category.NO_WATER: 2,
    Category.LEAK: 3,
    Category.LOW_PRESSURE: 3,
    Category.LINE_FAULT: 3,
    Category.HELP: 3,
    Category.COMPLAINT: 3,
    Category.MISCONDUCT: 3,
    Category.METER_FAULT: 4,
    Category.ENQUIRY: 4,
}
MAX_DESCRIPTION = 2000
# China's extent, generously: a location outside it is a typo, not a customer.
_LON, _LAT = (73.0, 136.0), (3.0, 54.0)


class WorkOrderError(Exception):
    """A refused work-order command; ``message_zh`` / ``message_en`` are for the person."""

    message_zh = "工单操作无法完成"
    message_en = "This cannot be done to the order"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class UnknownOrder(WorkOrderError):
    message_zh = "没有此工单"
    message_en = "There is no such work order"


class UnknownCrew(WorkOrderError):
    message_zh = "没有此班组"
    message_en = "There is no such crew"


class UnknownAccount(WorkOrderError):
    message_zh = "没有此户号"
    message_en = "There is no such account"


class BadIntake(WorkOrderError):
    message_zh = "工单信息不完整或无效"
    message_en = "The order is incomplete or not valid"


class OrderChanged(WorkOrderError):
    message_zh = "工单已被他人更新，请刷新后再试"
    message_en = "The order changed since you loaded it; reload and try again"


class OrderRefused(WorkOrderError):
    """The status machine's refusal, with its reason (``field_dispatch.orders.RefusalReason``)."""

    def __init__(self, refusal: Refused) -> None:
        super().__init__(refusal.detail)
        self.reason = refusal.reason.value
        self.message_zh = refusal.message_zh
        self.message_en = refusal.message_en


@dataclass(frozen=True)
class Who:
    """Who made a change: the machine's actor, and a name for the timeline (staff number …)."""

    actor: Actor
    name: str


SLA_SWEEP = Who(Actor.SYSTEM, "sla")
PLANNER = Who(Actor.SYSTEM, "planner")


@dataclass(frozen=True)
class Intake:
    category: Category
    description: str
    source: str  # one of SOURCES
    priority: int | None = None
    lon: float | None = None  # WGS-84; taken from the account's premises when not given
    lat: float | None = None
    account_no: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    address: str | None = None
    intake_key: str | None = None  # a retried request with the same key gets the same order


@dataclass(frozen=True)
class Change:
    order: OrderView
    applied: bool
    ignored: str | None = None  # why nothing changed (duplicate, stale, no_change)
    implied: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportOutcome:
    outcome: str  # applied, ignored, refused
    reason: str | None
    message_zh: str
    message_en: str
    status: str | None  # the order's status afterwards, when known


class WorkOrders:
    def __init__(
        self,
        units: UnitsOfWork,
        site_code: str,
        *,
        policy: SlaPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.units = units
        self.policy = policy or SlaPolicy()
        self._clock = clock
        with Session(units.engine) as session:
            site_id = session.scalar(select(Site.id).where(Site.code == site_code))
        if site_id is None:
            raise ValueError(f"no site {site_code!r}")
        self.site_id: uuid.UUID = site_id
        self.site_code = site_code
        self._postgres = units.engine.dialect.name == "postgresql"

    def now(self) -> datetime:
        return self._clock()

    @contextlib.contextmanager
    def _work(self, uow: UnitOfWork | None) -> Iterator[UnitOfWork]:
        if uow is not None:
            yield uow
            return
        with self.units() as work:
            yield work
            work.commit()

    def reading(self) -> Session:
        return Session(self.units.engine)

    # --- reads ---------------------------------------------------------------------------
    def get(self, order_id: uuid.UUID) -> OrderView:
        with self.reading() as session:
            row = session.get(WorkOrder, order_id)
            if row is None:
                raise UnknownOrder(str(order_id))
            return views(session, [row], self.now(), self.policy)[0]

    def by_number(self, number: str) -> OrderView:
        with self.reading() as session:
            row = session.scalar(select(WorkOrder).where(WorkOrder.number == number))
            if row is None:
                raise UnknownOrder(number)
            return views(session, [row], self.now(), self.policy)[0]

    def active(self) -> list[OrderView]:
        """Everything on the dispatcher's board: open, or resolved and not yet closed."""
        with self.reading() as session:
            rows = session.scalars(
                select(WorkOrder)
                .where(WorkOrder.status.in_(ACTIVE_STATUSES))
                .order_by(WorkOrder.priority, WorkOrder.opened_at, WorkOrder.created_at)
            ).all()
            return views(session, rows, self.now(), self.policy)

    def recent(self, limit: int = 100) -> list[OrderView]:
        with self.reading() as session:
            rows = session.scalars(
                select(WorkOrder).order_by(WorkOrder.created_at.desc()).limit(limit)
            ).all()
            return views(session, rows, self.now(), self.policy)

    def timeline(self, order_id: uuid.UUID) -> list[TimelineEntry]:
        with self.reading() as session:
            if session.get(WorkOrder, order_id) is None:
                raise UnknownOrder(str(order_id))
            return timeline(session, order_id)

    def alerts(self, since: datetime | None = None) -> list[Alert]:
        with self.reading() as session:
            return alerts(session, since or self.now() - timedelta(hours=24))

    # --- intake --------------------------------------------------------------------------
    def open(self, intake: Intake, who: Who, *, uow: UnitOfWork | None = None) -> OrderView:
        """Log an order from a call, the web or the console; a repeated intake key returns it."""
        _check(intake)
        category = intake.category
        priority = intake.priority or DEFAULT_PRIORITY[category]
        with self._work(uow) as work:
            session = work.session
            if intake.intake_key:
                existing = self._by_key(session, intake.intake_key)
                if existing is not None:
                    return views(session, [existing], self.now(), self.policy)[0]
            account_id = premises_id = None
            lon, lat, address = intake.lon, intake.lat, intake.address
            if intake.account_no:
                found = session.execute(
                    select(Account.id, Premises.id, Premises.lon, Premises.lat, Premises.address_zh)
                    .join(Premises, Premises.id == Account.premises_id)
                    .where(Account.account_no == intake.account_no)
                ).first()
                if found is None:
                    raise UnknownAccount(intake.account_no)
                account_id, premises_id = found[0], found[1]
                if lon is None or lat is None:
                    lon, lat = found[2], found[3]
                address = address or found[4]
            if lon is None or lat is None:
                raise BadIntake("an order needs a place: lon/lat, or an account")
            now = self.now()
            row = WorkOrder(
                id=new_id(),
                origin_site_id=self.site_id,
                created_at=now,
                category=WorkOrderCategory(category.value),
                status=WorkOrderStatus.NEW,
                source=intake.source,
                priority=priority,
                description=intake.description.strip(),
                lon=lon,
                lat=lat,
                account_id=account_id,
                premises_id=premises_id,
                intake_key=intake.intake_key,
                opened_by=who.name[:64],
                contact_name=intake.contact_name,
                contact_phone=intake.contact_phone,
                address=address,
                opened_at=now,
                sla_priority=priority,
                sla_target=target_json(self.policy.target(category, priority)),
                reopen_count=0,
                pinned=False,
                version=0,
            )
            if not self._insert_numbered(session, row, now):
                existing = self._by_key(session, intake.intake_key or "")
                if existing is None:
                    raise BadIntake("could not number the order; try again")
                return views(session, [existing], now, self.policy)[0]
            self._record_opening(work, row, who, now)
            return views(session, [row], now, self.policy)[0]

    def adopt(self, order_ids: Iterable[uuid.UUID] | None = None) -> list[OrderView]:
        """Take in orders that halls and kiosks opened (arrived by sync): clocks, history, events."""
        with self.reading() as session:
            query = select(WorkOrder.id).where(WorkOrder.opened_at.is_(None))
            if order_ids is not None:
                query = query.where(WorkOrder.id.in_(list(order_ids)))
            pending = list(session.scalars(query.order_by(WorkOrder.created_at)))
        taken: list[OrderView] = []
        for order_id in pending:
            with self.units() as work:
                row = self.locked(work.session, order_id)
                if row.opened_at is not None:
                    continue  # another sweep took it in first
                self._take_in(work, row)
                view = views(work.session, [row], self.now(), self.policy)[0]
                work.commit()
            taken.append(view)
        return taken

    def _take_in(self, work: UnitOfWork, row: WorkOrder) -> None:
        category = Category(row.category.value)
        priority = row.priority if row.priority in PRIORITIES else DEFAULT_PRIORITY[category]
        site = work.session.get(Site, row.origin_site_id)
        row.priority = priority
        row.status = WorkOrderStatus.NEW
        row.opened_at = row.created_at
        row.sla_priority = priority
        row.sla_target = target_json(self.policy.target(category, priority))
        row.opened_by = row.opened_by or f"{row.source}@{site.code if site else '?'}"[:64]
        if row.contact_phone is None:
            # A kiosk keeps the caller's number beside the order (kiosk_reports), not on it;
            # when that row came up with it, the crew gets the number to call.
            row.contact_phone = work.session.scalar(
                select(KioskReport.contact_phone).where(KioskReport.work_order_id == row.id)
            )
        self._record_opening(work, row, Who(Actor.HALL, row.opened_by), row.created_at)

    def _record_opening(self, work: UnitOfWork, row: WorkOrder, who: Who, at: datetime) -> None:
        category = Category(row.category.value)
        append(
            work.session,
            row,
            1,
            Kind.OPENED,
            "opened",
            at,
            who.actor,
            who.name,
            status_after=Status.NEW,
            priority=row.priority,
            note=f"{row.source}",
            origin_site_id=self.site_id,
        )
        state = new_order(str(row.id), category, row.priority, at)
        project(row, state, self.policy, self.now())
        work.session.flush()
        assert row.arrive_by and row.restore_by and row.close_by  # noqa: S101 - project set them
        work.record(
            de.WorkOrderOpened(
                at=at,
                order_id=row.id,
                number=row.number,
                category=category.value,
                priority=row.priority,
                source=row.source,
                lon=row.lon,
                lat=row.lat,
                arrive_by=row.arrive_by,
                restore_by=row.restore_by,
                close_by=row.close_by,
            )
        )

    def _by_key(self, session: Session, key: str) -> WorkOrder | None:
        return session.scalar(select(WorkOrder).where(WorkOrder.intake_key == key))

    def _insert_numbered(self, session: Session, row: WorkOrder, now: datetime) -> bool:
        """Number the order WO-<local day>-NNNN; False when its intake key was taken meanwhile."""
        prefix = f"WO-{now.astimezone(BEIJING):%Y%m%d}-"
        taken = session.scalar(
            select(func.count()).select_from(WorkOrder).where(WorkOrder.number.like(f"{prefix}%"))
        )
        for attempt in range(50):
            row.number = f"{prefix}{(taken or 0) + 1 + attempt:04d}"
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
                return True
            except IntegrityError:
                if row.intake_key and self._by_key(session, row.intake_key) is not None:
                    return False
        return False

    # --- commands ------------------------------------------------------------------------
    def command(
        self,
        order_id: uuid.UUID,
        command: Command,
        who: Who,
        *,
        expected_version: int | None = None,
        key: str | None = None,
        pinned: bool | None = None,
        uow: UnitOfWork | None = None,
    ) -> Change:
        """Apply a dispatcher's, agent's, hall's or the planner's request to an order.

        ``expected_version``: refuse with ``OrderChanged`` if the order moved on since the
        caller looked. ``key``: the request's id (a retried request is applied once).
        ``pinned``: for a dispatch — a dispatcher's choice is pinned (re-plans keep it)
        unless told otherwise; the planner's never is.
        """
        crew = getattr(command, "crew_id", None)
        if crew is not None:
            self._require_crew(crew)
        pin = bool(
            crew is not None and (who.actor is Actor.DISPATCHER if pinned is None else pinned)
        )

        def make(state: OrderState, event_id: str) -> OrderEvent:
            return to_event(command, state, event_id, self.now(), who.actor)

        return self._change(
            order_id, who, make, key=key, expected_version=expected_version, uow=uow, pin=pin
        )

    def dispatch(
        self,
        order_id: uuid.UUID,
        crew_id: uuid.UUID,
        who: Who,
        *,
        expected_version: int | None = None,
        pinned: bool | None = None,
    ) -> Change:
        return self.command(
            order_id, Dispatch(crew_id), who, expected_version=expected_version, pinned=pinned
        )

    def report(self, report: FieldReport) -> ReportOutcome:
        """A technician's progress report (the MQTT adapter calls this); answers, never raises."""
        who = Who(Actor.TECHNICIAN, report.by or str(report.crew_id))

        def make(state: OrderState, event_id: str) -> OrderEvent:
            return report_event(report, state, event_id)

        try:
            change = self._change(
                report.order_id, who, make, key=report.event_id, expected_version=None
            )
        except (OrderRefused, UnknownOrder) as refused:
            reason = refused.reason if isinstance(refused, OrderRefused) else "unknown_order"
            return ReportOutcome("refused", reason, refused.message_zh, refused.message_en, None)
        if change.applied:
            return ReportOutcome("applied", None, "已记录", "Recorded", change.order.status)
        return ReportOutcome(
            "ignored", change.ignored, "已收到", "Already known", change.order.status
        )

    def _require_crew(self, crew_id: uuid.UUID) -> None:
        with self.reading() as session:
            if session.get(Crew, crew_id) is None:
                raise UnknownCrew(str(crew_id))

    def crew_of_tracker(self, tracker_user: str) -> uuid.UUID | None:
        with self.reading() as session:
            return session.scalar(
                select(Technician.crew_id).where(Technician.tracker_user == tracker_user)
            )

    def flag(self, order_id: uuid.UUID, reason: str, who: Who = PLANNER) -> bool:
        """Mark a new order that no crew can take now, with why; False if it already says so."""
        with self.units() as work:
            session = work.session
            row = self.locked(session, order_id)
            if row.status is not WorkOrderStatus.NEW or row.flag_reason == reason:
                return False
            now = self.now()
            seq = len(history(session, row.id)) + 1
            append(
                session,
                row,
                seq,
                Kind.FLAGGED,
                f"flag:{seq}",
                now,
                who.actor,
                who.name,
                note=reason,
                origin_site_id=self.site_id,
            )
            row.flag_reason, row.flagged_at = reason, now
            row.version += 1
            row.updated_at = now
            work.record(
                de.WorkOrderFlagged(at=now, order_id=row.id, number=row.number, reason=reason)
            )
            work.commit()
        return True

    # --- the machine over the database -----------------------------------------------------
    def locked(self, session: Session, order_id: uuid.UUID) -> WorkOrder:
        """The order's row, locked for this transaction (SQLite: the whole database is)."""
        query = select(WorkOrder).where(WorkOrder.id == order_id)
        if self._postgres:
            query = query.with_for_update()
        row = session.scalar(query)
        if row is None:
            raise UnknownOrder(str(order_id))
        return row

    def _change(
        self,
        order_id: uuid.UUID,
        who: Who,
        make: Callable[[OrderState, str], OrderEvent],
        *,
        key: str | None,
        expected_version: int | None,
        uow: UnitOfWork | None = None,
        pin: bool | None = None,
    ) -> Change:
        with self._work(uow) as work:
            session = work.session
            row = self.locked(session, order_id)
            if row.opened_at is None:
                self._take_in(work, row)
            elif expected_version is not None and row.version != expected_version:
                raise OrderChanged(
                    f"{row.number} is at version {row.version}, not {expected_version}"
                )
            events = history(session, row.id)
            before = replayed(row, events)
            event = make(before, key or str(new_id()))
            outcome = transition(before, event)
            if isinstance(outcome, Refused):
                raise OrderRefused(outcome)
            if isinstance(outcome, Ignored):
                view = views(session, [row], self.now(), self.policy)[0]
                return Change(view, False, outcome.reason.value)
            self._apply(work, row, len(events) + 1, before, event, outcome, who, pin)
            return Change(
                views(session, [row], self.now(), self.policy)[0],
                True,
                implied=tuple(s.value for s in outcome.implied),
            )

    def _apply(
        self,
        work: UnitOfWork,
        row: WorkOrder,
        seq: int,
        before: OrderState,
        event: OrderEvent,
        outcome: Applied,
        who: Who,
        pin: bool | None,
    ) -> None:
        session = work.session
        state = outcome.state
        previous_crew = row.crew_id
        append(
            session,
            row,
            seq,
            KIND_OF[type(event)],
            event.event_id,
            event.at,
            event.actor,
            who.name,
            status_after=state.status,
            implied=outcome.implied,
            origin_site_id=self.site_id,
            **event_fields(event),  # type: ignore[arg-type]
        )
        reopened = isinstance(event, OrderReopened)
        now = self.now()
        project(row, state, self.policy, now, reopened=reopened)
        if isinstance(event, OrderDispatched) or reopened:
            row.pinned = bool(pin) and state.crew_id is not None
            row.flag_reason = row.flagged_at = None
        if isinstance(event, OrderDeclined):
            row.pinned = False  # back in the pool: the planner may place it again
        session.flush()
        if before.status is not state.status:
            work.record(
                de.WorkOrderStatusChanged(
                    at=event.at,
                    order_id=row.id,
                    number=row.number,
                    status_from=before.status.value,
                    status_to=state.status.value,
                    actor=event.actor.value,
                    by=who.name,
                    crew_id=row.crew_id,
                    implied=tuple(s.value for s in outcome.implied),
                )
            )
        if isinstance(event, OrderDispatched) or (reopened and state.crew_id is not None):
            self._record_dispatch(work, row, event, who, previous_crew)
        if isinstance(event, OrderClosed):
            work.record(
                de.WorkOrderClosed(
                    at=event.at,
                    order_id=row.id,
                    number=row.number,
                    result=event.result.value,
                    by=who.name,
                )
            )

    def _record_dispatch(
        self,
        work: UnitOfWork,
        row: WorkOrder,
        event: OrderEvent,
        who: Who,
        previous_crew: uuid.UUID | None,
    ) -> None:
        session = work.session
        assert row.crew_id is not None  # noqa: S101 - a dispatch names a crew
        crew = session.get(Crew, row.crew_id)

        def users(crew_id: uuid.UUID | None) -> tuple[str, ...]:
            if crew_id is None:
                return ()
            return tuple(
                session.scalars(
                    select(Technician.tracker_user)
                    .where(Technician.crew_id == crew_id)
                    .order_by(Technician.tracker_user)
                )
            )

        moved_from = previous_crew if previous_crew != row.crew_id else None
        work.record(
            de.WorkOrderDispatched(
                at=event.at,
                order_id=row.id,
                number=row.number,
                event_key=event.event_id,
                crew_id=row.crew_id,
                crew_code=crew.code if crew else "",
                tracker_users=users(row.crew_id),
                category=row.category.value,
                priority=row.priority,
                description=row.description,
                lon=row.lon,
                lat=row.lat,
                address=row.address,
                contact_phone=row.contact_phone,
                arrive_by=row.arrive_by,
                restore_by=row.restore_by,
                by=who.name,
                pinned=row.pinned,
                previous_crew_id=moved_from,
                previous_tracker_users=users(moved_from),
            )
        )


def _check(intake: Intake) -> None:
    if intake.source not in SOURCES:
        raise BadIntake(f"source {intake.source!r}: expected one of {sorted(SOURCES)}")
    if intake.priority is not None and intake.priority not in PRIORITIES:
        raise BadIntake(f"priority {intake.priority} is not 1..5")
    if not intake.description.strip() or len(intake.description) > MAX_DESCRIPTION:
        raise BadIntake(f"a description of 1–{MAX_DESCRIPTION} characters is needed")
    for value, (low, high), name in ((intake.lon, _LON, "lon"), (intake.lat, _LAT, "lat")):
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise BadIntake(f"{name} {value} is outside the service area")
