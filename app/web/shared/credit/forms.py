"""Forms and labels for credit and payments, shared by the brand's and the dealers' pages."""
from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from wtforms import BooleanField, DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.models import CreditNoteReason, OrgKind, PaymentMethod
from app.services.credit.limits import MAX_TERMS_DAYS
from app.services.core.clock import today_local
from app.web.common.fields import YuanField
from app.web.common.filters import yuan

METHOD_LABELS = PaymentMethod.labels()
# Online payments are posted by the provider's notification only, never typed in by hand.
RECORDED_METHOD_LABELS = {k: v for k, v in METHOD_LABELS.items() if k != PaymentMethod.ONLINE.value}
REASON_LABELS = CreditNoteReason.labels()
KIND_LABELS = {"invoice": _l("发票"), "receipt": _l("收款"), "topup": _l("预存款充值"), "credit_note": _l("红字单"),
              "refund": _l("退款")}
ORG_KIND_LABELS = {kind: OrgKind.label_of(kind) for kind in (OrgKind.DEALER, OrgKind.RETAILER)}
FLAG_LABELS = {"": _l("全部"), "owing": _l("有未付发票"), "hold": _l("已暂停")}
OLDEST_FIRST = 0
INVOICES_SHOWN = 50  # open invoices listed on an account page (templates/credit/_invoices.html says so)


def _choices(label_map: dict) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in label_map.items()]


def labels() -> dict:
    """The labels (and the list size) every credit template uses."""
    return {"method_labels": METHOD_LABELS, "reason_labels": REASON_LABELS, "kind_labels": KIND_LABELS,
            "org_kind_labels": ORG_KIND_LABELS, "invoices_shown": INVOICES_SHOWN}


class CreditSettingsForm(Form):
    credit_limit = YuanField(_l("信用额度（元）"), validators=[InputRequired(message=_l("请输入金额。"))])
    payment_terms_days = IntegerField(_l("账期（天）"), validators=[
        InputRequired(message=_l("请输入天数。")),
        NumberRange(min=0, max=MAX_TERMS_DAYS, message=_l("账期必须在 0 到 365 天之间。"))])
    allow_credit = BooleanField(_l("允许赊销"))
    on_hold = BooleanField(_l("暂停赊销（新订单进入审核）"))
    hold_reason = StringField(_l("暂停原因"), validators=[Optional(), Length(max=200)])


class PaymentForm(Form):
    """Record a payment; `invoice` choices are set by the view (0 = oldest invoices first)."""

    method = SelectField(_l("付款方式"), choices=lambda: _choices(RECORDED_METHOD_LABELS))
    amount = YuanField(_l("金额（元）"), validators=[InputRequired(message=_l("请输入金额。"))])
    invoice = SelectField(_l("核销发票"), coerce=int, choices=[])
    received_on = DateField(_l("收款日期"), default=today_local,
                            validators=[InputRequired(message=_l("请输入日期。"))])
    reference = StringField(_l("凭证号（银行流水、收据号）"), validators=[Optional(), Length(max=60)])
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=500)])


class TopUpForm(Form):
    amount = YuanField(_l("充值金额（元）"), validators=[InputRequired(message=_l("请输入金额。"))])
    received_on = DateField(_l("收款日期"), default=today_local,
                            validators=[InputRequired(message=_l("请输入日期。"))])
    reference = StringField(_l("凭证号（银行流水、收据号）"), validators=[Optional(), Length(max=60)])
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=500)])


class StatementPeriodForm(Form):
    """The statement's period: a GET form, no CSRF."""

    class Meta:
        csrf = False

    start = DateField(_l("开始日期"), validators=[Optional()])
    end = DateField(_l("结束日期"), validators=[Optional()])


class CustomerFilterForm(Form):
    """The admin's customer search: a GET form, no CSRF."""

    class Meta:
        csrf = False

    q = StringField(_l("编码或名称"), validators=[Optional(), Length(max=60)])
    kind = SelectField(_l("类型"), choices=lambda: _choices({"": _l("全部"), **ORG_KIND_LABELS}),
                       validators=[Optional()])
    flag = SelectField(_l("筛选"), choices=lambda: _choices(FLAG_LABELS), validators=[Optional()])


class ReceivableFilterForm(Form):
    """The dealer's receivables search: a GET form, no CSRF."""

    class Meta:
        csrf = False

    q = StringField(_l("零售商编码或名称"), validators=[Optional(), Length(max=60)])


def invoice_choices(invoices) -> list[SelectChoice]:
    """"Oldest first", then each open invoice with what it still owes."""
    return [SelectChoice(OLDEST_FIRST, _l("按开票先后自动核销"))] + [
        SelectChoice(i.id, f"{i.number} · {yuan(i.total_fen - i.paid_fen)}") for i in invoices]
