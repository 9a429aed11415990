"""Forms of the seller's order desk (dealer and brand), shipping, delivery sign-off and returns
(seller and retailer pages).

Forms with one quantity per order line are built per order: `with_line_fields(Base, rows, kinds,
limit)` adds an IntegerField `<kind>_<order line id>` per line and kind, so a service error
naming `qty_12` lands next to that line's input."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from wtforms import (BooleanField, HiddenField, IntegerField, RadioField, SearchField, SelectChoice, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from app.models import OrderStatus
from app.models.fulfilment import ReturnDisposition, ReturnStatus
from app.services.fulfilment.delivery import CODE_DIGITS
from app.services.fulfilment.desk import DEFAULT_SORT, SORTS, TO_ACT, WEEKDAY_LABELS
from app.services.fulfilment.returns import DISPOSITION_LABELS
from app.services.fulfilment.shipping import MAX_CARRIER, MAX_REASON, MAX_TRACKING
from app.web.common.listing import STATUS_LABELS, GetForm

NOTE_MAX = 500
QTY_MAX = 1_000_000


class DeskFilterForm(GetForm):
    status = SelectField(_l("状态"), choices=[SelectChoice("", _l("全部状态")), SelectChoice(TO_ACT, _l("待处理"))]
                         + [SelectChoice(value, label) for value, label in STATUS_LABELS.items()],
                         validators=[Optional()])
    sort = SelectField(choices=[SelectChoice(name, name) for name in SORTS], validators=[Optional()])
    dir = SelectField(choices=[SelectChoice("asc", "asc"), SelectChoice("desc", "desc")], validators=[Optional()])
    day = SelectField(_l("送货日"), choices=[SelectChoice("", _l("全部"))]
                      + [SelectChoice(str(i), label) for i, label in enumerate(WEEKDAY_LABELS)],
                      validators=[Optional()])
    region = SelectField(_l("区域"), choices=[], validators=[Optional()], validate_choice=False)
    q = SearchField(_l("搜索"), validators=[Optional(), Length(max=40)], render_kw={"placeholder": _l("订单号或客户")})

    def set_regions(self, regions: list[tuple[int, str]]) -> None:
        self.region.choices = [SelectChoice("", _l("全部区域"))] + [SelectChoice(str(i), name) for i, name in regions]
        self._region_ids = {str(i) for i, _ in regions}

    def criteria(self) -> dict:
        self.validate()
        day = self.clean("day")
        region = self.clean("region")
        sort = self.clean("sort") or DEFAULT_SORT[0]
        direction = self.clean("dir")
        return {"status": self.clean("status") or None,
                "sort": sort, "descending": direction == "desc" if direction else DEFAULT_SORT[1],
                "weekday": int(day) if day not in (None, "") else None,
                "region_id": int(region) if region in getattr(self, "_region_ids", ()) else None,
                "search": self.clean("q", ""), "page": self.clean("page", 1)}


class SelectionForm(GetForm):
    """The orders ticked on the desk (a plain GET form: printing reads, it changes nothing)."""

    order_ids = SelectMultipleField(coerce=int, validate_choice=False)

    def ids(self) -> list[int]:
        try:
            return [int(i) for i in self.order_ids.data or []]
        except (TypeError, ValueError):
            return []


class PdfSelectionForm(Form):
    """The same selection posted to ask for PDFs (a POST: it makes documents)."""

    order_ids = SelectMultipleField(coerce=int, validate_choice=False)


# The seller's decisions on an order, in the order the buttons are shown: label and route name.
ACTION_LABELS = {OrderStatus.APPROVED.value: _l("审核通过"), OrderStatus.PICKING.value: _l("开始拣货"),
                 OrderStatus.ON_HOLD.value: _l("暂缓"), OrderStatus.REJECTED.value: _l("拒绝"),
                 OrderStatus.CANCELLED.value: _l("取消订单")}
ACTION_ROUTES = {OrderStatus.APPROVED.value: "approve", OrderStatus.PICKING.value: "picking",
                 OrderStatus.ON_HOLD.value: "hold", OrderStatus.REJECTED.value: "reject",
                 OrderStatus.CANCELLED.value: "cancel"}


class DecisionForm(Form):
    """One note for every decision button of an order; `seen` is the status the page showed.
    Approving an order the buyer's credit does not cover needs the box ticked and a reason
    (audited, not shown to the buyer)."""

    note = TextAreaField(_l("说明（暂缓、拒绝、取消时必填，客户可见）"),
                         validators=[Optional(), Length(max=NOTE_MAX, message=_l("说明最多 500 个字。"))],
                         render_kw={"rows": 2, "maxlength": NOTE_MAX})
    credit_confirmed = BooleanField(_l("已知信用检查未通过，仍然审核通过"))
    credit_reason = TextAreaField(_l("超出信用仍审核的原因（内部可见，记入审计）"),
                                  validators=[Optional(), Length(max=NOTE_MAX, message=_l("说明最多 500 个字。"))],
                                  render_kw={"rows": 2, "maxlength": NOTE_MAX})
    seen = HiddenField()

    def credit_override(self) -> str | None:
        """The reason to approve beyond the buyer's credit, or None when the box is not ticked."""
        return (self.credit_reason.data or "") if self.credit_confirmed.data else None


