"""All tables of the service database. Importing this module registers every model."""

from servicedb.models.billing import Bill, BillLine, Payment, PaymentKind, Tariff, TariffTier
from servicedb.models.customers import (
    Account,
    AccountPhone,
    AccountStatus,
    Customer,
    Meter,
    MeterReading,
    Premises,
    ReadingSource,
    ServiceKind,
)
from servicedb.models.devices import Device, DeviceKind
from servicedb.models.dispatch import (
    Crew,
    GpsFix,
    Technician,
    TechnicianSkill,
    WorkOrder,
    WorkOrderCategory,
    WorkOrderStatus,
)
from servicedb.models.hall import (
    Counter,
    CounterCategory,
    CounterSession,
    QueueEvent,
    QueueTicket,
    ServiceCategory,
    TicketStatus,
)
from servicedb.models.notices import Announcement, Outage, OutageKind, OutageStatus
from servicedb.models.sites import Site, SiteKind, Zone

__all__ = [
    "Account",
    "AccountPhone",
    "AccountStatus",
    "Announcement",
    "Bill",
    "BillLine",
    "Counter",
    "CounterCategory",
    "CounterSession",
    "Crew",
    "Customer",
    "Device",
    "DeviceKind",
    "GpsFix",
    "Meter",
    "MeterReading",
    "Outage",
    "OutageKind",
    "OutageStatus",
    "Payment",
    "PaymentKind",
    "Premises",
    "QueueEvent",
    "QueueTicket",
    "ReadingSource",
    "ServiceCategory",
    "ServiceKind",
    "Site",
    "SiteKind",
    "Tariff",
    "TariffTier",
    "Technician",
    "TechnicianSkill",
    "TicketStatus",
    "WorkOrder",
    "WorkOrderCategory",
    "WorkOrderStatus",
    "Zone",
]
