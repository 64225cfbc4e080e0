"""The demo's field: six crews driving around Xicheng and answering their orders.

Each crew is its leader's phone as the broker sees it — a paho client named as the
technician's ``tracker_user``, with a persistent session and a Last Will — publishing
OwnTracks ``location`` messages on ``owntracks/<user>/phone`` every ``fix_every_s`` and
reading ``servicehall/v1/technicians/<user>/orders``. The same bytes a real phone sends;
central cannot tell the difference.

Streets: the crews keep to a grid of Xicheng's main roads (approximate WGS-84 centre
lines: 三里河路, 南礼士路, 太平桥大街 / 金融大街, the 西四—西单—宣武门外 axis; 西直门内,
平安里西, 阜成门内, 复兴门内 / 西长安街, 广安门内, 南二环). Idle, a crew patrols from
crossing to crossing; given an order, it accepts, sets off, drives along the grid to the
crossing nearest the place, then to the place, reports it is on site, works, and reports
the order resolved. Simulated time runs ``time_scale`` times faster than the wall clock
(positions move that much faster); every ``tst`` is the real time, as central requires.

:class:`DemoField` also plays one scene: ``burst_after_s`` into the demo a burst main is
reported near the hall, an order is opened in the work-order service, given to the nearest
burst-capable crew (the assignment reaches its phone through central's publisher), and the
outage is declared (``domain.outages``: affected premises,
halls, SMS notices queued and sent through the HTTP SMS gateway's simulator).
"""

from __future__ import annotations

import json
import logging
import math
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import click
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from domain.bus import EventBus
from domain.notifications import NotificationSender
from domain.outages import Outages, PremisesRegister
from domain.uow import UnitsOfWork
from domain.work_orders import Intake, Who, WorkOrderError, WorkOrders
from field_dispatch import owntracks
from field_dispatch.assignments import (
    Ack,
    Assignment,
    ProgressReport,
    Step,
    Withdrawal,
    encode_progress,
    message_type,
    orders_topic,
    parse_ack,
    parse_assignment,
    parse_withdrawal,
    progress_topic,
)
from field_dispatch.orders import Result
from field_dispatch.vocabulary import Actor, Category
from servicedb.models import (
    Crew,
    Technician,
    TechnicianSkill,
    WorkOrderCategory,
)
from servicehall.bootstrap import CentralSite
from servicehall.platform.sms import SmsGatewaySimulator

log = logging.getLogger(__name__)

# Main roads as a grid: north–south centre lines (lon) × east–west ones (lat).
AVENUES = (116.3375, 116.3500, 116.3580, 116.3735)
STREETS = (39.8800, 39.8890, 39.9070, 39.9237, 39.9330, 39.9400)
M_PER_DEG_LAT = 111_320.0


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    east = (b[0] - a[0]) * M_PER_DEG_LAT * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot(east, (b[1] - a[1]) * M_PER_DEG_LAT)


def _course(a: tuple[float, float], b: tuple[float, float]) -> float:
    east = (b[0] - a[0]) * math.cos(math.radians((a[1] + b[1]) / 2))
    return math.degrees(math.atan2(east, b[1] - a[1])) % 360


def nearest_crossing(point: tuple[float, float]) -> tuple[int, int]:
    i = min(range(len(AVENUES)), key=lambda k: abs(AVENUES[k] - point[0]))
    j = min(range(len(STREETS)), key=lambda k: abs(STREETS[k] - point[1]))
    return i, j


def crossing(node: tuple[int, int]) -> tuple[float, float]:
    return AVENUES[node[0]], STREETS[node[1]]


def route(start: tuple[float, float], goal: tuple[float, float]) -> list[tuple[float, float]]:
    """Waypoints from ``start`` to ``goal`` along the grid: to the nearest crossing, along the
    street to the goal's avenue, along the avenue to the goal's crossing, then to the goal."""
    (i0, j0), (i1, j1) = nearest_crossing(start), nearest_crossing(goal)
    step_i = 1 if i1 >= i0 else -1
    step_j = 1 if j1 >= j0 else -1
    path = [crossing((i, j0)) for i in range(i0, i1 + step_i, step_i)]
    path += [crossing((i1, j)) for j in range(j0 + step_j, j1 + step_j, step_j)]
    return [*path, goal]


