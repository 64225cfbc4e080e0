"""Who owns what: the ownership table of sync, and each table's slice for a hall.

Ownership instead of conflict resolution (written once, here):

- **Halls append** (``UP``): tickets and their events, counter sessions, appointments,
  payments, receipts, kiosk fault reports, and the work orders reported at the hall with
  their first event. Only the hall that made a row (``origin_site_id``) may send it.
- **Central owns reference data** (``DOWN``): sites, zones, tariffs, streets, crews,
  outages, announcements, each hall's categories / hours / counters, and the hall's slice of
  customers, premises, accounts, phones, meters, readings, bills and cards.
- **Work orders** are created at a hall or at central; once central has a hall's order, its
  later states come from central only (``FIRST_WRITE``: central keeps its copy when the hall
  resends the row; the hall takes central's copy when it comes down).
- **Payments** are append-only on both sides, so a payment cannot conflict: the paid state
  of a bill is derived from the ledger (``domain.accounts``), never stored, and each side
  counts a payment once because it has one id.
- **Staff** are provisioned with the hall and then belong to it (PINs are set at the hall).
  Devices, tokens, kiosk sessions, one-time codes and QR orders never leave the hall.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, false, or_, select, true

from servicedb.base import Base
from servicedb.models import (
    Account,
    Bill,
    Meter,
    Premises,
    ServiceCategory,
    VipCard,
    WorkOrder,
)


class Apply(enum.Enum):
    STATE = "state"  # the newest state wins (insert, or update every column)
    APPEND = "append"  # append-only: insert once, never update
    FIRST_WRITE = "first_write"  # the receiver's copy, once it has one, is kept


@dataclass(frozen=True)
class Synced:
    name: str
    up: Apply | None = None  # hall → central, and how central applies it
    down: Apply | None = None  # central → halls, and how a hall applies it
    snapshot_only: bool = False  # provisioned, then the hall's own

    @property
    def table(self) -> Table:
        return Base.metadata.tables[self.name]

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.table.primary_key.columns)


S, A, F = Apply.STATE, Apply.APPEND, Apply.FIRST_WRITE

# In foreign-key order: a snapshot and a page are applied in this order.
SYNCED: tuple[Synced, ...] = (
    Synced("sites", down=S),
    Synced("zones", down=S),
    Synced("tariffs", down=S),
    Synced("tariff_tiers", down=S),
    Synced("streets", down=S),
    Synced("crews", down=S),
    Synced("outages", down=S),
    Synced("announcements", down=S),
    Synced("service_categories", down=S),
    Synced("hall_hours", down=S),
    Synced("counters", down=S),
    Synced("counter_categories", down=S),
    Synced("staff", snapshot_only=True),
    Synced("customers", down=S),
    Synced("premises", down=S),
    Synced("accounts", down=S),
    Synced("account_phones", down=S),
    Synced("meters", down=S),
    Synced("meter_readings", down=S),
    Synced("bills", down=S),
    Synced("bill_lines", down=S),
    Synced("vip_cards", down=S),
    Synced("customer_cards", down=S),
    Synced("counter_sessions", up=S),
    Synced("queue_tickets", up=S),
    Synced("queue_events", up=A),
    Synced("appointments", up=S),
    Synced("payments", up=A, down=A),
    Synced("payment_receipts", up=S),
    Synced("work_orders", up=F, down=S),
    Synced("work_order_events", up=A, down=A),
    Synced("kiosk_reports", up=S),
)
BY_NAME = {s.name: s for s in SYNCED}
UP = tuple(s for s in SYNCED if s.up is not None)
DOWN = tuple(s for s in SYNCED if s.down is not None)
SNAPSHOT = tuple(s for s in SYNCED if s.down is not None or s.snapshot_only)
# Tables whose rows a hall made but central later changes: they come back down to their origin.
RETURN_TO_ORIGIN = frozenset({"work_orders"})


@dataclass(frozen=True)
class Slice:
    """One hall's share of central's data: the hall itself and the zones it serves."""

    site_id: uuid.UUID
    zone_ids: Sequence[uuid.UUID] = ()  # empty: the whole city

    def where(self, name: str) -> ColumnElement[bool]:
        """Rows of ``name`` this hall receives (as central decides, on central's database)."""
        table = BY_NAME[name].table
        c = table.c
        if name in ("service_categories", "hall_hours", "counters", "staff"):
            return c.site_id == self.site_id
        if name == "counter_categories":
            return c.category_id.in_(
                select(ServiceCategory.id).where(ServiceCategory.site_id == self.site_id)
            )
        if name == "announcements":
            return or_(c.site_id.is_(None), c.site_id == self.site_id)
        if name == "premises":
            return c.zone_id.in_(self.zone_ids) if self.zone_ids else true()
        if name in ("accounts",):
            return self._premises(c.premises_id)
        if name == "customers":
            # Key-account (VIP) holders go to every hall: their card works at any of them.
            return or_(
                c.id.in_(select(Account.customer_id).where(self._premises(Account.premises_id))),
                c.id.in_(select(VipCard.customer_id)),
            )
        if name in ("account_phones", "meters", "bills", "customer_cards"):
            return self._account(c.account_id)
        if name == "bill_lines":
            return c.bill_id.in_(select(Bill.id).where(self._account(Bill.account_id)))
        if name == "meter_readings":
            return c.meter_id.in_(select(Meter.id).where(self._account(Meter.account_id)))
        if name == "payments":
            # The hall's own payments it has; the others' are for the hall's accounts.
            return (c.origin_site_id != self.site_id) & self._account(c.account_id)
        if name == "work_orders":
            return c.origin_site_id == self.site_id
        if name == "work_order_events":
            return (c.origin_site_id != self.site_id) & c.order_id.in_(
                select(WorkOrder.id).where(WorkOrder.origin_site_id == self.site_id)
            )
        if BY_NAME[name].down is None and not BY_NAME[name].snapshot_only:
            return false()
        return true()

    def _premises(self, column: Any) -> ColumnElement[bool]:
        if not self.zone_ids:
            return true()
        inside: ColumnElement[bool] = column.in_(
            select(Premises.id).where(Premises.zone_id.in_(self.zone_ids))
        )
        return inside

    def _account(self, column: Any) -> ColumnElement[bool]:
        if not self.zone_ids:
            return true()
        inside: ColumnElement[bool] = column.in_(
            select(Account.id).where(self._premises(Account.premises_id))
        )
        return inside


__all__ = [
    "BY_NAME",
    "DOWN",
    "RETURN_TO_ORIGIN",
    "SNAPSHOT",
    "SYNCED",
    "UP",
    "Apply",
    "Slice",
    "Synced",
]
