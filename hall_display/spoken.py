"""What the hall's voice says: display text turned into Mandarin a speech engine reads right.

People in a Chinese service hall hear a call as "请 A 零二三 号到 三 号窗口": the ticket's
letter as Chinese speakers say letters, the ticket's digits one by one (零二三, never
二十三), the counter as a number (三, 十二). A speech engine given "A023" or "12" guesses:
espeak-ng reads "A023" as 零 二十三, and a Mandarin voice whose Latin text is English reads
digits in English. So the text is made unambiguous here, before any engine sees it:

- a run of Latin letters is spelled as separate capitals ("VIP" → "V I P"); a lone capital
  letter is what Mandarin voices read as a letter name (A → ēi, B → bī);
- digits joined to letters (a ticket number, "A023") are read one by one: 零二三;
- a number on its own is read as a Chinese number (3 → 三, 12 → 十二, 105 → 一百零五),
  unless it starts with 0 (a code such as "007"), which is read digit by digit.

Everything else (Chinese text, punctuation) passes through unchanged.
"""

from __future__ import annotations

import re

DIGITS = "零一二三四五六七八九"
_UNITS = ((1000, "千"), (100, "百"), (10, "十"))
# A ticket number, an English word or a bare number, as one token.
_TOKEN = re.compile(r"(?P<letters>[A-Za-z]+)(?P<tail>[0-9]*)|(?P<number>[0-9]+)")
# Full-width letters and digits (Ａ０２３, common in Chinese input) read as their ASCII twins.
_HALF_WIDTH = {
    code: code - 0xFEE0
    for first, last in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
    for code in range(first, last + 1)
}
# Numbers up to this are read as Chinese numbers; longer ones digit by digit.
MAX_CARDINAL = 99_999_999


def digits_one_by_one(digits: str) -> str:
    """'023' → '零二三'."""
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"not ASCII digits: {digits!r}")
    return "".join(DIGITS[int(d)] for d in digits)


def _below_10000(n: int, *, leading: bool = True) -> str:
    """1–9999 in Chinese: 三, 十二 (not 一十二), 一百零五, 一千零一十.

    ``leading``: the number starts what is said; only then is 一十 shortened to 十.
    """
    out: list[str] = []
    zero_pending = False
    for unit, name in _UNITS:
        digit, n = divmod(n, unit)
        if digit:
            if zero_pending:
                out.append("零")
            out.append(DIGITS[digit] + name)
            zero_pending = False
        elif out:
            zero_pending = True
    if n:
        if zero_pending:
            out.append("零")
        out.append(DIGITS[n])
    text = "".join(out)
    # 十二, 十 — but 一百一十二: the leading 一 is dropped only when 十 starts the number.
    return text[1:] if leading and text.startswith("一十") else text


def chinese_number(n: int) -> str:
    """A whole number as it is said in Mandarin: 0 → 零, 12 → 十二, 20 → 二十, 10005 → 一万零五."""
    if n < 0 or n > MAX_CARDINAL:
        raise ValueError(f"{n} is outside 0..{MAX_CARDINAL}")
    if n == 0:
        return "零"
    high, low = divmod(n, 10_000)
    if not high:
        return _below_10000(low)
    text = _below_10000(high) + "万"
    if low:
        # 一万零五: a gap in the thousands is said as 零.
        text += ("零" if low < 1000 else "") + _below_10000(low, leading=False)
    return text


def _token(match: re.Match[str]) -> str:
    letters, tail, number = match.group("letters"), match.group("tail"), match.group("number")
    if letters is not None:
        words = [" ".join(letters.upper())]
        if tail:
            words.append(digits_one_by_one(tail))
        return " " + " ".join(words) + " "
    if (number.startswith("0") and len(number) > 1) or int(number) > MAX_CARDINAL:
        return " " + digits_one_by_one(number) + " "
    return " " + chinese_number(int(number)) + " "


def spoken_text(text: str) -> str:
    """Display text → text to speak: no ASCII digit and no multi-letter Latin word is left."""
    spoken = _TOKEN.sub(_token, text.translate(_HALF_WIDTH))
    # Spaces only where they separate words: none doubled, none at either end.
    return re.sub(r" {2,}", " ", spoken).strip()


def spoken_call(number: str, counter: int) -> str:
    """The call itself: ``spoken_call('A023', 3)`` → '请 A 零二三 号到 三 号窗口'."""
    if not re.fullmatch(r"[A-Za-z]{1,2}[0-9]{1,6}", number):
        raise ValueError(f"not a ticket number: {number!r}")
    return spoken_text(f"请 {number} 号到 {counter} 号窗口")
