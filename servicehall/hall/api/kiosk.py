"""The kiosk's routes (``/api/v1/kiosk``): the contract in ``kiosk_schemas`` and ``kiosk_client``.

Routes only parse, call a domain service and shape the answer; every refusal is a domain
``KioskError`` turned into the one error shape by ``errors.install_error_handlers``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from domain.kiosks import Beat, DeviceHealth
from domain.payments import CardApproval, RecordedPayment
from domain.qr_payments import QrOrderView
from domain.work_orders_intake import Report
from servicedb.models import DeviceKind
from servicehall.hall.api.auth import Kiosk, Parts, device
from servicehall.hall.api.errors import ApiError, error_responses
from servicehall.hall.api.kiosk_schemas import (
    AccountLookupIn,
    AccountSummaryOut,
    BillsOut,
    CardPaymentIn,
    CustomerSessionOut,
    HeartbeatIn,
    KiosksOut,
    KioskStatusOut,
    OtpRequestOut,
    OutagesOut,
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
    VerifyIn,
)
from servicehall.hall.kiosk_services import KioskServices
from servicehall.hall.tokens import DeviceIdentity
from servicehall.hall.wallet import NotifyRefused, parse_notify

router = APIRouter(prefix="/kiosk", tags=["kiosk"])

KioskOnly = Annotated[DeviceIdentity, Depends(device(DeviceKind.KIOSK))]
HallStaff = Annotated[
    DeviceIdentity, Depends(device(DeviceKind.COUNTER_TERMINAL, DeviceKind.HALL_SCREEN))
]
ACCOUNT = r"^[A-Z]{2}[0-9]{9}$"
AccountNo = Annotated[str, Path(pattern=ACCOUNT)]
KeyPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
OrderPath = Annotated[str, Path(pattern=r"^QR[0-9A-F]{30}$")]


def services(parts: Parts) -> KioskServices:
    if parts.kiosk is None:
        raise ApiError(404, "NotFound", "没有找到", "Not found", "kiosk services are not running")
    return parts.kiosk


Services = Annotated[KioskServices, Depends(services)]


def _with_duplicate(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """201 when recorded now; 200 (with duplicate=true) when this key was recorded before."""
    return {200: {"description": "Already recorded under this key (duplicate=true)"}} | responses


def _track(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def payment_out(request: Request, view: RecordedPayment) -> PaymentOut:
    return PaymentOut(
        payment_id=view.payment_id,
        idempotency_key=view.idempotency_key,
        receipt_no=view.receipt_no,
        account_no=view.account_no,
        holder_masked=view.holder_masked,
        amount_fen=view.amount_fen,
        method=PaymentMethod(view.method),
        card_masked=view.card_masked,
        paid_at=view.paid_at,
        bills_paid=view.bills_paid,
        duplicate=view.duplicate,
        track_url=_track(request, f"/p/{view.receipt_no}"),
    )


def qr_out(request: Request, view: QrOrderView) -> QrOrderOut:
    return QrOrderOut(
        order_id=view.order_id,
        qr_content=view.qr_content,
        amount_fen=view.amount_fen,
        expires_at=view.expires_at,
        state=QrOrderState(view.state),
        payment=payment_out(request, view.payment) if view.payment else None,
    )


# --- accounts and proof of identity -------------------------------------------------------
@router.post("/accounts/lookup", responses=error_responses(401, 403, 404, 413, 422))
def lookup(body: AccountLookupIn, kiosk: Services, _device: Kiosk) -> AccountSummaryOut:
    return AccountSummaryOut.model_validate(
        kiosk.accounts.summary(body.account_no), from_attributes=True
    )


@router.post(
    "/accounts/{account_no}/otp", responses=error_responses(401, 403, 404, 409, 422, 429, 503)
)
def request_code(account_no: AccountNo, kiosk: Services, device_: Kiosk) -> OtpRequestOut:
    return OtpRequestOut.model_validate(
        kiosk.proof.request_code(account_no, device_.name), from_attributes=True
    )


@router.post(
    "/accounts/{account_no}/verify",
    responses=error_responses(401, 403, 404, 409, 413, 422, 429),
)
def verify(
    account_no: AccountNo, body: VerifyIn, kiosk: Services, device_: Kiosk
) -> CustomerSessionOut:
    if body.method is ProofMethod.SMS:
        if body.code is None:
            raise ApiError(422, "InvalidRequest", "请输入验证码", "Enter the code", "code")
        grant = kiosk.proof.verify_code(account_no, device_.name, body.code)
    else:
        if body.card_number is None:
            raise ApiError(422, "InvalidRequest", "请刷客户卡", "Swipe the customer card", "card")
        grant = kiosk.proof.verify_card(account_no, device_.name, body.card_number)
    return CustomerSessionOut(session=grant.session, expires_at=grant.expires_at)


@router.get("/accounts/{account_no}/bills", responses=error_responses(401, 403, 404, 422))
def bills(
    account_no: AccountNo,
    kiosk: Services,
    device_: Kiosk,
    months: Annotated[int, Query(ge=1, le=36)] = 12,
    x_customer_session: Annotated[str | None, Header(max_length=100)] = None,
) -> BillsOut:
    kiosk.proof.check_session(x_customer_session, account_no, device_.name)
    return BillsOut.model_validate(kiosk.accounts.bills(account_no, months), from_attributes=True)


@router.get("/accounts/{account_no}/payments", responses=error_responses(401, 403, 404, 422))
def payments(
    account_no: AccountNo,
    kiosk: Services,
    device_: Kiosk,
    x_customer_session: Annotated[str | None, Header(max_length=100)] = None,
) -> PaymentsOut:
    kiosk.proof.check_session(x_customer_session, account_no, device_.name)
    lines = kiosk.accounts.payments(account_no)
    return PaymentsOut.model_validate(
        {"account_no": account_no, "payments": lines}, from_attributes=True
    )


# --- payments -----------------------------------------------------------------------------
@router.post(
    "/payments/card",
    status_code=201,
    responses=_with_duplicate(error_responses(401, 403, 404, 409, 413, 422)),
)
def record_card(
    body: CardPaymentIn, request: Request, response: Response, kiosk: Services, device_: Kiosk
) -> PaymentOut:
    auth = body.authorisation
    view = kiosk.ledger.record_card(
        key=body.idempotency_key,
        kiosk=device_.name,
        account_no=body.account_no,
        bill_ids=body.bill_ids,
        amount_fen=body.amount_fen,
        approval=CardApproval(
            auth.card_masked,
            auth.terminal_id,
            auth.merchant_id,
            auth.stan,
            auth.rrn,
            auth.auth_code,
            auth.approved_at,
        ),
    )
    if view.duplicate:
        response.status_code = 200
    return payment_out(request, view)


@router.get("/payments/{idempotency_key}", responses=error_responses(401, 403, 404, 422))
def payment(
    idempotency_key: KeyPath, request: Request, kiosk: Services, _device: Kiosk
) -> PaymentOut:
    return payment_out(request, kiosk.ledger.by_key(idempotency_key))


@router.post(
    "/payments/qr", status_code=201, responses=error_responses(401, 403, 404, 409, 413, 422, 503)
)
def start_qr(body: QrPaymentIn, request: Request, kiosk: Services, device_: Kiosk) -> QrOrderOut:
    view = kiosk.qr.start(
        key=body.idempotency_key,
        kiosk=device_.name,
        account_no=body.account_no,
        bill_ids=list(body.bill_ids),
        amount_fen=body.amount_fen,
    )
    return qr_out(request, view)


@router.get("/payments/qr/{order_id}", responses=error_responses(401, 403, 404, 422))
def qr_order(order_id: OrderPath, request: Request, kiosk: Services, _device: Kiosk) -> QrOrderOut:
    return qr_out(request, kiosk.qr.order(order_id))


# The wallet provider's callback: outside the device API (no device token; its HMAC
# signature is its authentication), at /wallet/notify on the hall.
provider_router = APIRouter(tags=["wallet provider"])


@provider_router.post(
    "/wallet/notify",
    responses=error_responses(401, 404, 409, 413, 422),
    summary="The wallet provider's signed payment notice (HMAC-SHA256)",
)
async def wallet_notify(request: Request, kiosk: Services) -> JSONResponse:
    body = await request.body()
    try:
        # The signature's timestamp is transport time: the wall clock, not the hall's.
        paid = parse_notify(dict(request.headers), body, kiosk.wallet_key, datetime.now(UTC))
    except NotifyRefused as err:
        raise ApiError(
            401,
            "Unauthorized",
            "通知签名无效",
            "The notice is not signed by the provider",
            str(err),
        ) from None
    await run_in_threadpool(kiosk.qr.settle, paid)
    return JSONResponse({"code": "SUCCESS"})


# --- reports and outages ------------------------------------------------------------------
@router.get("/places", responses=error_responses(401, 403, 422))
def places(
    kiosk: Services,
    _device: Kiosk,
    district: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9-]{1,40}$")] = None,
) -> PlacesOut:
    """Districts (DMAs) with their streets; ``district`` narrows it to one."""
    found = [d for d in kiosk.intake.places() if district is None or d.code == district]
    return PlacesOut.model_validate({"districts": found}, from_attributes=True)


@router.post(
    "/reports",
    status_code=201,
    responses=_with_duplicate(error_responses(401, 403, 404, 409, 413, 422)),
)
def report(
    body: ReportIn, request: Request, response: Response, kiosk: Services, device_: Kiosk
) -> ReportOut:
    done = kiosk.intake.report(
        Report(
            body.idempotency_key,
            body.kind.value,
            body.category.value,
            body.account_no,
            body.street_code,
            body.contact_phone,
            list(body.details),
        ),
        device_.name,
    )
    if done.duplicate:
        response.status_code = 200
    return ReportOut(
        order_no=done.order_no,
        kind=body.kind,
        category=body.category,
        created_at=done.created_at,
        track_url=_track(request, f"/o/{done.order_no}"),
        duplicate=done.duplicate,
    )


@router.get("/outages", responses=error_responses(401, 403, 404, 422))
def outages(
    kiosk: Services,
    _device: Kiosk,
    account_no: Annotated[str | None, Query(pattern=ACCOUNT)] = None,
    street_code: Annotated[str | None, Query(max_length=16)] = None,
) -> OutagesOut:
    near = kiosk.outages.near(account_no=account_no, street_code=street_code)
    return OutagesOut.model_validate(near, from_attributes=True)


# --- the kiosk itself and the fleet -------------------------------------------------------
@router.post("/heartbeat", status_code=204, responses=error_responses(401, 403, 404, 413, 422))
def heartbeat(body: HeartbeatIn, kiosk: Services, device_: KioskOnly) -> None:
    kiosk.fleet.heartbeat(
        device_.name,
        Beat(
            body.app_version,
            body.screen,
            [DeviceHealth(d.device, d.state.value, d.reason, d.since) for d in body.devices],
            body.last_error,
        ),
    )


@router.get("/fleet", responses=error_responses(401, 403, 422))
def fleet(
    kiosk: Services, _device: HallStaff, alarms_only: Annotated[bool, Query()] = False
) -> KiosksOut:
    """The hall's kiosks (终端管理), each with its alarms; ``alarms_only`` hides the quiet ones."""
    views = [v for v in kiosk.fleet.fleet() if v.alarms or not alarms_only]
    return KiosksOut(kiosks=[KioskStatusOut.model_validate(v, from_attributes=True) for v in views])
