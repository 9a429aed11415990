"""Weekly demand histories: validation of `series,period,qty` rows and densification.

A period is the Monday of its week. Weeks missing between a series' first and last week are
weeks without demand (0): order data has no row for a week nobody ordered.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date, timedelta

REQUIRED_COLUMNS = ("series", "period", "qty")
WEEK = timedelta(days=7)
MAX_QTY = 1e12


class BadHistory(ValueError):
    """A history file or row that cannot be forecast; the message names the row."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(f"row {row}: {message}" if row is not None else message)
        self.row = row


@dataclass(frozen=True)
class WeeklySeries:
    """One series: the Monday of its first week and one quantity per week from there."""
    name: str
    start: date
    values: tuple[float, ...]

    @property
    def last_week(self) -> date:
        return self.start + WEEK * (len(self.values) - 1)

    def weeks(self) -> list[date]:
        return [self.start + WEEK * i for i in range(len(self.values))]


def _parse_period(raw: str, row: int) -> date:
    try:
        period = date.fromisoformat(raw.strip())
    except ValueError:
        raise BadHistory(f"period {raw!r} is not a date (YYYY-MM-DD)", row) from None
    if period.weekday() != 0:
        raise BadHistory(f"period {period.isoformat()} is not a Monday (the week's first day)", row)
    return period


def _parse_qty(raw: str, row: int) -> float:
    try:
        qty = float(raw.strip())
    except ValueError:
        raise BadHistory(f"qty {raw!r} is not a number", row) from None
    if math.isnan(qty) or math.isinf(qty):
        raise BadHistory(f"qty {raw!r} is not a number", row)
    if qty < 0:
        raise BadHistory(f"qty {raw.strip()} is negative", row)
    if qty > MAX_QTY:
        raise BadHistory(f"qty {raw.strip()} is too large", row)
    return qty


def read_rows(lines) -> list[WeeklySeries]:
    """Validate CSV lines (an open text file or any iterable of lines) into weekly series.

    Row numbers in messages count the header as row 1, as a spreadsheet shows them.
    """
    reader = csv.reader(lines)
    try:
        header = [name.strip().lstrip("\ufeff").lower() for name in next(reader)]
    except StopIteration:
        raise BadHistory("the file is empty (expected the header series,period,qty)") from None
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise BadHistory(f"missing column(s) {', '.join(missing)} in the header", 1)
    index = {name: header.index(name) for name in REQUIRED_COLUMNS}
    points: dict[str, dict[date, float]] = {}
    for row, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) < len(header):
            raise BadHistory(f"expected {len(header)} columns, found {len(record)}", row)
        name = record[index["series"]].strip()
        if not name:
            raise BadHistory("series is empty", row)
        period = _parse_period(record[index["period"]], row)
        qty = _parse_qty(record[index["qty"]], row)
        weeks = points.setdefault(name, {})
        if period in weeks:
            raise BadHistory(f"duplicate row for series {name!r} and period {period.isoformat()}", row)
        weeks[period] = qty
    if not points:
        raise BadHistory("the file has a header but no rows")
    return [densify(name, weeks) for name, weeks in points.items()]


def densify(name: str, weeks: dict[date, float]) -> WeeklySeries:
    """Series from {monday: qty}, with the missing weeks in between as 0."""
    start, end = min(weeks), max(weeks)
    count = (end - start).days // 7 + 1
    return WeeklySeries(name, start, tuple(weeks.get(start + WEEK * i, 0.0) for i in range(count)))
