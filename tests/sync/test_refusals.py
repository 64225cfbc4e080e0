"""Central refuses a bad batch whole, says why in its error shape, and applies nothing; the
hall that sent it is not wedged: its next correct batch applies. Against central's real
endpoint, on a SQLite and on a PostgreSQL central (one central per module and dialect)."""

from __future__ import annotations

import gzip
import json
import os
import random
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from servicedb.engine import make_engine
from servicedb.models import DeviceKind, Site, SyncPeer
from servicehall.hall import tokens
from sync import central_side, hall_side, wire
from sync.tables import UP
from tests.conftest import PG_ADMIN_URL
from tests.sync.harness import Central, Hall, provision_hall, start_central
from tests.sync.workload import HallDay

HALL, OTHER = "hall-xicheng", "hall-guanganmen"
UP_PATH = "/api/v1/sync/up"
Document = dict[str, Any]


@dataclass
class World:
    central: Central
    hall: Hall
    day: HallDay
    other_token: str
    other_site_id: uuid.UUID


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("refusals")
    drop: Callable[[], None] = lambda: None  # noqa: E731
    if request.param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_template"), folder / "central.db")
        url = f"sqlite:///{folder / 'central.db'}"
    else:
        admin: Engine = request.getfixturevalue("pg_admin")
        template = request.getfixturevalue("pg_template")
        name = f"servicehall_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"

        def drop() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    engine = make_engine(url)
    central = start_central(engine)
    hall = provision_hall(central, HALL, folder)
    other_token = central_side.issue_token(engine, OTHER)
    with Session(engine) as session:
        other_id = session.scalar(select(Site.id).where(Site.code == OTHER))
    assert other_id is not None
    yield World(central, hall, HallDay(hall.engine, HALL, random.Random(5)), other_token, other_id)
    hall.engine.dispose()
    engine.dispose()
    drop()


# --- what central holds, and what it answers -------------------------------------------------
def central_state(engine: Engine) -> dict[str, Any]:
    """Every key of every table halls send, and every hall's cursor (not its last error)."""
    state: dict[str, Any] = {}
    with Session(engine) as session:
        for synced in UP:
            columns = list(synced.table.primary_key.columns)
            state[synced.name] = {tuple(r) for r in session.execute(select(*columns))}
        # Each hall's cursor, not its last_error: that one says why, and should.
        peers = select(
            SyncPeer.site_id,
            SyncPeer.token_sha256,
            SyncPeer.up_seq,
            SyncPeer.up_batches,
            SyncPeer.up_rows,
            SyncPeer.hall_pending,
            SyncPeer.last_up_at,
            SyncPeer.schema_revision,
        )
        state["sync_peers"] = {tuple(p) for p in session.execute(peers)}
    return state


def work(world: World, *, payment: bool = False, tickets: int = 1) -> wire.UpBatch:
    for _ in range(tickets):
        world.day.ticket()
    if payment:
        assert world.day.payment(), "no bill left to pay in the hall's slice"
    batch = hall_side.build_batch(world.hall.engine, HALL, world.hall.site_id, world.central.schema)
    assert batch is not None
    return batch


def document(batch: wire.UpBatch) -> Document:
    decoded: Document = json.loads(gzip.decompress(wire.encode_up(batch)))
    return decoded


def repack(doc: Document, *, redigest: bool = True) -> bytes:
    if redigest:
        doc["digest"] = wire.digest(doc["rows"])
    return wire.pack(doc)


def gzip_text(raw: str | bytes) -> bytes:
    return gzip.compress(raw.encode() if isinstance(raw, str) else raw, mtime=0)


def post(
    world: World, body: bytes, *, site: str = HALL, token: str | None = None
) -> httpx.Response:
    client = world.central.hall_client(site, world.hall.token if token is None else token)
    return client.post(UP_PATH, content=body, headers={"Content-Type": wire.CONTENT_TYPE})


