"""The error shape every central refusal has — the same four fields as the hall's and the
platform's (``servicehall.platform.refusal``): a client never needs to know which layer refused."""

from __future__ import annotations

from pydantic import BaseModel


class ErrorOut(BaseModel):
    code: str
    message_zh: str
    message_en: str
    detail: str | None = None
