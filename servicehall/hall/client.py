"""A typed client for the hall API: what kiosks, tests and other processes use instead of JSON.

Imports only httpx, pydantic and the API's schemas. Every refusal becomes ``HallApiError``
carrying the hall's ``ErrorOut`` (code and messages for the person at the screen); a hall
that cannot be reached becomes ``HallUnreachable`` — the kiosk shows its out-of-service page.
"""

from __future__ import annotations

import ssl
import uuid
from types import TracebackType
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from servicehall.hall.api.display_schemas import DisplayOut
from servicehall.hall.api.schemas import (
    API_PREFIX,
    CallNumberIn,
    CounterActionOut,
    CounterStatusOut,
    ErrorOut,
    FinishIn,
    FinishOutcome,
    LayoutOut,
    PauseIn,
    PauseReason,
    PriorityReason,
    QueueOut,
    RatingIn,
    ReturnParkedIn,
    SignInIn,
    TakeTicketIn,
    TicketListOut,
    TicketOut,
    TransferIn,
    WalkInIn,
)

M = TypeVar("M", bound=BaseModel)


class HallClientError(Exception):
    pass


class HallUnreachable(HallClientError):
    """No answer from the hall (down, unplugged, timed out)."""


class HallApiError(HallClientError):
    """The hall answered with a refusal."""

    def __init__(self, status: int, error: ErrorOut) -> None:
        super().__init__(f"{status} {error.code}: {error.message_en}")
        self.status = status
        self.error = error


class HallClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout_s: float = 5.0,
        verify: ssl.SSLContext | bool = True,
        http: httpx.Client | None = None,
    ) -> None:
        """``http``: an existing client to send through (a test client, a shared pool); its
        base URL is then used as is and it is not closed here."""
        self._token = token
        self._owns_http = http is None
        self._prefix = base_url.rstrip("/") + API_PREFIX
        self._http = http or httpx.Client(timeout=timeout_s, verify=verify)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> HallClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- tickets ------------------------------------------------------------------------
    def take_ticket(
        self,
        category: str,
        priority_reason: PriorityReason | None = None,
        *,
        appointment_code: str | None = None,
        vip_card: str | None = None,
    ) -> TicketOut:
        body = TakeTicketIn(
            category=category,
            priority_reason=priority_reason,
            appointment_code=appointment_code,
            vip_card=vip_card,
        )
        return self._call("POST", "/tickets", TicketOut, body)

    def ticket(self, ticket_id: uuid.UUID) -> TicketOut:
        return self._call("GET", f"/tickets/{ticket_id}", TicketOut)

    def rate(self, ticket_id: uuid.UUID, score: int) -> None:
        self._send("POST", f"/tickets/{ticket_id}/rating", RatingIn(score=score))

    def queue(self) -> QueueOut:
        return self._call("GET", "/queue", QueueOut)

    def display(self) -> DisplayOut:
        """The hall's active outage notices and announcements, as the screen shows them."""
        return self._call("GET", "/display", DisplayOut)

    # --- counters -----------------------------------------------------------------------
    def sign_in(
        self, counter: int, staff_no: str, pin: str, categories: list[str] | None = None
    ) -> None:
        body = SignInIn(staff_no=staff_no, pin=pin, categories=categories)
        self._send("POST", f"/counters/{counter}/sign-in", body)

    def pause(self, counter: int, reason: PauseReason) -> None:
        self._send("POST", f"/counters/{counter}/pause", PauseIn(reason=reason))

    def resume(self, counter: int) -> None:
        self._send("POST", f"/counters/{counter}/resume")

    def counter(self, counter: int) -> CounterStatusOut:
        return self._call("GET", f"/counters/{counter}", CounterStatusOut)

    def parked(self, counter: int) -> TicketListOut:
        return self._call("GET", f"/counters/{counter}/parked", TicketListOut)

    def layout(self) -> LayoutOut:
        return self._call("GET", "/layout", LayoutOut)

    def call_number(self, counter: int, number: str) -> CounterActionOut:
        body = CallNumberIn(number=number)
        return self._call("POST", f"/counters/{counter}/call", CounterActionOut, body)

    def sign_out(self, counter: int) -> None:
        self._send("POST", f"/counters/{counter}/sign-out")

    def call_next(self, counter: int, *, press: str | None = None) -> CounterActionOut:
        """``press``: one key per button press, so a repeated press gets the same answer."""
        headers = {"Idempotency-Key": press} if press else None
        return self._call("POST", f"/counters/{counter}/next", CounterActionOut, headers=headers)

    def recall(self, counter: int) -> CounterActionOut:
        return self._call("POST", f"/counters/{counter}/recall", CounterActionOut)

    def start(self, counter: int) -> CounterActionOut:
        return self._call("POST", f"/counters/{counter}/start", CounterActionOut)

    def park(self, counter: int) -> CounterActionOut:
        return self._call("POST", f"/counters/{counter}/park", CounterActionOut)

    def no_show(self, counter: int) -> CounterActionOut:
        return self._call("POST", f"/counters/{counter}/no-show", CounterActionOut)

    def finish(
        self, counter: int, outcome: FinishOutcome = FinishOutcome.SERVED
    ) -> CounterActionOut:
        return self._call(
            "POST", f"/counters/{counter}/finish", CounterActionOut, FinishIn(outcome=outcome)
        )

    def transfer(
        self,
        counter: int,
        *,
        category: str | None = None,
        to_counter: int | None = None,
        front: bool = False,
    ) -> CounterActionOut:
        body = TransferIn(category=category, counter=to_counter, front=front)
        return self._call("POST", f"/counters/{counter}/transfer", CounterActionOut, body)

    def return_parked(self, counter: int, number: str) -> CounterActionOut:
        body = ReturnParkedIn(number=number)
        return self._call("POST", f"/counters/{counter}/return", CounterActionOut, body)

    def walk_in(self, counter: int, category: str) -> CounterActionOut:
        body = WalkInIn(category=category)
        return self._call("POST", f"/counters/{counter}/walk-in", CounterActionOut, body)

    # --- plumbing -----------------------------------------------------------------------
    def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        body: BaseModel | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> M:
        response = self._request(method, path, body, headers)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as err:
            raise HallClientError(f"{method} {path}: unexpected answer: {err}") from err

    def _send(self, method: str, path: str, body: BaseModel | None = None) -> None:
        self._request(method, path, body)

    def _request(
        self,
        method: str,
        path: str,
        body: BaseModel | None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if self._token:
            sent["Authorization"] = f"Bearer {self._token}"
        try:
            response = self._http.request(
                method,
                self._prefix + path,
                json=None if body is None else body.model_dump(mode="json", exclude_none=True),
                headers=sent,
            )
        except httpx.HTTPError as err:
            raise HallUnreachable(f"{method} {path}: {type(err).__name__}: {err}") from err
        if response.status_code >= 400:
            raise HallApiError(response.status_code, _error_of(response))
        return response


def _error_of(response: httpx.Response) -> ErrorOut:
    try:
        return ErrorOut.model_validate_json(response.content)
    except ValidationError:
        return ErrorOut(
            code=f"HTTP{response.status_code}",
            message_zh="服务暂时不可用",
            message_en="The service is not available",
            detail=response.text[:200],
        )
