"""The demo city: ``servicehall seed``."""

from servicehall.demo.seed.generate import AlreadySeeded, SeedReport, seed_city

__all__ = ["AlreadySeeded", "SeedReport", "seed_city"]
