"""Central's answers as the hall's side reads them: anything but 200 is a ``Refused`` that
carries central's error code and its English message (the error shape's fields)."""

from __future__ import annotations

import httpx

from sync.wire import Refused


def checked(response: httpx.Response) -> httpx.Response:
    if response.status_code == 200:
        return response
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("code", "http"))
        message = f"{body.get('message_en', '')} {body.get('detail') or ''}".strip()
    else:
        code, message = "http", ""
    raise Refused(
        code,
        f"central answered {response.status_code}: {message or response.text[:200]}",
        response.status_code,
    )
