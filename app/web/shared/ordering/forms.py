"""The ordering counter's forms, the same for every role: catalog search (GET), add to cart, a
cart line's quantity, checkout."""
from datetime import date
from types import SimpleNamespace

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from flask import request
from werkzeug.datastructures import MultiDict
from wtforms import (BooleanField, HiddenField, IntegerField, RadioField, SelectChoice, SearchField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import InputRequired, Length, Optional

from app.models.vocabulary import OrderPayment
from app.services.catalog.storefront import MAX_SEARCH_LENGTH
from app.services.ordering.delivery_terms import PaymentOptions, TermsInput
from app.web.common.listing import GetForm


def quantity_field() -> IntegerField:
    return IntegerField(_l("数量"), validators=[InputRequired(message=_l("请输入数量。"))],
                        invalid_value_message=_l("请输入整数数量。"))


def raw_value(field, limit: int = 12) -> str:
    """What the person typed, to show it again next to the error (cut short)."""
    return (field.raw_data or [""])[0][:limit]


class CatalogSearchForm(GetForm):
    q = SearchField(_l("搜索"), validators=[Optional(), Length(max=MAX_SEARCH_LENGTH)],
                    render_kw={"placeholder": _l("名称、拼音、编码或条码")})
    category = SelectField(_l("分类"), coerce=int, validators=[Optional()], validate_choice=False)
    usual = BooleanField(validators=[Optional()])  # only the buyer's usual products ("常购")

    def set_categories(self, categories, locale: str) -> None:
        self.category.choices = category_choices(categories, locale)

    def criteria(self) -> dict:
        self.validate()
        return {"search": self.clean("q", ""), "category_id": self.clean("category") or None,
                "page": self.clean("page", 1), "usual": bool(self.usual.data)}

    def render_key(self) -> tuple:
        """What shared/ordering/_search.html renders of the form besides the language (its
        cached_fragment key): the typed search, the chosen category, the usual flag, the options."""
        return (self.q._value(), self.category.data, bool(self.usual.data),
                tuple((choice.value, str(choice.label)) for choice in self.category.choices or ()))

    def params(self) -> dict:
        """The search as URL parameters (for the pager and the way back), without empty ones."""
        return {k: v for k, v in (("q", self.clean("q", "")), ("category", self.clean("category")),
                                  ("usual", 1 if self.usual.data else None)) if v}


def category_choices(categories, locale: str) -> list[SelectChoice]:
    return [SelectChoice(0, _l("全部分类"))] + [
        SelectChoice(c.id, c.name_en if locale == "en" else c.name_zh) for c in categories]


class BlankCatalogSearch:
    """CatalogSearchForm as a catalog page without a query string has it (nearly every catalog
    page): its criteria, URL parameters and the search box's fragment key are known without a
    form, and building and validating the WTForms form was ~5 % of the page's CPU (issue 15). The
    form itself is built (blank) only when something else of it is asked for: its fields, to render
    the search box the first time (shared/ordering/_search.html is cached per process)."""

    usual = SimpleNamespace(data=False)

    def __init__(self):
        self._form = None
        self._categories = None
        self._choices = []

    def criteria(self) -> dict:
        return {"search": "", "category_id": None, "page": 1, "usual": False}

    def set_categories(self, categories, locale: str) -> None:
        self._categories = (categories, locale)
        self._choices = category_choices(categories, locale)

    def render_key(self) -> tuple:
        return ("", None, False, tuple((choice.value, str(choice.label)) for choice in self._choices))

    def params(self) -> dict:
        return {}

    def __getattr__(self, name: str):
        if name.startswith("_"):  # not set yet (an object being copied): there is no form to ask
            raise AttributeError(name)
        if self._form is None:
            self._form = CatalogSearchForm(formdata=MultiDict())
            self._form.criteria()
            if self._categories is not None:
                self._form.set_categories(*self._categories)
        return getattr(self._form, name)


class AddToCartForm(Form):
    product_id = IntegerField(validators=[InputRequired(message=_l("请选择商品。"))],
                              invalid_value_message=_l("该商品不存在或暂不可订购。"))
    qty = quantity_field()
    next = HiddenField()

    def known_product_id(self) -> int | None:
        """The posted product id when it is a plausible one and nothing but the quantity is wrong."""
        product_id = self.product_id.data
        if product_id and 0 < product_id < 2**63 and not self.other_errors():
            return product_id
        return None

    def other_errors(self) -> list[str]:
        """Every message that is not about the quantity (the product, the way back, the form)."""
        return [str(m) for name, messages in self.errors.items() if name != "qty" for m in messages]


class SetQuantityForm(AddToCartForm):
    """The catalog's stepper: the cart is to hold `qty` of the product (0 removes it). The − and +
    buttons post their own target quantity as `to`, which wins over the typed `qty` (the box
    submitted with Enter)."""

    @classmethod
    def from_request(cls) -> "SetQuantityForm":
        data = request.form.copy()
        if data.get("to"):
            data["qty"] = data["to"]
        return cls(formdata=data)


class CartLineForm(Form):
    qty = quantity_field()


class CouponForm(Form):
    coupon_code = StringField(_l("优惠券码"), validators=[Length(max=60)],
                              render_kw={"autocomplete": "off", "autocapitalize": "characters", "maxlength": 60})


class CheckoutForm(Form):
    idempotency_key = HiddenField(validators=[InputRequired(message=_l("提交无效，请刷新页面后重试。")),
                                              Length(max=64)])
    fingerprint = HiddenField(validators=[Optional(), Length(max=64)])
    accept_changes = HiddenField()
    use_points = HiddenField()  # "1": the page showed points used (services/loyalty/lane.py)
    note = TextAreaField(_l("备注（选填）"), validators=[Optional(), Length(max=200)],
                         render_kw={"rows": 2, "maxlength": 200})
    # Choices and defaults per buyer (`for_buyer`); the service checks them again.
    delivery_date = SelectField(_l("送货日期"), choices=[], validate_choice=False, validators=[Optional()])
    delivery_address = StringField(_l("送货地址"), validators=[Optional(), Length(max=200)],
                                   render_kw={"maxlength": 200, "autocomplete": "street-address"})
    payment_method = RadioField(_l("付款方式"), choices=[], validators=[Optional()], validate_choice=False)

    def for_buyer(self, buyer, dates, payment: PaymentOptions) -> "CheckoutForm":
        """Offer the buyer's delivery dates (the first chosen unless one was posted), its address
        as the default delivery address and the payment methods it may use (its default chosen
        unless one was posted; a buyer not on credit is told why 赊账 is not among them)."""
        self.delivery_date.choices = [SelectChoice(d.isoformat(), format_date(d, "yyyy-MM-dd EEE")) for d in dates]
        if not self.delivery_date.data and dates:
            self.delivery_date.data = dates[0].isoformat()
        if self.delivery_address.data is None and not self.is_submitted():
            self.delivery_address.data = buyer.address or ""
        self.payment_method.choices = [SelectChoice(m, OrderPayment.label_of(m)) for m in payment.methods]
        self.payment_method.description = "" if payment.on_credit else _l("未开通赊销（信用额度），不能赊账。")
        if not self.payment_method.data:
            self.payment_method.data = payment.default
        return self

    def terms(self) -> TermsInput:
        """What was typed, for delivery_terms.checkout_terms (a date that does not parse is None
        only when blank; otherwise the service refuses it by its field)."""
        raw = (self.delivery_date.data or "").strip()
        try:
            when = date.fromisoformat(raw) if raw else None
        except ValueError:
            when = date.min  # not a delivery day: refused next to the field
        return TermsInput(when, self.delivery_address.data, self.payment_method.data or None)

    def lanes(self) -> dict:
        """The buyer's choices of payment lanes, for the checkout service (only when ticked, so
        counters whose service has no such lane are called as before)."""
        return {"use_points": True} if self.use_points.data == "1" else {}

    def broken(self) -> bool:
        """The hidden fields were tampered with or lost: the key cannot be trusted any more."""
        return bool(self.idempotency_key.errors or self.fingerprint.errors)
