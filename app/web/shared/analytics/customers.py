"""Customer health (门店健康) for a dealer's customers and a rep's route: segments, the shops
slipping away measured against their own ordering rhythm, an XLSX export and an A4 print.
Written once and mounted on each blueprint with the function that lists the caller's shops
(`shops_of()`), so a shop outside them is never read."""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.models import Organisation
from app.services.analytics.customers import K, SEGMENTS, segment_counts, shop_health
from app.web.common.htmx import render_page
from app.web.shared.analytics.views import xlsx_response

SEGMENT_LABELS = {"at_risk": _l("有流失风险"), "new": _l("新客户（90 天内首单）"), "active": _l("活跃"),
                  "inactive": _l("已流失（180 天未订货）"), "never": _l("从未订货")}
PAGE_LIMIT = 500


def _health(shops_of: Callable):
    shops = list(db.session.scalars(shops_of().order_by(Organisation.code)))
    health = shop_health(shops)
    segment = request.args.get("segment", "")
    segment = segment if segment in SEGMENTS else ""
    rows = [h for h in health if not segment or h.segment == segment]
    return health, rows, segment


def register_customer_report(bp: Blueprint, layout: str, shops_of: Callable, order_endpoint: str | None = None):
    """Mount /reports/customers and its export. `shops_of()` returns a select() of the caller's
    retailers; `order_endpoint` (a rep's order-on-behalf) adds an "order" link per shop."""

    def page():
        health, rows, segment = _health(shops_of)
        return render_page("shared/analytics/customers.html", None, layout=layout, endpoint=bp.name,
                           counts=segment_counts(health), total=len(health), rows=rows[:PAGE_LIMIT],
                           more=max(0, len(rows) - PAGE_LIMIT), segment=segment, labels=SEGMENT_LABELS,
                           segments=SEGMENTS, k=K, order_endpoint=order_endpoint)

    def export():
        _health_all, rows, segment = _health(shops_of)
        headers = [_("门店编码"), _("门店"), _("地区"), _("分组"), _("最近订货日"), _("平时间隔（天）"),
                   _("距上次订货（天）"), _("近一年订货天数"), _("近一年净额（元）")]
        data = ([h.shop.code, h.shop.name, h.region, str(SEGMENT_LABELS[h.segment]),
                 h.last_day.isoformat() if h.last_day else None, h.median_gap, h.days_since, h.order_days,
                 h.value_fen / 100] for h in rows)
        name = f"customers-{segment or 'all'}.xlsx"
        return xlsx_response(headers, data, "customers", name)

    bp.add_url_rule("/reports/customers", "customers_report", page)
    bp.add_url_rule("/reports/customers/export.xlsx", "customers_report_export", export)


def dealer_shops(dealer_id: int):
    return select(Organisation).where(Organisation.kind == "retailer", Organisation.dealer_id == dealer_id)
