"""Every screen of the kiosk, reached by real taps on the real Kivy app, photographed.

The UI tests walk it (and keep the pictures); ``docs/images/kiosk-*.png`` are made with

    .venv/bin/python -m tests.kiosk.ui.gallery --out docs/images

The hall is the in-memory one of the presenter tests (its answers are fixed, so the
pictures are the same from run to run); the printer is the simulator on a pty and the
acquirer the simulator on TCP. Cards are handed to the core as the reader would.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from devices.acquirer.simulator import Fault, FaultKind
from devices.cardreader.simulator import VISA
from kiosk.config import KioskConfig, Panel
from kiosk.screens import ScreenName
from kiosk.text import Lang
from tests.kiosk.fakes import ACCOUNT, APPOINTMENT, SMS_CODE
from tests.kiosk.rig import Rig, customer_card, swipe_of


class Gallery:
    def __init__(
        self,
        driver: object,
        rig: Rig,
        out: Path,
        lang: Lang,
        *,
        only: set[str] | None = None,
        tag: str = "",
    ) -> None:
        from kiosk.ui.driver import Driver

        assert isinstance(driver, Driver)
        self.d = driver
        self.rig = rig
        self.out = out
        self.lang = lang
        self.only = only
        self.tag = tag
        self.shots: list[Path] = []

    def shot(self, name: str) -> Path | None:
        if self.only is not None and name not in self.only:
            return None
        path = self.out / f"kiosk-{name}{self.tag}-{self.lang.value}.png"
        self.shots.append(self.d.screenshot(path))
        return path

    def fresh(self) -> None:
        """A new customer: home, in the gallery's language."""
        core = self.rig.core
        core.reset()
        self.d.wait_for(ScreenName.HOME)
        if core.lang is not self.lang:
            self.d.tap("lang")

    def to(self, key: str, screen: ScreenName) -> None:
        self.d.tap(key)
        self.d.wait_for(screen)

    def account(self, tile: str) -> None:
        self.fresh()
        self.to(f"tile-{tile}", ScreenName.ACCOUNT)
        self.d.type(ACCOUNT[2:])

    def walk(self) -> list[Path]:
        d, rig, core = self.d, self.rig, self.rig.core
        core.beat()
        self.fresh()
        self.shot("home")

        self.to("tile-ticket", ScreenName.TICKET)
        self.shot("ticket")
        self.to("appointment", ScreenName.CHECKIN)
        d.type(APPOINTMENT[:4])
        self.shot("checkin")
        d.type(APPOINTMENT[4:])
        self.to("confirm", ScreenName.TICKET)
        self.to("category-payment", ScreenName.TICKET_DONE)
        self.shot("ticket-done")

        rig.printer_sim.paper_out()
        core.beat()
        self.fresh()
        self.shot("home-paper-out")
        self.to("tile-ticket", ScreenName.TICKET)
        self.to("category-payment", ScreenName.TICKET_DONE)
        self.shot("ticket-qr")
        rig.printer_sim.refill_paper()
        core.beat()

        self.account("pay")
        self.shot("account")
        self.to("confirm", ScreenName.BILL)
        self.shot("bill")
        self.to("pay-card", ScreenName.CARD)
        self.shot("card")
        rig.acquirer_sim.inject(Fault(FaultKind.DECLINE, response_code="51", times=1))
        core.swiped(swipe_of(VISA))
        d.settle()
        self.shot("card-declined")
        self.to("retry", ScreenName.CARD)
        rig.printer_sim.paper_out()
        core.swiped(swipe_of(VISA))
        d.wait_for(ScreenName.PAID)
        self.shot("paid-qr")
        rig.printer_sim.refill_paper()
        d.tap("reprint")
        self.shot("paid")

        rig.hall.ledger.clear()  # the next customer owes again
        self.account("pay")
        self.to("confirm", ScreenName.BILL)
        self.to("pay-qr", ScreenName.QR)
        self.shot("qr")

        self.account("records")
        self.to("confirm", ScreenName.PROOF)
        d.tap("sms")
        d.type(SMS_CODE[:3])
        self.shot("proof")
        d.type(SMS_CODE[3:])
        self.to("confirm", ScreenName.RECORDS)
        self.shot("records")
        d.tap("tab-tiers")
        self.shot("records-tiers")
        d.tap("tab-arrears")
        self.shot("records-arrears")

        self.fresh()
        self.to("tile-report", ScreenName.REPORT)
        self.shot("report")
        self.to("category-burst_main", ScreenName.PLACE)
        d.tap("district-DMA-01")
        self.shot("place")
        self.to("street-ST-0101", ScreenName.PHONE)
        d.type("13800138000")
        self.shot("phone")
        self.to("confirm", ScreenName.DETAILS)
        d.tap("detail-spraying")
        d.tap("detail-flooding")
        self.shot("details")
        self.to("submit", ScreenName.REPORT_DONE)
        self.shot("report-done")

        self.fresh()
        self.to("tile-outages", ScreenName.PLACE)
        d.tap("district-DMA-01")
        self.to("street-ST-0101", ScreenName.OUTAGES)
        self.shot("outages")

        # A customer who walks away: the warning with its countdown.
        self.fresh()
        self.to("tile-records", ScreenName.ACCOUNT)
        core.swiped(customer_card())
        d.wait_for(ScreenName.RECORDS)
        rig.clock.now += core.config.idle_s - 9
        core.tick()
        d.settle()
        self.shot("idle")
        rig.clock.now += 9
        core.tick()
        d.wait_for(ScreenName.HOME)

        self.fresh()
        d.tap("large")
        self.shot("home-large")

        rig.hall.down = True
        core.beat()
        d.wait_for(ScreenName.OUT_OF_SERVICE)
        if core.lang is not self.lang:
            d.tap("lang")
        self.shot("out-of-service")
        rig.hall.down = False
        core.beat()
        d.wait_for(ScreenName.HOME)
        return self.shots


def compact(path: Path) -> None:
    """64 colours are plenty for a flat screen: the pictures in docs/ stay small."""
    from PIL import Image

    with Image.open(path) as image:
        flat = image.convert("RGB").quantize(
            64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
    flat.save(path, optimize=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="photograph every kiosk screen")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--panel", default="1080x1920")
    parser.add_argument("--lang", choices=["zh", "en", "both"], default="both")
    parser.add_argument("--only", help="comma-separated screen names to keep (default: all)")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    panel = Panel.parse(args.panel)
    tag = "" if panel.portrait else "-landscape"
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-gallery-"))

    from kiosk.ui.boot import boot

    boot(
        KioskConfig("http://hall.invalid", "t", tmp / "state", panel=Panel.parse(args.panel)),
        headless=True,
        max_fps=120,
    )
    from kiosk.ui.app import KioskApp
    from kiosk.ui.driver import Driver
    from tests.kiosk.rig import make_rig

    for rig in make_rig(tmp):
        driver = Driver.start(KioskApp(rig.core))
        langs = [Lang.ZH, Lang.EN] if args.lang == "both" else [Lang(args.lang)]
        for lang in langs:
            for path in Gallery(driver, rig, args.out, lang, only=only, tag=tag).walk():
                compact(path)
                print(path)
        driver.stop()


if __name__ == "__main__":
    main()
