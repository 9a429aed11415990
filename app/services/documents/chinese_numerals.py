"""Amounts in Chinese capital numerals (大写金额), as written on invoices and cheques.

Rules followed (中国人民银行《支付结算办法》 on 中文大写金额):
- digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 within a group of four, groups 万 and 亿;
  a leading ten keeps its 壹 (10 → 壹拾元整), as financial writing requires;
- any run of zeros between two non-zero digits is written as one 零, across group
  boundaries and across 元 (107000 → 壹拾万零柒仟元整, 100.10 → 壹佰元零壹角整); zeros at
  the end of a group or of the whole amount are not written (10000 → 壹万元整);
- 角 is zero but 分 is not: 零 after 元 (1.05 → 壹元零伍分); below one yuan nothing is
  written for the yuan (0.05 → 伍分);
- 整 ends an amount without 分 (12345.60 → 壹万贰仟叁佰肆拾伍元陆角整); zero is 零元整;
- a negative amount starts with 负.
Input is integer fen, never a float.
"""
from __future__ import annotations

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
GROUP_UNITS = ("", "万", "亿", "万")  # the fourth group is 万亿: its 亿 is written by group three
MAX_YUAN = 10 ** 16 - 1


def amount_in_words(fen: int) -> str:
    """12345_60 fen → '壹万贰仟叁佰肆拾伍元陆角整'."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("amount_in_words takes integer fen")
    if fen < 0:
        return "负" + amount_in_words(-fen)
    yuan, cents = divmod(fen, 100)
    if yuan > MAX_YUAN:
        raise ValueError("amount too large for Chinese capital numerals")
    jiao, fen_digit = divmod(cents, 10)
    if yuan == 0 and cents == 0:
        return "零元整"

    words, zero_pending = _yuan_words(yuan)
    if yuan:
        words += "元"
    for digit, unit in ((jiao, "角"), (fen_digit, "分")):
        if digit:
            if zero_pending:
                words += "零"
            words += DIGITS[digit] + unit
            zero_pending = False
        elif words:
            zero_pending = True  # a zero after something written: 零 if a non-zero follows
    if fen_digit == 0:
        words += "整"
    return words


def _yuan_words(yuan: int) -> tuple[str, bool]:
    """The integer part without 元, and whether it ended in zeros (a 零 may be owed to what
    follows)."""
    if yuan == 0:
        return "", False
    digits = str(yuan)
    words = ""
    zero_pending = False
    group_has_digit = False
    for index, char in enumerate(digits):
        position = len(digits) - 1 - index
        group, place = divmod(position, 4)
        digit = int(char)
        if digit:
            if zero_pending:
                words += "零"
                zero_pending = False
            words += DIGITS[digit] + SMALL_UNITS[place]
            group_has_digit = True
        else:
            zero_pending = True
        if place == 0 and group > 0:
            # 亿 closes group two when anything at or above it was written (1_0000_0000_0000 →
            # 壹万亿: group three wrote 万, group two is empty but still owes 亿).
            if group_has_digit or (group == 2 and words):
                words += GROUP_UNITS[group]
            group_has_digit = False
    return words, zero_pending
