"""Duplicated kiosk payment requests against the hall API over real HTTP.

    .venv/bin/python bench/payment_idempotency.py [--requests 1000] [--payments 20] [--threads 8]

``--payments`` distinct card payments (one idempotency key each, each for one account's
bills) are sent ``requests / payments`` times each from ``--threads`` threads, interleaved,
as double taps, retries after timeouts and restarted kiosks would send them. Reported: the
double charges (receipts beyond one per key, and ledger fen beyond what was due: must be 0)
and the throughput, against a baseline measured in the same run on the same hall and
threads: plain POST /tickets (take a ticket: ``--tickets`` of them, as it slows with the
queue it builds).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from servicedb.models import DeviceKind, Payment, PaymentReceipt
from servicehall.bootstrap import build_hall
from servicehall.config import load_settings
from servicehall.demo.seed import seed_city
from servicehall.hall.api.kiosk_schemas import CardAuthorisation, CardPaymentIn
from servicehall.hall.kiosk_client import KioskClient, new_idempotency_key
from servicehall.hall.tokens import issue_token
from servicehall.platform.database import close_database, open_database
from servicehall.platform.runner import bind, serving

HALL = "hall-xicheng"


def timed(threads: int, count: int, call: Callable[[int], object]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(call, range(count)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--payments", type=int, default=20)
    parser.add_argument("--threads", type=int, default=8)
    # Taking a ticket re-estimates every wait, so it slows as the queue grows: fewer of them.
    parser.add_argument("--tickets", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(
            None,
            {
                "SERVICEHALL_PATHS__DATA_DIR": folder,
                "SERVICEHALL_HALL__LED_BOARD": "",
                "SERVICEHALL_HALL__VOICE": "false",
                "SERVICEHALL_HALL__CENTRAL_URL": "http://127.0.0.1:1",
            },
        )
        engine = open_database(settings.database_url(HALL), auto_upgrade=True)
        seed_city(engine, premises=args.payments * 4)
        token = issue_token(engine, HALL, DeviceKind.KIOSK, "bench-kiosk")
        # 10:00 in the hall, whatever the time here: the hall issues tickets only when open.
        started_at = datetime.now(UTC)
        opened = started_at.replace(hour=2, minute=0)

        def hall_now() -> datetime:
            return opened + (datetime.now(UTC) - started_at)

        sock = bind("127.0.0.1", 0)
        site = build_hall(settings, HALL, clock=hall_now, port=sock.getsockname()[1])
        try:
            with serving([site.endpoint], sockets=[sock]) as urls:
                clients = [KioskClient(urls[0], token, timeout_s=60) for _ in range(args.threads)]
                bodies: list[CardPaymentIn] = []
                due_total = 0
                for n in range(1, args.payments * 4 + 1):
                    if len(bodies) == args.payments:
                        break
                    summary = clients[0].account(f"XC{n:09d}")
                    if summary.due_fen <= 0:
                        continue
                    due_total += summary.due_fen
                    bodies.append(
                        CardPaymentIn(
                            idempotency_key=new_idempotency_key(),
                            account_no=summary.account_no,
                            bill_ids=[b.bill_id for b in summary.bills_due],
                            amount_fen=summary.due_fen,
                            authorisation=CardAuthorisation(
                                card_masked="622202******1234",
                                terminal_id="KIOSK001",
                                merchant_id="898110000000001",
                                stan=f"{len(bodies) + 1:06d}",
                                rrn=f"6327{len(bodies) + 1:08d}",
                                auth_code="123456",
                                approved_at=hall_now(),
                            ),
                        )
                    )

                def pay(i: int) -> object:
                    return clients[i % args.threads].record_card_payment(bodies[i % len(bodies)])

                def ticket(i: int) -> object:
                    return clients[i % args.threads].take_ticket("payment")

                baseline_s = timed(args.threads, args.tickets, ticket)
                payments_s = timed(args.threads, args.requests, pay)
                with Session(engine) as session:
                    receipts = session.scalar(select(func.count()).select_from(PaymentReceipt))
                    booked = session.scalar(
                        select(func.sum(Payment.amount_fen)).where(
                            Payment.reference.in_(select(PaymentReceipt.receipt_no))
                        )
                    )
                for client in clients:
                    client.close()
        finally:
            site.close()
            close_database(engine)
    double_receipts = (receipts or 0) - len(bodies)
    overcharged = (booked or 0) - due_total
    print(
        f"{args.requests} requests for {len(bodies)} payments from {args.threads} threads, "
        "real HTTP, SQLite"
    )
    print(f"  double charges: {double_receipts} receipts, {overcharged} fen over what was due")
    print(f"  payments (duplicated): {args.requests / payments_s:7.0f} req/s  ({payments_s:.2f} s)")
    print(
        f"  baseline take_ticket:  {args.tickets / baseline_s:7.0f} req/s  "
        f"({args.tickets} tickets, {baseline_s:.2f} s)"
    )
    ratio = (args.requests / payments_s) / (args.tickets / baseline_s)
    print(f"  ratio payments/baseline throughput: {ratio:.2f}")
    if double_receipts or overcharged:
        raise SystemExit("double charges found")


if __name__ == "__main__":
    main()