class Phase:
    PATROL = "patrol"
    ASSIGNED = "assigned"
    DRIVING = "driving"
    WORKING = "working"


@dataclass
class SimCrew:
    code: str
    user: str
    where: tuple[float, float]
    rng: random.Random
    phase: str = Phase.PATROL
    path: deque[tuple[float, float]] = field(default_factory=deque)
    order: Assignment | None = None
    phase_since: float = 0.0  # simulated seconds
    seen: set[str] = field(default_factory=set)
    inbox: deque[Assignment] = field(default_factory=deque)
    acks: list[Ack] = field(default_factory=list)
    client: mqtt.Client | None = None
    steps: list[tuple[str, Step]] = field(default_factory=list)  # (order number, step) reported


class DemoCrews:
    """The simulated crews; ``start`` connects them, ``stop`` says goodbye."""

    def __init__(
        self,
        engine: Engine,
        host: str,
        port: int,
        *,
        time_scale: float = 5.0,  # a fix a real second: OwnTracks tst has whole seconds
        fix_every_s: float = 5.0,
        speed_kmh: float = 30.0,
        accept_after_s: float = 20.0,
        work_s: float = 600.0,
        seed: int = 7,
    ) -> None:
        self._host, self._port = host, port
        self.time_scale = time_scale
        self.fix_every_s = fix_every_s
        self.speed_ms = speed_kmh / 3.6
        self.accept_after_s = accept_after_s
        self.work_s = work_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-crews", daemon=True)
        self._lock = threading.Lock()
        self._ticked = threading.Condition()
        self.sim_s = 0.0
        rng = random.Random(seed)
        with Session(engine) as session:
            leaders = session.execute(
                select(Crew.code, Crew.depot_lon, Crew.depot_lat, Technician.tracker_user)
                .join(Technician, Technician.crew_id == Crew.id)
                .where(Crew.on_duty.is_(True))
                .order_by(Crew.code, Technician.tracker_user)
            ).all()
        self.crews: dict[str, SimCrew] = {}
        for code, lon, lat, user in leaders:
            if code not in {c.code for c in self.crews.values()}:
                self.crews[user] = SimCrew(code, user, (lon, lat), random.Random(rng.random()))

    def start(self) -> None:
        for crew in self.crews.values():
            crew.client = self._connect(crew)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        for crew in self.crews.values():
            if crew.client is not None:
                crew.client.disconnect()
                crew.client.loop_stop()

    def _connect(self, crew: SimCrew) -> mqtt.Client:
        topic = owntracks.topic_for(crew.user, "phone")
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"demo-phone-{crew.user}", clean_session=False
        )
        client.username_pw_set(crew.user)
        will = json.dumps({"_type": "lwt", "tst": int(time.time())}).encode()
        client.will_set(topic, will, qos=1)
        client.reconnect_delay_set(min_delay=1, max_delay=10)
        client.on_connect = lambda c, *_: c.subscribe(orders_topic(crew.user), qos=1)
        client.on_message = lambda _c, _u, message: self._on_message(crew, bytes(message.payload))
        client.connect(self._host, self._port, keepalive=30)
        client.loop_start()
        return client

    def _on_message(self, crew: SimCrew, payload: bytes) -> None:
        kind = message_type(payload)
        if kind == "assignment":
            parsed = parse_assignment(payload, datetime.now(UTC))
            if isinstance(parsed, Assignment):
                with self._lock:
                    if parsed.msg_id not in crew.seen:  # QoS 1 may bring it twice
                        crew.seen.add(parsed.msg_id)
                        crew.inbox.append(parsed)
        elif kind == "withdrawal":
            withdrawn = parse_withdrawal(payload, datetime.now(UTC))
            if isinstance(withdrawn, Withdrawal):
                with self._lock:
                    # 改派: the order went to another crew; this one drops it and patrols.
                    crew.inbox = deque(a for a in crew.inbox if a.order_id != withdrawn.order_id)
                    if crew.order is not None and crew.order.order_id == withdrawn.order_id:
                        crew.order = None
                        crew.path.clear()
                        crew.phase, crew.phase_since = Phase.PATROL, self.sim_s
        elif kind == "ack":
            ack = parse_ack(payload)
            if isinstance(ack, Ack):
                with self._lock:
                    crew.acks.append(ack)

    # --- the simulation -------------------------------------------------------------------

    def _run(self) -> None:
        tick = self.fix_every_s / self.time_scale
        while not self._stop.wait(tick):
            self.sim_s += self.fix_every_s
            for crew in self.crews.values():
                try:
                    self._step(crew)
                except Exception:
                    log.exception("demo crew %s stumbled", crew.code)
            with self._ticked:
                self._ticked.notify_all()

    def _step(self, crew: SimCrew) -> None:
        with self._lock:
            if crew.order is None and crew.inbox:
                crew.order = crew.inbox.popleft()
                crew.phase, crew.phase_since = Phase.ASSIGNED, self.sim_s
        order = crew.order
        since = self.sim_s - crew.phase_since
        if crew.phase == Phase.ASSIGNED and order is not None and since >= self.accept_after_s:
            self._report(crew, order, Step.ACCEPTED)
            self._report(crew, order, Step.EN_ROUTE)
            crew.path = deque(route(crew.where, (order.lon, order.lat)))
            crew.phase, crew.phase_since = Phase.DRIVING, self.sim_s
        elif crew.phase == Phase.DRIVING and order is not None and not crew.path:
            self._report(crew, order, Step.ON_SITE)
            crew.phase, crew.phase_since = Phase.WORKING, self.sim_s
        elif crew.phase == Phase.WORKING and order is not None and since >= self.work_s:
            self._report(crew, order, Step.RESOLVED)
            crew.order = None
            crew.phase, crew.phase_since = Phase.PATROL, self.sim_s
        if crew.phase == Phase.PATROL and not crew.path:
            i, j = nearest_crossing(crew.where)
            neighbours = [
                (i + di, j + dj)
                for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1))
                if 0 <= i + di < len(AVENUES) and 0 <= j + dj < len(STREETS)
            ]
            crew.path = deque([crossing((i, j)), crossing(crew.rng.choice(neighbours))])
        moving = crew.phase in (Phase.PATROL, Phase.DRIVING)
        course = self._move(crew, self.speed_ms * self.fix_every_s) if moving else None
        self._publish_fix(crew, course, self.speed_ms * 3.6 if moving else 0.0)

    def _move(self, crew: SimCrew, metres: float) -> float | None:
        course = None
        while metres > 0 and crew.path:
            target = crew.path[0]
            gap = _metres(crew.where, target)
            if gap > 0:
                course = _course(crew.where, target)
            if gap <= metres:
                crew.where = target
                crew.path.popleft()
                metres -= gap
            else:
                share = metres / gap
                crew.where = (
                    crew.where[0] + (target[0] - crew.where[0]) * share,
                    crew.where[1] + (target[1] - crew.where[1]) * share,
                )
                metres = 0
        return course

    def _publish_fix(self, crew: SimCrew, course: float | None, kmh: float) -> None:
        if crew.client is None:
            return
        fix = owntracks.Fix(
            user=crew.user,
            device="phone",
            at=datetime.now(UTC),
            lon=round(crew.where[0], 6),
            lat=round(crew.where[1], 6),
            acc_m=8.0,
            vel_kmh=kmh,
            cog_deg=course,
            batt_pct=crew.rng.randint(40, 100),
            trigger="t",
        )
        crew.client.publish(
            owntracks.topic_for(crew.user, "phone"), owntracks.to_owntracks(fix), qos=1
        )

    def _report(self, crew: SimCrew, order: Assignment, step: Step) -> None:
        if crew.client is None:
            return
        report = ProgressReport(
            report_id=str(uuid.uuid4()),
            order_id=order.order_id,
            step=step,
            at=datetime.now(UTC),
            result=Result.FIXED if step is Step.RESOLVED else None,
            note="更换破损管段，已恢复供水 / Broken pipe section replaced"
            if step is Step.RESOLVED
            else "",
            lon=crew.where[0],
            lat=crew.where[1],
        )
        crew.client.publish(progress_topic(crew.user), encode_progress(report), qos=1)
        crew.steps.append((order.number, step))
        log.info("demo crew %s: %s %s", crew.code, order.number, step.value)

    def wait_for(self, condition: Callable[[], bool], timeout_s: float) -> bool:
        """Block until ``condition`` holds after a step of the simulation."""
        with self._ticked:
            return self._ticked.wait_for(condition, timeout_s)


