"""Why a kiosk request is refused, in words the customer at the kiosk can act on.

Each error names the HTTP status it maps to (``status``), so the API has one handler for
all of them. ``detail`` is for logs and never carries a code, a card number or a name.
"""

from __future__ import annotations


class KioskError(Exception):
    status = 409
    message_zh = "操作无法完成"
    message_en = "This cannot be done"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.message_en)
        self.detail = detail


class UnknownAccount(KioskError):
    status = 404
    message_zh = "没有此户号，请核对后重新输入"
    message_en = "There is no such account number; please check it and try again"


class AccountNotPayable(KioskError):
    message_zh = "此账户当前不能缴费，请到柜台办理"
    message_en = "This account cannot be paid at a kiosk now; please see a counter"


class UnknownBill(KioskError):
    status = 404
    message_zh = "没有找到此账单"
    message_en = "This bill was not found"


class AmountMismatch(KioskError):
    message_zh = "缴费金额与应缴金额不符，请重新查询"
    message_en = "The amount does not match what is due; please look the account up again"


class NothingDue(KioskError):
    message_zh = "此账单已缴清"
    message_en = "This bill is already paid"


class KeyReused(KioskError):
    message_zh = "此笔缴费请求与先前的不一致"
    message_en = "This request does not match the earlier one with the same key"


class AuthorisationReused(KioskError):
    message_zh = "此笔银行卡交易已经入账"
    message_en = "This card transaction was already recorded"


class UnknownPayment(KioskError):
    status = 404
    message_zh = "没有找到此笔缴费"
    message_en = "This payment was not found"


class NoPhoneOnAccount(KioskError):
    message_zh = "此账户没有绑定手机号，请使用客户卡或到柜台办理"
    message_en = "No phone is linked to this account; use the customer card or see a counter"


class TooManyCodes(KioskError):
    status = 429
    message_zh = "验证码发送过于频繁，请稍后再试"
    message_en = "Too many codes were sent; please try again later"


class CodeNotSent(KioskError):
    status = 503
    message_zh = "短信暂时无法发送，请稍后再试或使用客户卡"
    message_en = "The text message could not be sent; try again later or use the customer card"


class WrongProof(KioskError):
    status = 401
    message_zh = "验证码错误或已失效"
    message_en = "The code is wrong or no longer valid"


class ProofLocked(KioskError):
    status = 429
    message_zh = "验证失败次数过多，请稍后再试"
    message_en = "Too many failed attempts; please try again later"


class SessionRequired(KioskError):
    status = 401
    message_zh = "请先验证身份"
    message_en = "Please prove who you are first"


class UnknownStreet(KioskError):
    status = 404
    message_zh = "没有此街道"
    message_en = "There is no such street"


class NoPlace(KioskError):
    status = 422
    message_zh = "请选择地点：您的户号或街道"
    message_en = "Choose a place: your account or a street"


class UnknownOrder(KioskError):
    status = 404
    message_zh = "没有找到此订单"
    message_en = "This order was not found"


class WalletUnavailable(KioskError):
    status = 503
    message_zh = "扫码支付暂时不可用，请使用银行卡"
    message_en = "QR payment is not available now; please pay by bank card"


class UnknownKiosk(KioskError):
    status = 404
    message_zh = "没有此终端"
    message_en = "There is no such kiosk"


class InvalidApproval(KioskError):
    status = 422
    message_zh = "银行卡授权信息不完整"
    message_en = "The card authorisation is incomplete"


class UnknownDetail(KioskError):
    status = 422
    message_zh = "补充说明不在可选列表中"
    message_en = "A detail is not one of the listed choices"
