"""Catalog and prices for integrators: categories, products (keyset pages), the price of a
product for a customer and quantity with its reason."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Category, Product
from app.services.accounts.api_clients import customer_for
from app.services.catalog.admin import categories_query
from app.services.catalog.visibility import visible_clause
from app.services.core.errors import DomainError, NotFound
from app.services.core.paging import decode_cursor, encode_cursor
from app.services.pricing.prices import quote_price, region_profile
from app.web.api import bp
from app.web.api.auth import token_required
from app.web.api.errors import error_response
from app.web.api.schemas import (CategoryListSchema, ErrorSchema, PriceQuerySchema, PriceSchema, ProductPageSchema,
                                 ProductListQuerySchema, ProductSchema)


def domain_error(error: DomainError, status: int = 422):
    db.session.rollback()
    errors = getattr(error, "errors", None)
    if errors and isinstance(errors[0], dict):
        return error_response(status, errors=errors)
    return error_response(status, error.message, error.field)


@bp.route("/categories", methods=["GET"])
@token_required("catalog")
@bp.response(200, CategoryListSchema)
def categories():
    """All product categories"""
    items = list(db.session.scalars(categories_query()))
    return {"items": items}


def _products_query(args):
    """What the client may see: the brand every product; a dealer or retailer what it may order."""
    query = select(Product).options(joinedload(Product.category))
    if g.api_client.org.kind != "brand":
        query = query.where(visible_clause(region_profile(g.api_client.org)))
    if args.get("category_code"):
        query = query.where(Product.category.has(Category.code == args["category_code"]))
    if args.get("q"):
        like = "%" + args["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Product.code.like(like, escape="\\"), Product.name_zh.like(like, escape="\\"),
                                Product.name_en.like(like, escape="\\")))
    return query


@bp.route("/products", methods=["GET"])
@token_required("catalog")
@bp.arguments(ProductListQuerySchema, location="query", error_status_code=400)
@bp.response(200, ProductPageSchema)
@bp.alt_response(400, schema=ErrorSchema, description="A query parameter is not valid")
def products(args):
    """Products, by code (keyset pages: `next_cursor`)"""
    query = _products_query(args).order_by(Product.code)
    if args.get("cursor"):
        try:
            [after] = decode_cursor(args["cursor"], 1)
        except DomainError as error:
            return domain_error(error, 400)
        query = query.where(Product.code > str(after))
    rows = list(db.session.scalars(query.limit(args["limit"] + 1)))
    more = len(rows) > args["limit"]
    rows = rows[:args["limit"]]
    return {"items": rows, "next_cursor": encode_cursor([rows[-1].code]) if more else None}


@bp.route("/products/<code>", methods=["GET"])
@token_required("catalog")
@bp.response(200, ProductSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No such product (or not one you may order)")
def product(code: str):
    """One product by code"""
    found = db.session.scalar(_products_query({}).where(Product.code == code))
    if found is None:
        return error_response(404, _("商品不存在。"), field="code")
    return found


@bp.route("/prices", methods=["GET"])
@token_required("catalog")
@bp.arguments(PriceQuerySchema, location="query", error_status_code=400)
@bp.response(200, PriceSchema)
@bp.alt_response(400, schema=ErrorSchema, description="A query parameter is not valid")
@bp.alt_response(404, schema=ErrorSchema, description="No such customer of yours, or a product it may not order")
@bp.alt_response(422, schema=ErrorSchema, description="A brand token must name the customer")
def price(args):
    """The price of a product for a customer and quantity, with the reason (contract, price list
    with its quantity break, or the base price)"""
    try:
        customer = customer_for(g.api_client, args.get("customer_code"))
    except DomainError as error:
        return domain_error(error, 404 if isinstance(error, NotFound) else 422)
    profile = region_profile(customer)
    product_id = db.session.scalar(select(Product.id).where(Product.code == args["product_code"],
                                                            visible_clause(profile)))
    found = quote_price(profile, product_id, args["qty"]) if product_id is not None else None
    if found is None:
        return error_response(404, _("该商品不存在或暂不可订购。"), field="product_code")
    return {"product_code": args["product_code"], "customer_code": customer.code, "qty": args["qty"],
            "unit_price_fen": found.unit_price_fen, "total_fen": found.total_fen(), "source": found.source,
            "reference": found.reference, "reason": str(found.reason)}
