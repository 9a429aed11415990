"""Orders: checkout exactly once, the order lists each party may see, and "order again".

Checkout (`submit_order`) re-prices every cart line at submit. It refuses (PricesChanged) when
what the buyer confirmed is not what would be ordered: a price or an availability changed since
the line was added, or the cart changed since the page was shown (the page's fingerprint differs).
The buyer sees exactly which lines changed and confirms again (`accept_changes`), so nothing is
ever ordered silently at a different price.

Exactly once: every submit carries an idempotency key, and (buyer_id, idempotency_key) is
unique in the database. A repeat with the same key and the same cart fingerprint returns the
order already made (also when the first submit has emptied the cart); the same key with another
cart is refused. Concurrent repeats are settled by the unique constraint itself
(`INSERT ... ON CONFLICT DO NOTHING`: the second insert waits for the first transaction and then
finds its order), and the cart rows are locked (`FOR UPDATE`) so two different keys cannot turn
one cart into two orders; on SQLite, where writes are serialised, the second of those finds
its cart lines already consumed and is refused.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import Integer, String, bindparam, cast, delete, func, insert, literal_column, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload, with_expression
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.models import (CartLine, Order, OrderChannel, OrderKind, OrderLine, OrderStatus, Organisation,
                        Product, User)
from app.services.core import audit
from app.services.core.fixed_sql import fixed
from app.services.ordering import cart
from app.services.ordering import delivery_terms, lifecycle, routing
from app.services.core.errors import DomainError, NotFound
from app.services.core.paging import Page, paginate
from app.services.core.clock import LOCAL, now_utc
from app.services.core.messages import joined, message, stored
from app.services.promotions import coupons as promo_coupons
from app.services.promotions import redemption as promo_redemption
from app.services.rebates import lane as rebate_lane
from app.services.loyalty import lane as points_lane

IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")
ORDER_AUDIT_FIELDS = ["number", "status", "buyer_id", "seller_id", "channel", "line_count", "total_fen", "tax_fen"]


class PricesChanged(DomainError):
    """What would be ordered differs from what the buyer confirmed. `quote` is today's cart;
    `lines` are the lines whose price or availability changed; `quote.dropped` says which
    promotions left the cart since (e.g. "活动额度已用完")."""

    def __init__(self, quote: cart.CartQuote):
        self.quote = quote
        self.lines = quote.changed_lines
        if quote.dropped:
            message = _("优惠有变化：%(reasons)s。请确认后再提交。",
                        reasons=_("、").join(str(reason) for reason in quote.dropped))
        elif self.lines:
            message = _("%(n)d 种商品的价格或供应有变化，请确认后再提交。", n=len(self.lines))
        else:
            message = _("购物车内容已变化，请确认后再提交。")
        super().__init__(message)


class KeyReused(DomainError):
    """The idempotency key already made an order from a different cart."""


@dataclass
class Submission:
    order: Order
    created: bool  # False: a repeat of a submit that had already made this order
    dropped: list[Product] = field(default_factory=list)  # unavailable lines the buyer agreed to drop


def order_number(order_id: int, created_at) -> str:
    """"SO" + local date (yymmdd) + the id on 7 digits, e.g. SO2501310000042."""
    return f"SO{created_at.astimezone(LOCAL):%y%m%d}{order_id:07d}"


def submit_order(owner: User, buyer: Organisation, idempotency_key: str, fingerprint: str | None = None,
                 accept_changes: bool = False, channel: str = OrderChannel.WEB.value, note: str = "",
                 terms: delivery_terms.TermsInput | None = None, use_points: bool = False,
                 defer_history: bool = False) -> Submission:
    """Turn the cart `owner` built for `buyer` into one order routed to the buyer's seller.

    `fingerprint` is CartQuote.fingerprint of the cart the buyer saw (None: no check, e.g. an API
    client that quotes and submits at once); `accept_changes` says the buyer saw and accepted the
    changed lines. `terms`: the delivery date, address and payment method typed at checkout
    (delivery_terms.checkout_terms: blanks take the defaults). `defer_history`: the order's
    "submitted" status history, audit row and outbox event are left for its next status change in
    this transaction to write with its own (lifecycle.created_now; the caller makes sure one is
    written: approval.place_order). Returns the order and whether this call created it."""
    key = (idempotency_key or "").strip()
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise DomainError(_("提交无效，请刷新页面后重试。"), field="idempotency_key")
    if channel not in {c.value for c in OrderChannel}:
        raise DomainError(_("未知的下单渠道。"), field="channel")

    quote = cart.quote_cart(owner, buyer, lock=True, use_points=use_points)
    refusal = _refusal(quote, fingerprint, accept_changes)
    if refusal is not None:
        # A repeat of a submit that made its order (and emptied the cart) is not refused: it
        # returns that order. A cart that may be ordered goes on to the INSERT, whose unique key
        # finds a repeat without a query of its own.
        existing = _order_by_key(buyer.id, key)
        if existing is not None:
            return _repeat(existing, fingerprint, quote)
        raise refusal
    lines = quote.orderable_lines

    seller = routing.seller_for(buyer)
    chosen = delivery_terms.checkout_terms(buyer, terms, facts=quote.checkout_facts)
    created_at = now_utc()
    order = _insert_once(dict(
        buyer_id=buyer.id, seller_id=seller.id, placed_by_id=owner.id, channel=channel,
        status=OrderStatus.SUBMITTED.value, line_count=len({line.product.id for line in lines}), total_fen=quote.total_fen, tax_fen=quote.tax_fen,
        idempotency_key=key, cart_fingerprint=quote.fingerprint, note=(note or "").strip()[:500],
        created_at=created_at, updated_at=created_at, **chosen.columns()))
    if order is None:  # a submit with this key made its order already (or is making it, concurrently)
        return _repeat(_order_by_key(buyer.id, key), fingerprint, quote)
    order_id = order.id
    # Its first status change need not read the status back, and writes the "submitted" history
    # below with its own (or the caller does: defer_history).
    history = lifecycle.History()
    lifecycle.created_now(order_id, history if defer_history else None)
    # Budgets only once this call owns the order (a repeat consumes nothing); a refusal rolls back.
    refused = promo_redemption.consume(quote.applied, buyer.id, quote.buyer_facts)
    if refused:  # a budget ran out since the quote: the buyer sees the cart without it, and confirms again
        requote = cart.quote_cart(owner, buyer, exclude=frozenset(pid for pid, _code in refused), use_points=use_points)
        names = {a.promotion.id: a.promotion.name for a in quote.applied}
        requote.dropped = [joined([names[pid], message(code)], "：") for pid, code in refused]
        raise PricesChanged(requote)

    if order.number is None:  # PostgreSQL numbers the order in its INSERT (_insert_once)
        order.number = order_number(order_id, created_at)
    rows = _insert_lines(order_id, lines)
    products = {line.product.id: line.product for line in lines}
    for row in rows:
        set_committed_value(row, "product", products[row.product_id])
    if quote.applied:
        promo_redemption.record(order_id, buyer.id, quote.applied, _adjustments(rows, lines), quote.buyer_facts)
    rebate_lane.consume(order_id, owner, buyer, quote)  # the rebate balance it uses (PricesChanged if gone)
    points_lane.consume(order_id, quote, buyer.id)  # points by conditional UPDATE, pending points gifts
    if quote.points and quote.points.pending_gifts:  # the lane may have added gift lines and counted them
        db.session.flush()
        db.session.refresh(order, ["line_count"])
    else:  # the lines as inserted are all the order's lines: the automatic review reads them from here
        set_committed_value(order, "lines", rows)
        set_committed_value(order, "buyer", buyer)
        set_committed_value(order, "seller", seller)
    consumed = db.session.execute(_CONSUME_CART_LINES, {"line_ids": [line.line_id for line in quote.lines]}).rowcount
    if quote.coupon_code:
        promo_coupons.remove_coupon(owner, buyer)
    if consumed != len(quote.lines):
        # Another submit of the same cart (another key) committed first; the caller rolls back.
        raise DomainError(_("购物车刚刚已被提交，请查看我的订单。"))
    db.session.flush()
    history.add(order, None, owner.id, created_at, audit_row=audit.row(
        owner.id, "order.submit", "order", order_id, None, audit.snapshot(order, ORDER_AUDIT_FIELDS)))
    if not defer_history:
        history.write()
    return Submission(order, True, [line.product for line in quote.lines if not line.available])


# The cart's lines the order consumes (Core, built once; the ids are bound).
_CONSUME_CART_LINES = delete(CartLine.__table__).where(
    CartLine.__table__.c.id.in_(bindparam("line_ids", expanding=True)))


def _insert_lines(order_id: int, lines: list[cart.QuoteLine]) -> list[OrderLine]:
    """One INSERT of the order's lines whatever their number, RETURNING them as ORM objects (with
    their ids, in id order): the automatic review and the promotions' adjustments read them
    without a query. On PostgreSQL the lines travel as one JSON parameter (`json_to_recordset`):
    the same statement text for any number of lines, parsed once per process by SQLAlchemy and the
    driver, and one value to send (a multi-row VALUES list of 20 lines, 220 parameters, was built
    and parsed again on every checkout)."""
    values = [dict(product_id=line.product.id, qty=line.qty, unit_price_fen=line.unit_price_fen,
                   price_basis=line.price.reason if line.price else None, tax_rate=line.product.tax_rate,
                   line_total_fen=line.line_total_fen, tax_fen=line.tax_fen, discount_fen=line.discount_fen,
                   is_gift=line.is_gift) for line in lines]
    if db.session.get_bind().dialect.name == "postgresql":
        for row in values:
            row["price_basis"] = stored(row["price_basis"])
        rows = db.session.scalars(select(OrderLine).from_statement(_json_lines_insert()),
                                  {"order_id": order_id, "lines": json.dumps(values)}).all()
    else:  # (rows come back in any order: asking for the parameters' order makes SQLite insert row by row)
        rows = db.session.scalars(insert(OrderLine).returning(OrderLine),
                                  [dict(row, order_id=order_id, price_reason="") for row in values]).all()
    rows.sort(key=lambda row: row.id)
    return rows


# The columns _insert_lines sends for each line (besides the order), with their SQL types.
_LINE_COLUMNS = {"product_id": "integer", "qty": "integer", "unit_price_fen": "bigint", "price_basis": "json",
                 "tax_rate": "integer", "line_total_fen": "bigint", "tax_fen": "bigint", "discount_fen": "bigint",
                 "is_gift": "boolean"}


@functools.cache
def _json_lines_insert():
    """PostgreSQL: INSERT ... SELECT FROM json_to_recordset(:lines) RETURNING the lines (built once)."""
    names = ", ".join(_LINE_COLUMNS)
    record = ", ".join(f"{name} {kind}" for name, kind in _LINE_COLUMNS.items())
    returning = ", ".join(column.name for column in OrderLine.__table__.c)
    sql = (f"INSERT INTO order_lines (order_id, price_reason, {names}) "
           f"SELECT :order_id, '', {names} FROM json_to_recordset(CAST(:lines AS json)) AS v({record}) "
           f"RETURNING {returning}")
    return (text(sql).bindparams(bindparam("order_id", type_=Integer), bindparam("lines", type_=String))
            .columns(*OrderLine.__table__.c))


def _refusal(quote: cart.CartQuote, fingerprint: str | None, accept_changes: bool) -> DomainError | None:
    """Why this cart cannot be ordered as confirmed, or None when it can."""
    if not quote.lines:
        return DomainError(_("购物车是空的。"))
    if fingerprint and fingerprint != quote.fingerprint:
        return PricesChanged(quote)  # with quote.dropped: which promotions left, and why
    if quote.changed_lines and not accept_changes:
        return PricesChanged(quote)
    if quote.invalid_lines:
        return DomainError(_("请先修改标出的商品数量。"))
    if not quote.orderable_lines:
        return DomainError(_("购物车中没有可订购的商品。"))
    return None


def _adjustments(rows: list[OrderLine], lines: list[cart.QuoteLine]) -> list[dict]:
    """Each paid line's discounts per promotion, against the order line ids (`rows`, the inserted
    order lines; a product appears once among an order's paid lines)."""
    paid = {row.product_id: row.id for row in rows if not row.is_gift}
    return [dict(order_line_id=paid[line.product.id], promotion_id=promotion_id, amount_fen=fen, label=label)
            for line in lines if not line.is_gift for promotion_id, label, fen in line.adjustments if fen]


