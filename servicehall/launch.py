"""``servicehall central`` and ``servicehall hall``: one process each, stopped cleanly by a signal."""

from __future__ import annotations

import dataclasses

from servicehall.config import Settings
from servicehall.processes import closing_all, open_central, open_hall
from servicehall.runner import serve


def run_central(settings: Settings, *, port: int | None) -> None:
    if port is not None:
        settings = settings.model_copy(
            update={
                "central": settings.central.model_copy(
                    update={"http": settings.central.http.model_copy(update={"port": port})}
                )
            }
        )
    with closing_all([open_central(settings)]) as processes:
        serve([p.endpoint for p in processes])


def run_hall(settings: Settings, site: str, *, port: int | None) -> None:
    process = open_hall(settings, site)
    if port is not None:
        process.endpoint = dataclasses.replace(process.endpoint, port=port)
    with closing_all([process]) as processes:
        serve([p.endpoint for p in processes])
