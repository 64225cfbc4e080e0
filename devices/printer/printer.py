"""The receipt printer: checks status before printing, reports failures, keeps failed jobs for retry.

Failed jobs are kept in a spool folder (bytes exactly as they would be printed; receipts hold
masked card numbers only), so a print that failed because the paper ran out is printed after
the paper is changed — also after a restart. Halls lose power: a job is written to a
temporary file, fsynced, renamed into place and the folder fsynced, so after a power cut a
job is either whole in the spool or not there; a printed job's removal is fsynced too.

One lock covers a job's status query and its write: two kiosk threads printing at once
must not put one's receipt between the other's status question and its answer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from devices.errors import DeviceConnectionError, DeviceError
from devices.health import DeviceHealth, HealthState, HealthTracker
from devices.printer.connection import PrinterConnection
from devices.printer.escpos_bytes import receipt_bytes
from devices.printer.receipts import Receipt
from devices.printer.status import (
    OFFLINE_CAUSE,
    PAPER_SENSOR,
    PRINTER_STATUS,
    PrinterStatus,
    parse_status,
    query,
)

log = logging.getLogger(__name__)


class PrintFailed(DeviceError):
    """The receipt was not printed; it is kept as ``job_id`` for a retry."""

    def __init__(
        self,
        job_id: str,
        reason: str,
        message_zh: str,
        message_en: str,
        *,
        unreachable: bool = False,
    ) -> None:
        super().__init__(f"print job {job_id} not printed: {reason}")
        self.job_id = job_id
        # True when the printer could not be reached at all (unplugged, wrong address),
        # False when it answered with a fault (paper out, cover open).
        self.unreachable = unreachable
        self.reason = reason
        self.message_zh = message_zh
        self.message_en = message_en


_MESSAGES = {
    "paper out": (
        "打印机缺纸，请联系工作人员",
        "The printer is out of paper; please ask a member of staff",
    ),
    "cover open": (
        "打印机盖未关好，请联系工作人员",
        "The printer cover is open; please ask a member of staff",
    ),
    "printer offline": (
        "打印机离线，请联系工作人员",
        "The printer is offline; please ask a member of staff",
    ),
}
_DEFAULT_MESSAGE = ("打印失败，请联系工作人员", "Printing failed; please ask a member of staff")


@dataclass(frozen=True)
class PrintJob:
    job_id: str
    kind: str
    data: bytes


class ReceiptPrinter:
    def __init__(
        self,
        connection: PrinterConnection,
        *,
        spool_dir: Path | None = None,
        status_timeout_s: float = 1.0,
    ) -> None:
        self._connection = connection
        self._spool_dir = spool_dir
        self._status_timeout_s = status_timeout_s
        self._tracker = HealthTracker(f"printer {connection.description}")
        self._lock = threading.Lock()  # the pending jobs
        self._io = threading.RLock()  # the printer: a status query and its job's write
        self._pending: dict[str, PrintJob] = {}
        if spool_dir:
            spool_dir.mkdir(parents=True, exist_ok=True)
            for stale in spool_dir.glob("*.partial"):  # cut off by a power loss: never whole
                stale.unlink()
            for path in sorted(spool_dir.glob("*.escpos")):
                job_id, _, kind = path.stem.partition("--")
                self._pending[job_id] = PrintJob(job_id, kind, path.read_bytes())

    @property
    def health(self) -> DeviceHealth:
        return self._tracker.current

    @property
    def pending(self) -> list[PrintJob]:
        with self._lock:
            return list(self._pending.values())

    def status(self) -> PrinterStatus | None:
        """Ask the printer (DLE EOT 1, 2, 4). None when it cannot or does not answer.

        Raises ``DeviceConnectionError`` when it cannot be reached and ``ProtocolError`` for a
        garbled answer; either way the health says so first.
        """
        with self._io:
            return self._query_status()

    def _query_status(self) -> PrinterStatus | None:
        if not self._connection.can_read:
            self._tracker.set(
                HealthState.DEGRADED, "printer cannot report status (write-only connection)"
            )
            return None
        answers = []
        try:
            discard = getattr(self._connection, "discard_input", None)
            if discard:
                discard()
            for n in (PRINTER_STATUS, OFFLINE_CAUSE, PAPER_SENSOR):
                self._connection.write(query(n))
                answer = self._connection.read(1, timeout_s=self._status_timeout_s)
                if not answer:
                    self._tracker.set(
                        HealthState.DEGRADED, "printer does not answer status queries"
                    )
                    return None
                answers.append(answer[0])
            status = parse_status(*answers)
        except DeviceError as err:
            self._tracker.set(HealthState.FAULT, str(err))
            raise
        self._tracker.set(*status.health)
        return status

    def print_receipt(self, receipt: Receipt) -> str:
        """Print; return the job id. Raises ``PrintFailed`` (job kept) when it cannot."""
        # Time-ordered ids: the spool folder lists jobs in the order they were asked for.
        job = PrintJob(f"{time.time_ns():016x}", receipt.kind, receipt_bytes(receipt))
        self._keep(job)
        self._send(job)
        return job.job_id

    def retry(self, job_id: str) -> None:
        with self._lock:
            job = self._pending.get(job_id)
        if job is None:
            raise KeyError(f"no pending print job {job_id}")
        self._send(job)

    def retry_all(self) -> list[str]:
        """Print every kept job in order; returns the ids printed. Stops at the first failure."""
        printed = []
        for job in self.pending:
            self._send(job)
            printed.append(job.job_id)
        return printed

    def close(self) -> None:
        self._connection.close()

    def _send(self, job: PrintJob) -> None:
        try:
            with self._io:
                status = self._query_status()
                if status is not None:
                    state, reason = status.health
                    if state is HealthState.FAULT:
                        raise PrintFailed(
                            job.job_id, reason, *_MESSAGES.get(reason, _DEFAULT_MESSAGE)
                        )
                self._connection.write(job.data)
        except PrintFailed as err:
            log.warning("print job %s (%s) kept for retry: %s", job.job_id, job.kind, err.reason)
            raise
        except DeviceError as err:
            self._tracker.set(HealthState.FAULT, str(err))
            log.warning("print job %s (%s) kept for retry: %s", job.job_id, job.kind, err)
            raise PrintFailed(
                job.job_id,
                str(err),
                *_DEFAULT_MESSAGE,
                unreachable=isinstance(err, DeviceConnectionError),
            ) from err
        self._forget(job)
        log.info("printed %s job %s", job.kind, job.job_id)

    def _keep(self, job: PrintJob) -> None:
        with self._lock:
            self._pending[job.job_id] = job
        if self._spool_dir:
            path = self._spool_dir / f"{job.job_id}--{job.kind}.escpos"
            partial = path.with_suffix(".partial")
            with partial.open("wb") as out:
                out.write(job.data)
                out.flush()
                os.fsync(out.fileno())
            partial.replace(path)
            _fsync_dir(self._spool_dir)

    def _forget(self, job: PrintJob) -> None:
        with self._lock:
            self._pending.pop(job.job_id, None)
        if self._spool_dir:
            (self._spool_dir / f"{job.job_id}--{job.kind}.escpos").unlink(missing_ok=True)
            _fsync_dir(self._spool_dir)


def _fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` survive a power cut (the entry, not just the data)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # some filesystems refuse fsync on a directory
            os.fsync(fd)
    finally:
        os.close(fd)