def _order_by_key(buyer_id: int, key: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.buyer_id == buyer_id, Order.idempotency_key == key))


def _repeat(existing: Order, fingerprint: str | None, quote: cart.CartQuote) -> Submission:
    presented = fingerprint or quote.fingerprint
    if existing.cart_fingerprint == presented or (fingerprint is None and not quote.lines):
        return Submission(existing, False)
    raise KeyReused(_("这次提交已生成过订单 %(number)s，但购物车内容不同。请检查购物车后重新提交。",
                      number=existing.number))


def _insert_once(values: dict) -> Order | None:
    """Insert the order row unless (buyer_id, idempotency_key) exists: the new order (its row as
    inserted, RETURNING it: no read-back), or None when the key is taken, by an earlier submit or
    a concurrent transaction (the unique constraint decides, after it commits)."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        values = {"kind": OrderKind.STANDARD.value, **values}  # the column's default, given
        names = tuple(values)
        statement = fixed("orders.insert_once:" + ",".join(names), lambda: _numbered_insert(names))
        params = {f"v_{name}": value for name, value in values.items()}
        params["number_prefix"] = order_number(0, values["created_at"])[:-7]
        return db.session.scalars(select(Order).from_statement(statement), params).first()
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as upsert

        statement = (upsert(Order).values(**values)
                     .on_conflict_do_nothing(index_elements=["buyer_id", "idempotency_key"])
                     .returning(Order))
        return db.session.scalars(statement).first()
    try:  # other databases: the same constraint, caught in a savepoint
        with db.session.begin_nested():
            order = Order(**values)
            db.session.add(order)
        return order
    except IntegrityError:
        return None


def _numbered_insert(names: tuple[str, ...]):
    """PostgreSQL: the order's INSERT that also writes its number (order_number: the id comes from
    the sequence in the same statement), so no UPDATE follows. Bound parameters only (`v_<column>`,
    `number_prefix`), compiled once per process (core.fixed_sql)."""
    from sqlalchemy.dialects.postgresql import insert as upsert

    table = Order.__table__
    new = select(func.nextval(literal_column("pg_get_serial_sequence('orders', 'id')")).label("id")).subquery("new_order")
    digits = cast(new.c.id, String)
    number = bindparam("number_prefix", type_=String) + func.lpad(digits, func.greatest(7, func.length(digits)), "0")
    row = select(new.c.id, number, *[bindparam(f"v_{name}", type_=table.c[name].type) for name in names])
    return (upsert(table).from_select(["id", "number", *names], row)
            .on_conflict_do_nothing(index_elements=["buyer_id", "idempotency_key"]).returning(*table.c))


# -- who sees which orders -----------------------------------------------------------------

def orders_bought_by(org_id: int):
    """Orders the organisation placed (a retailer's own orders)."""
    return select(Order).where(Order.buyer_id == org_id)


def orders_sold_by(org_id: int):
    """Orders routed to the organisation (a dealer's incoming orders)."""
    return select(Order).where(Order.seller_id == org_id)


def orders_visible_to(user: User):
    """The one scope for role views: retailers see what they bought, dealers what was routed
    to them. Other roles have their own pages."""
    if user.role == "retailer":
        return orders_bought_by(user.org_id)
    if user.role == "dealer":
        return orders_sold_by(user.org_id)
    raise NotFound(_("订单不存在。"))


def list_orders(scope, status: str | None = None, search: str | None = None, page: int = 1,
                per_page: int = 20) -> Page:
    """A page of orders from `scope` (one of the helpers above), newest first, with buyer and
    seller loaded (two queries). `search` matches the order number or the buyer's code or name."""
    query = scope.options(joinedload(Order.buyer), joinedload(Order.seller))
    if status:
        query = query.where(Order.status == status)
    term = (search or "").strip()
    if term:
        like = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        buyers = select(Organisation.id).where(or_(Organisation.name.like(like, escape="\\"),
                                                   Organisation.code.like(like, escape="\\")))
        query = query.where(or_(Order.number.like(like, escape="\\"), Order.buyer_id.in_(buyers)))
    return paginate(query.order_by(Order.created_at.desc(), Order.id.desc()), page, per_page)


def recent_orders(scope, limit: int = 5) -> list[Order]:
    return list(db.session.scalars(scope.options(joinedload(Order.seller))
                                   .order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)))


