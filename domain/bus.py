"""The event bus: who hears what a committed command recorded.

Two kinds of listener. *In-transaction* handlers run inside the unit of work, just before its
commit, with its session: what they write commits or rolls back with the command (the sync
outbox must be one of these, or an event could be lost between commit and write).
*After-commit* handlers run once the data is durable: screens, the board, voice. A failing
after-commit handler is logged and does not undo or fail the command — the ticket was taken.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from domain.events import Event

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)


class EventBus:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._after: list[tuple[type[Event], Callable[[Any], None]]] = []
        self._within: list[tuple[type[Event], Callable[[Session, Any], None]]] = []

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        """Call ``handler`` for each committed event of ``event_type`` (or a subclass)."""
        with self._lock:
            self._after.append((event_type, handler))

    def subscribe_in_transaction(
        self, event_type: type[E], handler: Callable[[Session, E], None]
    ) -> None:
        """Call ``handler(session, event)`` inside the unit of work, before it commits."""
        with self._lock:
            self._within.append((event_type, handler))

    def before_commit(self, session: Session, events: Iterable[Event]) -> None:
        handlers = list(self._within)
        for event in events:
            for event_type, handler in handlers:
                if isinstance(event, event_type):
                    handler(session, event)

    def publish(self, events: Iterable[Event]) -> None:
        handlers = list(self._after)
        for event in events:
            for event_type, handler in handlers:
                if isinstance(event, event_type):
                    try:
                        handler(event)
                    except Exception:
                        log.exception("handler %r failed on %r", handler, event)
