"""ISO 8583 response codes (field 39) as the acquirer sends them, in words for people.

The meanings follow ISO 8583:1987 and China UnionPay's use of them; ``A0`` is UnionPay's
"MAC check failed". Only ``00`` approves: any other code, known or not, is a decline, so an
unexpected code can never be mistaken for money taken.
"""

from __future__ import annotations

from dataclasses import dataclass

APPROVED = "00"


@dataclass(frozen=True)
class ResponseMeaning:
    code: str
    message_zh: str
    message_en: str
    retry_may_help: bool  # worth asking the customer to try again (not a refusal of the card)


_MEANINGS = {
    m.code: m
    for m in (
        ResponseMeaning("00", "交易成功", "Approved", False),
        ResponseMeaning("01", "请联系发卡行", "Refer to card issuer", False),
        ResponseMeaning("03", "无效商户", "Invalid merchant", False),
        ResponseMeaning("04", "此卡被没收，请联系发卡行", "Pick up card", False),
        ResponseMeaning("05", "发卡行拒绝交易（不予承兑）", "Do not honour", False),
        ResponseMeaning("12", "无效交易", "Invalid transaction", False),
        ResponseMeaning("13", "无效金额", "Invalid amount", False),
        ResponseMeaning("14", "无效卡号", "Invalid card number", False),
        ResponseMeaning("25", "找不到原交易", "Unable to locate original transaction", False),
        ResponseMeaning("30", "报文格式错误", "Format error", True),
        ResponseMeaning("41", "此卡已挂失", "Lost card", False),
        ResponseMeaning("43", "此卡被盗", "Stolen card", False),
        ResponseMeaning("51", "余额不足", "Insufficient funds", False),
        ResponseMeaning("54", "卡已过期", "Expired card", False),
        ResponseMeaning("55", "密码错误", "Incorrect PIN", True),
        ResponseMeaning(
            "57", "不允许持卡人进行此交易", "Transaction not permitted to cardholder", False
        ),
        ResponseMeaning(
            "58", "不允许终端进行此交易", "Transaction not permitted to terminal", False
        ),
        ResponseMeaning("61", "超出金额限制", "Exceeds withdrawal amount limit", False),
        ResponseMeaning("75", "密码错误次数超限", "Allowable number of PIN tries exceeded", False),
        ResponseMeaning("91", "发卡行暂时无法联系，请稍后再试", "Issuer unavailable", True),
        ResponseMeaning("94", "重复交易", "Duplicate transmission", False),
        ResponseMeaning("96", "系统故障，请稍后再试", "System malfunction", True),
        ResponseMeaning("A0", "MAC 校验错，请联系工作人员", "MAC check failed", False),
    )
}


def meaning(code: str) -> ResponseMeaning:
    """What a response code means; an unknown code reads as a plain decline."""
    known = _MEANINGS.get(code)
    if known is not None:
        return known
    return ResponseMeaning(code, f"交易失败（{code}）", f"Declined ({code})", False)


# Reversal reason codes carried in field 39 of a 0400, as China UnionPay terminals send them.
REVERSAL_NO_ANSWER = "98"  # no (usable) answer to the request in time
REVERSAL_BAD_MAC = "A0"  # the answer's MAC did not verify
REVERSAL_TERMINAL = "06"  # the terminal could not complete after an approval
# A 0410 with either code means nothing of the original stands any more.
REVERSAL_DONE = frozenset({"00", "25"})
