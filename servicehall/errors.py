"""Errors a user can fix. The CLI prints them as one line and exits non-zero, no traceback."""

from __future__ import annotations


class UserFacingError(Exception):
    """A mistake in configuration or environment, explained in one line."""

    exit_code = 2


class ConfigError(UserFacingError):
    pass


class ServiceUnreachable(UserFacingError):
    exit_code = 3