def refused(
    world: World,
    body: bytes,
    status: int,
    code: str,
    *,
    says: str = "",
    site: str = HALL,
    token: str | None = None,
) -> Document:
    """Post; the answer is the refusal expected, in the error shape, and nothing changed."""
    before = central_state(world.central.engine)
    response = post(world, body, site=site, token=token)
    answer: Document = response.json()
    assert response.status_code == status, answer
    assert set(answer) == {"code", "message_zh", "message_en", "detail"}, answer
    assert answer["code"] == code, answer
    assert answer["message_zh"] and answer["message_en"], answer
    assert says.lower() in answer["message_en"].lower(), answer
    assert central_state(world.central.engine) == before
    return answer


def not_wedged(world: World) -> None:
    """The hall's next push applies: everything it made is at central, its outbox empty."""
    assert world.hall.agent.push() >= 0
    assert hall_side.pending(world.hall.engine).changes == 0
    theirs = central_state(world.central.engine)
    with Session(world.hall.engine) as session:
        for synced in UP:
            table = synced.table
            columns = list(table.primary_key.columns)
            ours = {
                tuple(r)
                for r in session.execute(
                    select(*columns).where(table.c.origin_site_id == world.hall.site_id)
                )
            }
            assert ours <= theirs[synced.name], synced.name
    with Session(world.central.engine) as session:
        peer = session.get(SyncPeer, world.hall.site_id)
        assert peer is not None and peer.last_error is None  # the operator's alarm clears


def rows_of(doc: Document, table: str) -> list[Document]:
    rows = [r for r in doc["rows"] if r["t"] == table and "v" in r]
    assert rows, f"the batch has no {table} row"
    return rows


# --- who may send ------------------------------------------------------------------------------
def test_a_wrong_token_is_refused(world: World) -> None:
    body = wire.encode_up(work(world))
    refused(world, body, 401, "unauthorised", token="not-a-token")  # noqa: S106
    refused(world, body, 401, "unauthorised", token="")
    not_wedged(world)


def test_an_unknown_site_is_refused(world: World) -> None:
    batch = work(world)
    refused(world, wire.encode_up(batch), 403, "forbidden", site="hall-nowhere")
    doc = document(batch)
    doc["site"] = "hall-nowhere"
    refused(world, repack(doc), 403, "forbidden", says="hall-nowhere")
    not_wedged(world)


def test_another_halls_token_is_refused(world: World) -> None:
    body = wire.encode_up(work(world))
    # The other hall's token, claiming to be this hall.
    refused(world, body, 403, "forbidden", token=world.other_token, says=OTHER)
    # The other hall, honest about itself, sending this hall's batch.
    refused(world, body, 403, "forbidden", site=OTHER, token=world.other_token, says=HALL)
    # This hall's token, claiming to be the other.
    refused(world, body, 403, "forbidden", site=OTHER)
    not_wedged(world)


def test_a_kiosks_device_token_is_not_a_sync_token(world: World) -> None:
    kiosk = tokens.issue_token(
        world.hall.engine, HALL, DeviceKind.KIOSK, f"kiosk-{uuid.uuid4().hex[:6]}"
    )
    refused(world, wire.encode_up(work(world)), 401, "unauthorised", token=kiosk)
    not_wedged(world)


