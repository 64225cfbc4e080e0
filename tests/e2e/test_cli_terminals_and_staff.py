"""Registering devices and staff from the command line, as a hall's installer and manager do."""

from __future__ import annotations

from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.e2e.test_cli import run

pytestmark = pytest.mark.e2e
HALL = "hall-xicheng"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {"SERVICEHALL_PATHS__DATA_DIR": str(tmp_path)}
    assert run("seed", "--site", HALL, "--premises", "0", env=env).returncode == 0
    return env


def one_line_error(result: CompletedProcess[str]) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("servicehall")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_register_list_rekey_and_revoke_a_counter_terminal(env: dict[str, str]) -> None:
    base = ("device-token", "--site", HALL, "--kind", "counter_terminal", "--name", "c-3")
    no_counter = one_line_error(run(*base, env=env))
    assert "--counter" in no_counter
    assert "no counter 42" in one_line_error(run(*base, "--counter", "42", env=env))
    first = run(*base, "--counter", "3", env=env)
    assert first.returncode == 0 and len(first.stdout.strip()) >= 32
    assert "already has a token" in one_line_error(run(*base, "--counter", "3", env=env))
    second = run(*base, "--counter", "3", "--counter", "4", "--rekey", env=env)
    assert second.returncode == 0 and second.stdout.strip() != first.stdout.strip()
    listed = run("terminals", "list", "--site", HALL, env=env).stdout
    assert "c-3\tcounter_terminal\tcounters 3,4\tactive" in listed
    assert run("terminals", "revoke", "--site", HALL, "--name", "c-3", env=env).returncode == 0
    assert "revoked" in run("terminals", "list", "--site", HALL, env=env).stdout
    assert "no device 'nobody'" in one_line_error(
        run("terminals", "revoke", "--site", HALL, "--name", "nobody", env=env)
    )


def test_staff_are_added_listed_and_unlocked(env: dict[str, str]) -> None:
    added = run(
        "staff",
        "add",
        "--site",
        HALL,
        "--staff-no",
        "S100",
        "--name",
        "周敏",
        "--pin",
        "5791",
        env=env,
    )
    assert added.returncode == 0, added.stderr
    assert "already exists" in one_line_error(
        run(
            "staff",
            "add",
            "--site",
            HALL,
            "--staff-no",
            "S100",
            "--name",
            "x",
            "--pin",
            "5791",
            env=env,
        )
    )
    assert "4 to 32" in one_line_error(
        run(
            "staff",
            "add",
            "--site",
            HALL,
            "--staff-no",
            "S101",
            "--name",
            "x",
            "--pin",
            "12",
            env=env,
        )
    )
    listed = run("staff", "list", "--site", HALL, env=env).stdout
    assert "S100\t周敏\tok" in listed and "S001\t王芳\tok" in listed
    assert run("staff", "unlock", "--site", HALL, "--staff-no", "S100", env=env).returncode == 0
    assert "no staff number S999" in one_line_error(
        run("staff", "unlock", "--site", HALL, "--staff-no", "S999", env=env)
    )


def test_commands_on_a_hall_that_does_not_exist_create_nothing(tmp_path: Path) -> None:
    env = {"SERVICEHALL_PATHS__DATA_DIR": str(tmp_path / "nowhere")}
    one_line_error(run("terminals", "list", "--site", "hall-nowhere", env=env))
    one_line_error(run("staff", "list", "--site", "hall-nowhere", env=env))
    assert not (tmp_path / "nowhere").exists()
