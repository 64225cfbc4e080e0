"""The HTTP faces of the processes: central and hall."""
