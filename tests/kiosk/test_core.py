"""The core's own rules: which taps count, the idle timeout, the heartbeat, out of service."""

from __future__ import annotations

from functools import partial

import pytest

from devices.cardreader.errors import CardExpired
from devices.cardreader.simulator import VISA
from kiosk.payments.journal import Step
from kiosk.screens import Purpose, ScreenName
from kiosk.text import Lang
from tests.kiosk.fakes import ACCOUNT
from tests.kiosk.rig import Rig, on, swipe_of

pytestmark = pytest.mark.integration  # the printer is a simulator on a pty


def test_a_tap_from_a_screen_no_longer_showing_is_dropped(rig: Rig) -> None:
    core = rig.core
    assert core.tap(ScreenName.HOME, lambda: core.p.home.choose("ticket"))
    # The same tile tapped again as the screen changes: it belongs to the old screen.
    assert not core.tap(ScreenName.HOME, lambda: core.p.home.choose("ticket"))
    assert rig.hall.calls.count("queue") == 1


def test_a_tap_while_an_action_runs_is_dropped(rig: Rig) -> None:
    core = rig.core
    taps: list[bool] = []
    core.tap(ScreenName.HOME, lambda: taps.append(core.tap(ScreenName.HOME, lambda: None)))
    assert taps == [False] and not core.busy


def test_idle_warns_then_forgets_the_customer(rig: Rig) -> None:
    core, clock = rig.core, rig.clock
    core.tap(ScreenName.HOME, lambda: core.p.account.open(Purpose.PAY))
    for key in ACCOUNT[2:]:
        core.press(ScreenName.ACCOUNT, partial(core.p.account.key, key))
    core.tap(ScreenName.ACCOUNT, core.p.account.submit)
    core.press(ScreenName.BILL, core.p.card.open)
    attempt = core.p.card.key
    core.press(ScreenName.CARD, lambda: core.set_lang(Lang.EN))
    clock.now += 46
    core.tick()
    assert core.chrome().idle_seconds_left == 14
    core.still_here()
    clock.now += 46
    core.tick()
    assert on(core, ScreenName.CARD) and core.chrome().idle_seconds_left == 14
    clock.now += 14
    core.tick()
    assert on(core, ScreenName.HOME) and core.lang is Lang.ZH
    assert core.p.customer.account is None and core.p.account.buffer.value == ""
    assert core.p.card.key is None
    assert attempt is not None
    assert rig.payments.journal.get(attempt).step is Step.NOT_CHARGED  # type: ignore[union-attr]
    core.swiped(swipe_of(VISA))  # a card swiped at the home screen means nothing
    assert rig.acquirer_sim.received == []


def test_no_idle_timeout_on_the_home_screen(rig: Rig) -> None:
    rig.clock.now += 10_000
    rig.core.tick()
    assert rig.core.chrome().idle_seconds_left is None


def test_a_bad_swipe_is_said_on_screens_that_take_cards(rig: Rig) -> None:
    core = rig.core
    core.swipe_failed(CardExpired("test"))
    assert core.notice is None  # home takes no card
    core.tap(ScreenName.HOME, lambda: core.p.account.open(Purpose.PAY))
    core.swipe_failed(CardExpired("test"))
    assert core.notice is not None and core.notice.en.startswith("This card has expired")


def test_the_heartbeat_carries_the_devices_health(rig: Rig) -> None:
    core = rig.core
    rig.printer_sim.paper_out()
    rig.reader.unplug()
    core.beat()
    beat = rig.hall.beats[-1]
    health = {d.device: (d.state.value, d.reason) for d in beat.devices}
    assert health["printer"] == ("fault", "paper out")
    assert health["card_reader"] == ("fault", "unplugged")
    assert health["pin_pad"][0] == "connected" and "acquirer" in health
    assert beat.screen == "home" and beat.app_version
    assert core.chrome().hall.zh == "西城营业厅"
    banners = [b.en for b in core.p.home.view().banners]
    assert any("out of paper" in b for b in banners) and any("Card payments" in b for b in banners)


def test_out_of_service_while_the_hall_is_unreachable_and_back_by_itself(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.account.open(Purpose.PAY))
    rig.hall.down = True
    core.tap(ScreenName.ACCOUNT, lambda: core.p.home.choose("ticket"))
    assert on(core, ScreenName.OUT_OF_SERVICE) and core.p.customer.purpose is None
    assert not core.tap(ScreenName.HOME, lambda: core.p.home.choose("ticket"))
    core.beat()
    assert on(core, ScreenName.OUT_OF_SERVICE)
    rig.hall.down = False
    core.beat()
    assert on(core, ScreenName.HOME)
    assert (
        rig.hall.beats[-1].last_error is not None
        and "hall unreachable" in rig.hall.beats[-1].last_error
    )


def test_heartbeat_settles_a_payment_the_hall_did_not_answer(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.account.open(Purpose.PAY))
    for key in ACCOUNT[2:]:
        core.press(ScreenName.ACCOUNT, partial(core.p.account.key, key))
    core.tap(ScreenName.ACCOUNT, core.p.account.submit)
    core.press(ScreenName.BILL, core.p.card.open)
    rig.hall.down = True
    core.swiped(swipe_of(VISA))
    assert on(core, ScreenName.PAID) and core.p.paid.view().recording
    core.reset()  # the customer walks away; the screen's own retries stop
    rig.hall.down = False
    core.beat()
    assert sum(p.amount_fen for p in rig.hall.ledger.values()) == 9_400
    assert rig.acquirer_sim.charged_fen() == 9_400


def test_language_and_large_type_are_per_customer(rig: Rig) -> None:
    core = rig.core
    core.press(ScreenName.HOME, lambda: core.set_lang(Lang.EN))
    core.press(ScreenName.HOME, core.toggle_elderly)
    assert (core.chrome().lang, core.chrome().elderly) == (Lang.EN, True)
    core.reset()
    assert (core.chrome().lang, core.chrome().elderly) == (Lang.ZH, False)


def test_spoken_prompts(rig: Rig) -> None:
    from kiosk.speech import Speaker

    speaker = Speaker(program="/nonexistent/espeak-ng")
    rig.core.speaker = speaker
    rig.core.tap(ScreenName.HOME, lambda: rig.core.p.home.choose("ticket"))
    assert speaker.said == ["请选择您要办理的业务"]


def test_a_heartbeat_failing_under_a_customer_waits_for_them_to_finish(rig: Rig) -> None:
    core = rig.core
    core.tap(ScreenName.HOME, lambda: core.p.account.open(Purpose.PAY))
    for key in ACCOUNT[2:]:
        core.press(ScreenName.ACCOUNT, partial(core.p.account.key, key))
    core.tap(ScreenName.ACCOUNT, core.p.account.submit)
    rig.hall.down = True
    core.beat()  # noticed by the heartbeat, not by the customer's own step
    assert on(core, ScreenName.BILL) and core.p.customer.account is not None
    core.press(ScreenName.BILL, core.reset)  # they finish (or go idle)
    assert on(core, ScreenName.OUT_OF_SERVICE) and core.p.customer.account is None