class ShortageForm(Form):
    """Approve what is available: a quantity per line (`keep_<line id>`, added by `shortage_form`),
    what becomes of the rest, the reason the buyer reads, and the credit confirmation (named apart
    from the decision card's fields on the same page, so their ids stay unique)."""

    rest = RadioField(_l("缺货部分"), choices=[SelectChoice("backorder", _l("转入补发订单，到货后自动审核")),
                                                SelectChoice("cancel", _l("取消，不再供货"))],
                      default="backorder", validators=[InputRequired(message=_l("请选择缺货部分的处理方式。"))])
    reason = TextAreaField(_l("说明（客户可见；取消时必填）"),
                           validators=[Optional(), Length(max=NOTE_MAX, message=_l("说明最多 500 个字。"))],
                           render_kw={"rows": 2, "maxlength": NOTE_MAX})
    short_credit_confirmed = BooleanField(_l("已知信用检查未通过，仍然审核通过"))
    short_credit_reason = TextAreaField(_l("超出信用仍审核的原因（内部可见，记入审计）"),
                                        validators=[Optional(), Length(max=NOTE_MAX, message=_l("说明最多 500 个字。"))],
                                        render_kw={"rows": 2, "maxlength": NOTE_MAX})
    short_seen = HiddenField()

    def credit_override(self) -> str | None:
        return (self.short_credit_reason.data or "") if self.short_credit_confirmed.data else None


def shortage_form(rows, formdata=..., order_status: str | None = None) -> ShortageForm:
    """The form for these availability rows (ordering.shortage.availability); without formdata,
    each line proposes what can be supplied now."""
    cls = with_line_fields(ShortageForm, rows, ("keep",), lambda row, _kind: row.line.qty)
    if formdata is ...:
        return cls()
    form = cls(formdata=None)
    for row in rows:
        getattr(form, f"keep_{row.line.id}").data = row.suppliable
    form.short_seen.data = order_status
    return form


def with_line_fields(base: type[Form], rows, kinds: tuple[str, ...], limit) -> type[Form]:
    """A subclass of `base` with an IntegerField `<kind>_<line id>` for every row and kind;
    `limit(row, kind)` is the largest quantity allowed (checked again by the service)."""
    fields = {}
    for row in rows:
        for kind in kinds:
            most = limit(row, kind)
            fields[f"{kind}_{row.line.id}"] = IntegerField(
                row.line.product.name(str(get_locale())),
                validators=[Optional(), NumberRange(min=0, max=max(most, 0),
                                                    message=_l("请输入 0 到 %(max)s 之间的整数。"))],
                invalid_value_message=_l("请输入整数。"),
                render_kw={"inputmode": "numeric", "min": 0, "max": max(most, 0), "class": "qty"})
    return type(base.__name__, (base,), fields)


def line_quantities(form: Form, rows, kind: str) -> dict[int, int]:
    return {row.line.id: getattr(form, f"{kind}_{row.line.id}").data or 0 for row in rows}


