"""A unit of work: one transaction, the events recorded in it, and their hand-off after commit.

Domain services take an optional unit of work. Without one, each command is its own
transaction; with one, several commands (finish a ticket, record a payment, open a work
order) commit together or not at all, and their events are published only after that commit.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from domain.bus import EventBus
from domain.events import Event
from servicedb.engine import make_session_factory


class UnitOfWork:
    def __init__(self, sessions: sessionmaker[Session], bus: EventBus) -> None:
        self._sessions = sessions
        self._bus = bus
        self._session: Session | None = None
        self.events: list[Event] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("use the unit of work in a with block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._sessions()
        self._session.begin()
        self.events = []
        return self

    def record(self, event: Event) -> None:
        self.events.append(event)

    def commit(self) -> None:
        """Write the in-transaction listeners' rows, commit, then tell everyone else."""
        session = self.session
        self._bus.before_commit(session, self.events)
        session.commit()
        events, self.events = self.events, []
        self._bus.publish(events)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        if session.in_transaction():
            session.rollback()  # not committed: nothing of it stays, nothing is announced
        session.close()
        self._session = None
        self.events = []


class UnitsOfWork:
    """Makes units of work for one site's database, all reporting to one bus."""

    def __init__(self, engine: Engine, bus: EventBus | None = None) -> None:
        self.engine = engine
        self.bus = bus or EventBus()
        # Read-then-write work: on SQLite each transaction takes the write lock at BEGIN.
        self._sessions = make_session_factory(engine, serialised_writes=True)

    def __call__(self) -> UnitOfWork:
        return UnitOfWork(self._sessions, self.bus)
