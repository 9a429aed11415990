"""Retailer forms: catalog search (GET), add to cart, cart line quantity, checkout."""
from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from wtforms import HiddenField, IntegerField, SelectChoice, SearchField, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.services.catalog.storefront import MAX_SEARCH_LENGTH
from app.web.common.listing import GetForm


def quantity_field() -> IntegerField:
    return IntegerField(_l("数量"), validators=[InputRequired(message=_l("请输入数量。"))],
                        invalid_value_message=_l("请输入整数数量。"))


class CatalogSearchForm(GetForm):
    q = SearchField(_l("搜索"), validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)],
                    render_kw={"placeholder": _l("名称、编码、条码或拼音首字母")})
    category = SelectField(_l("分类"), coerce=int, validators=[Optional()], validate_choice=False)

    def set_categories(self, categories, locale: str) -> None:
        self.category.choices = [SelectChoice(0, _l("全部分类"))] + [
            SelectChoice(c.id, c.name_en if locale == "en" else c.name_zh) for c in categories]

    def criteria(self) -> dict:
        self.validate()
        return {"search": self.clean("q", ""), "category_id": self.clean("category") or None,
                "page": self.clean("page", 1)}


class AddToCartForm(Form):
    product_id = IntegerField(validators=[InputRequired(message=_l("请选择商品。"))],
                              invalid_value_message=_l("该商品不存在或暂不可订购。"))
    qty = quantity_field()
    next = HiddenField()


class CartLineForm(Form):
    qty = quantity_field()


class CheckoutForm(Form):
    idempotency_key = HiddenField(validators=[InputRequired(message=_l("提交无效，请刷新页面后重试。")),
                                              Length(max=64)])
    fingerprint = HiddenField(validators=[Optional(), Length(max=64)])
    accept_changes = HiddenField()
    note = TextAreaField(_l("备注（选填）"), validators=[Optional(), Length(max=200)],
                         render_kw={"rows": 2, "maxlength": 200})
