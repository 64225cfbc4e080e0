"""The words field dispatch shares with the schema, as plain enums.

They mirror ``servicedb.models.dispatch`` value for value (``Category("burst_main")`` and
``WorkOrderCategory("burst_main")`` name the same thing) so the pure core needs no database
import; the adapter converts by value. ``reopened`` is deliberately *not* a status: it is an
event that sends the order back to ``new`` or ``dispatched`` (see ``orders``).
"""

from __future__ import annotations

import enum


class Category(enum.StrEnum):
    BURST_MAIN = "burst_main"  # 爆管
    NO_WATER = "no_water"  # 停水 / 无水
    LOW_PRESSURE = "low_pressure"  # 降压 / 水压低
    LEAK = "leak"  # 漏水
    METER_FAULT = "meter_fault"  # 水表故障
    LINE_FAULT = "line_fault"  # 线路故障 (telecom)
    COMPLAINT = "complaint"  # 投诉
    ENQUIRY = "enquiry"  # 咨询
    HELP = "help"  # 求助
    MISCONDUCT = "misconduct"  # 举报


class Status(enum.StrEnum):
    NEW = "new"
    DISPATCHED = "dispatched"  # 已派单
    ACCEPTED = "accepted"  # 已接单
    EN_ROUTE = "en_route"  # 出发
    ON_SITE = "on_site"  # 到场
    RESOLVED = "resolved"  # the field reported back (已处理)
    CLOSED = "closed"  # 销账
    CANCELLED = "cancelled"


class Actor(enum.StrEnum):
    """Who made a change; each transition says which of them may."""

    DISPATCHER = "dispatcher"
    TECHNICIAN = "technician"
    SYSTEM = "system"  # the dispatch engine, SLA timers
    HALL = "hall"  # counter staff on the customer's behalf


MOST_URGENT = 1
LEAST_URGENT = 5
PRIORITIES = range(MOST_URGENT, LEAST_URGENT + 1)
