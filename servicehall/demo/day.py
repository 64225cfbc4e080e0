"""The demo's hall day: simulated customers and counters through the real hall process.

Paced against the wall clock so the board and the screen can be watched; leaves board
snapshots, a few receipts and the day's report in the demo's output folder.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from devices.cardreader.simulator import VISA
from devices.ledboard.simulator import render_png
from devices.printer.connection import open_connection
from devices.printer.printer import PrintFailed, ReceiptPrinter
from devices.printer.receipts import PaymentInfo, TicketInfo, payment_receipt, queue_ticket
from devices.printer.simulator import PrinterSimulator
from domain.queueing.engine import TicketView
from domain.queueing.kpis import day_report
from servicehall.demo.hallday import SimClock, simulate_day
from servicehall.hall.parts import HallParts
from servicehall.reports.hall_day import write_html

log = logging.getLogger(__name__)

DAY_SECONDS = 9.5 * 3600  # 07:59 to the last service after 17:00
RECEIPTS = 3


class DemoDay:
    def __init__(
        self,
        parts: HallParts,
        engine: Engine,
        clock: SimClock,
        out_dir: Path,
        hall_names: tuple[str, str],
    ) -> None:
        self._parts = parts
        self._engine = engine
        self._clock = clock
        self._out = out_dir
        self._hall_zh, self._hall_en = hall_names
        self._calls = 0
        self._printer_sim = PrinterSimulator(out_dir / "receipts")
        self._printer = ReceiptPrinter(
            open_connection(self._printer_sim.url), spool_dir=out_dir / "receipts" / "spool"
        )
        self._thread = threading.Thread(target=self._run, name="demo-day", daemon=True)
        (out_dir / "board").mkdir(parents=True, exist_ok=True)
        self.finished = threading.Event()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._clock.stop.set()
        self._thread.join(30)
        self._printer.close()
        self._printer_sim.close()

    def _run(self) -> None:
        queue = self._parts.queue
        day = queue.service_day()
        try:
            result = simulate_day(
                queue, self._clock, day, on_ticket=self._ticket, on_call=self._call
            )
            log.info(
                "demo day: %d tickets, %d served, %d no-shows",
                result.issued,
                result.served,
                result.no_shows,
            )
        except Exception:
            log.exception("the demo day stopped")
        finally:
            report = day_report(self._engine, queue.site_code, day)
            (self._out / "report").mkdir(exist_ok=True)
            write_html(report, self._out / "report" / f"hall-report-{queue.site_code}-{day}.html")
            self.finished.set()

    def _ticket(self, ticket: TicketView) -> None:
        if len(self._printer_sim.receipts) >= RECEIPTS or int(ticket.number[1:]) > 2:
            return
        local = self._clock.now.astimezone(self._parts.queue.timezone).replace(tzinfo=None)
        names = {c.code: (c.name_zh, c.name_en) for c in self._parts.queue.categories}
        name_zh, name_en = names.get(ticket.category, (ticket.category, ticket.category))
        try:
            self._printer.print_receipt(
                queue_ticket(
                    TicketInfo(
                        ticket.number,
                        name_zh,
                        name_en,
                        ticket.people_ahead,
                        round((ticket.estimate_s or 0) / 60),
                        self._hall_zh,
                        self._hall_en,
                        local,
                        f"http://hall.local/t/{ticket.ticket_id}",
                    )
                )
            )
            if ticket.number == "A001":
                self._printer.print_receipt(
                    payment_receipt(
                        PaymentInfo(
                            "XC000000001",
                            "王伟",
                            f"{local:%Y-%m}",
                            "¥86.50",
                            f"{VISA.pan[:6]}******{VISA.pan[-4:]}",
                            "PAY-DEMO-0001",
                            self._hall_zh,
                            self._hall_en,
                            local + timedelta(minutes=5),
                            "http://hall.local/p/PAY-DEMO-0001",
                        )
                    )
                )
        except PrintFailed as err:
            log.warning("demo receipt not printed: %s", err)

    def _call(self, ticket: TicketView) -> None:
        self._calls += 1
        display = self._parts.display
        simulator = self._parts.board_simulator
        if display is None or simulator is None:
            return
        if self._calls <= 6 or self._calls % 50 == 0:
            display.tick()  # show this call now, then photograph the board
            render_png(
                simulator.frame(),
                self._out / "board" / f"board-{self._calls:03d}-{ticket.number}.png",
            )


def demo_clock(hall_tz: object, minutes: float | None) -> SimClock:
    """A clock at 07:59 today in the hall; fast enough to fit the day into the demo's minutes."""
    from zoneinfo import ZoneInfo

    assert isinstance(hall_tz, ZoneInfo)  # noqa: S101
    today = datetime.now(hall_tz).date()
    start = datetime.combine(today, datetime.min.time(), hall_tz) + timedelta(hours=7, minutes=59)
    seconds = (minutes * 60 * 0.8) if minutes else 300.0
    return SimClock(start, speed=DAY_SECONDS / seconds)
