"""Take a ticket: services with people waiting and the estimate, priority check-in, the ticket
on paper — or on the screen as a QR when the printer cannot print (said before choosing)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from kiosk.cards import NotAVipCard, Swipe, VipCardSwipe
from kiosk.core import PrintResult
from kiosk.keypad import DIGITS, LETTERS, KeyBuffer, appointment_code
from kiosk.presenters.base import Presenter
from kiosk.receipts import ticket_receipt, ticket_url
from kiosk.screens import ScreenName
from kiosk.text import T, minutes_text
from servicehall.hall.api.schemas import CategoryOut, PriorityReason, TicketOut


@dataclass(frozen=True)
class CategoryRow:
    code: str
    name: T
    waiting: T
    wait: T
    issuing: bool
    why_not: T | None


@dataclass(frozen=True)
class TicketView:
    categories: tuple[CategoryRow, ...]
    printer_problem: T | None  # shown before the customer chooses
    priority: T | None  # the check-in that the next ticket will carry
    elderly_priority: bool


@dataclass(frozen=True)
class _Priority:
    reason: PriorityReason
    code: str | None = None  # the appointment code or VIP card number


class TicketPresenter(Presenter):
    screen = ScreenName.TICKET
    prompt = T("请选择您要办理的业务", "Please choose a service")

    def setup(self) -> None:
        self._categories: list[CategoryOut] = []
        self._priority: _Priority | None = None

    def forget(self) -> None:
        self._priority = None

    def open(self) -> None:
        queue = self.core.hall.queue()
        self.core.learn_hall(queue)
        self._categories = list(queue.categories)
        self.core.refresh_printer()  # paper out is said before the customer chooses
        self.core.go(ScreenName.TICKET)

    def view(self) -> TicketView:
        rows = tuple(
            CategoryRow(
                code=c.code,
                name=T(c.name_zh, c.name_en),
                waiting=T(f"等候 {c.waiting} 人", f"{c.waiting} waiting"),
                wait=minutes_text(c.estimate_minutes),
                issuing=c.issuing,
                why_not=(
                    T(c.not_issuing_zh or "暂停取号", c.not_issuing_en or "Not issuing now")
                    if not c.issuing
                    else None
                ),
            )
            for c in self._categories
        )
        problem = self.core.printer_problem()
        return TicketView(
            categories=rows,
            printer_problem=(
                problem
                + T(
                    "，号票将以二维码显示，请用手机扫码保存",
                    "; your ticket will be shown as a QR code to scan with your phone",
                )
                if problem
                else None
            ),
            priority=self._priority_words(),
            elderly_priority=self._priority is not None
            and self._priority.reason is PriorityReason.ELDERLY,
        )

    def _priority_words(self) -> T | None:
        p = self._priority
        if p is None:
            return None
        if p.reason is PriorityReason.APPOINTMENT:
            return T(
                f"预约签到 {p.code}：请选择预约的业务",
                f"Appointment {p.code}: choose the service you booked",
            )
        if p.reason is PriorityReason.VIP:
            return T("贵宾卡已识别：请选择业务", "VIP card read: choose a service")
        return T(
            "老年人 / 残障人士优先：请选择业务",
            "Priority for elderly or disabled: choose a service",
        )

    # --- taps ---------------------------------------------------------------------------
    def toggle_elderly(self) -> None:
        if self._priority is not None and self._priority.reason is PriorityReason.ELDERLY:
            self._priority = None
        else:
            self._priority = _Priority(PriorityReason.ELDERLY)

    def set_priority(self, reason: PriorityReason, code: str) -> None:
        self._priority = _Priority(reason, code)

    def choose(self, code: str) -> None:
        category = next((c for c in self._categories if c.code == code), None)
        if category is None:
            raise ValueError(f"no service {code!r} on the screen")
        if not category.issuing:
            self.core.say(
                T(
                    category.not_issuing_zh or "暂停取号",
                    category.not_issuing_en or "Not issuing now",
                )
            )
            return
        priority, self._priority = self._priority, None
        ticket = self.core.hall.take_ticket(
            code,
            priority.reason if priority else None,
            appointment_code=priority.code
            if priority and priority.reason is PriorityReason.APPOINTMENT
            else None,
            vip_card=priority.code if priority and priority.reason is PriorityReason.VIP else None,
        )
        name = T(category.name_zh, category.name_en)
        receipt = ticket_receipt(
            ticket,
            name,
            self.core.hall_name,
            self.core.config.hall_url,
            paper=self.core.config.paper,
        )
        printed = self.core.print(receipt)
        self.core.p.ticket_done.show(ticket, name, printed)


@dataclass(frozen=True)
class TicketDoneView:
    number: str
    category: T
    ahead: T
    wait: T
    printed: bool
    problem: T | None
    qr: str  # the ticket's live page


class TicketDonePresenter(Presenter):
    screen = ScreenName.TICKET_DONE
    prompt = T("请取走您的号票", "Please take your ticket")

    def setup(self) -> None:
        self._shown: TicketDoneView | None = None

    def forget(self) -> None:
        self._shown = None

    def show(self, ticket: TicketOut, category: T, printed: PrintResult) -> None:
        self._shown = TicketDoneView(
            number=ticket.number,
            category=category,
            ahead=T(
                f"您前面还有 {ticket.people_ahead} 人", f"{ticket.people_ahead} people ahead of you"
            ),
            wait=minutes_text(ticket.estimate_minutes),
            printed=printed.printed,
            problem=printed.problem,
            qr=ticket_url(self.core.config.hall_url, ticket),
        )
        self.core.go(ScreenName.TICKET_DONE)

    def view(self) -> TicketDoneView | None:
        return self._shown


class CheckinMode(enum.StrEnum):
    APPOINTMENT = "appointment"
    VIP = "vip"


@dataclass(frozen=True)
class CheckinView:
    mode: CheckinMode
    title: T
    hint: T
    entry: str
    complete: bool
    alphabet: str


class CheckinPresenter(Presenter):
    """An appointment code on the letter keypad, or a VIP card swiped (or typed)."""

    screen = ScreenName.CHECKIN
    wants_swipe = True

    def setup(self) -> None:
        self.mode = CheckinMode.APPOINTMENT
        self.buffer = appointment_code()

    def forget(self) -> None:
        self.buffer.forget()

    def open(self, mode: CheckinMode) -> None:
        self.mode = mode
        if mode is CheckinMode.VIP:
            self.buffer = KeyBuffer(DIGITS + LETTERS + "-", 32, r"[A-Z0-9-]{4,32}")
        else:
            self.buffer = appointment_code()
        self.core.go(ScreenName.CHECKIN)

    def view(self) -> CheckinView:
        if self.mode is CheckinMode.VIP:
            title = T("贵宾卡", "VIP card")
            hint = T("请刷贵宾卡，或输入卡号", "Swipe your VIP card, or type its number")
        else:
            title = T("预约签到", "Appointment check-in")
            hint = T(
                "请输入预约码（短信中的字母和数字）",
                "Type your appointment code (letters and digits from the SMS)",
            )
        return CheckinView(
            self.mode, title, hint, self.buffer.shown, self.buffer.complete, self.buffer.alphabet
        )

    def key(self, key: str) -> None:
        self.buffer.press(key)

    def submit(self) -> None:
        if not self.buffer.complete:
            self.core.say(T("号码不完整", "The number is not complete"))
            return
        reason = PriorityReason.VIP if self.mode is CheckinMode.VIP else PriorityReason.APPOINTMENT
        self.core.p.ticket.set_priority(reason, self.buffer.value)
        self.buffer.forget()
        self.core.go(ScreenName.TICKET)

    def on_swipe(self, swipe: Swipe) -> bool:
        if self.mode is not CheckinMode.VIP:
            return False
        if not isinstance(swipe, VipCardSwipe):
            self.core.say(T(NotAVipCard.message_zh, NotAVipCard.message_en))
            return True
        self.core.p.ticket.set_priority(PriorityReason.VIP, swipe.card_number)
        self.core.go(ScreenName.TICKET)
        return True
