"""Forms and labels of the brand's own order pages: the review queue's filter, the approval rules
and the order report (the desk's decision forms are shared: app.web.shared.fulfilment.forms)."""
from datetime import timedelta
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from app.web.common.forms import Form

from app.services.approval.automatic import REASON_LABELS
from app.services.approval.reports import MAX_PERIOD_DAYS
from app.services.core.clock import today_local
from app.web.common.listing import GetForm

SELLER_KIND_LABELS = {"": _l("全部订单"), "brand": _l("品牌直营"), "dealer": _l("经销商")}


class ReviewFilterForm(GetForm):
    reason = SelectField(_l("原因"), choices=lambda: [SelectChoice("", _l("全部原因"))]
                         + [SelectChoice(code, label) for code, label in REASON_LABELS.items()],
                         validators=[Optional()])

    def criteria(self) -> dict:
        self.validate()
        return {"reason": self.clean("reason") or None, "page": self.clean("page", 1)}


class PolicyForm(Form):
    auto_approve = BooleanField(_l("启用自动审核（关闭后所有新订单等待人工审核）"))
    check_hold = BooleanField(_l("客户未被暂停"))
    check_credit = BooleanField(_l("在信用额度内，且无逾期发票"))
    check_prices = BooleanField(_l("价格与下单时一致"))
    check_quantities = BooleanField(_l("数量在客户常规范围内"))
    quantity_factor = DecimalField(_l("单行数量上限：平均数量的倍数"), places=1, validators=[
        InputRequired(message=_l("请输入倍数。")),
        NumberRange(min=Decimal("1"), max=Decimal("100"), message=_l("倍数必须在 1 到 100 之间。"))],
        invalid_value_message=_l("请输入数字，例如 3 或 2.5。"))
    quantity_window_days = IntegerField(_l("统计最近多少天"), validators=[
        InputRequired(message=_l("请输入天数。")),
        NumberRange(min=7, max=365, message=_l("统计天数必须在 7 到 365 之间。"))],
        invalid_value_message=_l("请输入整数天数。"))
    quantity_min_orders = IntegerField(_l("至少有几次历史订单才判断"), validators=[
        InputRequired(message=_l("请输入次数。")),
        NumberRange(min=1, max=100, message=_l("最少历史次数必须在 1 到 100 之间。"))],
        invalid_value_message=_l("请输入整数次数。"))
    check_stock = BooleanField(_l("卖方默认仓库库存充足"))

    def values(self) -> dict:
        factor = self.quantity_factor.data
        return {"auto_approve": self.auto_approve.data, "check_hold": self.check_hold.data,
                "check_credit": self.check_credit.data, "check_prices": self.check_prices.data,
                "check_quantities": self.check_quantities.data, "check_stock": self.check_stock.data,
                "quantity_factor_pct": int((factor * 100).to_integral_value()),
                "quantity_window_days": self.quantity_window_days.data,
                "quantity_min_orders": self.quantity_min_orders.data}


class ReportForm(GetForm):
    """The report's period (the last 30 days by default) and which sellers' orders."""

    start = DateField(_l("开始日期"), validators=[Optional()])
    end = DateField(_l("结束日期"), validators=[Optional()])
    seller = SelectField(_l("卖方"), choices=lambda: [SelectChoice(k, v) for k, v in SELLER_KIND_LABELS.items()],
                         validators=[Optional()])

    def period(self):
        """(start, end, seller kind): wrong or missing values fall back to the defaults."""
        self.validate()
        end = self.clean("end") or today_local()
        start = self.clean("start") or end - timedelta(days=29)
        if start > end:
            start, end = end, start
        start = max(start, end - timedelta(days=MAX_PERIOD_DAYS - 1))
        self.start.data, self.end.data = start, end
        return start, end, self.clean("seller") or ""
