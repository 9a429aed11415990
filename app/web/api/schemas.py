"""marshmallow schemas of the API: they validate requests (unknown fields, types, ranges) and
shape responses, and flask-smorest builds the OpenAPI document from them."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, fields, validate

from app.models import OrderStatus
from app.models.vocabulary import OrderPayment
from app.services.ordering.cart import MAX_CART_LINES, MAX_LINE_QTY
from app.services.ordering.delivery_terms import DELIVERY_HORIZON, MAX_ADDRESS

MAX_PAGE = 1_000_000
MAX_LIMIT = 100


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


def strict_int(**kw):
    """An integer as a JSON number (no strings, no 1.5, no booleans)."""
    return fields.Integer(strict=True, **kw)


# --- errors ----------------------------------------------------------------------------------

class ErrorItemSchema(Schema):
    code = fields.String(required=True, metadata={"example": "invalid"})
    message = fields.String(required=True)
    field = fields.String(allow_none=True, metadata={"description": "The JSON key or header at fault"})
    row = fields.Integer(metadata={"description": "1-based index of the offending line, when the request has lines"})


class ErrorSchema(Schema):
    """Every error answer: the first problem at the top, all of them in `errors`."""
    code = fields.String(required=True, metadata={"example": "not_found", "description":
                         "invalid, not_found, conflict, unauthorized, forbidden, rate_limited, "
                         "precondition_failed, precondition_required, idempotency_key_reused, ..."})
    message = fields.String(required=True)
    field = fields.String(allow_none=True)
    errors = fields.List(fields.Nested(ErrorItemSchema), required=True)


VALIDATION_MESSAGES = {
    "Unknown field.": _l("未知字段。"),
    "Missing data for required field.": _l("缺少必填字段。"),
    "Not a valid integer.": _l("应为整数。"),
    "Not a valid string.": _l("应为字符串。"),
    "Not a valid list.": _l("应为列表。"),
    "Invalid input type.": _l("类型错误。"),
    "Field may not be null.": _l("不能为 null。"),
    "Not a valid datetime.": _l("应为 ISO 8601 时间。"),
    "Not a valid date.": _l("应为日期（YYYY-MM-DD）。"),
}


def translate_validation_message(text: str) -> str:
    """marshmallow's English messages in the reader's language where we know them."""
    known = VALIDATION_MESSAGES.get(text)
    return str(known) if known is not None else text


# --- catalog ---------------------------------------------------------------------------------

class CategorySchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)


class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategorySchema), required=True)


class ProductSchema(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"example": "WATER-550"})
    gtin = fields.String(allow_none=True)
    category_code = fields.Function(lambda p: p.category.code, required=True)
    name_zh = fields.String(required=True)
    name_en = fields.String(required=True)
    spec = fields.String(required=True)
    unit = fields.String(required=True)
    pack_size = fields.Integer(required=True)
    min_order_qty = fields.Integer(required=True)
    order_multiple = fields.Integer(required=True)
    tax_rate = fields.Integer(required=True, metadata={"description": "percent"})
    status = fields.String(required=True)
    base_price_fen = fields.Integer(required=True)


class ListQuerySchema(StrictSchema):
    class Meta:
        unknown = RAISE

    cursor = fields.String(validate=validate.Length(max=200), metadata={"description": "next_cursor of the previous page"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT))


class ProductListQuerySchema(ListQuerySchema):
    category_code = fields.String(validate=validate.Length(1, 20))
    q = fields.String(validate=validate.Length(1, 60), metadata={"description": "code or name contains"})


class ProductPageSchema(Schema):
    items = fields.List(fields.Nested(ProductSchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class PriceQuerySchema(StrictSchema):
    product_code = fields.String(required=True, validate=validate.Length(1, 30))
    customer_code = fields.String(validate=validate.Length(1, 20), metadata={
        "description": "the customer (dealer or retailer); default: the token's organisation"})
    qty = fields.Integer(load_default=1, validate=validate.Range(1, MAX_LINE_QTY))


class PriceSchema(Schema):
    product_code = fields.String(required=True)
    customer_code = fields.String(required=True)
    qty = fields.Integer(required=True)
    unit_price_fen = fields.Integer(required=True)
    total_fen = fields.Integer(required=True)
    source = fields.String(required=True, metadata={"enum": ["contract", "price_list", "base"]})
    reference = fields.String(required=True, metadata={"description": "contract reference or price list code"})
    reason = fields.String(required=True, metadata={"example": "价目表 经销商一级价（满 10 起）"})


# --- quotes and orders -----------------------------------------------------------------------

class LineInSchema(StrictSchema):
    product_code = fields.String(required=True, validate=validate.Length(1, 30))
    qty = strict_int(required=True, validate=validate.Range(1, MAX_LINE_QTY),
                     metadata={"description": "cases (the product's sales unit)"})


class LinesInSchema(StrictSchema):
    customer_code = fields.String(validate=validate.Length(1, 20), metadata={
        "description": "the buyer (a brand token: any dealer or retailer; a dealer token: itself or "
                       "a retailer it serves); default: the token's organisation"})
    lines = fields.List(fields.Nested(LineInSchema), required=True,
                        validate=validate.Length(1, MAX_CART_LINES))


class OrderCreateSchema(LinesInSchema):
    """The checkout fields are checked by the same rules as the web checkout
    (app.services.ordering.delivery_terms); a blank one takes the web's default."""
    note = fields.String(validate=validate.Length(max=500), load_default="")
    delivery_date = fields.Date(allow_none=True, load_default=None, metadata={
        "description": "a day the seller delivers to the buyer (a retailer's route days) within the next "
                       f"{DELIVERY_HORIZON} days from tomorrow, Asia/Shanghai; default: the first such day"})
    delivery_address = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=MAX_ADDRESS),
                                     metadata={"description": "default: the buyer's address on file"})
    payment_method = fields.String(allow_none=True, load_default=None,
                                   validate=validate.OneOf([p.value for p in OrderPayment]), metadata={
                                       "description": "credit (on account: only for a buyer on credit, "
                                                      "otherwise a 422 naming this field), prepayment (the "
                                                      "buyer's prepayment balance with the seller) or cod (cash "
                                                      "on delivery); default: credit for a buyer on credit, "
                                                      "cod otherwise"})