def _lane_expressions() -> list:
    """The rebate-balance and points lanes as columns of the order query (no query of their own)."""
    columns = {**rebate_lane.order_columns(Order.id), **points_lane.order_columns(Order.id)}
    return [with_expression(getattr(Order, name), column) for name, column in columns.items()]


def order_detail(scope, order_id: int) -> Order:
    """One order from `scope` with its lines, products, history, buyer and seller, and what the
    rebate balance and points paid (Order.rebate_fen, .points_used, ...); NotFound
    when it is not in the scope (another party's order looks exactly like a missing one)."""
    order = db.session.scalar(scope.where(Order.id == order_id).options(
        joinedload(Order.buyer), joinedload(Order.seller),
        selectinload(Order.lines).joinedload(OrderLine.product), selectinload(Order.events),
        selectinload(Order.redemptions),
        *_lane_expressions()).execution_options(populate_existing=True))
    if order is None:
        raise NotFound(_("订单不存在。"))
    return order


def order_again(owner: User, buyer: Organisation, order_id: int) -> cart.Refill:
    """Fill the cart from one of the buyer's past orders, skipping (and naming) products the
    buyer can no longer order."""
    order = order_detail(orders_bought_by(buyer.id), order_id)
    return cart.refill_cart(owner, buyer, [(line.product, line.qty) for line in order.lines])
