"""Kiosk fleet health (终端管理): heartbeats with each device's state, alarms raised and
cleared, and the fleet list the hall shows and keeps for central.

A kiosk sends a heartbeat every 30 s or so. Each device that is not ``connected`` is an
alarm (printer paper near end or out, cover open, card reader unplugged …); a kiosk whose
last heartbeat is older than ``OFFLINE_AFTER`` is an alarm of its own — the hall notices
what the kiosk cannot tell it. Alarms are kept as rows with when they were raised and
cleared; a heartbeat that changes nothing writes only the kiosk's "last seen".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from domain.kiosk_errors import UnknownKiosk
from domain.kiosk_events import KioskAlarmCleared, KioskAlarmRaised, KioskHeartbeat
from domain.kiosk_site import KioskSite
from servicedb.models import Device, DeviceKind, KioskAlarm, KioskStatus

OFFLINE_AFTER = timedelta(seconds=90)

_DEVICES = {
    "printer": ("打印机", "Printer"),
    "card_reader": ("读卡器", "Card reader"),
    "pin_pad": ("密码键盘", "PIN pad"),
    "acquirer": ("银行通道", "Bank link"),
    "screen": ("屏幕", "Screen"),
}
_STATES = {"degraded": ("异常", "degraded"), "fault": ("故障", "fault")}
# Well-known reasons in words (matched on the reason the kiosk sends).
_REASONS = (
    ("near end", "纸将尽", "paper near end"),
    ("paper out", "缺纸", "out of paper"),
    ("no paper", "缺纸", "out of paper"),
    ("cover", "盖板打开", "cover open"),
    ("unplugged", "未连接", "unplugged"),
    ("disconnected", "未连接", "disconnected"),
    ("unreachable", "无法连接", "unreachable"),
)


@dataclass(frozen=True)
class DeviceHealth:
    device: str
    state: str  # connected | degraded | fault
    reason: str
    since: datetime


@dataclass(frozen=True)
class Beat:
    app_version: str
    screen: str
    devices: list[DeviceHealth]
    last_error: str | None


@dataclass(frozen=True)
class KioskView:
    name: str
    last_seen: datetime | None
    online: bool
    screen: str | None
    devices: list[DeviceHealth]
    alarms: list[str]
    last_error: str | None


def alarm_of(health: DeviceHealth) -> tuple[str, str] | None:
    """(code, words) for a device that is not well; None when it is."""
    if health.state == "connected":
        return None
    dev_zh, dev_en = _DEVICES.get(health.device, (health.device, health.device))
    state_zh, state_en = _STATES.get(health.state, (health.state, health.state))
    lowered = health.reason.lower()
    for needle, zh, en in _REASONS:
        if needle in lowered:
            state_zh, state_en = zh, en
            break
    return f"{health.device}.{health.state}", f"{dev_zh}{state_zh} {dev_en} {state_en}"


OFFLINE_ALARM = ("kiosk.offline", "终端离线 Kiosk offline")


class KioskFleet:
    def __init__(self, site: KioskSite) -> None:
        self._site = site

    def heartbeat(self, kiosk: str, beat: Beat) -> list[str]:
        """Store the beat; raise and clear alarms; returns the kiosk's alarms in words."""
        now = self._site.clock()
        with self._site.work() as uow:
            session = uow.session
            device = session.scalars(
                select(Device).where(Device.site_id == self._site.site_id, Device.name == kiosk)
            ).first()
            if device is None:
                raise UnknownKiosk(kiosk)
            alarms = dict(a for a in map(alarm_of, beat.devices) if a is not None)
            status = session.get(KioskStatus, device.id)
            payload = json.dumps(
                [
                    {
                        "device": d.device,
                        "state": d.state,
                        "reason": d.reason,
                        "since": d.since.isoformat(),
                    }
                    for d in beat.devices
                ],
                ensure_ascii=False,
            )
            if status is None:
                status = KioskStatus(device_id=device.id)
                session.add(status)
            status.last_seen = now
            status.app_version = beat.app_version
            status.screen = beat.screen
            status.devices_json = payload
            status.alarms_json = json.dumps(sorted(alarms.values()), ensure_ascii=False)
            status.last_error = beat.last_error
            open_alarms = {
                a.code: a
                for a in session.scalars(
                    select(KioskAlarm).where(
                        KioskAlarm.device_id == device.id, KioskAlarm.cleared_at.is_(None)
                    )
                )
            }
            for code, text in alarms.items():
                if code not in open_alarms:
                    session.add(
                        KioskAlarm(
                            origin_site_id=self._site.site_id,
                            created_at=now,
                            device_id=device.id,
                            code=code,
                            text=text,
                            raised_at=now,
                        )
                    )
                    uow.record(KioskAlarmRaised(now, kiosk, code, text))
            for code, row in open_alarms.items():
                if code not in alarms:
                    row.cleared_at = now
                    uow.record(KioskAlarmCleared(now, kiosk, code))
            health = (
                "fault"
                if any(d.state == "fault" for d in beat.devices)
                else "degraded"
                if alarms
                else "ok"
            )
            if device.health != health:
                device.health = health
                device.health_changed_at = now
            device.health_reason = "; ".join(sorted(alarms.values()))[:200] or None
            uow.record(KioskHeartbeat(now, kiosk, True, tuple(sorted(alarms.values()))))
        return sorted(alarms.values())

    def fleet(self) -> list[KioskView]:
        now = self._site.clock()
        with self._site.read() as session:
            devices = session.scalars(
                select(Device)
                .where(Device.site_id == self._site.site_id, Device.kind == DeviceKind.KIOSK)
                .order_by(Device.name)
            ).all()
            views = []
            for device in devices:
                status = session.get(KioskStatus, device.id)
                if status is None:
                    views.append(
                        KioskView(device.name, None, False, None, [], [OFFLINE_ALARM[1]], None)
                    )
                    continue
                online = now - status.last_seen <= OFFLINE_AFTER
                alarms = list(json.loads(status.alarms_json))
                if not online:
                    alarms.insert(0, OFFLINE_ALARM[1])
                views.append(
                    KioskView(
                        device.name,
                        status.last_seen,
                        online,
                        status.screen,
                        [
                            DeviceHealth(
                                d["device"],
                                d["state"],
                                d["reason"],
                                datetime.fromisoformat(d["since"]),
                            )
                            for d in json.loads(status.devices_json)
                        ],
                        alarms,
                        status.last_error,
                    )
                )
            return views
