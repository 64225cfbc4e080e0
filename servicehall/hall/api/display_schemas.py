"""The contract of ``GET /api/v1/display``: what the hall screen shows besides the queue.

Imports only pydantic and the standard library, like ``schemas``, so a client can use it
without the server.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

# The Server-Sent Event (on /api/v1/stream) that tells screens to ask /display again:
# published when outages or announcements change (sync down from central, a local edit).
DISPLAY_CHANGED = "display-changed"


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")  # a newer hall may send more fields


class NoticeOut(_Out):
    """An outage touching the hall's area, in effect now: the priority band while it lasts."""

    kind: str = Field(
        examples=["water_off"]
    )  # water_off | low_pressure | emergency_repair | line_fault
    text_zh: str = Field(
        examples=["停水通知：金融大街供水管道更换 09:00-17:00"]
    )  # as the LED board says it
    text_en: str = Field(examples=["Water off: main replacement on Jinrong Street 09:00-17:00"])
    starts_at: datetime
    restore_at: datetime | None  # estimated; the notice stays while the outage is active


class AnnouncementOut(_Out):
    text_zh: str
    text_en: str


class DisplayOut(_Out):
    site: str
    name_zh: str
    name_en: str
    timezone: str = Field(examples=["Asia/Shanghai"])  # the hall's, for the screen's clock
    at: datetime  # the hall's clock when this was put together
    notices: list[NoticeOut]  # oldest first
    announcements: list[AnnouncementOut]  # most important first
    refresh_s: int = Field(examples=[30])  # ask again after this long, or on `display-changed`
