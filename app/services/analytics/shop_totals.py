"""Per-shop sales over the report form's period presets (近30天 … 去年), kept by the nightly fact job.

The brand's report by retailer (or by rep, a few hundred routes over the same shops) summed about a
million weekly "buyer"-grain rows into ~98 k shops on every request. For a preset period the job
sums them once: each shop's measures over the period and its comparison's net sales, for both
comparisons (`SalesShopTotal`, with the ranges in `SalesShopPeriod`), so the page reads an index.
A custom range is summed from the rollup as before (sales.py).

Freshness: `refresh_presets(days)` runs inside `facts.rebuild_days`, in the transaction that
rebuilt those days' facts and rollup: a preset is summed again when one of its ranges holds a
rebuilt day, or when its ranges moved (a new day: 近30天 ends yesterday). The report uses the
totals only for a range equal to a preset's stored range, so a page never reads totals of other
facts than the general path would: between midnight and the nightly job the new day's ranges are
not stored yet, and the page sums the rollup. Re-running changes nothing (delete and insert).
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Integer, case, cast, delete, func, insert, literal_column, select, union_all

from app.extensions import db
from app.models.analytics import SHOP_TOTAL_MEASURES, SalesShopPeriod, SalesShopTotal
from app.services.core.clock import now_utc, today_local

PRESETS = ("d30", "d90", "d365", "this_month", "last_month", "this_year", "last_year")
COMPARES = ("previous", "last_year")


def preset_ranges(today: date | None = None) -> dict[str, tuple[date, date]]:
    """Each preset's (start, end) as of `today`: the rolling ones and this month's and this year's
    end yesterday (the last whole day); 上月 and 去年 are the whole calendar month and year."""
    today = today or today_local()
    yesterday = today - timedelta(days=1)
    month_start = today.replace(day=1)
    last_month_end = month_start - timedelta(days=1)
    return {"d30": (yesterday - timedelta(days=29), yesterday), "d90": (yesterday - timedelta(days=89), yesterday),
            "d365": (yesterday - timedelta(days=364), yesterday), "this_month": (yesterday.replace(day=1), yesterday),
            "last_month": (last_month_end.replace(day=1), last_month_end),
            "this_year": (date(yesterday.year, 1, 1), yesterday),
            "last_year": (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))}


def _ranges(start: date, end: date) -> tuple[tuple[date, date], ...]:
    """The period and its two comparison periods, as the report computes them."""
    from app.services.analytics.sales import prior_period
    return (start, end), prior_period(start, end, "previous"), prior_period(start, end, "last_year")


def _stored_ranges(row: SalesShopPeriod) -> tuple[tuple[date, date], ...]:
    return ((row.start, row.end), (row.previous_start, row.previous_end), (row.last_year_start, row.last_year_end))


def refresh_presets(days=(), today: date | None = None) -> list[str]:
    """Sum again the presets whose ranges moved or hold one of `days` (rebuilt facts); returns
    their names. Idempotent: each preset's rows are replaced as a whole."""
    wanted = preset_ranges(today)
    stored = {row.preset: row for row in db.session.scalars(select(SalesShopPeriod))}
    days = sorted(set(days))
    rebuilt = []
    for preset, (start, end) in wanted.items():
        ranges = _ranges(start, end)
        old = stored.get(preset)
        touched = any(a <= day <= b for day in days for a, b in ranges)
        if old is not None and _stored_ranges(old) == ranges and not touched:
            continue
        _rebuild_preset(preset, ranges)
        rebuilt.append(preset)
    for preset in set(stored) - set(wanted):
        db.session.execute(delete(SalesShopTotal).where(SalesShopTotal.preset == preset))
        db.session.delete(stored[preset])
    db.session.flush()
    return rebuilt


def _rebuild_preset(preset: str, ranges) -> None:
    db.session.execute(delete(SalesShopTotal).where(SalesShopTotal.preset == preset))
    db.session.execute(insert(SalesShopTotal).from_select(COLUMNS, _totals_select(preset, ranges)))
    row = db.session.get(SalesShopPeriod, preset) or SalesShopPeriod(preset=preset)
    (row.start, row.end), (row.previous_start, row.previous_end), (row.last_year_start, row.last_year_end) = ranges
    row.built_at = now_utc()
    db.session.add(row)