def test_a_forged_origin_among_good_rows_refuses_the_whole_batch(world: World) -> None:
    doc = document(work(world, tickets=3, payment=True))
    events = rows_of(doc, "queue_events")
    assert len(doc["rows"]) > 3
    events[len(events) // 2]["v"]["origin_site_id"] = str(world.other_site_id)
    refused(world, repack(doc), 403, "forged_origin", says="another site")
    not_wedged(world)


# --- bodies that are not a batch ---------------------------------------------------------------
def test_a_corrupt_body_is_refused(world: World) -> None:
    doc = document(work(world, payment=True))
    raw = json.dumps(doc)
    refused(world, raw.encode(), 422, "corrupt", says="not gzip")
    refused(world, gzip_text("this is not json"), 422, "corrupt", says="not JSON")
    refused(world, gzip_text('{"site": "x", ' + raw[1:]), 422, "corrupt", says="duplicate")
    payment = rows_of(doc, "payments")[0]
    amount = json.dumps(payment["v"]["amount_fen"])
    with_nan = raw.replace(f'"amount_fen": {amount}', '"amount_fen": NaN', 1)
    assert with_nan != raw
    refused(world, gzip_text(with_nan), 422, "corrupt", says="NaN")
    payment["v"]["amount_fen"] = 1  # a smaller payment than the hall made, digest not redone
    refused(world, repack(doc, redigest=False), 422, "corrupt", says="digest")
    not_wedged(world)


def test_a_truncated_body_is_refused(world: World) -> None:
    body = wire.encode_up(work(world, tickets=3))
    refused(world, body[: len(body) // 2], 422, "corrupt", says="truncated")
    refused(world, body + b"\x00" * 8, 422, "corrupt")
    not_wedged(world)


def test_oversized_batches_are_refused(world: World) -> None:
    batch = work(world)
    # Central's request limit answers before the route reads the body, in the platform's code.
    refused(world, os.urandom(wire.MAX_BODY_BYTES + 1), 413, "TooLarge", says="too large")
    doc = document(batch)
    template = doc["rows"][0]
    doc["rows"] = [{**template, "seq": doc["first_seq"] + i} for i in range(wire.MAX_ROWS + 1)]
    doc["last_seq"] = doc["first_seq"] + wire.MAX_ROWS
    refused(world, repack(doc), 413, "too_large", says="rows")
    # A zip bomb: a few kilobytes that would inflate past the limit.
    bomb = document(batch)
    raw = json.dumps(bomb)
    padded = raw[:-1] + " " * wire.MAX_INFLATED_BYTES + "}"
    body = gzip_text(padded)
    assert len(body) < wire.MAX_BODY_BYTES
    refused(world, body, 413, "too_large", says="inflates")
    not_wedged(world)


# --- versions ----------------------------------------------------------------------------------
def test_another_schema_or_format_says_who_must_upgrade(world: World) -> None:
    doc = document(work(world))
    refused(world, repack({**doc, "schema": "9999"}), 409, "schema", says="upgrade this central")
    refused(world, repack({**doc, "schema": "0001"}), 409, "schema", says="upgrade the sender")
    refused(world, repack({**doc, "format": 2}), 409, "format", says="upgrade this central")
    refused(world, repack({**doc, "format": 0}), 409, "format", says="upgrade the sender")
    refused(world, repack({**doc, "format": "1"}), 422, "corrupt")
    not_wedged(world)


# --- rows that do not fit ----------------------------------------------------------------------
def test_a_table_a_hall_may_not_send_is_refused(world: World) -> None:
    doc = document(work(world, tickets=2))
    with Session(world.central.engine) as session:
        tariff = session.execute(text("SELECT id FROM tariffs LIMIT 1")).scalar_one()
    doc["last_seq"] += 1
    for name in ("tariffs", "no_such_table", "sync_peers"):
        forged = {"seq": doc["last_seq"], "t": name, "op": "U", "k": str(tariff), "v": {}}
        refused(world, repack({**doc, "rows": [*doc["rows"], forged]}), 422, "table", says=name)
    not_wedged(world)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda v: v.update(surcharge_fen=5), "unknown columns"),
        (lambda v: v.pop("reference"), "missing columns"),
        (lambda v: v.update(amount_fen=float(v["amount_fen"]) + 0.5), "payments.amount_fen"),
        (lambda v: v.update(amount_fen=str(v["amount_fen"])), "payments.amount_fen"),
        (lambda v: v.update(amount_fen=True), "payments.amount_fen"),
        (lambda v: v.update(amount_fen=2**63), "payments.amount_fen"),
        (lambda v: v.update(paid_at="2024-05-01T10:00:00"), "payments.paid_at"),
        (lambda v: v.update(account_id="not-a-uuid"), "payments.account_id"),
        (lambda v: v.update(method="cheque"), "payments.method"),
        (lambda v: v.update(idempotency_key=None), "payments.idempotency_key"),
        (lambda v: v.update(reference="r\x00"), "payments.reference"),
        (lambda v: v.update(card_masked="6" * 20), "payments.card_masked"),
    ],
    ids=[
        "unknown-column",
        "missing-column",
        "float-fen",
        "text-fen",
        "bool-fen",
        "fen-too-wide",
        "naive-time",
        "bad-uuid",
        "bad-enum",
        "null-key",
        "nul-text",
        "too-long",
    ],
)
def test_a_row_that_does_not_fit_its_table_is_refused(
    world: World, change: Callable[[Document], object], says: str
) -> None:
    doc = document(work(world, payment=True))
    change(rows_of(doc, "payments")[0]["v"])
    refused(world, repack(doc), 422, "row", says=says)
    not_wedged(world)


