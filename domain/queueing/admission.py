"""Who may take a ticket now: opening hours, the ticket cut-off, daily quotas, and proof of priority.

Appointment and VIP priority are verified here (an appointment code booked for this hall,
today, this service, checked in near its slot; a VIP card that is active), never taken on
the caller's word. Elderly and disabled priority is declared at the kiosk, as halls do.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain.queueing.errors import (
    HallClosed,
    InvalidAppointment,
    InvalidVipCard,
    QuotaReached,
)
from domain.queueing.layout import HallLayout
from servicedb.models import Appointment, HallHours, QueueTicket, ServiceCategory, VipCard

# An appointment may check in from 30 minutes before its slot until 15 minutes after it.
EARLY = timedelta(minutes=30)
LATE = timedelta(minutes=15)


class NotIssuing(enum.StrEnum):
    CLOSED_TODAY = "closed_today"  # no opening hours today
    NOT_YET_OPEN = "not_yet_open"
    CUT_OFF = "cut_off"  # 停止取号: past today's last ticket time
    QUOTA_REACHED = "quota_reached"  # 限号


def not_issuing(
    session: Session, layout: HallLayout, category: ServiceCategory, now: datetime
) -> tuple[NotIssuing, str] | None:
    """Why ``category`` gives no tickets now (with the hour that matters), or None."""
    local = now.astimezone(layout.timezone)
    has_hours = session.scalar(
        select(func.count()).select_from(HallHours).where(HallHours.site_id == layout.site_id)
    )
    if has_hours:
        hours = session.get(HallHours, (layout.site_id, local.weekday()))
        if hours is None:
            return NotIssuing.CLOSED_TODAY, ""
        if local.time() < hours.opens:
            return NotIssuing.NOT_YET_OPEN, f"{hours.opens:%H:%M}"
        if local.time() >= hours.last_ticket:
            return NotIssuing.CUT_OFF, f"{hours.last_ticket:%H:%M}"
    # Read now, not from the layout loaded at start: a quota can change during the day.
    quota = session.scalar(
        select(ServiceCategory.daily_quota).where(ServiceCategory.id == category.id)
    )
    if quota is not None:
        issued = session.scalar(
            select(func.count())
            .select_from(QueueTicket)
            .where(
                QueueTicket.origin_site_id == layout.site_id,
                QueueTicket.issued_category_id == category.id,
                QueueTicket.service_day == local.date(),
                QueueTicket.walk_in.is_(False),
            )
        )
        if (issued or 0) >= quota:
            return NotIssuing.QUOTA_REACHED, str(quota)
    return None


def check_issuing(
    session: Session, layout: HallLayout, category: ServiceCategory, now: datetime
) -> None:
    refusal = not_issuing(session, layout, category, now)
    if refusal is None:
        return
    reason, when = refusal
    if reason is NotIssuing.QUOTA_REACHED:
        raise QuotaReached(f"{category.code}: {when} tickets issued today")
    zh, en = {
        NotIssuing.CLOSED_TODAY: ("今日不营业", "The hall is closed today"),
        NotIssuing.NOT_YET_OPEN: (f"{when} 开始取号", f"Tickets from {when}"),
        NotIssuing.CUT_OFF: (f"今日已停止取号（{when}）", f"No more tickets today (after {when})"),
    }[reason]
    raise HallClosed(f"{category.code}: {reason.value} {when}".strip(), zh, en)


def use_appointment(
    session: Session, layout: HallLayout, category: ServiceCategory, code: str, now: datetime
) -> Appointment:
    """The booked appointment behind ``code``, marked used. Call in the write transaction."""
    appointment = session.scalar(
        select(Appointment).where(
            Appointment.site_id == layout.site_id, Appointment.code == code.strip().upper()
        )
    )
    if appointment is None:
        raise InvalidAppointment(f"no appointment {code!r} at {layout.site_code}")
    if appointment.used_at is not None:
        raise InvalidAppointment(f"appointment {code!r} already used")
    if appointment.category_id != category.id:
        raise InvalidAppointment(f"appointment {code!r} is for another service")
    if not appointment.window_start - EARLY <= now <= appointment.window_end + LATE:
        raise InvalidAppointment(f"appointment {code!r} is not for now")
    appointment.used_at = now
    return appointment


def check_vip_card(session: Session, card_no: str, now: datetime, layout: HallLayout) -> VipCard:
    card = session.scalar(select(VipCard).where(VipCard.card_no == card_no.strip()))
    today = now.astimezone(layout.timezone).date()
    if card is None or not card.active:
        raise InvalidVipCard("unknown or inactive VIP card")
    if card.valid_until is not None and card.valid_until < today:
        raise InvalidVipCard("VIP card expired")
    return card
