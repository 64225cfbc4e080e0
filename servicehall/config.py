"""Configuration: one TOML file, environment overrides, embedded defaults.

Precedence: built-in defaults < the TOML file < ``SERVICEHALL_<SECTION>__<KEY>`` variables.
Every key is checked; an unknown or malformed one stops the program with a message that
names the key and says what is expected.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from servicehall.errors import ConfigError

ENV_PREFIX = "SERVICEHALL_"
CONFIG_ENV = "SERVICEHALL_CONFIG"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathsConfig(_Section):
    data_dir: Path = Field(
        default=Path("var"), description="where SQLite files, spools and demo output live"
    )


class DatabaseConfig(_Section):
    url: str = Field(
        default="", description="SQLAlchemy URL; empty = SQLite file <data_dir>/<site>.db"
    )
    auto_upgrade: bool = Field(default=True, description="run migrations to head at start")

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
        return value


class MqttConfig(_Section):
    mode: Literal["embedded", "external"] = "embedded"
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=0, le=65535)
    username: str = ""
    password: str = Field(default="", description="set through SERVICEHALL_MQTT__PASSWORD")
    tls: bool = False
    keepalive_s: int = Field(default=30, ge=5, le=3600)


class HttpConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(ge=0, le=65535)
    # HTTPS when both are set: device tokens must not cross the LAN in clear text.
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> HttpConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        for path in (self.tls_cert, self.tls_key):
            if path is not None and not path.exists():
                raise ValueError(f"{path} does not exist")
        return self


class DispatchConfig(_Section):
    # The planner assigns new orders of this priority or more urgent by itself (P1 = 1);
    # 0 leaves every assignment to the dispatcher. Orders no crew can take are always flagged.
    auto_dispatch_priority: int = Field(default=2, ge=0, le=5)
    sweep_interval_s: float = Field(default=30.0, ge=0.2, le=3600)
    crew_stale_after_s: float = Field(default=300.0, ge=10, le=86400)
    # SLA targets and the working calendar (domain.sla_config); empty = the documented defaults.
    sla: dict[str, Any] = Field(default_factory=dict)

    @field_validator("sla")
    @classmethod
    def _sla_understood(cls, value: dict[str, Any]) -> dict[str, Any]:
        from domain.sla_config import policy_from_config

        policy_from_config(value)  # raises with the key that is wrong
        return value


class CentralConfig(_Section):
    site: str = "central"
    http: HttpConfig = HttpConfig(port=8700)
    dispatch: DispatchConfig = DispatchConfig()
    sync_lag_alarm_s: float = Field(
        default=300.0, gt=0, description="a hall silent or behind for longer raises an alarm"
    )


class HallConfig(_Section):
    site: str = "hall-xicheng"
    http: HttpConfig = HttpConfig(port=8701)
    central_url: str = "http://127.0.0.1:8700"
    sync_token: str = Field(
        default="",
        description="the hall's sync token from `servicehall sync token` at central; "
        "set through SERVICEHALL_HALL__SYNC_TOKEN; empty = no sync",
    )
    sync_interval_s: float = Field(default=2.0, gt=0, le=3600)
    led_board: str = Field(
        default="simulated", description='"simulated", "" for none, or a serial port / URL'
    )
    led_line: Literal["7E1", "8N1", "7E2"] = "7E1"
    led_width: int = Field(default=192, ge=8, le=255)
    # Alpha 1.0 signs never answer ACK/NAK: with led_ack false the board is not "degraded"
    # for it. led_enable_ack switches an Alpha 2.0+ sign's ACK mode on at start.
    led_ack: bool = True
    led_enable_ack: bool = False
    voice: bool = True
    notice_radius_m: float = Field(default=3000.0, gt=0)
    max_recalls: int = Field(default=3, ge=0, le=10)


class DevicesConfig(_Section):
    simulated: bool = True


class Settings(_Section):
    paths: PathsConfig = PathsConfig()
    database: DatabaseConfig = DatabaseConfig()
    mqtt: MqttConfig = MqttConfig()
    central: CentralConfig = CentralConfig()
    hall: HallConfig = HallConfig()
    devices: DevicesConfig = DevicesConfig()

    def database_url(self, site: str) -> str:
        if self.database.url:
            return self.database.url
        path = (self.paths.data_dir / f"{site}.db").expanduser().resolve()
        return f"sqlite:///{path}"


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the TOML file (if any) and the environment into checked settings."""
    environ = os.environ if environ is None else environ
    if path is None and environ.get(CONFIG_ENV):
        path = Path(environ[CONFIG_ENV])
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as err:
            raise ConfigError(f"config file {path} does not exist") from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"config file {path} is not valid TOML: {err}") from err
    from_env = _merge_environment(data, environ)
    try:
        # Key by key onto the defaults: setting hall.http.host keeps hall.http.port.
        return Settings.model_validate(_deep_merge(Settings().model_dump(), data))
    except ValidationError as err:
        key = ".".join(str(part) for part in err.errors()[0]["loc"])
        raise ConfigError(_one_line(err, from_env.get(key, source))) from err


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _merge_environment(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Overlay ``SERVICEHALL_A__B=v`` as ``a.b = v``; return which key came from which variable."""
    origins: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV:
            continue
        keys = name[len(ENV_PREFIX) :].lower().split("__")
        target = data
        for key in keys[:-1]:
            existing = target.setdefault(key, {})
            if not isinstance(existing, dict):
                raise ConfigError(f"environment variable {name}: {key} is not a section")
            target = existing
        target[keys[-1]] = value
        origins[".".join(keys)] = f"environment variable {name}"
    return origins


def _one_line(err: ValidationError, source: str) -> str:
    first = err.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        section = _section_of(first["loc"][:-1])
        allowed = ", ".join(sorted(section.model_fields)) if section else ""
        return f"unknown config key '{key}' (from {source}); expected one of: {allowed}"
    return f"config key '{key}' (from {source}): {first['msg']}"


def _section_of(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Settings
    for part in loc:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model
