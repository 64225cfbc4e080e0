"""The kiosk's screens and the errands a customer comes for; names only, no Kivy."""

from __future__ import annotations

import enum


class ScreenName(enum.StrEnum):
    HOME = "home"
    TICKET = "ticket"  # 取号: services with waits, priority check-in
    CHECKIN = "checkin"  # appointment code or VIP card
    TICKET_DONE = "ticket_done"
    ACCOUNT = "account"  # account number on the keypad, or the customer card
    BILL = "bill"  # what is due, masked name and address; card or QR
    CARD = "card"  # swipe, PIN, bank, hall
    QR = "qr"  # pay by QR
    PAID = "paid"  # the receipt, printed or as a QR
    PROOF = "proof"  # SMS code or customer card before bills are shown
    RECORDS = "records"  # bills and usage, tiers, payments, arrears
    REPORT = "report"  # 报修 / 投诉: kind and category
    PLACE = "place"  # the account's premises, or a district and street
    PHONE = "phone"  # a contact number on the keypad
    DETAILS = "details"  # optional details from a list; confirm
    REPORT_DONE = "report_done"
    OUTAGES = "outages"  # 停水查询
    OUT_OF_SERVICE = "out_of_service"


class Purpose(enum.StrEnum):
    """Why the customer is entering an account number or choosing a place."""

    PAY = "pay"
    RECORDS = "records"
    OUTAGES = "outages"
    REPORT = "report"
