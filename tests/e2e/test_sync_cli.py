"""The operator's side of sync, against a real ``servicehall central`` over HTTP: a hall's
token, provisioning a new hall (whole, and resumed after the link was cut), and the status
commands with their exit codes."""

from __future__ import annotations

import json
import signal
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicedb.engine import make_engine
from servicedb.models import Site, SiteZone
from servicehall.cli.sync import provision_site
from servicehall.config import load_settings
from servicehall.errors import ServiceUnreachable
from sync import provision
from sync.agent import AgentSettings, SyncAgent
from sync.faultproxy import Fault, FaultProxy
from sync.tables import BY_NAME, SNAPSHOT, Slice
from tests.e2e.test_cli import _one_line_error, _start, run

pytestmark = pytest.mark.e2e

PREMISES = 60


@dataclass
class Central:
    url: str
    env: dict[str, str]
    folder: Path


@pytest.fixture(scope="module")
def central(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Central]:
    folder = tmp_path_factory.mktemp("central")
    env = {"SERVICEHALL_PATHS__DATA_DIR": str(folder), "SERVICEHALL_MQTT__PORT": "0"}
    seeded = run("seed", "--premises", str(PREMISES), env=env)
    assert seeded.returncode == 0, seeded.stderr
    process, url = _start(["central", "--port", "0"], env)
    try:
        yield Central(url, env, folder)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0


