"""One thin class per screen: fill the ``.kv`` layout from the presenter's view, pass taps on.

No rule lives here. ``tap`` sends an action that may talk to the hall (it runs off the UI
thread); ``press`` a local one. Both carry the screen they came from, so the core drops a
tap that arrives after the screen changed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from importlib import resources
from typing import Any, ClassVar

from kivy.app import App
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from kiosk.core import Chrome, KioskCore
from kiosk.presenters.records import Tab
from kiosk.presenters.ticket import CheckinMode
from kiosk.screens import ScreenName
from kiosk.text import Lang, T
from kiosk.ui import widgets
from kiosk.ui.widgets import KButton, Keypad

BACK = T("返回", "Back")
DONE = T("完成", "Done")
CONFIRM = T("确认", "Confirm")
KEYPAD_WORDS = (T("清除", "Clear"), T("删除", "Delete"))
LETTER_KEYPAD_WORDS = (T("清除", "Clr"), T("删除", "Del"))  # its keys are narrow


def load_layout(name: str) -> None:
    path = resources.files("kiosk.ui").joinpath("kv", f"{name}.kv")
    with resources.as_file(path) as file:
        Builder.load_file(str(file))


class KioskScreen(Screen):
    key: ClassVar[ScreenName]

    @property
    def app(self) -> Any:
        return App.get_running_app()

    @property
    def core(self) -> KioskCore:
        core: KioskCore = self.app.core
        return core

    @property
    def lang(self) -> Lang:
        return self.core.lang

    # --- words ------------------------------------------------------------------------
    def tr(self, text: T | str) -> str:
        return text if isinstance(text, str) else text(self.lang)

    def both(self, text: T, *, bold: bool = False) -> str:
        """The chosen language, and the other one small beneath (Chinese first by default)."""
        first = _escape(text(self.lang))
        second = _escape(text(self.lang.other))
        if bold:
            first = f"[b]{first}[/b]"
        return f"{first}\n[size={int(self.app.fs * 0.62)}]{second}[/size]"

    # --- taps -------------------------------------------------------------------------
    def tap(self, action: Callable[[], None]) -> None:
        self.core.tap(self.key, action)

    def press(self, action: Callable[[], None]) -> None:
        self.core.press(self.key, action)

    def button(self, key: str, text: str, action: Callable[[], None], **kw: Any) -> KButton:
        button = KButton(text=text, key=key, **kw)
        button.bind(on_release=lambda *_: action())
        return button

    def keypad(self, pad: Keypad, on_key: Callable[[str], None]) -> None:
        words = LETTER_KEYPAD_WORDS if pad.letters else KEYPAD_WORDS
        pad.labels = [t(self.lang) for t in words]
        if not getattr(pad, "_wired", False):
            pad.bind(on_key=lambda _pad, key: self.press(lambda: on_key(key)))
            pad._wired = True

    def refresh(self, chrome: Chrome) -> None:
        """Draw the presenter's view, unless exactly this was drawn last time (rendering
        Chinese text is the costly part of a frame)."""
        view = self.view()
        stamp = (view, chrome.lang, chrome.elderly, self.app.fs, self.app.portrait)
        if stamp == getattr(self, "_drawn", None):
            return
        self.draw(view, chrome)
        self._drawn = stamp

    def view(self) -> Any:
        raise NotImplementedError

    def draw(self, view: Any, chrome: Chrome) -> None:
        raise NotImplementedError


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def rows_of(container: BoxLayout, lines: list[tuple[str, str]], fs: float) -> None:
    """Label: value lines in a panel. Lines already there are reused, so only the words
    that changed are drawn again (drawing Chinese text is the costly part of a frame)."""
    while len(container.children) > len(lines):
        container.remove_widget(container.children[0])
    while len(container.children) < len(lines):
        line = BoxLayout(size_hint_y=None, spacing=dp(12))
        for hint, align, colour in ((0.32, "right", widgets.MUTED), (0.68, "left", widgets.INK)):
            cell = Label(size_hint_x=hint, halign=align, valign="middle", color=colour)
            cell.bind(size=_fit_text)
            line.add_widget(cell)
        container.add_widget(line)
    for line, (label, value) in zip(reversed(container.children), lines, strict=True):
        line.height = fs * 1.7
        value_cell, label_cell = line.children  # children are kept last-added first
        label_cell.text, label_cell.font_size = label, fs * 0.85
        value_cell.text, value_cell.font_size = value, fs


def _fit_text(widget: Label, size: tuple[float, float]) -> None:
    widget.text_size = size


# --- the screens -----------------------------------------------------------------------------
class HomeScreen(KioskScreen):
    key = ScreenName.HOME

    def view(self) -> Any:
        return self.core.p.home.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        ids = self.ids
        ids.welcome.text = self.both(view.welcome, bold=True)
        ids.banners.clear_widgets()
        for banner in view.banners:
            ids.banners.add_widget(Factory_banner(self.tr(banner)))
        ids.tiles.clear_widgets()
        ids.first.clear_widgets()
        fs = self.app.fs
        for index, tile in enumerate(view.tiles):
            text = (
                f"[b][size={int(fs * 1.35)}]{_escape(self.tr(tile.label))}[/size][/b]\n"
                f"[size={int(fs * 0.8)}]{_escape(tile.label(self.lang.other))}[/size]\n"
                f"[size={int(fs * 0.7)}]{_escape(self.tr(tile.hint))}[/size]"
            )
            button = self.button(
                f"tile-{tile.key}",
                text,
                partial(self.tap, partial(self.core.p.home.choose, tile.key)),
                disabled=not tile.enabled,
            )
            (ids.first if index == 0 else ids.tiles).add_widget(button)


def Factory_banner(text: str) -> Label:  # noqa: N802 - reads like the kv class it makes
    from kivy.factory import Factory

    banner: Label = Factory.Banner(text=text)
    return banner


class TicketScreen(KioskScreen):
    key = ScreenName.TICKET

    def view(self) -> Any:
        return self.core.p.ticket.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids, fs = self.ids, self.app.fs
        ids.title.text = self.both(T("请选择业务", "Choose a service"), bold=True)
        ids.banners.clear_widgets()
        for banner in (view.printer_problem, view.priority):
            if banner is not None:
                ids.banners.add_widget(Factory_banner(self.tr(banner)))
        ids.rows.clear_widgets()
        for row in view.categories:
            status = (
                f"{self.tr(row.waiting)} · {self.tr(row.wait)}"
                if row.issuing
                else self.tr(row.why_not or T("", ""))
            )
            text = f"[b][size={int(fs * 1.25)}]{_escape(self.tr(row.name))}[/size][/b]  {_escape(row.name(self.lang.other))}\n[size={int(fs * 0.85)}]{_escape(status)}[/size]"
            ids.rows.add_widget(
                self.button(
                    f"category-{row.code}",
                    text,
                    partial(self.tap, partial(p.ticket.choose, row.code)),
                    size_hint_y=None,
                    height=fs * 4.4,
                    disabled=not row.issuing,
                )
            )
        ids.appointment.text = self.both(T("预约签到", "Appointment"))
        ids.appointment.on_release = lambda: self.press(
            lambda: p.checkin.open(CheckinMode.APPOINTMENT)
        )
        ids.vip.text = self.both(T("贵宾卡", "VIP card"))
        ids.vip.on_release = lambda: self.press(lambda: p.checkin.open(CheckinMode.VIP))
        ids.elderly.text = self.both(T("老年 / 残障优先", "Elderly / disabled"))
        for name, value in widgets.toggle(view.elderly_priority).items():
            setattr(ids.elderly, name, value)
        ids.elderly.on_release = lambda: self.press(p.ticket.toggle_elderly)


class CheckinScreen(KioskScreen):
    key = ScreenName.CHECKIN

    def view(self) -> Any:
        return self.core.p.checkin.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids = self.ids
        ids.title.text = self.both(view.title, bold=True)
        ids.hint.text = self.tr(view.hint)
        ids.entry.text = view.entry or " "
        ids.keypad.extra = "-" if view.mode is CheckinMode.VIP else ""
        self.keypad(ids.keypad, p.checkin.key)
        ids.back.text = self.tr(BACK)
        ids.back.on_release = lambda: self.press(lambda: self.core.go(ScreenName.TICKET))
        ids.confirm.text = self.tr(CONFIRM)
        ids.confirm.disabled = not view.complete
        ids.confirm.on_release = lambda: self.press(p.checkin.submit)


class TicketDoneScreen(KioskScreen):
    key = ScreenName.TICKET_DONE

    def view(self) -> Any:
        return self.core.p.ticket_done.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        if view is None:
            return
        ids = self.ids
        ids.title.text = self.both(T("您的号码", "Your number"), bold=True)
        ids.number.text = view.number
        ids.category.text = self.both(view.category)
        ids.ahead.text = f"{self.tr(view.ahead)} · {self.tr(view.wait)}"
        if view.printed:
            ids.printed.text = self.both(
                T("请取走号票，留意叫号", "Please take your ticket and listen for your number")
            )
            ids.qr.data = ""
            ids.qr_box.height = 0
            ids.qr_box.opacity = 0
        else:
            problem = view.problem or T("", "")
            ids.printed.text = self.tr(
                problem + T("。请用手机扫码保存号票", ". Scan to keep your ticket on your phone")
            )
            ids.qr.data = view.qr
            ids.qr_box.height = self.app.fs * 9
            ids.qr_box.opacity = 1
        ids.done.text = self.both(DONE)
        ids.done.on_release = lambda: self.press(self.core.reset)


class AccountScreen(KioskScreen):
    key = ScreenName.ACCOUNT

    def view(self) -> Any:
        return self.core.p.account.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids = self.ids
        ids.title.text = self.both(view.title, bold=True)
        digits = view.digits.ljust(9, "_")
        ids.entry.text = f"{view.prefix} {digits[:3]} {digits[3:6]} {digits[6:]}"
        ids.hint.text = self.tr(
            T(
                "输入户号后 9 位数字，或刷用户卡",
                "Type the 9 digits of your account number, or swipe your customer card",
            )
            if view.can_swipe
            else T("请输入户号后 9 位数字", "Type the 9 digits of your account number")
        )
        self.keypad(ids.keypad, p.account.key)
        ids.back.text = self.tr(BACK)
        ids.back.on_release = lambda: self.press(self.core.reset)
        ids.confirm.text = self.tr(CONFIRM)
        ids.confirm.disabled = not view.complete
        ids.confirm.on_release = lambda: self.tap(p.account.submit)


class BillScreen(KioskScreen):
    key = ScreenName.BILL

    def view(self) -> Any:
        return self.core.p.bill.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids, fs = self.ids, self.app.fs
        ids.title.text = self.both(T("缴费信息", "Your bill"), bold=True)
        rows_of(
            ids.facts,
            [
                (self.tr(T("户号", "Account")), view.account_no),
                (self.tr(T("户名", "Name")), view.holder),
                (self.tr(T("地址", "Address")), view.address),
                (self.tr(T("状态", "Status")), self.tr(view.status)),
            ],
            fs,
        )
        ids.due_label.text = self.tr(T("应缴金额", "Amount due"))
        ids.due.text = view.due
        rows_of(
            ids.bills,
            [
                (f"{b.period}", f"{b.due}   ({self.tr(T('缴费期限', 'due'))} {b.due_date})")
                for b in view.bills
            ],
            fs,
        )
        ids.banners.clear_widgets()
        if view.card_unavailable is not None:
            ids.banners.add_widget(Factory_banner(self.tr(view.card_unavailable)))
        if view.nothing_due:
            ids.banners.add_widget(
                Factory_banner(self.tr(T("没有需要缴纳的费用", "There is nothing to pay")))
            )
        ids.card.text = self.both(T("银行卡缴费", "Pay by bank card"), bold=True)
        ids.card.disabled = view.nothing_due or not view.can_card
        ids.card.on_release = lambda: self.press(p.card.open)
        ids.qr.text = self.both(T("扫码缴费", "Pay by QR code"), bold=True)
        ids.qr.disabled = view.nothing_due
        ids.qr.on_release = lambda: self.tap(p.qr.open)
        ids.back.text = self.tr(BACK)
        ids.back.on_release = lambda: self.press(self.core.reset)


class CardScreen(KioskScreen):
    key = ScreenName.CARD

    def view(self) -> Any:
        return self.core.p.card.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids = self.ids
        ids.title.text = self.both(T("银行卡缴费", "Pay by bank card"), bold=True)
        ids.amount_label.text = self.tr(T("缴费金额", "Amount"))
        ids.amount.text = view.amount
        ids.words.text = self.tr(view.words)
        ids.words.color = widgets.RED if view.phase.value == "failed" else widgets.INK
        ids.card.text = view.card or ""
        ids.cancel.text = self.tr(BACK)
        ids.cancel.disabled = not view.can_cancel
        ids.cancel.on_release = lambda: self.press(p.card.cancel)
        ids.retry.text = self.tr(T("重新刷卡", "Try again"))
        ids.retry.disabled = not view.can_retry
        ids.retry.opacity = 1 if view.can_retry else 0
        ids.retry.on_release = lambda: self.press(p.card.retry)


class QrScreen(KioskScreen):
    key = ScreenName.QR

    def view(self) -> Any:
        return self.core.p.qr.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids = self.ids
        ids.title.text = self.both(T("扫码缴费", "Pay by QR code"), bold=True)
        ids.amount.text = view.amount
        ids.qr.data = view.qr or ""
        ids.words.text = self.tr(view.words)
        # No countdown when the kiosk's and the hall's clocks disagree (the hall decides).
        if view.qr and view.seconds_left is not None:
            minutes, seconds = divmod(view.seconds_left, 60)
            ids.countdown.text = self.tr(
                T(
                    f"二维码 {minutes}:{seconds:02d} 后失效",
                    f"The code expires in {minutes}:{seconds:02d}",
                )
            )
        else:
            ids.countdown.text = ""
        ids.back.text = self.tr(BACK)
        ids.back.on_release = lambda: self.press(p.qr.cancel)
        ids.retry.text = self.tr(T("重新生成", "New QR code"))
        ids.retry.disabled = not view.can_retry
        ids.retry.opacity = 1 if view.can_retry else 0
        ids.retry.on_release = lambda: self.tap(p.qr.retry)


class PaidScreen(KioskScreen):
    key = ScreenName.PAID

    def view(self) -> Any:
        return self.core.p.paid.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids, fs = self.ids, self.app.fs
        ids.title.text = self.both(
            T("正在入账", "Recording your payment") if view.recording else T("缴费结果", "Payment"),
            bold=True,
        )
        ids.amount.text = view.amount
        ids.words.text = self.tr(view.words)
        lines = [(self.tr(T("方式", "Method")), self.tr(view.method))]
        if view.receipt_no:
            lines.append((self.tr(T("凭证号", "Receipt")), view.receipt_no))
        if view.card:
            lines.append((self.tr(T("银行卡", "Card")), view.card))
        rows_of(ids.facts, lines, fs)
        ids.banners.clear_widgets()
        if view.problem is not None:
            ids.banners.add_widget(Factory_banner(self.tr(view.problem)))
        show_qr = bool(view.qr) and not view.printed
        ids.qr.data = view.qr or "" if show_qr else ""
        ids.qr_box.height = fs * 8 if show_qr else 0
        ids.qr_box.opacity = 1 if show_qr else 0
        ids.reprint.text = self.tr(T("重新打印", "Print again"))
        ids.reprint.disabled = not view.can_reprint
        ids.reprint.opacity = 1 if view.can_reprint else 0
        ids.reprint.on_release = lambda: self.tap(p.paid.reprint)
        ids.done.text = self.both(DONE)
        ids.done.on_release = lambda: self.press(self.core.reset)


class ProofScreen(KioskScreen):
    key = ScreenName.PROOF

    def view(self) -> Any:
        return self.core.p.proof.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids = self.ids
        ids.title.text = self.both(T("验证身份", "Prove it is you"), bold=True)
        ids.who.text = f"{view.account_no}  {view.holder}"
        choosing = view.step.value == "choose"
        ids.sms.text = self.both(
            T(f"发送短信验证码到 {view.phone or ''}", f"Text a code to {view.phone or ''}"),
            bold=True,
        )
        ids.sms.disabled = not view.can_sms
        ids.sms.on_release = lambda: self.tap(p.proof.send_code)
        ids.card_hint.text = self.tr(T("或刷本户的用户卡", "or swipe this account's customer card"))
        ids.entry.text = view.entry or " "
        ids.code_box.opacity = 0 if choosing else 1
        ids.code_box.disabled = choosing
        ids.code_box.size_hint_y = 0.001 if choosing else 1
        self.keypad(ids.keypad, p.proof.key)
        ids.back.text = self.tr(BACK)
        ids.back.on_release = lambda: self.press(self.core.reset)
        ids.confirm.text = self.tr(CONFIRM)
        ids.confirm.disabled = choosing or not view.complete
        ids.confirm.on_release = lambda: self.tap(p.proof.submit)


class RecordsScreen(KioskScreen):
    key = ScreenName.RECORDS

    def view(self) -> Any:
        return self.core.p.records.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids, fs = self.ids, self.app.fs
        ids.title.text = f"[b]{_escape(view.holder)}[/b]"
        ids.address.text = view.address
        ids.tabs.clear_widgets()
        for tab, words in view.tabs:
            ids.tabs.add_widget(
                self.button(
                    f"tab-{tab.value}",
                    self.tr(words),
                    partial(self.press, partial(p.records.show, tab)),
                    font_size=fs * 0.85,
                    **widgets.toggle(tab is view.tab),
                )
            )
        ids.chart.font_size = fs
        ids.chart.bars = [(self.tr(b.label), b.value, b.share) for b in view.bars]
        ids.chart.height = fs * 7 if view.tab is Tab.BILLS else 0
        ids.chart.opacity = 1 if view.tab is Tab.BILLS else 0
        table = ids.table
        table.clear_widgets()
        table.cols = max(1, len(view.heading))
        for head in view.heading:
            table.add_widget(
                Label(
                    text=f"[b]{_escape(self.tr(head))}[/b]",
                    markup=True,
                    color=widgets.MUTED,
                    font_size=fs * 0.8,
                    size_hint_y=None,
                    height=fs * 1.6,
                )
            )
        for row in view.rows:
            for cell in row.cells:
                table.add_widget(
                    Label(
                        text=self.tr(cell), font_size=fs * 0.85, size_hint_y=None, height=fs * 1.5
                    )
                )
        ids.summary.text = self.tr(view.summary)
        ids.done.text = self.both(DONE)
        ids.done.on_release = lambda: self.press(self.core.reset)


class ReportScreen(KioskScreen):
    key = ScreenName.REPORT

    def view(self) -> Any:
        return self.core.p.report.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids, fs = self.ids, self.app.fs
        ids.title.text = self.both(T("报修 / 投诉", "Repairs & complaints"), bold=True)
        ids.kinds.clear_widgets()
        for kind, words in view.kinds:
            ids.kinds.add_widget(
                self.button(
                    f"kind-{kind.value}",
                    self.both(words, bold=True),
                    partial(self.press, partial(p.report.set_kind, kind)),
                    **widgets.toggle(kind is view.kind),
                )
            )
        ids.hint.text = self.tr(T("请选择问题类别", "What is the problem?"))
        ids.categories.clear_widgets()
        for category, words in view.categories:
            ids.categories.add_widget(
                self.button(
                    f"category-{category.value}",
                    self.both(words, bold=True),
                    partial(self.tap, partial(p.report.choose, category)),
                    size_hint_y=None,
                    height=fs * 3.4,
                    fill=widgets.CARD,
                    fill_down=widgets.GREY,
                    ink=widgets.INK,
                )
            )
        ids.back.text = self.tr(BACK)
        ids.back.on_release = lambda: self.press(self.core.reset)


class PlaceScreen(KioskScreen):
    key = ScreenName.PLACE

    def view(self) -> Any:
        return self.core.p.place.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids, fs = self.ids, self.app.fs
        ids.title.text = self.both(view.title, bold=True)
        ids.mine.text = self.both(
            T("我的地址（输入户号或刷用户卡）", "My address (account number or customer card)"),
            bold=True,
        )
        ids.mine.on_release = lambda: self.press(p.place.my_account)
        ids.or_pick.text = self.tr(T("或选择片区，再选择街道", "or choose an area, then a street"))
        ids.districts.clear_widgets()
        for code, words in view.districts:
            ids.districts.add_widget(
                self.button(
                    f"district-{code}",
                    self.tr(words),
                    partial(self.press, partial(p.place.pick_district, code)),
                    size_hint_y=None,
                    height=fs * 2.6,
                    font_size=fs * 0.9,
                    **widgets.toggle(code == view.district),
                )
            )
        ids.streets.clear_widgets()
        for code, words in view.streets:
            ids.streets.add_widget(
                self.button(
                    f"street-{code}",
                    self.tr(words),
                    partial(self.tap, partial(p.place.pick_street, code)),
                    size_hint_y=None,
                    height=fs * 2.6,
                    font_size=fs * 0.9,
                )
            )
        ids.back.text = self.tr(BACK)
        ids.back.on_release = lambda: self.press(self.core.reset)


class PhoneScreen(KioskScreen):
    key = ScreenName.PHONE

    def view(self) -> Any:
        return self.core.p.report.phone_view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids = self.ids
        ids.title.text = self.both(T("联系电话", "Your phone number"), bold=True)
        ids.hint.text = self.tr(
            T("维修人员会打这个电话与您联系", "The repair crew will call this number")
        )
        ids.entry.text = view.entry or " "
        self.keypad(ids.keypad, p.report.key_phone)
        ids.back.text = self.tr(BACK)
        ids.back.on_release = lambda: self.press(self.core.reset)
        ids.confirm.text = self.tr(T("下一步", "Next"))
        ids.confirm.disabled = not view.complete
        ids.confirm.on_release = lambda: self.press(p.report.phone_done)


class DetailsScreen(KioskScreen):
    key = ScreenName.DETAILS

    def view(self) -> Any:
        return self.core.p.report.details_view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        p = self.core.p
        ids, fs = self.ids, self.app.fs
        ids.title.text = self.both(T("确认并提交", "Check and send"), bold=True)
        rows_of(
            ids.summary, [(self.tr(label), self.tr(value)) for label, value in view.summary], fs
        )
        ids.hint.text = self.tr(
            T("补充情况（可选，可多选）", "More details (optional, choose any)")
        )
        ids.options.clear_widgets()
        for code, words, chosen in view.options:
            ids.options.add_widget(
                self.button(
                    f"detail-{code}",
                    ("✓ " if chosen else "") + self.tr(words),
                    partial(self.press, partial(p.report.toggle_detail, code)),
                    size_hint_y=None,
                    height=fs * 2.6,
                    font_size=fs * 0.9,
                    **widgets.toggle(chosen),
                )
            )
        ids.back.text = self.tr(BACK)
        ids.back.on_release = lambda: self.press(self.core.reset)
        ids.submit.text = self.both(T("提交", "Send"), bold=True)
        ids.submit.on_release = lambda: self.tap(p.report.send)


class ReportDoneScreen(KioskScreen):
    key = ScreenName.REPORT_DONE

    def view(self) -> Any:
        return self.core.p.report.done_view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        if view is None:
            return
        ids, fs = self.ids, self.app.fs
        ids.title.text = self.both(T("已受理", "Received"), bold=True)
        ids.what.text = self.both(view.kind.joined(view.category))
        ids.order_label.text = self.tr(T("工单号", "Order number"))
        ids.order.text = view.order_no
        ids.words.text = self.tr(
            T("请取走回执，扫码可查看处理进度", "Take your receipt; scan it to follow the work")
            if view.printed
            else (view.problem or T("", "")) + T("。请扫码保存回执", ". Scan to keep your receipt")
        )
        ids.qr.data = view.qr
        ids.qr_box.height = fs * 8
        ids.done.text = self.both(DONE)
        ids.done.on_release = lambda: self.press(self.core.reset)


class OutagesScreen(KioskScreen):
    key = ScreenName.OUTAGES

    def view(self) -> Any:
        return self.core.p.outages.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        ids, fs = self.ids, self.app.fs
        ids.title.text = self.both(T("停水查询：", "Outages: ") + view.where, bold=True)
        ids.rows.clear_widgets()
        from kivy.factory import Factory

        for row in view.rows:
            panel = Factory.Panel()
            panel.add_widget(
                Factory.Body(
                    text=f"[b][color=C62828]{_escape(self.tr(row.kind))}[/color] · {_escape(self.tr(row.status))}[/b]",
                    halign="left",
                )
            )
            panel.add_widget(
                Factory.Body(text=f"[b]{_escape(self.tr(row.title))}[/b]", halign="left")
            )
            panel.add_widget(
                Factory.Body(text=_escape(self.tr(row.detail)), halign="left", font_size=fs * 0.9)
            )
            panel.add_widget(
                Factory.Body(
                    text=f"{self.tr(T('开始', 'Since'))} {row.since} · [b]{_escape(self.tr(row.restore))}[/b]",
                    halign="left",
                    font_size=fs * 0.9,
                )
            )
            ids.rows.add_widget(panel)
        if view.none:
            ids.rows.add_widget(
                Factory.Body(
                    text=self.tr(T("附近没有停水、降压或抢修", "No outages or repairs nearby"))
                )
            )
        ids.done.text = self.both(DONE)
        ids.done.on_release = lambda: self.press(self.core.reset)


class OutOfServiceScreen(KioskScreen):
    key = ScreenName.OUT_OF_SERVICE

    def view(self) -> Any:
        return self.core.p.status.view()

    def draw(self, view: Any, chrome: Chrome) -> None:
        ids = self.ids
        ids.title.text = self.both(view.title, bold=True)
        ids.body.text = self.tr(view.body)
        ids.retry.text = self.tr(view.retry)


SCREENS: tuple[type[KioskScreen], ...] = (
    HomeScreen,
    TicketScreen,
    CheckinScreen,
    TicketDoneScreen,
    AccountScreen,
    BillScreen,
    CardScreen,
    QrScreen,
    PaidScreen,
    ProofScreen,
    RecordsScreen,
    ReportScreen,
    PlaceScreen,
    PhoneScreen,
    DetailsScreen,
    ReportDoneScreen,
    OutagesScreen,
    OutOfServiceScreen,
)
