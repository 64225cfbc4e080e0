"""A small in-memory hall for the kiosk's presenter tests: the edge of those tests.

It answers like the hall API's contract (``servicehall.hall.api.kiosk_schemas``): refusals
as ``HallApiError`` with the one error shape, an unreachable hall as ``HallUnreachable``,
payments and reports idempotent by key. The end-to-end tests run the real hall instead.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from servicehall.hall.api.kiosk_schemas import (
    AccountSummaryOut,
    BillDetail,
    BillDue,
    BillsOut,
    CardPaymentIn,
    CustomerSessionOut,
    District,
    HeartbeatIn,
    OtpRequestOut,
    OutageOut,
    OutagesOut,
    PaymentLine,
    PaymentMethod,
    PaymentOut,
    PaymentsOut,
    PlacesOut,
    ProofMethod,
    QrOrderOut,
    QrOrderState,
    QrPaymentIn,
    ReportIn,
    ReportOut,
    Street,
    TierBand,
    TierLine,
    VerifyIn,
)
from servicehall.hall.api.schemas import (
    CategoryOut,
    ErrorOut,
    PriorityReason,
    QueueOut,
    TicketOut,
)
from servicehall.hall.client import HallApiError, HallUnreachable

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Beijing
ACCOUNT = "XC000000042"
CUSTOMER_CARD = "9900860000000420014"  # IIN 990086 · 000000042 · issue 001 · guard 4
SMS_CODE = "246810"
APPOINTMENT = "AP7K2Q"
VIP_CARD = "VIP-XC-0001"


def refusal(status: int, code: str, zh: str, en: str) -> HallApiError:
    return HallApiError(status, ErrorOut(code=code, message_zh=zh, message_en=en))


@dataclass
class FakeHall:
    down: bool = False
    refuse_payments: bool = False  # the ledger refuses (e.g. the account was closed meanwhile)
    fail_payment_answers: int = 0  # the next N record calls record, then lose the answer
    calls: list[str] = field(default_factory=list)
    beats: list[HeartbeatIn] = field(default_factory=list)
    ledger: dict[str, PaymentOut] = field(default_factory=dict)
    reports: dict[str, ReportOut] = field(default_factory=dict)
    tickets: list[TicketOut] = field(default_factory=list)
    qr_orders: dict[str, QrOrderOut] = field(default_factory=dict)
    sms_sent: list[str] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    waiting: dict[str, int] = field(
        default_factory=lambda: {"payment": 3, "repair_complaint": 1, "vip": 0}
    )
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if self.down:
            raise HallUnreachable(f"{name}: ConnectError: [Errno 111] Connection refused")

    # --- tickets ------------------------------------------------------------------------
    def queue(self) -> QueueOut:
        self._enter("queue")
        names = {
            "payment": ("A", "缴费", "Bill payment"),
            "repair_complaint": ("C", "报修 / 投诉", "Repairs & complaints"),
            "vip": ("V", "贵宾 / 优先", "VIP & priority"),
        }
        return QueueOut(
            site="hall-xicheng",
            name_zh="西城营业厅",
            name_en="Xicheng Service Hall",
            service_day=date(2026, 11, 23),
            categories=[
                CategoryOut(
                    code=code,
                    prefix=prefix,
                    name_zh=zh,
                    name_en=en,
                    waiting=self.waiting[code],
                    counters_open=1.0,
                    estimate_s=self.waiting[code] * 180.0,
                    estimate_minutes=self.waiting[code] * 3,
                )
                for code, (prefix, zh, en) in names.items()
            ],
            now_serving=[],
            recent_calls=[],
        )

    def take_ticket(
        self,
        category: str,
        priority_reason: PriorityReason | None = None,
        *,
        appointment_code: str | None = None,
        vip_card: str | None = None,
    ) -> TicketOut:
        self._enter("take_ticket")
        if category not in self.waiting:
            raise refusal(404, "NotFound", "没有此项业务", "There is no such service")
        if priority_reason is PriorityReason.APPOINTMENT and appointment_code != APPOINTMENT:
            raise refusal(
                409, "InvalidAppointment", "预约码无效", "The appointment code is not valid"
            )
        if priority_reason is PriorityReason.VIP and vip_card != VIP_CARD:
            raise refusal(409, "InvalidVipCard", "贵宾卡无效", "The VIP card is not valid")
        ahead = 0 if priority_reason else self.waiting[category]
        self.waiting[category] += 1
        ticket = TicketOut(
            ticket_id=uuid.uuid4(),
            number=f"{'A' if category == 'payment' else 'C'}{next(self._numbers):03d}",
            category=category,
            status="waiting",
            counter=None,
            people_ahead=ahead,
            estimate_s=ahead * 180.0,
            estimate_minutes=ahead * 3,
            linear_estimate_s=None,
            issued_at=NOW,
            called_at=None,
        )
        self.tickets.append(ticket)
        return ticket

    # --- accounts -----------------------------------------------------------------------
    BILL_IDS = (uuid.UUID(int=1), uuid.UUID(int=2))

    def _bills_due(self) -> list[BillDue]:
        paid = sum(p.amount_fen for p in self.ledger.values())
        dues = []
        for bill_id, month, amount in ((self.BILL_IDS[0], 9, 4_230), (self.BILL_IDS[1], 10, 5_170)):
            dues.append(
                BillDue(
                    bill_id=bill_id,
                    period_start=date(2026, month, 1),
                    period_end=date(2026, month + 1, 1) - timedelta(days=1),
                    amount_fen=amount,
                    paid_fen=min(amount, paid),
                    due_fen=max(0, amount - paid),
                    due_date=date(2026, month + 1, 25),
                )
            )
            paid = max(0, paid - amount)
        return dues

    def account(self, account_no: str) -> AccountSummaryOut:
        self._enter("account")
        if account_no != ACCOUNT:
            raise refusal(404, "NotFound", "未找到", "Not found")
        dues = self._bills_due()
        return AccountSummaryOut(
            account_no=ACCOUNT,
            service_kind="water",
            holder_masked="王*",
            address_masked="北京市西城区阜成门内大街***",
            status="active",
            due_fen=sum(b.due_fen for b in dues),
            bills_due=dues,
            phone_masked="138****8000",
        )

    def request_code(self, account_no: str) -> OtpRequestOut:
        self._enter("request_code")
        self.sms_sent.append(SMS_CODE)
        return OtpRequestOut(phone_masked="138****8000", expires_in_s=300, resend_after_s=60)

    def verify(self, account_no: str, proof: VerifyIn) -> CustomerSessionOut:
        self._enter("verify")
        good = (proof.method is ProofMethod.SMS and proof.code == SMS_CODE) or (
            proof.method is ProofMethod.CUSTOMER_CARD and proof.card_number == CUSTOMER_CARD
        )
        if account_no != ACCOUNT or not good:
            raise refusal(403, "ProofFailed", "验证码不正确", "The code is not right")
        session = uuid.uuid4().hex
        self.sessions.add(session)
        return CustomerSessionOut(session=session, expires_at=NOW + timedelta(minutes=10))

    def _check(self, session: str) -> None:
        if session not in self.sessions:
            raise refusal(401, "SessionExpired", "请重新验证", "Please prove it is you again")

    def bills(self, account_no: str, session: str, months: int = 12) -> BillsOut:
        self._enter("bills")
        self._check(session)
        details = []
        for back in range(months):
            month = (10 - back - 1) % 12 + 1
            year = 2026 if back < 10 else 2025
            litres = 9_000 + 700 * (back % 5)
            details.append(
                BillDetail(
                    bill_id=uuid.UUID(int=100 + back),
                    period_start=date(year, month, 1),
                    period_end=date(year, month, 28),
                    consumption_litres=litres,
                    amount_fen=litres * 5 // 10,
                    paid_fen=0 if back < 2 else litres * 5 // 10,
                    due_date=date(year, month, 28) + timedelta(days=25),
                    lines=[
                        TierLine(
                            tier=1,
                            litres=litres,
                            price_fen_per_m3=500,
                            amount_fen=litres * 5 // 10,
                            description_zh="第一阶梯",
                            description_en="Tier 1",
                        )
                    ],
                )
            )
        return BillsOut(
            account_no=account_no,
            holder_name="王伟",
            address="北京市西城区阜成门内大街 12 号 3 单元 401",
            bills=details,
            tiers=[
                TierBand(tier=1, upper_litres=180_000, price_fen_per_m3=500),
                TierBand(tier=2, upper_litres=260_000, price_fen_per_m3=700),
                TierBand(tier=3, upper_litres=None, price_fen_per_m3=900),
            ],
            tier_period="annual",
            used_this_period_litres=101_500,
            current_tier=1,
            due_fen=sum(b.due_fen for b in self._bills_due()),
        )

    def payments(self, account_no: str, session: str) -> PaymentsOut:
        self._enter("payments")
        self._check(session)
        return PaymentsOut(
            account_no=account_no,
            payments=[
                PaymentLine(
                    payment_id=p.payment_id,
                    paid_at=p.paid_at,
                    amount_fen=p.amount_fen,
                    method=p.method.value,
                    kind="payment",
                    card_masked=p.card_masked,
                    reference=p.receipt_no,
                )
                for p in self.ledger.values()
            ],
        )

    # --- payments -----------------------------------------------------------------------
    def record_card_payment(self, payment: CardPaymentIn) -> PaymentOut:
        self._enter("record_card_payment")
        if self.refuse_payments:
            raise refusal(409, "AccountClosed", "该户已销户，不能缴费", "This account is closed")
        seen = self.ledger.get(payment.idempotency_key)
        if seen is not None:
            answer = seen.model_copy(update={"duplicate": True})
        else:
            answer = PaymentOut(
                payment_id=uuid.uuid4(),
                idempotency_key=payment.idempotency_key,
                receipt_no=f"KP{len(self.ledger) + 1:08d}",
                account_no=payment.account_no,
                holder_masked="王*",
                amount_fen=payment.amount_fen,
                method=PaymentMethod.BANK_CARD,
                card_masked=payment.authorisation.card_masked,
                paid_at=NOW,
                bills_paid=list(payment.bill_ids),
                track_url=f"http://hall.invalid/p/{payment.idempotency_key}",
            )
            self.ledger[payment.idempotency_key] = answer
        if self.fail_payment_answers > 0:
            self.fail_payment_answers -= 1
            raise HallUnreachable("record_card_payment: ReadTimeout: the answer was lost")
        return answer

    def payment(self, idempotency_key: str) -> PaymentOut:
        self._enter("payment")
        found = self.ledger.get(idempotency_key)
        if found is None:
            raise refusal(404, "NotFound", "未找到", "Not found")
        return found

    def start_qr_payment(self, order: QrPaymentIn) -> QrOrderOut:
        self._enter("start_qr_payment")
        made = QrOrderOut(
            order_id=f"QR{len(self.qr_orders) + 1:06d}",
            qr_content=f"https://pay.invalid/qr/{order.idempotency_key}",
            amount_fen=order.amount_fen,
            expires_at=NOW + timedelta(minutes=5),
            state=QrOrderState.PENDING,
        )
        self.qr_orders[made.order_id] = made
        return made

    def pay_qr(self, order_id: str) -> None:
        """The customer's wallet app paid (what the payment provider tells the hall)."""
        order = self.qr_orders[order_id]
        payment = PaymentOut(
            payment_id=uuid.uuid4(),
            idempotency_key=f"qr-{order_id}-0000000",
            receipt_no=f"QP{order_id[2:]}",
            account_no=ACCOUNT,
            holder_masked="王*",
            amount_fen=order.amount_fen,
            method=PaymentMethod.QR,
            card_masked=None,
            paid_at=NOW,
            bills_paid=list(self.BILL_IDS),
            track_url=f"http://hall.invalid/p/{order_id}",
        )
        self.qr_orders[order_id] = order.model_copy(
            update={"state": QrOrderState.PAID, "payment": payment}
        )

    def qr_order(self, order_id: str) -> QrOrderOut:
        self._enter("qr_order")
        return self.qr_orders[order_id]

    # --- reports, outages, heartbeat ----------------------------------------------------------
    def places(self) -> PlacesOut:
        self._enter("places")
        return PlacesOut(
            districts=[
                District(
                    code="DMA-01",
                    name_zh="金融街片区",
                    name_en="Financial Street area",
                    streets=[
                        Street(
                            code="ST-0101",
                            name_zh="金融大街",
                            name_en="Jinrong Street",
                            district_code="DMA-01",
                            lon=116.356,
                            lat=39.915,
                        ),
                        Street(
                            code="ST-0102",
                            name_zh="武定侯街",
                            name_en="Wudinghou Street",
                            district_code="DMA-01",
                            lon=116.358,
                            lat=39.913,
                        ),
                    ],
                ),
                District(
                    code="DMA-02",
                    name_zh="阜成门片区",
                    name_en="Fuchengmen area",
                    streets=[
                        Street(
                            code="ST-0201",
                            name_zh="阜成门内大街",
                            name_en="Fuchengmennei Street",
                            district_code="DMA-02",
                            lon=116.365,
                            lat=39.923,
                        ),
                    ],
                ),
            ]
        )

    def report(self, report: ReportIn) -> ReportOut:
        self._enter("report")
        seen = self.reports.get(report.idempotency_key)
        if seen is not None:
            return seen.model_copy(update={"duplicate": True})
        made = ReportOut(
            order_no=f"WO2026112300{len(self.reports) + 1:02d}",
            kind=report.kind,
            category=report.category,
            created_at=NOW,
            track_url=f"http://hall.invalid/o/{len(self.reports) + 1}",
        )
        self.reports[report.idempotency_key] = made
        return made

    def outages(
        self, *, account_no: str | None = None, street_code: str | None = None
    ) -> OutagesOut:
        self._enter("outages")
        where = ("您的地址", "your address") if account_no else ("金融大街", "Jinrong Street")
        return OutagesOut(
            where_zh=where[0],
            where_en=where[1],
            outages=[
                OutageOut(
                    outage_id=uuid.UUID(int=7),
                    kind="water_off",
                    status="active",
                    title_zh="金融大街爆管抢修停水",
                    title_en="Burst main on Jinrong Street: water off",
                    detail_zh="武定侯街至广宁伯街一带停水",
                    detail_en="Water off from Wudinghou St to Guangningbo St",
                    starts_at=NOW - timedelta(hours=1),
                    restore_at=NOW + timedelta(hours=4),
                )
            ],
        )

    def heartbeat(self, beat: HeartbeatIn) -> None:
        self._enter("heartbeat")
        self.beats.append(beat)