def test_a_deletion_with_a_bad_key_is_refused(world: World) -> None:
    doc = document(work(world))
    doc["last_seq"] += 1
    gone = {"seq": doc["last_seq"], "t": "queue_tickets", "op": "D", "k": "not-a-uuid"}
    refused(world, repack({**doc, "rows": [*doc["rows"], gone]}), 422, "row", says="key")
    not_wedged(world)


# --- order -------------------------------------------------------------------------------------
def test_a_gap_is_refused_and_a_replay_changes_nothing(world: World) -> None:
    first = work(world)
    body = wire.encode_up(first)
    world.hall.agent.push()  # applied and acknowledged
    before = central_state(world.central.engine)
    replay = post(world, body)
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert central_state(world.central.engine) == before
    doc = document(work(world))
    doc["first_seq"] += 5
    doc["last_seq"] += 5
    for row in doc["rows"]:
        row["seq"] += 5
    answer = refused(world, repack(doc), 409, "gap", says=f"resend from {first.last_seq + 1}")
    assert answer["message_zh"]
    not_wedged(world)


# --- a hall may not overwrite another's row; a constraint breach is a refusal, not a 500 ---
def test_a_hall_cannot_take_over_another_halls_row(world: World) -> None:
    ours = document(work(world))
    not_wedged(world)  # this hall's ticket is at central now, as this hall's
    ticket = rows_of(ours, "queue_tickets")[0]
    other = central_side.Hall(world.other_site_id, OTHER)
    with Session(world.central.engine) as session:
        peer = session.get(SyncPeer, other.site_id)
        assert peer is not None
        seq = peer.up_seq + 1
    # The other hall claims the ticket as its own (origin rewritten to itself).
    hijack = {**ticket, "seq": seq}
    hijack["v"] = {**ticket["v"], "origin_site_id": str(other.site_id), "number": "X999"}
    sent = {**ours, "rows": [hijack], "site": OTHER, "first_seq": seq, "last_seq": seq}
    sent["digest"] = wire.digest(sent["rows"])
    before = central_state(world.central.engine)
    with pytest.raises(wire.Refused) as refusal:
        central_side.apply_up(world.central.engine, other, wire.parse_up(sent))
    assert refusal.value.code == "forged_origin"
    assert refusal.value.status == 403
    assert central_state(world.central.engine) == before
    with Session(world.central.engine) as session:
        number = session.execute(
            text("SELECT number FROM queue_tickets WHERE number = 'X999'")
        ).first()
    assert number is None


def test_a_row_breaking_a_constraint_is_refused_in_the_error_shape(world: World) -> None:
    doc = document(work(world, payment=True))
    with Session(world.central.engine) as session:
        key = session.execute(text("SELECT idempotency_key FROM payments LIMIT 1")).scalar_one()
    rows_of(doc, "payments")[0]["v"]["idempotency_key"] = key
    try:
        refused(world, repack(doc), 409, "row")
    finally:
        not_wedged(world)