def discrepancies(form: Form, rows) -> dict[tuple[int, str], int]:
    found = {}
    for kind in ("short", "damaged"):
        for line_id, qty in line_quantities(form, rows, kind).items():
            if qty:
                found[(line_id, kind)] = qty
    return found


class ShipForm(Form):
    carrier = StringField(_l("承运方"), validators=[InputRequired(message=_l("请填写承运方。")), Length(max=MAX_CARRIER)],
                          render_kw={"maxlength": MAX_CARRIER, "placeholder": _l("如：顺丰、自有车辆")})
    tracking_no = StringField(_l("运单号"), validators=[Optional(), Length(max=MAX_TRACKING)],
                              render_kw={"maxlength": MAX_TRACKING})
    note = TextAreaField(_l("发货备注"), validators=[Optional(), Length(max=MAX_REASON)], render_kw={"rows": 2})
    cancel_rest = BooleanField(_l("本次未发的剩余数量不再发货（取消）"))
    # No Optional(): it would stop the chain before validate_cancel_rest_reason.
    cancel_rest_reason = TextAreaField(_l("取消原因（客户可见）"), validators=[Length(max=MAX_REASON)],
                                       render_kw={"rows": 2})
    seen = HiddenField()

    def validate_cancel_rest_reason(self, field):
        if self.cancel_rest.data and not (field.data or "").strip():
            raise ValidationError(_l("取消剩余数量请填写原因。"))


class CancelRestForm(Form):
    reason = TextAreaField(_l("取消原因（客户可见）"),
                           validators=[InputRequired(message=_l("请填写取消原因。")), Length(max=MAX_REASON)],
                           render_kw={"rows": 2})
    seen = HiddenField()


class CodeSignOffForm(Form):
    code = StringField(_l("收货码"), validators=[InputRequired(message=_l("请输入收货码。")), Length(max=12)],
                       render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": CODE_DIGITS,
                                  "pattern": "[0-9]*"})
    note = TextAreaField(_l("签收备注"), validators=[Optional(), Length(max=NOTE_MAX)], render_kw={"rows": 2})
    seen = HiddenField()


class ConfirmReceiptForm(Form):
    note = TextAreaField(_l("收货备注"), validators=[Optional(), Length(max=NOTE_MAX)], render_kw={"rows": 2})
    seen = HiddenField()


class StockedReceiptForm(ConfirmReceiptForm):
    """Confirming receipt into stock (a dealer with several warehouses): where the goods go; the
    choices are the dealer's active warehouses, its default first and preselected."""

    warehouse_id = SelectField(_l("入库仓库"), coerce=int, validators=[InputRequired(message=_l("请选择入库仓库。"))])


class ReturnRequestForm(Form):
    reason = TextAreaField(_l("退货原因"), validators=[InputRequired(message=_l("请填写退货原因。")),
                                                       Length(max=NOTE_MAX)], render_kw={"rows": 3})


class AcceptReturnForm(Form):
    disposition = RadioField(_l("退回商品的处理方式"),
                             choices=[SelectChoice(value, label) for value, label in DISPOSITION_LABELS.items()],
                             default=ReturnDisposition.RESTOCK.value,
                             validators=[InputRequired(message=_l("请选择处理方式。"))])
    note = TextAreaField(_l("说明（客户可见）"), validators=[Optional(), Length(max=NOTE_MAX)], render_kw={"rows": 2})


class RefuseReturnForm(Form):
    note = TextAreaField(_l("拒绝原因（客户可见）"), validators=[InputRequired(message=_l("请填写拒绝原因。")),
                                                            Length(max=NOTE_MAX)], render_kw={"rows": 2})


class ReturnFilterForm(GetForm):
    status = SelectField(_l("状态"), choices=[SelectChoice("", _l("全部"))]
                         + [SelectChoice(value, label) for value, label in ReturnStatus.labels().items()],
                         validators=[Optional()])

    def criteria(self) -> dict:
        self.validate()
        return {"status": self.clean("status") or None, "page": self.clean("page", 1)}
