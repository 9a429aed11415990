"""Forms for price lists, their items, contract prices and the price check."""
from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.web.common.fields import AUDIENCE_LABELS, CHANNEL_LABELS, TIER_LABELS, YuanField, choices

REQUIRED = _l("必填。")
POSITIVE = _l("必须是大于 0 的整数。")
MAX_BREAK_QTY = 1_000_000  # a quantity break beyond any order
TOO_MANY = _l("不能超过 %(max)d。")


class PriceListForm(Form):
    code = StringField(_l("编码"), validators=[InputRequired(REQUIRED), Length(max=30)])
    name = StringField(_l("名称"), validators=[InputRequired(REQUIRED), Length(max=80)])
    audience = SelectField(_l("客户类型"), choices=choices(AUDIENCE_LABELS), validate_choice=False)
    tier = SelectField(_l("经销商等级"), choices=choices(TIER_LABELS, blank=_l("不限")), validate_choice=False)
    channel = SelectField(_l("渠道"), choices=choices(CHANNEL_LABELS, blank=_l("不限")), validate_choice=False)
    region_code = StringField(_l("地区编码"), validators=[Optional(), Length(max=12)])
    priority = IntegerField(_l("优先级"), default=0, validators=[Optional(), NumberRange(-1000, 1000)])
    valid_from = DateField(_l("生效日期"), validators=[Optional()])
    valid_to = DateField(_l("截止日期"), validators=[Optional()])
    active = BooleanField(_l("启用"), default=True)


class PriceListFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("搜索"), validators=[Optional(), Length(max=60)])
    audience = SelectField(_l("客户类型"), choices=choices(AUDIENCE_LABELS, blank=_l("全部")), validate_choice=False)


class ItemAddForm(Form):
    product_code = StringField(_l("商品编码"), validators=[InputRequired(REQUIRED), Length(max=30)])
    min_qty = IntegerField(_l("起订数量"), default=1, validators=[
        InputRequired(REQUIRED), NumberRange(min=1, message=POSITIVE), NumberRange(max=MAX_BREAK_QTY, message=TOO_MANY)])
    price = YuanField(_l("价格（元）"), validators=[InputRequired(_l("请输入价格。"))])


class ItemEditForm(Form):
    min_qty = IntegerField(_l("起订数量"), validators=[
        InputRequired(REQUIRED), NumberRange(min=1, message=POSITIVE), NumberRange(max=MAX_BREAK_QTY, message=TOO_MANY)])
    price = YuanField(_l("价格（元）"), validators=[InputRequired(_l("请输入价格。"))])


class ContractForm(Form):
    customer_code = StringField(_l("客户编码"), validators=[InputRequired(REQUIRED), Length(max=20)])
    product_code = StringField(_l("商品编码"), validators=[InputRequired(REQUIRED), Length(max=30)])
    min_qty = IntegerField(_l("起订数量"), default=1, validators=[
        InputRequired(REQUIRED), NumberRange(min=1, message=POSITIVE), NumberRange(max=MAX_BREAK_QTY, message=TOO_MANY)])
    price = YuanField(_l("合同价（元）"), validators=[InputRequired(_l("请输入价格。"))])
    valid_from = DateField(_l("生效日期"), validators=[Optional()])
    valid_to = DateField(_l("截止日期"), validators=[Optional()])
    reference = StringField(_l("合同编号"), validators=[Optional(), Length(max=40)])

    def service_values(self) -> dict:
        return {"customer_code": self.customer_code.data, "product_code": self.product_code.data,
                "min_qty": self.min_qty.data, "price_fen": self.price.data, "valid_from": self.valid_from.data,
                "valid_to": self.valid_to.data, "reference": self.reference.data}


class ContractFilterForm(Form):
    class Meta:
        csrf = False

    customer_code = StringField(_l("客户编码"), validators=[Optional(), Length(max=20)])
    product_code = StringField(_l("商品编码"), validators=[Optional(), Length(max=30)])


class PriceCheckForm(Form):
    class Meta:
        csrf = False

    customer_code = StringField(_l("客户编码"), validators=[InputRequired(REQUIRED), Length(max=20)])
    product_code = StringField(_l("商品编码"), validators=[InputRequired(REQUIRED), Length(max=30)])
    qty = IntegerField(_l("数量"), default=1, validators=[InputRequired(REQUIRED), NumberRange(min=1, max=1_000_000, message=POSITIVE)])
    on = DateField(_l("日期"), validators=[Optional()])