COLUMNS = ("preset", "compare", "buyer_id", "piece", "province_id", *SHOP_TOTAL_MEASURES, "prior_fen", "change_fen")


def _totals_select(preset: str, ranges):
    """Every shop's rows of the preset, for both comparisons: each range read as the report reads
    it (whole weeks from the "buyer" grain, the edge days from the facts; the brand's market), all
    ranges in one aggregate per shop and province ("pieces"), then per shop."""
    from app.services.analytics.sales import MEASURES, _unsummed, measures

    windows = sorted(set(ranges))
    index = {r: i for i, r in enumerate(windows)}
    current, previous, last_year = (index[r] for r in ranges)
    parts = []
    for i, (a, b) in enumerate(windows):
        def columns(c, i=i):
            return [c.province_id.label("province_id"), *[m.label(n) for m, n in zip(measures(c), MEASURES)],
                    cast(literal_column(str(i)), Integer).label("w")]
        parts += _unsummed(a, b, "retailer", None, None, None, columns)
    rows = union_all(*parts).subquery("rows")

    def within(i, column):
        return func.sum(case((rows.c.w == i, column), else_=0))

    def seen(i):
        return func.max(case((rows.c.w == i, 1), else_=0))

    pieces = (select(rows.c.key.label("buyer_id"), rows.c.province_id,
                     *[within(current, rows.c[n]).label(n) for n in MEASURES],
                     within(previous, rows.c.value_fen).label("previous_fen"),
                     within(last_year, rows.c.value_fen).label("last_year_fen"),
                     seen(current).label("in_current"), seen(previous).label("in_previous"),
                     seen(last_year).label("in_last_year"))
              .group_by(rows.c.key, rows.c.province_id).cte("pieces"))
    p = pieces.c
    selects = []
    compares = (("previous", p.previous_fen, p.in_previous), ("last_year", p.last_year_fen, p.in_last_year))
    for compare, prior, in_prior in compares[:1 if previous == last_year else 2]:  # 近一年: the same range
        # A shop's pieces in this comparison's view: rows in the period or in the comparison period.
        present = (select(p.buyer_id, p.province_id, *[p[n] for n in MEASURES], prior.label("prior_fen"),
                          func.count().over(partition_by=p.buyer_id).label("provinces"))
                   .where((p.in_current == 1) | (in_prior == 1)).subquery(f"present_{compare}"))
        s = present.c
        names = [literal_column(f"'{preset}'"), literal_column(f"'{compare}'")]
        selects.append(select(*names, s.buyer_id, literal_column("0"),
                              case((func.count() == 1, func.max(s.province_id))),
                              *[func.sum(s[n]) for n in MEASURES], func.sum(s.prior_fen),
                              func.sum(s.value_fen) - func.sum(s.prior_fen)).group_by(s.buyer_id))
        selects.append(select(*names, s.buyer_id, s.province_id, s.province_id, *[s[n] for n in MEASURES],
                              s.prior_fen, s.value_fen - s.prior_fen)
                       .where(s.provinces > 1, s.province_id.is_not(None)))
    return union_all(*selects)


def preset_of(start: date, end: date, compare: str) -> tuple[str, str] | None:
    """The preset whose stored range is [start, end], if any (its totals are then current), and
    the comparison its rows are stored under (a year's two comparison periods are often the same
    range, stored once as "previous")."""
    found = db.session.scalars(select(SalesShopPeriod).where(SalesShopPeriod.start == start,
                                                            SalesShopPeriod.end == end).limit(1)).first()
    if found is None or _stored_ranges(found) != _ranges(start, end):
        return None
    same = (found.previous_start, found.previous_end) == (found.last_year_start, found.last_year_end)
    return found.preset, "previous" if same else compare


def scoped(preset: str, compare: str, province_id: int | None):
    """The conditions selecting the preset's shops in a scope: every shop's whole, or a province's
    shops (a shop holding one province by its whole, one holding several by that province's part)."""
    t = SalesShopTotal
    where = [t.preset == preset, t.compare == compare]
    where.append(t.piece == 0 if province_id is None else t.province_id == province_id)
    return where
