"""Pseudo-terminals for simulators: the driver opens a stable path, the simulator holds the master.

The stable path is a symlink that a "replug" points at a fresh pty, the way a USB serial
adapter comes back as the same /dev/ttyUSB0 after being pulled and pushed back in.
"""

from __future__ import annotations

import contextlib
import os
import pty
import tempfile
import tty
from pathlib import Path


class PtyPort:
    def __init__(self, link_dir: Path | None = None, name: str = "tty") -> None:
        self._dir = link_dir or Path(tempfile.mkdtemp(prefix="servicehall-pty-"))
        self._dir.mkdir(parents=True, exist_ok=True)
        self.path = self._dir / name
        self.master_fd = -1
        self._slave_fd = -1
        self.plug()

    def plug(self) -> None:
        master, slave = pty.openpty()
        # Raw: no echo, no CR/LF translation — the bytes are the protocol.
        tty.setraw(slave)
        tty.setraw(master)
        self.master_fd, self._slave_fd = master, slave
        tmp = self._dir / f".{self.path.name}.new"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.path)

    def unplug(self) -> None:
        """The cable is pulled: the driver's next read or write fails."""
        for fd in (self.master_fd, self._slave_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.master_fd = self._slave_fd = -1
        self.path.unlink(missing_ok=True)

    def replug(self) -> None:
        self.unplug()
        self.plug()

    def close(self) -> None:
        self.unplug()
