"""Opening a site's database for a command that only reads (reports): never create, never migrate.

``open_database`` serves the processes, which may create and migrate their database; a report
run with a wrong ``--site`` or config must not leave an empty database file behind, nor
upgrade a copy someone brought to look at.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from servicehall.errors import UserFacingError
from servicehall.platform.database import open_database


class NoDatabase(UserFacingError):
    pass


def open_for_reading(url: str) -> Engine:
    """Connect to an existing database at the schema head, or explain in one line why not."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database or ""
        if name in ("", ":memory:") or name.startswith("file:"):
            raise NoDatabase(f"a report needs a database file, not {url!r}")
        path = Path(name).expanduser()
        if not path.is_file():
            # Checked before connecting: SQLite would create the file (and the engine its folder).
            raise NoDatabase(
                f"no database at {path}; check --site and database.url, or create it with "
                "`servicehall db upgrade` and `servicehall seed`"
            )
    return open_database(url, auto_upgrade=False)
