"""How dispatch is wired into central: settings, the event bus, and what a hall never loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from servicehall.config import load_settings
from servicehall.errors import ConfigError


@pytest.mark.unit
def test_sla_settings_are_checked_when_read_and_name_the_key(tmp_path: Path) -> None:
    config = tmp_path / "central.toml"
    config.write_text(
        "[central.dispatch]\nauto_dispatch_priority = 1\n"
        "[central.dispatch.sla.targets.burst_main.1]\narrive = '20m'\nrestore = '3h'\nclose = '1d'\n",
        encoding="utf-8",
    )
    settings = load_settings(config, {})
    assert settings.central.dispatch.auto_dispatch_priority == 1
    assert settings.central.dispatch.sla["targets"]["burst_main"]["1"]["arrive"] == "20m"
    config.write_text(
        "[central.dispatch.sla.targets.burst_main.1]\narrive = 'soon'\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config, {})
    assert "central.dispatch.sla" in str(caught.value) and "sla.targets.burst_main.1" in str(
        caught.value
    )


@pytest.mark.unit
def test_a_hall_process_never_loads_the_optimiser() -> None:
    """Central's dispatch needs scipy (the ``dispatch`` extra); halls install without it."""
    probe = (
        "import sys, servicehall.bootstrap, servicehall.central.app; print('scipy' in sys.modules)"
    )
    answer = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert answer.stdout.strip() == "False"


@pytest.mark.integration
def test_central_publishes_a_dispatch_on_its_bus_for_the_mqtt_publisher(tmp_path: Path) -> None:
    from domain.dispatch_events import WorkOrderDispatched
    from domain.work_orders import Intake, Who
    from field_dispatch.vocabulary import Actor, Category
    from servicehall.bootstrap import build_central
    from servicehall.demo.seed import seed_city
    from servicehall.platform.database import close_database, open_database

    settings = load_settings(
        None, {"SERVICEHALL_PATHS__DATA_DIR": str(tmp_path), "SERVICEHALL_MQTT__PORT": "0"}
    )
    engine = open_database(settings.database_url("central"), auto_upgrade=True)
    seed_city(engine, premises=0)
    close_database(engine)
    site = build_central(settings)
    try:
        assert site.bus is not None and site.dispatch is not None
        heard: list[WorkOrderDispatched] = []
        site.bus.subscribe(WorkOrderDispatched, heard.append)  # what branch dispatch-field does
        orders = site.dispatch.orders
        order = orders.open(
            Intake(Category.BURST_MAIN, "爆管", "phone", lon=116.3731, lat=39.9302),
            Who(Actor.DISPATCHER, "A001"),
        )
        (plan_line,) = site.dispatch.planner.replan(most_urgent_first=1).lines
        assert plan_line.outcome == "assigned"
        (sent,) = heard
        assert sent.order_id == order.id and sent.crew_code == plan_line.crew.code  # type: ignore[union-attr]
        assert sent.tracker_users == tuple(f"{sent.crew_code}-{n}" for n in (1, 2, 3))
        assert sent.by == "planner" and not sent.pinned
    finally:
        site.close()