# --- one scripted burst main ---------------------------------------------------------------

DISPATCHER = Who(Actor.DISPATCHER, "D001")


@dataclass
class DemoField:
    """The crews, and one burst main the demo reports: an order through the work-order
    service, given to the nearest crew that repairs mains, and its outage declared.

    Dispatches reach the crews through central's assignment publisher, which listens on the
    work-order service's bus (``build_central`` wires it); ``orders`` is that service.
    """

    engine: Engine
    crews: DemoCrews
    orders: WorkOrders
    burst_at: tuple[float, float] = (116.3580, 39.9180)  # 金融大街, by the hall
    burst_after_s: float = 20.0
    on_event: Callable[[str], None] = log.info

    def __post_init__(self) -> None:
        self.outages = Outages(UnitsOfWork(self.engine, EventBus()), PremisesRegister(self.engine))
        # Notices go out through the HTTP SMS gateway's simulator (texts stay in its memory).
        self.sms = SmsGatewaySimulator()
        self._gateway = self.sms.gateway()
        self.sender = NotificationSender(self.engine, self._gateway)
        self._timer = threading.Timer(self.burst_after_s, self._burst)
        self._timer.daemon = True
        self.order_id: uuid.UUID | None = None

    def start(self) -> None:
        self.crews.start()
        self.sender.start()
        self._timer.start()

    def stop(self) -> None:
        self._timer.cancel()
        self.crews.stop()
        self.sender.stop()
        if self.order_id is not None:
            self.on_event(
                f"{self.sender.totals.sent} SMS notices sent through the simulated gateway"
            )
        self._gateway.close()
        self.sms.close()

    def _burst(self) -> None:
        try:
            self.order_id = self.dispatch_burst(*self.burst_at)
        except Exception:
            log.exception("the demo's burst main could not be dispatched")

    def dispatch_burst(self, lon: float, lat: float) -> uuid.UUID:
        """Report a burst main at (lon, lat) as a kiosk would, give it to the nearest crew
        that repairs mains, and declare the outage around it."""
        order = self.orders.open(
            Intake(
                Category.BURST_MAIN,
                "自助终端报修：路面冒水，疑似爆管 / Kiosk report: water on the road, a burst main",
                "kiosk",
                lon=lon,
                lat=lat,
            ),
            DISPATCHER,
        )
        with Session(self.engine) as session:
            able = session.execute(
                select(Crew.id, Crew.code, Crew.depot_lon, Crew.depot_lat)
                .join(Technician, Technician.crew_id == Crew.id)
                .join(TechnicianSkill, TechnicianSkill.technician_id == Technician.id)
                .where(TechnicianSkill.skill == WorkOrderCategory.BURST_MAIN)
                .distinct()
            ).all()
        live = {crew.code: crew.where for crew in self.crews.crews.values()}
        crew_id, code, *_ = min(
            able, key=lambda c: _metres(live.get(c.code, (c.depot_lon, c.depot_lat)), (lon, lat))
        )
        try:
            self.orders.dispatch(order.id, crew_id, DISPATCHER)
        except WorkOrderError as err:  # the planner's round may have been quicker
            log.info("demo burst %s: %s", order.number, err)
        self.on_event(f"burst main reported at [{lon}, {lat}]: {order.number} to {code}")
        declared = self.outages.declare_burst(lon, lat, radius_m=400, restore_at=order.restore_by)
        self.on_event(
            f"outage declared: {declared.affected_premises} premises, halls "
            f"{', '.join(declared.halls) or '-'}, {declared.notices_queued} SMS notices queued"
        )
        self.sender.poke()
        return order.id


def start_demo_field(central: CentralSite, host: str, port: int) -> DemoField | None:
    """What ``servicehall demo`` runs: the six crews on the demo's broker, and the burst."""
    if central.dispatch is None:
        return None
    crews = DemoCrews(central.engine, host, port)
    field = DemoField(central.engine, crews, central.dispatch.orders, on_event=click.echo)
    field.start()
    click.echo(
        f"{len(crews.crews)} crews driving around Xicheng (OwnTracks on owntracks/<user>/phone); "
        f"a burst main is reported in {field.burst_after_s:.0f} s"
    )
    return field
