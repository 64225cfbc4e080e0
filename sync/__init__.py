"""Hall ↔ central replication. Not built yet (a later issue).

What it will stand on: every row that crosses sites has a UUIDv7 ``id`` and an
``origin_site_id`` (``servicedb.base.GlobalRow``), and payments are append-only.
"""
