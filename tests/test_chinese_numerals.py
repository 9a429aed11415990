"""Amounts in Chinese capital numerals (大写金额): the cases where people get 零 and 整 wrong."""
import pytest

from app.services.documents.chinese_numerals import amount_in_words


@pytest.mark.parametrize("fen, words", [
    (0, "零元整"),
    (1, "壹分"),
    (5, "伍分"),
    (10, "壹角整"),
    (50, "伍角整"),
    (55, "伍角伍分"),
    (100, "壹元整"),
    (105, "壹元零伍分"),
    (110, "壹元壹角整"),
    (1000, "壹拾元整"),
    (1500, "壹拾伍元整"),
    (2000, "贰拾元整"),
    (10000, "壹佰元整"),
    (10010, "壹佰元零壹角整"),
    (10001, "壹佰元零壹分"),
    (10500, "壹佰零伍元整"),
    (11000, "壹佰壹拾元整"),
    (100100, "壹仟零壹元整"),
    (100000, "壹仟元整"),
    (1234560, "壹万贰仟叁佰肆拾伍元陆角整"),
    (1000000, "壹万元整"),
    (1000100, "壹万零壹元整"),
    (1001000, "壹万零壹拾元整"),
    (1010000, "壹万零壹佰元整"),
    (1100000, "壹万壹仟元整"),
    (10000000, "壹拾万元整"),
    (10700053, "壹拾万零柒仟元零伍角叁分"),
    (10700000, "壹拾万零柒仟元整"),
    (10070000, "壹拾万零柒佰元整"),
    (100000000, "壹佰万元整"),
    (100001001, "壹佰万零壹拾元零壹分"),
    (140950, "壹仟肆佰零玖元伍角整"),
    (600714, "陆仟零柒元壹角肆分"),
    (168032, "壹仟陆佰捌拾元零叁角贰分"),
    (10000000000, "壹亿元整"),
    (10000000001, "壹亿元零壹分"),
    (10001000000, "壹亿零壹万元整"),
    (10000100000, "壹亿零壹仟元整"),
    (12345678900, "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元整"),
    (100000000000000, "壹万亿元整"),
    (100010000000000, "壹万零壹亿元整"),
    (100000000000100, "壹万亿零壹元整"),
    (999999999999999999, "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
])
def test_amount_in_words(fen, words):
    assert amount_in_words(fen) == words


def test_requirement_examples():
    assert amount_in_words(1_234_560) == "壹万贰仟叁佰肆拾伍元陆角整"    # 12345.60
    assert amount_in_words(5) == "伍分"                              # 0.05
    assert amount_in_words(1_000) == "壹拾元整"                       # 10
    assert amount_in_words(10_010) == "壹佰元零壹角整"                  # 100.10
    assert amount_in_words(100_100) == "壹仟零壹元整"                   # 1001
    assert amount_in_words(1_000_000) == "壹万元整"                    # 10000
    assert amount_in_words(10_000_000_000) == "壹亿元整"               # 100000000
    assert amount_in_words(100_001_001) == "壹佰万零壹拾元零壹分"          # 1,000,010.01


def test_negative_amount_is_prefixed():
    assert amount_in_words(-1_050) == "负壹拾元零伍角整"


@pytest.mark.parametrize("value", [1.5, "100", None, True])
def test_only_integer_fen(value):
    with pytest.raises(TypeError):
        amount_in_words(value)


def test_too_large():
    with pytest.raises(ValueError):
        amount_in_words(10 ** 18)
