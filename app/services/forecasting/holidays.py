"""Chinese New Year as an explicit, moving adjustment.

CNY falls between 21 January and 20 February, so a fixed 52-week season puts its spike in the
wrong week every other year. Instead each week gets an offset relative to the week that holds
CNY (-4 … +2: the stocking-up weeks before, the holiday week and the quiet weeks after). From
the history we estimate one multiplicative factor per offset: for every CNY the history covers,
the demand of that week divided by a local baseline (the mean of weeks -8…-5 and +3…+6,
outside the window), summed over the series that cover all those weeks, and take the median
over the years. Models are fitted on demand divided by
these factors and their forecasts multiplied back, so the next CNY's weeks get the uplift in the
right place. A history that covers no CNY window leaves every factor at 1.
"""
from __future__ import annotations

from datetime import date, timedelta
from statistics import median

# Gregorian date of the first day of the lunar year (春节), from the published calendar.
CNY_DATES = tuple(date.fromisoformat(d) for d in (
    "2015-02-19", "2016-02-08", "2017-01-28", "2018-02-16", "2019-02-05", "2020-01-25",
    "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29", "2026-02-17",
    "2027-02-06", "2028-01-26", "2029-02-13", "2030-02-03", "2031-01-23", "2032-02-11",
    "2033-01-31", "2034-02-19", "2035-02-08",
))
WINDOW = range(-4, 3)
BASELINE = (-8, -7, -6, -5, 3, 4, 5, 6)
FACTOR_BOUNDS = (0.1, 10.0)


def week_of(day: date) -> date:
    """The Monday of the week holding `day`."""
    return day - timedelta(days=day.weekday())


CNY_WEEKS = tuple(week_of(d) for d in CNY_DATES)


def offset(monday: date) -> int | None:
    """Weeks from the nearest CNY week, when inside the adjustment window; else None."""
    for cny in CNY_WEEKS:
        weeks = (monday - cny).days // 7
        if weeks in WINDOW:
            return weeks
    return None


def estimate_factors(series) -> dict[int, float]:
    """Factor per offset from weekly series (objects with `weeks()` and `values`); 1.0 where unknown.

    For each CNY, only the series that cover its whole window and baseline count, so a series
    that starts or ends near the holiday cannot fake an uplift; callers leave out intermittent
    series, whose zero weeks say nothing about the holiday.
    """
    ratios: dict[int, list[float]] = {o: [] for o in WINDOW}
    points = [dict(zip(s.weeks(), s.values)) for s in series]
    for cny in CNY_WEEKS:
        around_weeks = [cny + timedelta(weeks=o) for o in BASELINE]
        inside_weeks = [cny + timedelta(weeks=o) for o in WINDOW]
        covering = [p for p in points if all(w in p for w in around_weeks + inside_weeks)]
        if not covering:
            continue
        baseline = sum(p[w] for p in covering for w in around_weeks) / len(around_weeks)
        if baseline <= 0:
            continue
        for o, week in zip(WINDOW, inside_weeks):
            ratios[o].append(sum(p[week] for p in covering) / baseline)
    low, high = FACTOR_BOUNDS
    return {o: min(high, max(low, median(r))) if r else 1.0 for o, r in ratios.items()}


def factor(factors: dict[int, float], monday: date) -> float:
    o = offset(monday)
    return 1.0 if o is None else factors.get(o, 1.0)
