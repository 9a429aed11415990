"""Forms for categories, products and product visibility rules.

Forms parse and check each input on its own; rules that need the database or several fields
(unique codes, GTIN check digit, minimum quantity vs multiple) are app.services.catalog.admin's."""
from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.web.common.fields import (AUDIENCE_LABELS, CHANNEL_LABELS, STATUS_LABELS, TIER_LABELS, YuanField,
                                  choices)

REQUIRED = _l("必填。")
WHOLE = _l("请输入整数。")


def _int_or_none(value):
    return int(value) if value not in (None, "") else None


class CategoryForm(Form):
    code = StringField(_l("分类编码"), validators=[InputRequired(REQUIRED), Length(max=20)])
    name_zh = StringField(_l("中文名称"), validators=[InputRequired(REQUIRED), Length(max=60)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=60)])
    sort_order = IntegerField(_l("排序"), default=0, validators=[Optional(), NumberRange(-9999, 9999)])


class ProductForm(Form):
    code = StringField(_l("商品编码"), validators=[InputRequired(REQUIRED), Length(max=30)])
    gtin = StringField(_l("条码（GTIN）"), validators=[Optional(), Length(max=14)])
    category_id = SelectField(_l("分类"), coerce=_int_or_none, validate_choice=False,
                              invalid_value_message=_l("请选择分类。"))
    name_zh = StringField(_l("中文名称"), validators=[InputRequired(REQUIRED), Length(max=100)])
    name_en = StringField(_l("英文名称"), validators=[Optional(), Length(max=100)])
    spec = StringField(_l("规格"), validators=[Optional(), Length(max=60)])
    unit = StringField(_l("销售单位"), default="箱", validators=[InputRequired(REQUIRED), Length(max=10)])
    pack_size = IntegerField(_l("箱规（每单位件数）"), default=1,
                             validators=[InputRequired(REQUIRED), NumberRange(min=1, max=100000, message=_l("必须是大于 0 的整数。"))])
    min_order_qty = IntegerField(_l("起订量"), default=1,
                                 validators=[InputRequired(REQUIRED), NumberRange(min=1, max=100000, message=_l("必须是大于 0 的整数。"))])
    order_multiple = IntegerField(_l("订购倍数"), default=1,
                                  validators=[InputRequired(REQUIRED), NumberRange(min=1, max=100000, message=_l("必须是大于 0 的整数。"))])
    shelf_life_days = IntegerField(_l("保质期（天）"), default=365,
                                   validators=[InputRequired(REQUIRED), NumberRange(min=1, max=36500, message=_l("必须是大于 0 的整数。"))])
    tax_rate = SelectField(_l("税率"), coerce=_int_or_none, invalid_value_message=_l("税率只能是 13% 或 9%。"), choices=[SelectChoice(13, "13%"), SelectChoice(9, "9%")], default=13,
                           validate_choice=False)
    status = SelectField(_l("状态"), choices=choices(STATUS_LABELS), default="draft", validate_choice=False)
    launch_date = DateField(_l("上市日期"), validators=[Optional()])
    base_price = YuanField(_l("基础价（元）"), validators=[InputRequired(_l("请输入价格。"))])
    image = FileField(_l("图片（JPEG/PNG/WebP）"))

    def service_values(self) -> dict:
        values = {name: field.data for name, field in self._fields.items()
                  if name not in ("csrf_token", "image", "base_price")}
        values["base_price_fen"] = self.base_price.data
        return values

    def uploaded_image(self) -> bytes | None:
        upload = self.image.data
        if upload is None or not getattr(upload, "filename", None):
            return None
        return upload.read()


class ProductFilterForm(Form):
    """The product list's GET filters (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("搜索"), validators=[Optional(), Length(max=60)])
    category = SelectField(_l("分类"), coerce=_int_or_none, validate_choice=False)

    def set_categories(self, categories: list[tuple[int, str]], blank: str) -> None:
        self.category.choices = [SelectChoice("", blank)] + [SelectChoice(i, label) for i, label in categories]
    status = SelectField(_l("状态"), choices=choices(STATUS_LABELS, blank=_l("全部状态")), validate_choice=False)


class VisibilityRuleForm(Form):
    audience = SelectField(_l("客户类型"), choices=choices(AUDIENCE_LABELS, blank=_l("不限")), validate_choice=False)
    tier = SelectField(_l("经销商等级"), choices=choices(TIER_LABELS, blank=_l("不限")), validate_choice=False)
    channel = SelectField(_l("渠道"), choices=choices(CHANNEL_LABELS, blank=_l("不限")), validate_choice=False)
    region_code = StringField(_l("地区编码"), validators=[Optional(), Length(max=12)])
