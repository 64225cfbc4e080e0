"""Fault reports (报修) and complaints (投诉), chosen from lists — no free text on a kiosk.

Kind and category here; then the place (the account's premises, or a district and street),
a contact phone on the keypad, optional details from a fixed list, and the receipt with the
order number and a QR to follow it. One idempotency key per report attempt, so a retry
after a lost answer never opens a second work order.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.core import PrintResult
from kiosk.keypad import phone_number
from kiosk.presenters.base import Presenter
from kiosk.receipts import report_receipt
from kiosk.screens import Purpose, ScreenName
from kiosk.text import T
from servicehall.hall.api.kiosk_schemas import ReportCategory, ReportIn, ReportKind, ReportOut
from servicehall.hall.kiosk_client import new_idempotency_key

KINDS = {ReportKind.REPAIR: T("报修", "Repair"), ReportKind.COMPLAINT: T("投诉", "Complaint")}
CATEGORIES = {
    ReportCategory.BURST_MAIN: T("爆管", "Burst pipe"),
    ReportCategory.NO_WATER: T("停水 / 无水", "No water"),
    ReportCategory.LOW_PRESSURE: T("水压低", "Low pressure"),
    ReportCategory.LEAK: T("漏水", "Leak"),
    ReportCategory.METER_FAULT: T("水表故障", "Meter fault"),
    ReportCategory.WATER_QUALITY: T("水质问题", "Water quality"),
    ReportCategory.BILLING: T("账单疑问", "Billing"),
    ReportCategory.SERVICE: T("服务态度", "Service"),
    ReportCategory.OTHER: T("其他", "Other"),
}
BY_KIND = {
    ReportKind.REPAIR: (
        ReportCategory.BURST_MAIN,
        ReportCategory.LEAK,
        ReportCategory.NO_WATER,
        ReportCategory.LOW_PRESSURE,
        ReportCategory.METER_FAULT,
        ReportCategory.WATER_QUALITY,
        ReportCategory.OTHER,
    ),
    ReportKind.COMPLAINT: (
        ReportCategory.BILLING,
        ReportCategory.SERVICE,
        ReportCategory.WATER_QUALITY,
        ReportCategory.OTHER,
    ),
}
# The fixed list of details a customer may add: the hall's own list (it refuses any other
# code), in its words (domain/work_orders_intake.py DETAILS).
DETAILS = {
    "flooding": T("现场积水", "Water is pooling"),
    "road_blocked": T("影响交通", "The road is blocked"),
    "spraying": T("水柱喷涌", "Water is spraying out"),
    "since_today": T("今天开始", "Since today"),
    "several_days": T("已持续数日", "For several days"),
    "neighbours_too": T("邻居也受影响", "Neighbours are affected too"),
    "elderly_at_home": T("家中有老人", "Elderly people at home"),
    "discoloured": T("水色异常", "Discoloured water"),
    "smell": T("有异味", "Unusual smell"),
    "meter_stopped": T("水表不走", "The meter does not turn"),
    "meter_leaking": T("水表漏水", "The meter leaks"),
    "bill_too_high": T("账单金额过高", "The bill is too high"),
    "estimated_reading": T("估抄有误", "The estimated reading is wrong"),
    "long_wait": T("等候时间过长", "Waited too long"),
    "staff_attitude": T("工作人员态度", "Staff attitude"),
}
# Which of them make sense for each category (the kiosk shows only these).
DETAILS_FOR = {
    ReportCategory.BURST_MAIN: ("spraying", "flooding", "road_blocked", "since_today"),
    ReportCategory.LEAK: ("flooding", "neighbours_too", "since_today", "several_days"),
    ReportCategory.NO_WATER: ("neighbours_too", "elderly_at_home", "since_today", "several_days"),
    ReportCategory.LOW_PRESSURE: ("neighbours_too", "since_today", "several_days"),
    ReportCategory.METER_FAULT: ("meter_stopped", "meter_leaking"),
    ReportCategory.WATER_QUALITY: ("discoloured", "smell", "neighbours_too", "since_today"),
    ReportCategory.BILLING: ("bill_too_high", "estimated_reading", "meter_stopped"),
    ReportCategory.SERVICE: ("long_wait", "staff_attitude"),
    ReportCategory.OTHER: ("since_today", "several_days", "elderly_at_home"),
}


@dataclass(frozen=True)
class ReportView:
    kind: ReportKind
    kinds: tuple[tuple[ReportKind, T], ...]
    categories: tuple[tuple[ReportCategory, T], ...]


@dataclass(frozen=True)
class PhoneView:
    entry: str
    complete: bool


@dataclass(frozen=True)
class DetailsView:
    summary: tuple[tuple[T, str | T], ...]
    options: tuple[tuple[str, T, bool], ...]  # code, words, chosen


@dataclass(frozen=True)
class ReportDoneView:
    order_no: str
    kind: T
    category: T
    printed: bool
    problem: T | None
    qr: str


class ReportPresenter(Presenter):
    """Holds the report being made across its screens (REPORT, PLACE, PHONE, DETAILS)."""

    screen = ScreenName.REPORT
    prompt = T("请选择报修或投诉的类别", "Choose what you are reporting")

    def setup(self) -> None:
        self.kind = ReportKind.REPAIR
        self.category: ReportCategory | None = None
        self.account_no: str | None = None
        self.street_code: str | None = None
        self.place_words = ""
        self.phone = phone_number()
        self.details: list[str] = []
        self.key: str | None = None
        self._done: ReportDoneView | None = None

    def forget(self) -> None:
        self.phone.forget()
        self.setup()

    def open(self) -> None:
        self.setup()
        self.core.go(ScreenName.REPORT)

    def view(self) -> ReportView:
        return ReportView(
            self.kind,
            tuple(KINDS.items()),
            tuple((c, CATEGORIES[c]) for c in BY_KIND[self.kind]),
        )

    def set_kind(self, kind: ReportKind) -> None:
        self.kind = kind

    def choose(self, category: ReportCategory) -> None:
        """A tap: the place picker's lists come from the hall."""
        if category not in BY_KIND[self.kind]:
            raise ValueError(f"{category} is not a {self.kind} category")
        self.category = category
        self.details = []
        self.core.p.place.open(Purpose.REPORT)

    # --- where ----------------------------------------------------------------------------
    def at_premises(self, account_no: str, address_masked: str) -> None:
        self.account_no, self.street_code, self.place_words = account_no, None, address_masked
        self.core.go(ScreenName.PHONE)

    def at_street(self, street_code: str, words: str) -> None:
        self.account_no, self.street_code, self.place_words = None, street_code, words
        self.core.go(ScreenName.PHONE)

    # --- phone --------------------------------------------------------------------------
    def phone_view(self) -> PhoneView:
        return PhoneView(self.phone.shown, self.phone.complete)

    def key_phone(self, key: str) -> None:
        self.phone.press(key)

    def phone_done(self) -> None:
        if not self.phone.complete:
            self.core.say(T("请输入 11 位手机号码", "Please type an 11-digit mobile number"))
            return
        self.core.go(ScreenName.DETAILS)

    # --- details and sending --------------------------------------------------------------
    def details_view(self) -> DetailsView:
        category = self.category or ReportCategory.OTHER
        phone = self.phone.value
        return DetailsView(
            summary=(
                (T("类别", "Type"), KINDS[self.kind].joined(CATEGORIES[category])),
                (T("地点", "Where"), self.place_words),
                (T("电话", "Phone"), f"{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else phone),
            ),
            options=tuple(
                (code, DETAILS[code], code in self.details) for code in DETAILS_FOR[category]
            ),
        )

    def toggle_detail(self, code: str) -> None:
        category = self.category or ReportCategory.OTHER
        if code not in DETAILS_FOR[category]:
            raise ValueError(f"no detail {code!r} for {category}")
        if code in self.details:
            self.details.remove(code)
        else:
            self.details.append(code)

    def send(self) -> None:
        """A tap. The key is made once and kept: a retry after a lost answer sends the same."""
        if self.category is None or not self.phone.complete:
            raise RuntimeError("a report needs its category and phone first")
        self.key = self.key or new_idempotency_key()
        report = self.core.hall.report(
            ReportIn(
                idempotency_key=self.key,
                kind=self.kind,
                category=self.category,
                account_no=self.account_no,
                street_code=self.street_code,
                contact_phone=self.phone.value,
                details=list(self.details),
            )
        )
        category = CATEGORIES[self.category]
        printed = self.core.print(
            report_receipt(
                report,
                category,
                self.place_words,
                self.core.hall_name,
                paper=self.core.config.paper,
            )
        )
        self._finish(report, category, printed)

    def _finish(self, report: ReportOut, category: T, printed: PrintResult) -> None:
        self._done = ReportDoneView(
            order_no=report.order_no,
            kind=KINDS[report.kind],
            category=category,
            printed=printed.printed,
            problem=printed.problem,
            qr=report.track_url,
        )
        self.phone.forget()
        self.key = None
        self.core.go(ScreenName.REPORT_DONE)

    def done_view(self) -> ReportDoneView | None:
        return self._done
