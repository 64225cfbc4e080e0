"""The hall's kiosk services, made once by ``build_hall`` and shared by the kiosk routes."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from domain.accounts import AccountDesk
from domain.customer_proof import CustomerProof, SmsSendFailed
from domain.kiosk_site import KioskSite
from domain.kiosks import KioskFleet
from domain.outages_near import OutageLookup
from domain.payments import PaymentLedger
from domain.qr_payments import QrPayments
from domain.uow import UnitsOfWork
from domain.work_orders_intake import FaultIntake
from servicedb.types import utcnow
from servicehall.hall.wallet import HttpWallet, WalletSettings, WalletSimulator
from servicehall.platform.sms import HttpSmsGateway, SmsError, SmsGateway, SmsGatewaySimulator

log = logging.getLogger(__name__)


class _ProofSms:
    """The domain's SMS sender over the platform's gateway: both failures become one."""

    def __init__(self, gateway: SmsGateway) -> None:
        self._gateway = gateway

    def send(self, phone: str, text: str, *, key: str) -> str:
        try:
            return self._gateway.send(phone, text, key=key)
        except SmsError as err:
            raise SmsSendFailed(type(err).__name__) from None


@dataclass
class KioskServices:
    site: KioskSite
    accounts: AccountDesk
    proof: CustomerProof
    ledger: PaymentLedger
    qr: QrPayments
    intake: FaultIntake
    outages: OutageLookup
    fleet: KioskFleet
    wallet_key: bytes
    clock: Callable[[], datetime]
    closers: list[Callable[[], None]] = field(default_factory=list)
    sms_simulator: SmsGatewaySimulator | None = None
    wallet_simulator: WalletSimulator | None = None

    def close(self) -> None:
        for close in reversed(self.closers):
            try:
                close()
            except Exception:
                log.exception("closing a kiosk service failed")


def build_kiosk_services(
    units: UnitsOfWork,
    site_code: str,
    *,
    clock: Callable[[], datetime] = utcnow,
    sms: SmsGateway | None = None,
    wallet: WalletSettings | None = None,
    notify_url: str = "http://127.0.0.1/wallet/notify",
    environ: Mapping[str, str] | None = None,
) -> KioskServices:
    """Real SMS gateway and wallet provider when configured (argument, or environment:
    SERVICEHALL_SMS_URL + SERVICEHALL_SMS_KEY; SERVICEHALL_WALLET_URL + _MERCHANT + _KEY),
    simulators on 127.0.0.1 otherwise (the demo and tests)."""
    env = os.environ if environ is None else environ
    site = KioskSite.load(units, site_code, clock)
    closers: list[Callable[[], None]] = []
    sms_sim = wallet_sim = None
    if sms is None:
        if env.get("SERVICEHALL_SMS_URL") and env.get("SERVICEHALL_SMS_KEY"):
            gateway = HttpSmsGateway(env["SERVICEHALL_SMS_URL"], env["SERVICEHALL_SMS_KEY"])
            closers.append(gateway.close)
        else:
            sms_sim = SmsGatewaySimulator()
            closers.append(sms_sim.close)
            gateway = sms_sim.gateway()
            closers.append(gateway.close)
            log.info("SMS: simulated gateway at %s", sms_sim.url)
        sms = gateway
    if wallet is None:
        if all(env.get(f"SERVICEHALL_WALLET_{k}") for k in ("URL", "MERCHANT", "KEY")):
            wallet = WalletSettings(
                env["SERVICEHALL_WALLET_URL"],
                env["SERVICEHALL_WALLET_MERCHANT"],
                env["SERVICEHALL_WALLET_KEY"].encode(),
                env.get("SERVICEHALL_WALLET_NOTIFY_URL", notify_url),
            )
        else:
            wallet_sim = WalletSimulator()
            closers.append(wallet_sim.close)
            wallet = wallet_sim.settings(notify_url)
            log.info("wallet: simulated provider at %s", wallet_sim.url)
    wallet_client = HttpWallet(wallet)
    closers.append(wallet_client.close)
    ledger = PaymentLedger(site)
    return KioskServices(
        site=site,
        accounts=AccountDesk(site),
        proof=CustomerProof(site, _ProofSms(sms)),
        ledger=ledger,
        qr=QrPayments(site, ledger, wallet_client),
        intake=FaultIntake(site),
        outages=OutageLookup(site),
        fleet=KioskFleet(site),
        wallet_key=wallet.key,
        clock=clock,
        closers=closers,
        sms_simulator=sms_sim,
        wallet_simulator=wallet_sim,
    )
