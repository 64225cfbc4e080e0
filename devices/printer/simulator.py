"""A receipt printer that listens on a pty (serial) or a TCP port (9100-style).

It decodes what it receives, answers DLE EOT status queries from its simulated state, and on
every cut writes the receipt as text (``receipt-NNN.txt``) and as a picture (``receipt-NNN.png``).
Faults: paper near end / out, cover open, offline, no status answers, garbage answers,
unplug and replug.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
from dataclasses import replace
from pathlib import Path

from devices.printer.decode import Cut, EscPosDecoder, Event, Qr, StatusQuery, Text
from devices.printer.render import render_receipt
from devices.printer.status import Paper, PrinterStatus, encode_status
from devices.pty_port import PtyPort

log = logging.getLogger(__name__)


class PrinterSimulator:
    def __init__(self, out_dir: Path, *, transport: str = "pty", render_png: bool = True) -> None:
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self.state = PrinterStatus(online=True, cover_open=False, paper=Paper.OK, error=False)
        self.answers_status = True
        self.garbage_status = False
        self.answer_delay_s = 0.0  # a slow line: status answers arrive late
        self.render_png = render_png
        self.receipts: list[list[Event]] = []
        self.status_answers = 0  # status bytes sent back, late ones included
        self._decoder = EscPosDecoder()
        self._current: list[Event] = []
        self._stop = threading.Event()
        self._printed = threading.Condition()
        self._transport = transport
        self._pty: PtyPort | None = None
        self._server: socket.socket | None = None
        self._client: socket.socket | None = None
        if transport == "pty":
            self._pty = PtyPort(out_dir, name="ttyPRINTER")
            self.url = str(self._pty.path)
        elif transport == "tcp":
            self._server = socket.create_server(("127.0.0.1", 0))
            self.url = f"tcp://127.0.0.1:{self._server.getsockname()[1]}"
        else:
            raise ValueError(f"transport must be pty or tcp, not {transport!r}")
        self._thread = threading.Thread(target=self._run, name="printer-sim", daemon=True)
        self._thread.start()

    # --- faults -------------------------------------------------------------------------
    def paper_out(self) -> None:
        self.state = replace(self.state, paper=Paper.OUT)

    def paper_near_end(self) -> None:
        self.state = replace(self.state, paper=Paper.NEAR_END)

    def refill_paper(self) -> None:
        self.state = replace(self.state, paper=Paper.OK)

    def open_cover(self, is_open: bool = True) -> None:
        self.state = replace(self.state, cover_open=is_open)

    def unplug(self) -> None:
        if self._pty:
            self._pty.unplug()

    def replug(self) -> None:
        if self._pty:
            self._pty.replug()

    def wait_for_receipts(self, count: int, timeout_s: float = 5.0) -> bool:
        with self._printed:
            return self._printed.wait_for(lambda: len(self.receipts) >= count, timeout_s)

    def wait_for_status_answers(self, count: int, timeout_s: float = 5.0) -> bool:
        """Block until ``count`` status bytes have been sent (late answers of a slow line too)."""
        with self._printed:
            return self._printed.wait_for(lambda: self.status_answers >= count, timeout_s)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        if self._pty:
            self._pty.close()
        for sock in (self._client, self._server):
            if sock:
                sock.close()

    # --- the device ---------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._receive()
            except OSError:
                self._stop.wait(0.05)  # unplugged: wait for a replug
                continue
            if data:
                self._handle(data)

    def _receive(self) -> bytes:
        if self._pty:
            fd = self._pty.master_fd
            if fd < 0:
                raise OSError("unplugged")
            ready, _, _ = select.select([fd], [], [], 0.05)
            return os.read(fd, 4096) if ready else b""
        assert self._server is not None  # noqa: S101 - tcp transport
        if self._client is None:
            ready, _, _ = select.select([self._server.fileno()], [], [], 0.05)
            if not ready:
                return b""
            self._client, _ = self._server.accept()
        ready, _, _ = select.select([self._client.fileno()], [], [], 0.05)
        if not ready:
            return b""
        data = self._client.recv(4096)
        if not data:
            self._client.close()
            self._client = None
        return data

    def _reply(self, data: bytes) -> None:
        with contextlib.suppress(OSError):
            if self._pty and self._pty.master_fd >= 0:
                os.write(self._pty.master_fd, data)
            elif self._client:
                self._client.sendall(data)

    def _handle(self, data: bytes) -> None:
        for event in self._decoder.feed(data):
            if isinstance(event, StatusQuery):
                if self.garbage_status:
                    self._reply(b"\xff")
                elif self.answers_status:
                    printer, offline, paper = encode_status(self.state)
                    if self.answer_delay_s:
                        self._stop.wait(self.answer_delay_s)
                    self._reply(bytes([{1: printer, 2: offline, 4: paper}.get(event.n, printer)]))
                    with self._printed:
                        self.status_answers += 1
                        self._printed.notify_all()
            elif isinstance(event, Cut):
                self._finish()
            elif isinstance(event, Text | Qr):
                self._current.append(event)

    def _finish(self) -> None:
        number = len(self.receipts) + 1
        events, self._current = self._current, []
        text = "\n".join(
            e.text if isinstance(e, Text) else f"[QR {e.data}]"
            for e in events
            if isinstance(e, Text | Qr)
        )
        (self.out_dir / f"receipt-{number:03d}.txt").write_text(text + "\n", encoding="utf-8")
        if self.render_png:
            try:
                render_receipt(events, self.out_dir / f"receipt-{number:03d}.png")
            except Exception:
                log.exception("could not render receipt %d", number)
        with self._printed:
            self.receipts.append(events)
            self._printed.notify_all()