class QuoteLineSchema(Schema):
    product_code = fields.String(required=True)
    qty = fields.Integer(required=True)
    available = fields.Boolean(required=True, metadata={"description": "the customer may order it"})
    unit_price_fen = fields.Integer(required=True)
    line_total_fen = fields.Integer(required=True)
    tax_fen = fields.Integer(required=True)
    reason = fields.String(required=True, metadata={"description": "why this price"})
    problem = fields.String(allow_none=True, required=True, metadata={"description": "why the quantity cannot be ordered"})


class AdjustmentSchema(Schema):
    kind = fields.String(required=True)
    amount_fen = fields.Integer(required=True)
    reason = fields.String(required=True)


class QuoteSchema(Schema):
    customer_code = fields.String(required=True)
    lines = fields.List(fields.Nested(QuoteLineSchema), required=True)
    adjustments = fields.List(fields.Nested(AdjustmentSchema), required=True,
                              metadata={"description": "order-level adjustments (promotions, coupons), when any"})
    total_fen = fields.Integer(required=True)
    tax_fen = fields.Integer(required=True)


class OrderLineSchema(Schema):
    product_code = fields.Function(lambda line: line.product.code, required=True)
    qty = fields.Integer(required=True)
    unit_price_fen = fields.Integer(required=True)
    line_total_fen = fields.Integer(required=True)
    tax_fen = fields.Integer(required=True)
    reason = fields.Function(lambda line: str(line.price_basis) if line.price_basis else (line.price_reason or ""),
                             required=True)


class OrderSummarySchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True, metadata={"example": "SO2612060000042"})
    status = fields.String(required=True, metadata={"enum": [s.value for s in OrderStatus]})
    buyer_code = fields.Function(lambda o: o.buyer.code, required=True)
    seller_code = fields.Function(lambda o: o.seller.code, required=True)
    channel = fields.String(required=True)
    line_count = fields.Integer(required=True)
    total_fen = fields.Integer(required=True)
    tax_fen = fields.Integer(required=True)
    created_at = fields.AwareDateTime(required=True)
    updated_at = fields.AwareDateTime(required=True)