def _token(central: Central, site: str, *extra: str) -> str:
    result = run("sync", "token", "--site", site, *extra, env=central.env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert "SERVICEHALL_HALL__SYNC_TOKEN" in result.stderr
    return lines[0]


def _hall_env(folder: Path, central: Central, token: str) -> dict[str, str]:
    return {
        "SERVICEHALL_PATHS__DATA_DIR": str(folder),
        "SERVICEHALL_HALL__SYNC_TOKEN": token,
        "SERVICEHALL_HALL__CENTRAL_URL": central.url,
    }


def _keys(path: Path, table: str) -> list[tuple[object, ...]]:
    columns = ", ".join(BY_NAME[table].key)
    with sqlite3.connect(path) as db:
        return db.execute(f"SELECT {columns} FROM {table}").fetchall()  # noqa: S608


def _cursors(path: Path, like: str) -> list[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name FROM sync_cursors WHERE name LIKE ?", (like,)).fetchall()
    return [r[0] for r in rows]


def _central_slice(central: Central, site: str) -> dict[str, set[tuple[object, ...]]]:
    """Central's share for the hall, table by table, read from central's database."""
    engine = make_engine(f"sqlite:///{central.folder / 'central.db'}")
    try:
        with Session(engine) as session:
            site_id = session.scalar(select(Site.id).where(Site.code == site))
            assert site_id is not None
            zones = tuple(
                session.scalars(select(SiteZone.zone_id).where(SiteZone.site_id == site_id))
            )
            slice_ = Slice(site_id, zones)
            found = {}
            for synced in SNAPSHOT:
                columns = [synced.table.c[c] for c in synced.key]
                rows = session.execute(select(*columns).where(slice_.where(synced.name))).all()
                found[synced.name] = {
                    tuple(v.hex if isinstance(v, uuid.UUID) else v for v in r) for r in rows
                }
    finally:
        engine.dispose()
    return found


def test_the_new_commands_have_help() -> None:
    for words in (
        ["sync"],
        ["sync", "token"],
        ["sync", "retire"],
        ["sync", "status"],
        ["hall", "provision"],
    ):
        result = run(*words, "--help")
        assert result.returncode == 0, result.stderr
        assert "Usage:" in result.stdout
    hall = run("hall", "--help").stdout
    assert "--site" in hall and "provision" in hall


def test_a_token_is_printed_once_and_not_silently_replaced(central: Central) -> None:
    first = _token(central, "hall-guanganmen")
    again = run("sync", "token", "--site", "hall-guanganmen", env=central.env)
    assert "--rekey" in _one_line_error(again)
    second = _token(central, "hall-guanganmen", "--rekey")
    assert second != first
    unknown = run("sync", "token", "--site", "hall-nowhere", env=central.env)
    assert "hall-nowhere" in _one_line_error(unknown)
    # The replaced token no longer opens central's door; the new one does.
    for token, status in ((first, 401), (second, 200)):
        answer = httpx.get(
            f"{central.url}/api/v1/sync/snapshot",
            headers={"Authorization": f"Bearer {token}", "X-Servicehall-Site": "hall-guanganmen"},
            timeout=10,
        )
        assert answer.status_code == status
    # A hall closed for good: retired, its token is refused; retiring it again says so.
    retired = run("sync", "retire", "--site", "hall-guanganmen", env=central.env)
    assert retired.returncode == 0, retired.stderr
    answer = httpx.get(
        f"{central.url}/api/v1/sync/snapshot",
        headers={"Authorization": f"Bearer {second}", "X-Servicehall-Site": "hall-guanganmen"},
        timeout=10,
    )
    assert answer.status_code == 401
    again = run("sync", "retire", "--site", "hall-guanganmen", env=central.env)
    assert "hall-guanganmen" in _one_line_error(again)


def test_provisioning_a_hall_copies_its_slice_and_refuses_to_run_twice(
    central: Central, tmp_path: Path
) -> None:
    token = _token(central, "hall-guanganmen", "--rekey")
    env = _hall_env(tmp_path, central, token)
    result = run(
        "hall", "provision", "--central", central.url, "--site", "hall-guanganmen", env=env
    )
    assert result.returncode == 0, result.stderr
    assert "provisioned hall-guanganmen" in result.stdout
    assert "meter_readings" in result.stderr  # a bar per table
    database = tmp_path / "hall-guanganmen.db"
    expected = _central_slice(central, "hall-guanganmen")
    for name, keys in expected.items():
        got = _keys(database, name)
        assert len(got) == len(set(got)), name
        assert {tuple(k) for k in got} == keys, name

    again = run("hall", "provision", "--central", central.url, "--site", "hall-guanganmen", env=env)
    assert "already provisioned" in _one_line_error(again)

    # A wrong token is refused before anything is written to disk.
    elsewhere = tmp_path / "other"
    wrong = run(
        "hall",
        "provision",
        "--central",
        central.url,
        "--site",
        "hall-guanganmen",
        env=_hall_env(elsewhere, central, "not-a-token"),
    )
    assert "401" in _one_line_error(wrong)
    assert not elsewhere.exists()


def test_a_cut_provisioning_continues_where_it_stopped(
    central: Central, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _token(central, "hall-xicheng")
    env = _hall_env(tmp_path, central, token)
    host, port = central.url.removeprefix("http://").split(":")
    proxy = FaultProxy(host, int(port))
    proxy.start()
    # Small pages, so the cut falls inside a table rather than between two.
    monkeypatch.setattr(provision, "PAGE_ROWS", 50)
    pages = 0

    def cut_inside_readings(table: str, done: int, expected: int) -> None:
        nonlocal pages
        if table == "meter_readings" and done < expected:
            pages += 1
            if pages == 3:
                proxy.set_mode(Fault.DROP)

    settings = load_settings(environ={**env, "SERVICEHALL_HALL__CENTRAL_URL": proxy.url})
    try:
        with pytest.raises(ServiceUnreachable, match="run the same command again"):
            provision_site(
                settings,
                "hall-xicheng",
                proxy.url,
                token,
                show_progress=False,
                progress=cut_inside_readings,
            )
        database = tmp_path / "hall-xicheng.db"
        # Whole pages only: three, or four when the next was fetched before the cut.
        copied = len(_keys(database, "meter_readings"))
        assert copied in (150, 200)
        assert "provision:meter_readings" in _cursors(database, "provision%")

        proxy.set_mode(Fault.PASS)
        resumed = run(
            "hall", "provision", "--central", proxy.url, "--site", "hall-xicheng", env=env
        )
    finally:
        proxy.stop()
    assert resumed.returncode == 0, resumed.stderr
    assert "finished a cut provisioning hall-xicheng" in resumed.stdout
    expected = _central_slice(central, "hall-xicheng")
    for name, keys in expected.items():
        got = _keys(database, name)
        assert len(got) == len(set(got)), name
        assert {tuple(k) for k in got} == keys, name
    # Nothing of the provisioning's bookkeeping is left behind.
    assert not _cursors(database, "provision%")


def test_status_at_a_hall_and_at_central(central: Central, tmp_path: Path) -> None:
    token = _token(central, "hall-xicheng", "--rekey")
    env = _hall_env(tmp_path, central, token)
    provisioned = run(
        "hall", "provision", "--central", central.url, "--site", "hall-xicheng", env=env
    )
    assert provisioned.returncode == 0, provisioned.stderr
    database = tmp_path / "hall-xicheng.db"

    fine = run("sync", "status", "--site", "hall-xicheng", env=env)
    assert fine.returncode == 0, fine.stderr
    assert "up" in fine.stdout and "down" in fine.stdout and fine.stdout.rstrip().endswith("ok")

    # The hall's agent meets a dead central: the error is current, the status says so.
    engine = make_engine(f"sqlite:///{database}")
    try:
        with Session(engine) as session:
            site_id = session.scalar(select(Site.id).where(Site.code == "hall-xicheng"))
        assert site_id is not None
        schema = json.loads(run("sync", "status", "--json", env=env).stdout)
        assert schema["ok"] is True and schema["syncing"] is True

        def agent(url: str) -> SyncAgent:
            return SyncAgent(
                engine, AgentSettings(url, "hall-xicheng", site_id, token, _schema(engine))
            )

        dead = agent("http://127.0.0.1:1")
        assert dead.cycle().error is not None
        dead.stop()
        failing = run("sync", "status", "--site", "hall-xicheng", env=env)
        assert failing.returncode == 1
        assert "last error" in failing.stdout
        failing_json = json.loads(run("sync", "status", "--json", env=env).stdout)
        assert failing_json["ok"] is False
        # Nothing waited to go up, so the pull is what failed.
        assert failing_json["down"]["last_error"]

        live = agent(central.url)
        assert live.cycle().error is None
        live.stop()
    finally:
        engine.dispose()
    again = run("sync", "status", "--json", env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["ok"] is True
    # No error, but longer since central's last page than the threshold allows: an alarm.
    behind = run(
        "sync",
        "status",
        "--site",
        "hall-xicheng",
        env={**env, "SERVICEHALL_CENTRAL__SYNC_LAG_ALARM_S": "0.001"},
    )
    assert behind.returncode == 1
    assert "ALARM down: no page from central" in behind.stdout

    # Central's list: the hall has been heard from; with a tiny threshold it is an alarm.
    listed = run("sync", "status", "--central", "--site", "hall-xicheng", env=central.env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "hall-xicheng" in listed.stdout
    overview = json.loads(run("sync", "status", "--central", "--json", env=central.env).stdout)
    xicheng = next(h for h in overview["halls"] if h["site"] == "hall-xicheng")
    assert xicheng["registered"] and xicheng["last_down_at"]
    strict = {**central.env, "SERVICEHALL_CENTRAL__SYNC_LAG_ALARM_S": "0.001"}
    late = run("sync", "status", "--central", "--site", "hall-xicheng", env=strict)
    assert late.returncode == 1
    assert "ALARM: silent" in late.stdout


def test_status_never_creates_a_database(tmp_path: Path) -> None:
    env = {"SERVICEHALL_PATHS__DATA_DIR": str(tmp_path / "nothing")}
    for args in (["sync", "status"], ["sync", "status", "--central"]):
        result = run(*args, env=env)
        assert "no database" in _one_line_error(result)
    assert not (tmp_path / "nothing").exists()


def _schema(engine: object) -> str:
    from servicedb import migrate

    return migrate.current_revision(engine) or ""  # type: ignore[arg-type]
