from __future__ import annotations

from pathlib import Path

import pytest

from servicehall.config import load_settings
from servicehall.errors import ConfigError

pytestmark = pytest.mark.unit


def test_defaults_are_embedded_and_sqlite_per_site() -> None:
    settings = load_settings(None, {})
    assert settings.mqtt.mode == "embedded"
    assert settings.database_url("hall-xicheng").startswith("sqlite:///")
    assert settings.database_url("hall-xicheng").endswith("/var/hall-xicheng.db")


def test_file_then_environment_override(tmp_path: Path) -> None:
    config = tmp_path / "servicehall.toml"
    config.write_text('[mqtt]\nmode = "external"\nport = 1884\n[hall.http]\nport = 9000\n')
    settings = load_settings(config, {"SERVICEHALL_MQTT__PORT": "1885"})
    assert settings.mqtt.mode == "external"
    assert settings.mqtt.port == 1885
    assert settings.hall.http.port == 9000


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[database]\nurl = "postgresql+psycopg://db/servicehall"\n')
    assert (
        load_settings(None, {"SERVICEHALL_CONFIG": str(config)})
        .database_url("x")
        .startswith("postgresql")
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[database]\nulr = "x"\n',
            "unknown config key 'database.ulr'.*expected one of: auto_upgrade, url",
        ),
        ('[mqtt]\nport = "abc"\n', "config key 'mqtt.port'.*integer"),
        ('[mqtt]\nmode = "cloud"\n', "config key 'mqtt.mode'.*'embedded' or 'external'"),
        ('[database]\nurl = "mysql://x"\n', "config key 'database.url'.*sqlite:/// or postgresql"),
        ("[mqtt\n", "not valid TOML"),
    ],
)
def test_bad_file_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings(config, {})
    assert "\n" not in str(caught.value)


def test_bad_environment_variable_is_named() -> None:
    with pytest.raises(ConfigError, match="environment variable SERVICEHALL_HALL__HTTP__PORT"):
        load_settings(None, {"SERVICEHALL_HALL__HTTP__PORT": "99999"})


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", {})


def test_one_key_of_a_nested_section_keeps_the_others(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[hall.http]\nhost = "0.0.0.0"\n')
    settings = load_settings(config, {"SERVICEHALL_CENTRAL__HTTP__HOST": "10.0.0.5"})
    assert (settings.hall.http.host, settings.hall.http.port) == ("0.0.0.0", 8701)  # noqa: S104 - a config value
    assert (settings.central.http.host, settings.central.http.port) == ("10.0.0.5", 8700)


def test_tls_needs_both_files(tmp_path: Path) -> None:
    cert = tmp_path / "hall.crt"
    cert.write_text("x")
    with pytest.raises(ConfigError, match="tls_cert and tls_key go together"):
        load_settings(None, {"SERVICEHALL_HALL__HTTP__TLS_CERT": str(cert)})
