"""``servicehall devices``: diagnostics an installer can run at the hall.

Exit codes: 0 done; 1 nothing happened before the timeout (no card swiped, no fix);
3 the device cannot be reached (wrong port, unplugged); 4 the device answered with a fault
or the input was unusable (paper out, bad swipe).
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from pathlib import Path

import click

from devices.errors import DeviceConnectionError, DeviceError, DeviceTimeout

NOTHING, UNREACHABLE, FAULT = 1, 3, 4


def _fail(code: int, message: str) -> None:
    click.echo(f"servicehall devices: {message}", err=True)
    sys.exit(code)


@click.group()
def devices() -> None:
    """Find, test and simulate card readers, receipt printers, LED boards and GPS units.

    Ports are device paths (/dev/ttyUSB0) or pyserial URLs (socket://host:port, rfc2217://…).
    """


@devices.command("list")
def list_ports() -> None:
    """List the serial ports this machine sees."""
    try:
        from serial.tools import list_ports as pyserial_ports
    except ImportError:
        _fail(UNREACHABLE, "pyserial is not installed: pip install 'servicehall[devices]'")
    ports = sorted(pyserial_ports.comports(), key=lambda p: p.device)
    if not ports:
        click.echo("no serial ports found")
    for port in ports:
        click.echo(f"{port.device}\t{port.description}\t{port.hwid}")


@devices.command("read-card")
@click.option("--port", required=True, help="Serial port or pyserial URL of the card reader.")
@click.option("--baud", default=9600, show_default=True)
@click.option(
    "--timeout", "timeout_s", default=30.0, show_default=True, help="Seconds to wait for a swipe."
)
@click.option("--json", "as_json", is_flag=True, help="Print the card summary as JSON.")
def read_card(port: str, baud: int, timeout_s: float, as_json: bool) -> None:
    """Wait for one swipe and show what was read (masked: BIN + last four only)."""
    from devices.cardreader.errors import CardReadError
    from devices.cardreader.reader import MagstripeSerialReader

    reader = MagstripeSerialReader(port, baudrate=baud)
    try:
        reader.open()
        click.echo(f"swipe a card on {port} (waiting {timeout_s:g} s)…", err=True)
        card = reader.read_card(timeout_s)
    except DeviceConnectionError as err:
        _fail(UNREACHABLE, f"card reader not reachable: {err}")
    except CardReadError as err:
        _fail(FAULT, f"{err.message_en} / {err.message_zh} ({err.detail})")
    finally:
        reader.close()
    if card is None:
        _fail(NOTHING, f"no card was swiped within {timeout_s:g} s")
        return
    summary = card.summary
    card.forget()
    record = {
        "masked_pan": summary.masked_pan,
        "bin": summary.bin,
        "last4": summary.last4,
        "expiry": summary.expiry,
        "holder_name": summary.holder_name,
        "service_code": summary.service_code,
        "chip_preferred": summary.chip_preferred,
        "tracks": list(summary.tracks),
    }
    if as_json:
        click.echo(json.dumps(record, ensure_ascii=False))
    else:
        for key, value in record.items():
            click.echo(f"{key:15} {value}")


@devices.command("print-test")
@click.option(
    "--printer",
    "url",
    required=True,
    help="tcp://host[:9100], usb://VID:PID, file:///path, serial:///dev/ttyS0?baud=19200, or a port.",
)
def print_test(url: str) -> None:
    """Print a test page: Chinese, English, a QR code and a cut. Reports paper and cover state."""
    from devices.printer.connection import open_connection
    from devices.printer.printer import PrintFailed, ReceiptPrinter
    from devices.printer.receipts import test_page

    try:
        printer = ReceiptPrinter(open_connection(url))
    except DeviceConnectionError as err:
        _fail(UNREACHABLE, str(err))
        return
    try:
        printer.status()
        click.echo(f"status: {printer.health.state.value} ({printer.health.reason})")
        printer.print_receipt(test_page(datetime.now()))
        click.echo(f"test page sent to {url}")
    except PrintFailed as err:
        _fail(
            UNREACHABLE if err.unreachable else FAULT,
            f"test page not printed: {err.reason} — {err.message_en}",
        )
    except DeviceConnectionError as err:
        _fail(UNREACHABLE, f"printer not reachable: {err}")
    except DeviceError as err:
        _fail(FAULT, f"printer answered nonsense to a status query: {err}")
    finally:
        printer.close()


@devices.command("led-show")
@click.option("--port", required=True, help="Serial port or pyserial URL of the board.")
@click.option("--protocol", type=click.Choice(["alpha"]), default="alpha", show_default=True)
@click.option("--baud", default=9600, show_default=True)
@click.option("--width", default=160, show_default=True, help="Board width in dots.")
@click.option("--height", default=16, show_default=True, help="Board height in dots.")
@click.option(
    "--line",
    type=click.Choice(["7E1", "8N1", "7E2"]),
    default="7E1",
    show_default=True,
    help="Data bits, parity, stop bits (Alpha signs: 7E1, some 7E2; simulators on a pty: 8N1).",
)
@click.option("--priority", is_flag=True, help="Show as the priority (urgent) message.")
@click.option("--no-ack", is_flag=True, help="The board does not answer ACK/NAK (Alpha 1.0 signs).")
@click.argument("text")
def led_show(
    port: str,
    protocol: str,
    baud: int,
    width: int,
    height: int,
    line: str,
    priority: bool,
    no_ack: bool,
    text: str,
) -> None:
    """Show TEXT on the board (Chinese is drawn as a bitmap)."""
    from devices.ledboard.board import AlphaBoard, BoardMessage

    board = AlphaBoard(
        port,
        baudrate=baud,
        bytesize=int(line[0]),
        parity=line[1],
        stopbits=int(line[2]),
        width=width,
        height=height,
        expect_ack=not no_ack,
    )
    try:
        if priority:
            board.show_priority(BoardMessage(text))
        else:
            board.show([BoardMessage(text)])
        click.echo(f"shown on {port}: {text}")
    except DeviceConnectionError as err:
        _fail(UNREACHABLE, f"board not reachable: {err}")
    except DeviceTimeout as err:
        _fail(FAULT, f"{err}; if this sign never answers, use --no-ack")
    except DeviceError as err:
        _fail(FAULT, str(err))
    finally:
        board.close()


@devices.command("gps-watch")
@click.option("--port", required=True, help="Serial port or pyserial URL of the GPS unit.")
@click.option("--baud", default=9600, show_default=True)
@click.option("--count", default=0, help="Stop after this many fixes (0: until Ctrl-C).")
@click.option(
    "--timeout",
    "timeout_s",
    default=10.0,
    show_default=True,
    help="Seconds of silence that count as lost.",
)
def gps_watch(port: str, baud: int, count: int, timeout_s: float) -> None:
    """Print fixes as they arrive: time, [lon, lat], speed, course, quality."""
    from devices.gps.unit import GpsUnit

    unit = GpsUnit(port, baudrate=baud)
    seen = 0
    try:
        unit.open()
        for fix in unit.fixes(silence_timeout_s=timeout_s):
            click.echo(
                f"{fix.when:%H:%M:%S} [{fix.lon:.6f}, {fix.lat:.6f}] "
                f"{fix.speed_kmh or 0:5.1f} km/h {fix.course_deg or 0:5.1f}° q={fix.quality} {fix.talker}"
            )
            seen += 1
            if count and seen >= count:
                break
    except DeviceConnectionError as err:
        _fail(UNREACHABLE, f"GPS unit not reachable: {err}")
    except DeviceTimeout:
        _fail(
            NOTHING,
            f"no NMEA from {port} for {timeout_s:g} s ({unit.bad_sentences} unreadable sentences)",
        )
    except KeyboardInterrupt:
        pass
    finally:
        unit.close()


@devices.command("simulate")
@click.argument("kind", type=click.Choice(["card-reader", "printer", "led", "gps"]))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("var/simulators"),
    show_default=True,
    help="Where ptys, receipts and board pictures go.",
)
@click.option("--seconds", type=float, default=0, help="Stop after this long (0: until Ctrl-C).")
@click.option(
    "--swipe",
    type=click.Choice(["visa", "mastercard", "expired", "unionpay"]),
    default="visa",
    show_default=True,
    help="card-reader: the card swiped every --every seconds.",
)
@click.option(
    "--every",
    type=float,
    default=5.0,
    show_default=True,
    help="card-reader: seconds between swipes.",
)
def simulate(kind: str, out_dir: Path, seconds: float, swipe: str, every: float) -> None:
    """Start a simulator and print the port to connect to."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    last_frame: list[str] | None = None
    if kind == "card-reader":
        from devices.cardreader.simulator import NAMED, CardReaderSimulator

        card_sim = CardReaderSimulator(out_dir)
        click.echo(
            f"card reader on {card_sim.path}; swiping the {swipe} test card every {every:g} s"
        )
        close = card_sim.close

        def tick() -> None:
            card_sim.swipe(NAMED[swipe])

        interval = every
    elif kind == "printer":
        from devices.printer.simulator import PrinterSimulator

        printer_sim = PrinterSimulator(out_dir)
        click.echo(f"printer on {printer_sim.url}; receipts go to {out_dir}")
        close = printer_sim.close

        def tick() -> None:
            pass

        interval = 1.0
    elif kind == "led":
        from devices.ledboard.simulator import AlphaSignSimulator, render_png, terminal_view

        led_sim = AlphaSignSimulator(out_dir)
        click.echo(
            f"LED board (Alpha, 8N1 on a pty) on {led_sim.path}; pictures go to {out_dir / 'board.png'}"
        )
        close = led_sim.close

        def tick() -> None:
            nonlocal last_frame
            frame = led_sim.frame()
            if frame != last_frame:
                last_frame = frame
                render_png(frame, out_dir / "board.png")
                click.echo(terminal_view(frame) + "\n")

        interval = 0.5
    else:
        from devices.gps.simulator import GpsSimulator

        route = [(116.3589, 39.9069), (116.3651, 39.9142), (116.3712, 39.9401)]
        gps_sim = GpsSimulator(route, speed_kmh=40, link_dir=out_dir)
        click.echo(f"GPS unit on {gps_sim.path}; driving from the central depot north at 40 km/h")
        close = gps_sim.close

        def tick() -> None:
            pass

        interval = 1.0
    sys.stdout.flush()
    try:
        while not seconds or time.monotonic() - started < seconds:
            tick()
            time.sleep(
                interval
                if not seconds
                else min(interval, max(0.05, seconds - (time.monotonic() - started)))
            )
    except KeyboardInterrupt:
        pass
    finally:
        close()
