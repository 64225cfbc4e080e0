"""Composition root: configuration, the CLI, the central and hall processes, the demo."""

__version__ = "0.1.0"
