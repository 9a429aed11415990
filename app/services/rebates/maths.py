"""The rebate maths and the periods, pure (see the package docstring for the formulas)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

BP = 10_000  # basis points in 100 %


def half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def period_bounds(kind: str, day: date) -> tuple[date, date]:
    """The calendar month, quarter or year holding `day`: (first day, last day)."""
    if kind == "month":
        start = day.replace(day=1)
        months = 1
    elif kind == "quarter":
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        months = 3
    elif kind == "year":
        return day.replace(month=1, day=1), day.replace(month=12, day=31)
    else:
        raise ValueError(kind)
    month = start.month - 1 + months
    following = start.replace(year=start.year + month // 12, month=month % 12 + 1)
    return start, following - timedelta(days=1)


@dataclass(frozen=True)
class Terms:
    """An agreement's numbers (what the maths needs of it)."""
    mode: str
    rate_bp: int = 0
    tiers: tuple[tuple[int, int], ...] = ()
    per_case_fen: int = 0
    cap_fen: int | None = None

    @classmethod
    def of(cls, agreement) -> "Terms":
        return cls(agreement.mode, agreement.rate_bp or 0, tuple((int(f), int(r)) for f, r in agreement.tiers or []),
                   agreement.per_case_fen or 0, agreement.cap_fen)


def tier_index(tiers, base: int) -> int | None:
    """The tier holding `base` ([from_i, from_{i+1})), None below the first threshold."""
    found = None
    for i, (start, _rate) in enumerate(tiers):
        if base >= start:
            found = i
    return found


def rebate(terms: Terms, base: int) -> int:
    """The rebate in fen earned on a period's basis (fen or cases), capped."""
    if base <= 0:
        return 0
    if terms.mode == "flat":
        earned = half_up(base * terms.rate_bp, BP)
    elif terms.mode == "per_case":
        earned = base * terms.per_case_fen
    elif terms.mode == "retroactive":
        k = tier_index(terms.tiers, base)
        earned = 0 if k is None else half_up(base * terms.tiers[k][1], BP)
    elif terms.mode == "incremental":
        total = 0
        for i, (start, rate) in enumerate(terms.tiers):
            end = terms.tiers[i + 1][0] if i + 1 < len(terms.tiers) else None
            top = base if end is None else min(base, end)
            if top > start:
                total += (top - start) * rate
        earned = half_up(total, BP)
    else:
        raise ValueError(terms.mode)
    return min(earned, terms.cap_fen) if terms.cap_fen is not None else earned


@dataclass
class Progress:
    base: int
    earned_fen: int
    rate: int | None          # the rate reached (bp, or fen per case), None below the first tier
    next_from: int | None     # the next threshold, None at the top tier (or no tiers)
    next_rate: int | None
    earned_at_next_fen: int | None  # what reaching the next threshold would earn
    capped: bool

    @property
    def missing(self) -> int:
        return max(self.next_from - self.base, 0) if self.next_from is not None else 0

    @property
    def percent_to_next(self) -> int:
        """How far along to the next threshold (0-100), for the progress bar."""
        if not self.next_from:
            return 100
        return max(0, min(100, self.base * 100 // self.next_from))


def progress(terms: Terms, base: int) -> Progress:
    earned = rebate(terms, base)
    uncapped = rebate(Terms(terms.mode, terms.rate_bp, terms.tiers, terms.per_case_fen, None), base)
    if terms.mode in ("retroactive", "incremental") and terms.tiers:
        k = tier_index(terms.tiers, base)
        rate = terms.tiers[k][1] if k is not None else None
        nxt = (k + 1) if k is not None else 0
        if nxt < len(terms.tiers):
            next_from, next_rate = terms.tiers[nxt]
            return Progress(base, earned, rate, next_from, next_rate, rebate(terms, next_from), earned < uncapped)
        return Progress(base, earned, rate, None, None, None, earned < uncapped)
    rate = terms.per_case_fen if terms.mode == "per_case" else terms.rate_bp
    return Progress(base, earned, rate, None, None, None, earned < uncapped)
