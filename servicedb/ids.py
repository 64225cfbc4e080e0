"""Globally unique, time-ordered row ids (UUID version 7, RFC 9562).

Time-ordered ids keep B-tree inserts at the right edge of the index, which matters when a
hall or the seeder writes millions of rows; they are unique across sites without a central
counter, which is what sync needs.
"""

from __future__ import annotations

import os
import random
import time
import uuid


def new_id() -> uuid.UUID:
    return uuid7_from(time.time_ns() // 1_000_000, int.from_bytes(os.urandom(10), "big"))


def uuid7_from(unix_ms: int, rand_bits: int) -> uuid.UUID:
    """Build a UUIDv7 from a millisecond timestamp and 74 random bits."""
    rand_a = (rand_bits >> 62) & 0xFFF
    rand_b = rand_bits & ((1 << 62) - 1)
    value = (unix_ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= rand_a << 64
    value |= 0b10 << 62
    value |= rand_b
    return uuid.UUID(int=value)


class DeterministicIds:
    """Reproducible UUIDv7 ids for seeded data: the same seed gives the same ids."""

    def __init__(self, seed: int, start_unix_ms: int) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - reproducible demo ids, not secrets
        self._ms = start_unix_ms

    def next(self) -> uuid.UUID:
        self._ms += 1
        return uuid7_from(self._ms, self._rng.getrandbits(74))
