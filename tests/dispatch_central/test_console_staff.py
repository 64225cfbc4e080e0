"""Central staff sign in with a PIN and get a session that says what they may do."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from domain.console_staff import ConsoleSessions, NoConsoleRole, set_roles
from domain.queueing.errors import QueueError
from domain.staff import SignInRefused, StaffLocked
from servicedb.models import ConsoleRole, ConsoleSession, Staff
from tests.dispatch_central.builders import CENTRAL, PIN, Clock, add_console_staff, build_city

pytestmark = pytest.mark.integration


def test_sign_in_identify_sign_out_expire(sqlite_db: Engine) -> None:
    city = build_city(sqlite_db)
    add_console_staff(
        sqlite_db, city.central_id, "D001", ConsoleRole.DISPATCHER, ConsoleRole.SUPERVISOR
    )
    add_console_staff(sqlite_db, city.central_id, "X001")  # staff, but no console role
    add_console_staff(sqlite_db, city.hall_id, "H001", ConsoleRole.AGENT)  # a hall's staff
    clock = Clock()
    sessions = ConsoleSessions(sqlite_db, CENTRAL, clock=clock)

    signed = sessions.sign_in("D001", PIN)
    user = sessions.identify(signed.token)
    assert user is not None and user.staff_no == "D001"
    assert user.roles == {ConsoleRole.DISPATCHER, ConsoleRole.SUPERVISOR}
    assert user.may(ConsoleRole.AGENT, ConsoleRole.DISPATCHER) and not user.may(ConsoleRole.AGENT)
    assert signed.expires_at == clock.now + timedelta(hours=12)
    with Session(sqlite_db) as session:  # only a digest of the token is kept
        (stored,) = session.query(ConsoleSession.token_sha256).all()
        assert signed.token not in stored[0] and len(stored[0]) == 64

    with pytest.raises(SignInRefused):
        sessions.sign_in("D001", "0000")
    with pytest.raises(SignInRefused):
        sessions.sign_in("H001", PIN)  # a hall's staff number means nothing at central
    with pytest.raises(NoConsoleRole):
        sessions.sign_in("X001", PIN)
    assert sessions.identify("not-a-token") is None

    # Roles taken away: the session stops working at once.
    with Session(sqlite_db) as session, session.begin():
        set_roles(session, city.central_id, "D001", [ConsoleRole.AGENT])
    assert sessions.identify(signed.token).roles == {ConsoleRole.AGENT}  # type: ignore[union-attr]
    sessions.sign_out(signed.token)
    assert sessions.identify(signed.token) is None
    again = sessions.sign_in("D001", PIN)
    clock.advance(hours=12, seconds=1)
    assert sessions.identify(again.token) is None  # a shift later


def test_five_wrong_pins_lock_the_staff_number(sqlite_db: Engine) -> None:
    city = build_city(sqlite_db)
    add_console_staff(sqlite_db, city.central_id, "A001", ConsoleRole.AGENT)
    sessions = ConsoleSessions(sqlite_db, CENTRAL, clock=Clock())
    for _ in range(4):
        with pytest.raises(SignInRefused):
            sessions.sign_in("A001", "9999")
    with pytest.raises(StaffLocked):
        sessions.sign_in("A001", "9999")
    with pytest.raises(QueueError):
        sessions.sign_in("A001", PIN)  # locked, even with the right PIN
    with Session(sqlite_db) as session:
        staff = session.query(Staff).filter_by(staff_no="A001").one()
        assert staff.locked_until is not None