class OrderSchema(OrderSummarySchema):
    note = fields.String(required=True)
    delivery_date = fields.Date(allow_none=True, required=True)
    delivery_address = fields.String(allow_none=True, required=True)
    payment_method = fields.String(allow_none=True, required=True, metadata={"enum": [p.value for p in OrderPayment]})
    lines = fields.List(fields.Nested(OrderLineSchema), required=True)


class OrderPageSchema(Schema):
    items = fields.List(fields.Nested(OrderSummarySchema), required=True)
    next_cursor = fields.String(allow_none=True, required=True, metadata={
        "description": "pass as `cursor` for the next page; null on the last page"})


class OrderListQuerySchema(ListQuerySchema):
    status = fields.String(validate=validate.OneOf([s.value for s in OrderStatus]))
    customer_code = fields.String(validate=validate.Length(1, 20), metadata={"description": "the buyer"})
    created_from = fields.AwareDateTime(metadata={"description": "inclusive, ISO 8601 with offset"})
    created_to = fields.AwareDateTime(metadata={"description": "exclusive"})


class CancelSchema(StrictSchema):
    note = fields.String(validate=validate.Length(max=200), load_default="")



# --- stock -----------------------------------------------------------------------------------

class StockSyncLineSchema(Schema):
    """Validated row by row by the stock service (the same rules as the CSV import), so that
    every row's problems come back at once."""
    kind = fields.String(required=True, validate=validate.OneOf(["receipt", "level"]), metadata={
        "description": "receipt: add qty to the batch; level: the batch now holds exactly qty"})
    warehouse_code = fields.String(required=True)
    product_code = fields.String(required=True)
    batch_no = fields.String(required=True, validate=validate.Length(max=40))
    qty = strict_int(required=True, validate=validate.Range(min=0))
    production_date = fields.Date()
    expiry_date = fields.Date(metadata={"description": "default: production_date + the product's shelf life; "
                                                       "a new batch needs one of the two"})
    external_ref = fields.String(required=True, validate=validate.Length(max=80), metadata={
        "description": "unique per line for your organisation; a line sent again changes nothing"})
    reason = fields.String(validate=validate.Length(max=200))


class StockSyncResultLineSchema(Schema):
    row = fields.Integer(required=True)
    external_ref = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["applied", "duplicate"]})


class StockSyncResultSchema(Schema):
    applied = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    client = fields.String(required=True)
    lines = fields.List(fields.Nested(StockSyncResultLineSchema), required=True)


class StockLevelSchema(Schema):
    warehouse_code = fields.String(required=True)
    product_code = fields.String(required=True)
    on_hand = fields.Integer(required=True)
    reserved = fields.Integer(required=True)
    available = fields.Integer(required=True)
    etag = fields.String(required=True, metadata={
        "description": "the row's ETag (changes with every change of the row): send it as If-Match to "
                       "POST /stock/levels/{warehouse_code}/{product_code}", "example": '"stock-3-17-42"'})


class StockRowChangeSchema(StrictSchema):
    """One receipt or batch level for the row named by the path (the fields of a stock sync line)."""
    kind = fields.String(required=True, validate=validate.OneOf(["receipt", "level"]), metadata={
        "description": "receipt: add qty to the batch; level: the batch now holds exactly qty"})
    batch_no = fields.String(required=True, validate=validate.Length(1, 40))
    qty = strict_int(required=True, validate=validate.Range(min=0, max=10_000_000))
    production_date = fields.Date()
    expiry_date = fields.Date(metadata={"description": "default: production_date + the product's shelf life; "
                                                       "a new batch needs one of the two"})
    external_ref = fields.String(required=True, validate=validate.Length(1, 80), metadata={
        "description": "unique per change for your organisation; the same change sent again changes nothing"})
    reason = fields.String(validate=validate.Length(max=200))


class StockLevelsQuerySchema(StrictSchema):
    warehouse_code = fields.String(validate=validate.Length(1, 20))
    product_code = fields.String(validate=validate.Length(1, 30))
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))


class StockLevelPageSchema(Schema):
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    total = fields.Integer(required=True)
    items = fields.List(fields.Nested(StockLevelSchema), required=True)
