"""When the demo's customers buy: the Chinese New Year rush, the summer drinks season, growth.

Chinese New Year: shops stock up over the three to four weeks before it (gift boxes most of all),
then close for the first days of the year and reopen slowly. Summer: drinks sell most from mid
June to mid August, peaking in July; noodles and snacks barely move.
"""
from __future__ import annotations

import math
from datetime import date

# Chinese New Year's Day (正月初一) by Gregorian year.
CHINESE_NEW_YEAR = {
    2023: date(2023, 1, 22), 2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17),
    2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 3),
}

# Relative order volume by weekday, Monday first (shops restock after the weekend).
WEEKDAY_WEIGHT = (1.10, 1.00, 1.00, 1.00, 1.05, 0.95, 0.70)
YEARLY_GROWTH = 0.12
GIFT_BOOST = 1.8  # gift items' CNY rush relative to their category's


def cny_dates_between(start: date, end: date) -> list[date]:
    return [d for d in CHINESE_NEW_YEAR.values() if start <= d <= end]


def _cny_offsets(day: date) -> tuple[int | None, int | None]:
    """Days until the coming New Year and days since the last one (None when unknown)."""
    coming = CHINESE_NEW_YEAR.get(day.year)
    if coming is not None and coming < day:
        last, coming = coming, CHINESE_NEW_YEAR.get(day.year + 1)
    else:
        last = CHINESE_NEW_YEAR.get(day.year - 1)
    return ((coming - day).days if coming else None), ((day - last).days if last else None)


def cny_rush(day: date) -> float:
    """0..1: how deep `day` is in the pre-New-Year stocking rush (full 4–24 days before)."""
    until, _since = _cny_offsets(day)
    if until is None or until > 35:
        return 0.0
    if until > 24:
        return (35 - until) / 11
    if until >= 4:
        return 1.0
    return 0.5  # the last days: shops are stocked, buyers travel home


def cny_holiday_dip(day: date) -> float:
    """0..1: the share of business lost while shops close after New Year."""
    _until, since = _cny_offsets(day)
    if since is None or since > 21:
        return 0.0
    if since < 7:
        return 0.6
    if since < 14:
        return 0.3
    return 0.1


def summer(day: date) -> float:
    """0..1: the summer drinks season, flat-topped around mid-July."""
    offset = (day - date(day.year, 7, 16)).days
    return math.exp(-((offset / 42) ** 4))


def demand_factor(summer_amplitude: float, cny_amplitude: float, day: date, gift: bool = False) -> float:
    """How much a category (or gift item) sells on `day` relative to an ordinary day."""
    rush = cny_rush(day) * cny_amplitude * (GIFT_BOOST if gift else 1.0)
    return max(0.05, (1.0 + summer_amplitude * summer(day) + rush) * (1.0 - cny_holiday_dip(day)))


def growth(day: date, start: date) -> float:
    return 1.0 + YEARLY_GROWTH * (day - start).days / 365
