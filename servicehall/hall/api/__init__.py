"""The hall API on the LAN (``/api/v1``): schemas, auth, errors and one router per resource."""
