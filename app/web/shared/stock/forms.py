"""Forms of the stock pages (admin and dealer share them)."""
from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, FieldList, FormField, HiddenField, IntegerField, SelectChoice,
                     SelectField, StringField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.models import CHANNELS, DEALER_TIERS
from app.web.common.fields import AUDIENCE_LABELS, CHANNEL_LABELS


class BalanceFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("商品"), validators=[Optional(), Length(max=60)])
    warehouse_id = SelectField(_l("仓库"), coerce=int, validate_choice=False, validators=[Optional()])
    owner = SelectField(_l("归属"), choices=[SelectChoice("", _l("全部")), SelectChoice("brand", _l("品牌仓")), SelectChoice("dealer", _l("经销商仓"))],
                        validators=[Optional()])
    low = BooleanField(_l("仅低于再订货点"))


class ExpiringFilterForm(Form):
    class Meta:
        csrf = False

    days = IntegerField(_l("天数内到期"), default=30, validators=[Optional(), NumberRange(min=0, max=3650)])
    warehouse_id = SelectField(_l("仓库"), coerce=int, validate_choice=False, validators=[Optional()])


class ReceiveForm(Form):
    batch_no = StringField(_l("批号"), validators=[DataRequired(), Length(max=40)])
    qty = IntegerField(_l("数量"), validators=[InputRequired(), NumberRange(min=1, max=10_000_000)])
    production_date = DateField(_l("生产日期"), validators=[Optional()])
    expiry_date = DateField(_l("到期日"), validators=[Optional()])
    reason = StringField(_l("备注"), validators=[Optional(), Length(max=200)])


class AdjustForm(Form):
    lot_id = SelectField(_l("批次"), coerce=int, validators=[InputRequired()])
    delta = IntegerField(_l("调整数量（负数为调减）"), validators=[InputRequired(),
                                                          NumberRange(min=-10_000_000, max=10_000_000)])
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(max=200)])


class ReorderRuleForm(Form):
    safety_stock = IntegerField(_l("安全库存"), validators=[InputRequired(), NumberRange(min=0, max=10_000_000)])
    reorder_point = IntegerField(_l("再订货点"), validators=[InputRequired(), NumberRange(min=0, max=10_000_000)])
    lead_time_days = IntegerField(_l("补货周期（天）"), default=7, validators=[InputRequired(), NumberRange(min=1, max=365)])


class ComputeRulesForm(Form):
    days = IntegerField(_l("参考天数"), default=90, validators=[InputRequired(), NumberRange(min=7, max=365)])
    overwrite_manual = BooleanField(_l("覆盖手工设置的规则"))


class CostForm(Form):
    cost = StringField(_l("单位成本（元）"), validators=[DataRequired(), Length(max=20)])


class TransferLineForm(Form):
    class Meta:
        csrf = False

    product_code = StringField(_l("商品编码"), validators=[Optional(), Length(max=30)])
    qty = IntegerField(_l("数量"), validators=[Optional(), NumberRange(min=1, max=10_000_000)])


class TransferForm(Form):
    source_id = SelectField(_l("调出仓库"), coerce=int, validators=[InputRequired()])
    dest_id = SelectField(_l("调入仓库"), coerce=int, validators=[InputRequired()])
    note = StringField(_l("备注"), validators=[Optional(), Length(max=200)])
    lines = FieldList(FormField(TransferLineForm), min_entries=5, max_entries=50)


class CountOpenForm(Form):
    warehouse_id = SelectField(_l("仓库"), coerce=int, validators=[InputRequired()])
    product_code = StringField(_l("只盘点商品（编码，可空）"), validators=[Optional(), Length(max=30)])
    note = StringField(_l("备注"), validators=[Optional(), Length(max=200)])


class CountLineForm(Form):
    class Meta:
        csrf = False

    line_id = HiddenField()
    counted = IntegerField(_l("实盘数量"), validators=[Optional(), NumberRange(min=0, max=10_000_000)])


class CountEntryForm(Form):
    lines = FieldList(FormField(CountLineForm), max_entries=5000)


class ImportForm(Form):
    file = FileField(_l("文件（CSV 或 XLSX）"), validators=[FileRequired()])


class TurnoverFilterForm(Form):
    class Meta:
        csrf = False

    warehouse_id = SelectField(_l("仓库"), coerce=int, validate_choice=False, validators=[Optional()])
    start = DateField(_l("开始日期"), validators=[Optional()])
    end = DateField(_l("结束日期"), validators=[Optional()])


class WarehouseForm(Form):
    code = StringField(_l("编码"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=80)])
    region_code = StringField(_l("地区编码（不填则为本单位所在地区）"), validators=[Optional(), Length(max=12)])
    address = StringField(_l("地址"), validators=[Optional(), Length(max=200)])
    is_default = BooleanField(_l("默认发货仓"))


class ShelfLifeRuleForm(Form):
    name = StringField(_l("名称"), validators=[DataRequired(), Length(max=60)])
    audience = SelectField(_l("客户类型"), choices=[SelectChoice("", _l("全部"))] + [
                               SelectChoice(code, label) for code, label in AUDIENCE_LABELS.items()],
                           validators=[Optional()])
    tier = SelectField(_l("等级"), choices=[SelectChoice("", _l("全部"))] + [SelectChoice(t) for t in DEALER_TIERS], validators=[Optional()])
    channel = SelectField(_l("渠道"), choices=[SelectChoice("", _l("全部"))] + [SelectChoice(c, CHANNEL_LABELS.get(c, c)) for c in CHANNELS],
                          validators=[Optional()])
    min_remaining_pct = IntegerField(_l("最低剩余保质期（%）"), validators=[InputRequired(), NumberRange(min=1, max=100)])
