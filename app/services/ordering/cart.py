"""Carts: the lines a user (`owner`) is building for a buyer organisation, and their quote.

A cart belongs to (owner user, buyer org): a retailer orders for its own shop, and a sales rep
will build a cart for a retailer with the same functions and the retailer's prices.

`quote_cart` is the one place that turns cart lines into prices, promotions, totals and warnings;
the cart page, checkout, the rep's order page and the API all use it. It runs a fixed number of
queries whatever the number of lines or live promotions: the promotions' version and the entered
coupon ride along as columns of the cart query, the promotions come from the process's compiled
index (services/promotions), and only an entered coupon code adds one query.

Quantity rules, checked on every change (messages belong to the `qty` field):
an integer > 0, at least the product's `min_order_qty`, a multiple of its `order_multiple`, and
at most MAX_LINE_QTY. A cart holds at most MAX_CART_LINES lines.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, insert, select, update

from app.extensions import db
from app.models import CartCoupon, CartLine, Organisation, Product, User
from app.services.core.messages import Message, joined, message
from app.services.core.errors import DomainError, NotFound
from app.services.pricing.prices import CustomerProfile, Price, quote_prices, region_profile
from app.services.pricing.prices import token_column as price_token_column, token_read as price_token_read
from app.services.catalog.visibility import visible_clause, visible_clause_bound, visible_params
from app.services.ordering import delivery_terms
from app.services.core.clock import now_utc
from app.services.promotions import coupons as promo_coupons
from app.services.promotions import engine as promo_engine
from app.services.promotions import audience as promo_audience
from app.services.promotions import index as promo_index
from app.services.loyalty import lane as points_lane
from app.services.promotions import volume as promo_volume
from app.services.rebates import lane as rebate_lane

MAX_LINE_QTY = 9_999
MAX_CART_LINES = 200


def tax_included(total_fen: int, rate: int) -> int:
    """The tax contained in a tax-inclusive amount, rounded half up to the fen."""
    return (total_fen * rate * 2 + 100 + rate) // (2 * (100 + rate))


def quantity_problem(product: Product, qty: int) -> str | None:
    """Why `qty` cases of `product` cannot be ordered, or None when it can."""
    if qty <= 0:
        return _("数量必须大于 0。")
    if qty > MAX_LINE_QTY:
        return _("数量不能超过 %(n)d。", n=MAX_LINE_QTY)
    if qty < product.min_order_qty:
        return _("起订量为 %(n)d %(unit)s。", n=product.min_order_qty, unit=product.unit)
    if qty % product.order_multiple:
        return _("数量须为 %(n)d 的倍数。", n=product.order_multiple)
    return None


def check_quantity(product: Product, qty) -> int:
    if not isinstance(qty, int) or isinstance(qty, bool):
        raise DomainError(_("请输入整数数量。"), field="qty")
    problem = quantity_problem(product, qty)
    if problem:
        raise DomainError(problem, field="qty")
    return qty


class LineNotFound(NotFound):
    """The cart line is not in this owner's cart for this buyer (a view answers 404)."""


@dataclass
class QuoteLine:
    line_id: int
    product: Product
    qty: int
    available: bool  # still visible to the buyer and active
    price: Price | None  # None when unavailable
    quoted_price_fen: int | None  # the unit price shown when the line was added or last confirmed
    qty_problem: str | None = None
    discount_fen: int = 0  # promotions and coupon, this line's share
    adjustments: list[tuple[int, Message, int]] = field(default_factory=list)  # (promotion id, why, fen)
    gift_of: promo_engine.CompiledPromotion | None = None  # a gift line (line_id is None): the promotion

    @property
    def is_gift(self) -> bool:
        return self.gift_of is not None

    @property
    def unit_price_fen(self) -> int:
        return self.price.unit_price_fen if self.price else 0

    @property
    def reason(self) -> Message | str:
        """Why this price (a message rendered for the reader), "" when the line has none."""
        return self.price.reason if self.price else ""

    @property
    def list_total_fen(self) -> int:
        """Before promotions."""
        return self.unit_price_fen * self.qty if self.available else 0

    @property
    def line_total_fen(self) -> int:
        """What the buyer pays for the line, after its promotions."""
        return self.list_total_fen - self.discount_fen if self.available else 0

    @property
    def tax_fen(self) -> int:
        return tax_included(self.line_total_fen, self.product.tax_rate) if self.available else 0

    @property
    def price_changed(self) -> bool:
        return (self.available and self.quoted_price_fen is not None
                and self.quoted_price_fen != self.unit_price_fen)

    @property
    def needs_confirmation(self) -> bool:
        """The price or the availability changed since the buyer last saw this line."""
        return self.price_changed or not self.available


@dataclass
class CartQuote:
    lines: list[QuoteLine] = field(default_factory=list)
    gifts: list[QuoteLine] = field(default_factory=list)  # zero-priced lines the promotions add
    promotions: promo_engine.PromotionQuote = field(default_factory=promo_engine.PromotionQuote)
    coupon_code: str = ""  # the code entered on the cart, "" when none
    dropped: list[Message] = field(default_factory=list)  # why promotions left since the buyer's last look
    rebate: object | None = None  # the rebate-balance lane (services/rebates/lane.py), dealers only
    points: points_lane.PointsLane | None = None  # the points lane (retailers), services/loyalty/lane.py
    buyer_facts: promo_engine.Buyer | None = None  # who the promotions were targeted at (reps, groups...)
    checkout_facts: delivery_terms.CheckoutFacts | None = None  # delivery_terms.checkout_facts, read with the lines (`terms`)

    @property
    def orderable_lines(self) -> list[QuoteLine]:
        """What checkout orders: the available lines, then the gifts."""
        return [line for line in self.lines if line.available] + self.gifts

    @property
    def list_total_fen(self) -> int:
        return sum(line.list_total_fen for line in self.lines)

    @property
    def discount_fen(self) -> int:
        return sum(line.discount_fen for line in self.lines)

    @property
    def applied(self) -> list[promo_engine.Applied]:
        return self.promotions.applied

    @property
    def hints(self) -> list[Message]:
        return self.promotions.hints

    @property
    def total_fen(self) -> int:
        return sum(line.line_total_fen for line in self.lines)

    @property
    def tax_fen(self) -> int:
        return sum(line.tax_fen for line in self.lines)

    @property
    def count(self) -> int:
        """Number of lines (the cart badge)."""
        return len(self.lines)

    @property
    def total_qty(self) -> int:
        return sum(line.qty for line in self.orderable_lines)

    @property
    def changed_lines(self) -> list[QuoteLine]:
        return [line for line in self.lines if line.needs_confirmation]

    @property
    def invalid_lines(self) -> list[QuoteLine]:
        return [line for line in self.lines if line.available and line.qty_problem]

    @property
    def fingerprint(self) -> str:
        """Identifies what the buyer is shown: each product, quantity and unit price. Checkout
        compares the fingerprint of the page the buyer confirmed with the one at submit."""
        parts = sorted(f"{line.product.id}:{line.qty}:{line.unit_price_fen if line.available else 'x'}"
                       + (f":-{line.discount_fen}" if line.discount_fen else "") for line in self.lines)
        parts += sorted(f"gift:{line.product.id}:{line.qty}" for line in self.gifts)
        return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _profile(buyer: Organisation | CustomerProfile) -> CustomerProfile:
    return buyer if isinstance(buyer, CustomerProfile) else region_profile(buyer)


def quote_cart(owner: User, buyer: Organisation, lock: bool = False, exclude: frozenset[int] = frozenset(),
               use_points: bool = False, terms: bool = False) -> CartQuote:
    """Price the cart at today's prices and promotions for the buyer: three queries (lines with
    their products, visibility, the promotions' version and the entered coupon; contracts; price
    lists), plus the buyer's region the first time, the coupon's code row when one is entered,
    and the live promotions when they changed since this process last loaded them.

    `lock=True` locks the cart's rows (PostgreSQL `FOR UPDATE OF cart_lines`) so that two
    checkouts of one cart run one after the other. `exclude` leaves promotions out (checkout
    found their budget used up). `use_points`: the buyer ticked "use points" (the last lane).
    `terms` (always with `lock`): what checkout's terms read of the buyer (its route weekdays and
    credit) come with the lines as `checkout_facts` (None for an empty cart)."""
    terms = terms or lock
    profile = _profile(buyer)
    # volume tiers count the buyer's earlier orders: read in this query too (services/promotions/volume.py)
    held_index = promo_index.cached_index()
    history = promo_volume.plan_history(held_index, now_utc(), buyer.id)
    # and the buyer's uses of promotions with a per-customer limit (coupons.used_up_for), for the
    # index this process holds (another index, once the version is read: _apply_promotions asks)
    uses = held_index if held_index is not None and held_index.limited else None
    params = {"cart_owner": owner.id, "cart_buyer": buyer.id, **visible_params(profile),
              **(history.params() if history else {}),
              **({"uses_ids": sorted(uses.limited), "uses_buyer": buyer.id} if uses else {}),
              **({"route_buyer": buyer.id} if terms else {})}
    rows = db.session.execute(_quote_statement(lock, history, uses is not None, terms), params).all()
    if rows:  # the price book's token came with the lines: pricing needs no query of its own
        price_token_read(rows[0].price_token)
    # each row: the line's id, quantity and quoted price (columns: no ORM object for the line), its product, ...
    visible = {product.id: product for _id, _qty, _quoted, product, is_visible, *_x in rows if is_visible}
    prices = quote_prices(profile, {product.id: qty for _id, qty, _quoted, product, *_x in rows if product.id in visible},
                          products=visible)
    quote = CartQuote()
    if terms and rows:  # checkout: the delivery days and payment methods it offers come with the lines
        quote.checkout_facts = delivery_terms.facts_from(buyer, rows[0])
    for line_id, qty, quoted, product, *_x in rows:
        price = prices.get(product.id) if product.id in visible else None
        quote.lines.append(QuoteLine(line_id, product, qty, price is not None, price, quoted,
                                     quantity_problem(product, qty) if price is not None else None))
    if rows:
        _apply_promotions(quote, buyer, profile, rows[0].promotions_version, rows[0].coupon_id, exclude,
                          rows[0].points_tier, history, tuple(rows[0][-_history_width(history):]) if history else (),
                          (uses, rows[0].promotion_uses) if uses else None)
        rebate_lane.apply(quote, owner, buyer)  # after the coupon lane: the rebate balance (dealers)
    points_lane.apply(quote, buyer, use_points, rows[0] if rows else None)  # then points (retailers)
    return quote


_QUOTE_STATEMENTS: dict = {}


def _history_width(history: promo_volume.HistoryPlan | None) -> int:
    """How many columns the volume history adds to the cart query (the last ones)."""
    return history.width if history is not None else 0


def _quote_statement(lock: bool, history: promo_volume.HistoryPlan | None, uses: bool, terms: bool):
    """quote_cart's query, built once per shape (locked or not; which volume-history columns it
    reads; whether it counts per-customer promotion uses; whether it reads the checkout facts)
    with the cart, the buyer and its visibility as bound parameters: building and keying it for
    SQLAlchemy's statement cache cost as much Python as running it."""
    dialect = db.engine.dialect.name
    key = (lock, dialect, _history_width(history), len(history.starts) if history else 0, uses, terms)
    statement = _QUOTE_STATEMENTS.get(key)
    if statement is None:
        extra = [promo_coupons.uses_column(dialect).label("promotion_uses")] if uses else []
        if terms:  # checkout and its page: the buyer's route weekdays and credit too (delivery_terms)
            extra += delivery_terms.facts_columns(dialect)
        extra += history.columns() if history else []  # the last columns (quote_cart reads them from the end)
        buyer = bindparam("cart_buyer")
        entered = (select(CartCoupon.coupon_id)
                   .where(CartCoupon.owner_id == bindparam("cart_owner"), CartCoupon.buyer_id == buyer)
                   .scalar_subquery())
        statement = (select(CartLine.id, CartLine.qty, CartLine.quoted_price_fen, Product,
                            visible_clause_bound().label("visible"),
                            promo_index.version_column().label("promotions_version"), entered.label("coupon_id"),
                            price_token_column().label("price_token"), *points_lane.columns(buyer), *extra)
                     .join(Product, Product.id == CartLine.product_id)
                     .where(CartLine.owner_id == bindparam("cart_owner"), CartLine.buyer_id == buyer)
                     .order_by(CartLine.id))
        if lock:
            statement = statement.with_for_update(of=CartLine)
        _QUOTE_STATEMENTS[key] = statement
    return statement


@dataclass
class CartSummary:
    """What the catalog shows of the cart: the quantity of each product in it (the steppers), the
    number of lines (the badge) and the total at the prices the buyer was last shown (the cart
    bar). The cart page re-prices (quote_cart) and flags any price changed since."""
    quantities: dict[int, int] = field(default_factory=dict)
    total_fen: int = 0

    @property
    def count(self) -> int:
        return len(self.quantities)


@lru_cache(maxsize=1)
def _summary_statement():
    """cart_summary's statement, built once (every catalog page runs it): the cart is bound."""
    return (select(CartLine.product_id, CartLine.qty, CartLine.quoted_price_fen)
            .where(CartLine.owner_id == bindparam("owner_id"), CartLine.buyer_id == bindparam("buyer_id")))


@lru_cache(maxsize=1)
def _lines_statement():
    """The cart's lines, built once (every add to cart reads them): the cart is bound."""
    return select(CartLine).where(CartLine.owner_id == bindparam("owner_id"), CartLine.buyer_id == bindparam("buyer_id"))


@lru_cache(maxsize=1)
def _set_line_statement():
    """The UPDATE of one product's line in a cart, built once: everything is bound."""
    return (update(CartLine).where(CartLine.owner_id == bindparam("line_owner"), CartLine.buyer_id == bindparam("line_buyer"),
                                   CartLine.product_id == bindparam("line_product"))
            .values(qty=bindparam("line_qty"), quoted_price_fen=bindparam("line_price")))


def summary_column_supported() -> bool:
    """summary_column needs PostgreSQL's json_agg."""
    return db.engine.dialect.name == "postgresql"


def summary_column():
    """The cart's lines as one JSON value, [[product id, qty, quoted price], ...] or NULL, for a
    caller that reads it as a column of a query it runs anyway (the catalog's categories query);
    the cart is bound (summary_params) and summary_from makes the CartSummary (PostgreSQL)."""
    return (select(func.json_agg(func.json_build_array(CartLine.product_id, CartLine.qty, CartLine.quoted_price_fen)))
            .where(CartLine.owner_id == bindparam("cart_owner_id"), CartLine.buyer_id == bindparam("cart_buyer_id"))
            .scalar_subquery())


def summary_params(owner: User, buyer: Organisation) -> dict:
    return {"cart_owner_id": owner.id, "cart_buyer_id": buyer.id}


def summary_from(lines) -> CartSummary:
    """The CartSummary of summary_column's value (psycopg hands JSON over decoded)."""
    if isinstance(lines, str):
        lines = json.loads(lines)
    return _summary_of(lines or ())


def cart_summary(owner: User, buyer: Organisation) -> CartSummary:
    """The cart in one query (see CartSummary)."""
    # Plain rows, not ORM objects: run on the session's connection (same transaction) without the
    # ORM's execution steps, a third of this function's time; pending changes are flushed first,
    # as the ORM's autoflush would.
    db.session.flush()
    return _summary_of(db.session.connection().execute(_summary_statement(),
                                                       {"owner_id": owner.id, "buyer_id": buyer.id}).all())


def _summary_of(lines) -> CartSummary:
    """The CartSummary of a cart's lines as (product id, qty, quoted price) rows."""
    return CartSummary({product_id: qty for product_id, qty, _price in lines},
                       sum(qty * (price or 0) for _product_id, qty, price in lines))
def promotion_buyer(buyer: Organisation, profile: CustomerProfile, index=None,
                    member_tier: str | None = None) -> promo_engine.Buyer:
    """What targeting knows of the buyer: its member tier when given (services/loyalty); with
    `index`, also its reps and customer groups when a live promotion asks for them (one query then:
    services/promotions/audience.py)."""
    return promo_audience.buyer_facts(buyer, profile, index, member_tier)


def _apply_promotions(quote: CartQuote, buyer: Organisation, profile: CustomerProfile, version, coupon_id,
                      exclude: frozenset[int], member_tier: str | None = None,
                      history_plan: promo_volume.HistoryPlan | None = None, history_read: tuple = (),
                      uses_read: tuple | None = None) -> None:
    """Lanes 1-3 over the priced lines (services/promotions/engine.py), written onto the quote:
    each line's discount and its reasons, the gift lines, the entered coupon's code. The volume
    tiers' history comes from the cart query (`history_plan`, `history_read`) when it read it, and
    so do the buyer's uses of per-customer limited promotions (`uses_read`: the index they were
    counted for and the column's value)."""
    index = promo_index.index_for(version)
    coupon = None
    if coupon_id is not None:
        coupon = promo_coupons.entered_coupon(coupon_id, buyer.id, index)
        quote.coupon_code = coupon.code
    if not index.by_id and coupon is None:
        return
    if not index.limited:
        used_up = set()
    elif uses_read is not None and uses_read[0] is index:  # counted by the cart query for this very index
        used_up = promo_coupons.used_up_from(uses_read[1], index.limited)
    else:
        used_up = promo_coupons.used_up_for(buyer.id, index.limited)
    priced = [line for line in quote.lines if line.available]
    inputs = [promo_engine.LineIn(line.line_id, line.product.id, line.product.category_id, line.qty,
                                  line.unit_price_fen, line.product.unit) for line in priced]
    facts, now = promotion_buyer(buyer, profile, index, member_tier), now_utc()
    quote.buyer_facts = facts  # checkout draws rep and region allocations for this buyer
    tiers = promo_volume.live_tiers(index, facts, now)
    history = (promo_volume.quantities_from(history_plan, index, history_read, buyer.id, tiers, now)
               if tiers else None)
    result = promo_engine.apply_promotions(inputs, facts, now, index, coupon, frozenset(exclude) | used_up, history)
    if used_up:  # say which promotions this customer has used as often as allowed, where they would apply
        unlimited = promo_engine.apply_promotions(inputs, facts, now, index, coupon, exclude, history)
        quote.dropped = [joined([a.promotion.name, message("promo.customer_limit")], "：")
                         for a in unlimited.applied if a.promotion.id in used_up]
    quote.promotions = result
    labels = {applied.promotion.id: applied.label for applied in result.applied}
    for line in priced:
        for promotion_id, fen in result.discounts.get(line.line_id, {}).items():
            line.discount_fen += fen
            line.adjustments.append((promotion_id, labels[promotion_id], fen))
    products = {line.product.id: line.product for line in quote.lines}
    for gift in result.gifts:
        product = products.get(gift.product_id) or db.session.get(Product, gift.product_id)
        if product is None:
            continue
        price = Price(product.id, gift.qty, 0, "gift", gift.promotion.code, gift.promotion.name, 1)
        quote.gifts.append(QuoteLine(None, product, gift.qty, True, price, None, None, 0,
                                     [(gift.promotion.id, labels[gift.promotion.id], 0)], gift.promotion))


def enter_coupon(owner: User, buyer: Organisation, code):
    """Put a coupon code on this cart (services/promotions/coupons.py says why one is refused)."""
    index = promo_index.index_for(promo_index.current_version())
    return promo_coupons.apply_coupon(owner, buyer, code, promotion_buyer(buyer, _profile(buyer), index,
                                                                          points_lane.member_tier(buyer.id)))


def leave_coupon(owner: User, buyer: Organisation) -> None:
    promo_coupons.remove_coupon(owner, buyer)


def cart_quantities(owner: User, buyer: Organisation) -> dict[int, int]:
    """{product_id: qty} for the cart (one query): the catalog marks what is in it, and the
    badge counts it."""
    return cart_summary(owner, buyer).quantities


def cart_count(owner: User, buyer: Organisation) -> int:
    return db.session.scalar(select(func.count()).select_from(CartLine)
                             .where(CartLine.owner_id == owner.id, CartLine.buyer_id == buyer.id)) or 0


def orderable_product(profile: CustomerProfile, product_id) -> Product:
    """The product when this customer may order it; the same answer for unknown and hidden ids."""
    product = None
    if plausible_product_id(product_id):
        product = db.session.scalar(select(Product).where(Product.id == product_id, visible_clause(profile)))
    if product is None:
        raise not_orderable()
    return product


def plausible_product_id(product_id) -> bool:
    return isinstance(product_id, int) and not isinstance(product_id, bool) and 0 < product_id < 2**63


def not_orderable() -> DomainError:
    """The one answer for an unknown, hidden or inactive product."""
    return DomainError(_("该商品不存在或暂不可订购。"), field="product_id")


def _unit_price(profile: CustomerProfile, product: Product, qty: int) -> int:
    return quote_prices(profile, {product.id: qty}, products={product.id: product})[product.id].unit_price_fen


def _own_line(owner: User, buyer: Organisation, line_id: int) -> CartLine:
    line = db.session.scalar(select(CartLine).where(CartLine.id == line_id, CartLine.owner_id == owner.id,
                                                    CartLine.buyer_id == buyer.id))
    if line is None:
        raise LineNotFound(_("购物车中没有这一行。"))
    return line


def add_to_cart(owner: User, buyer: Organisation, product_id, qty) -> CartLine:
    """Add `qty` of a product (to the line already holding it, if any). The line's quoted price
    becomes today's price for the new quantity: that is what the buyer sees next."""
    profile = _profile(buyer)
    product = orderable_product(profile, product_id)
    check_quantity(product, qty)
    # The buyer's lines in one query: the one holding the product, and how many there are.
    lines = list(db.session.scalars(_lines_statement(), {"owner_id": owner.id, "buyer_id": buyer.id}))
    line = next((candidate for candidate in lines if candidate.product_id == product.id), None)
    have = line.qty if line is not None else 0
    _check_addition(have, qty, len(lines), line is not None)
    price = _unit_price(profile, product, have + qty)  # before the line is pending: no extra UPDATE
    if line is None:
        line = CartLine(owner_id=owner.id, buyer_id=buyer.id, product_id=product.id, qty=qty)
        db.session.add(line)
    else:
        line.qty = have + qty
    line.quoted_price_fen = price
    line.product = product
    db.session.flush()
    return line


def _check_addition(have: int, qty: int, lines: int, in_cart: bool) -> None:
    """Adding `qty` to the `have` the cart holds of a product, in a cart of `lines` lines."""
    if have + qty > MAX_LINE_QTY:
        raise DomainError(_("购物车中已有 %(have)d，合计不能超过 %(n)d。", have=have, n=MAX_LINE_QTY), field="qty")
    if not in_cart and lines >= MAX_CART_LINES:
        raise DomainError(_("购物车最多 %(n)d 种商品。", n=MAX_CART_LINES), field="qty")


def add_quantity(owner: User, buyer: Organisation, product: Product, qty, lines=None) -> tuple[int, CartSummary]:
    """add_to_cart for a product the caller found orderable by `buyer` (orderable_product, or
    the catalog's row query, which checks the same), in two plain statements on the session's
    connection and no ORM object (the catalog's add to cart: the ORM's unit of work was a third of
    its time): the cart's lines as the summary reads them, then the line's UPDATE or INSERT.
    `lines`: the cart's lines as summary_column read them in the caller's query of this
    transaction (None: not read), which saves the first statement. Returns the product's quantity
    in the cart afterwards and the cart's summary."""
    profile = _profile(buyer)
    check_quantity(product, qty)
    db.session.flush()  # as the ORM's autoflush would, before reading the lines
    connection = db.session.connection()
    cart_key = {"owner_id": owner.id, "buyer_id": buyer.id}
    if lines is None:
        rows = connection.execute(_summary_statement(), cart_key).all()
    else:
        rows = json.loads(lines) if isinstance(lines, str) else lines
    lines = {product_id: (line_qty, price) for product_id, line_qty, price in rows}
    in_cart = product.id in lines
    have = lines[product.id][0] if in_cart else 0
    _check_addition(have, qty, len(rows), in_cart)
    price = _unit_price(profile, product, have + qty)
    if in_cart:
        connection.execute(_set_line_statement(), {"line_owner": owner.id, "line_buyer": buyer.id,
                                                   "line_product": product.id, "line_qty": have + qty,
                                                   "line_price": price})
    else:
        connection.execute(insert(CartLine), dict(cart_key, product_id=product.id, qty=qty, quoted_price_fen=price))
    lines[product.id] = (have + qty, price)
    return have + qty, _summary_of([(product_id, *line) for product_id, line in lines.items()])


def update_line(owner: User, buyer: Organisation, line_id: int, qty) -> CartLine:
    """Set a line's quantity (the same checks as adding) and re-quote its price."""
    line = _own_line(owner, buyer, line_id)
    profile = _profile(buyer)
    product = orderable_product(profile, line.product_id)
    line.qty = check_quantity(product, qty)
    line.quoted_price_fen = _unit_price(profile, product, line.qty)
    db.session.flush()
    return line


def set_quantity(owner: User, buyer: Organisation, product_id, qty) -> CartLine | None:
    """The catalog's stepper: the cart holds `qty` of the product afterwards (0 removes its line;
    None is returned then). The same checks as adding; the line is re-quoted."""
    if qty == 0 and isinstance(product_id, int) and 0 < product_id < 2**63:
        db.session.execute(delete(CartLine).where(CartLine.owner_id == owner.id, CartLine.buyer_id == buyer.id,
                                                  CartLine.product_id == product_id))
        return None
    profile = _profile(buyer)
    product = orderable_product(profile, product_id)
    check_quantity(product, qty)
    line = db.session.scalar(select(CartLine).where(CartLine.owner_id == owner.id, CartLine.buyer_id == buyer.id,
                                                    CartLine.product_id == product.id))
    if line is None:
        if cart_count(owner, buyer) >= MAX_CART_LINES:
            raise DomainError(_("购物车最多 %(n)d 种商品。", n=MAX_CART_LINES), field="qty")
        line = CartLine(owner_id=owner.id, buyer_id=buyer.id, product_id=product.id, qty=qty)
        db.session.add(line)
    line.qty = qty
    line.quoted_price_fen = _unit_price(profile, product, qty)
    line.product = product
    db.session.flush()
    return line


def remove_line(owner: User, buyer: Organisation, line_id: int) -> None:
    db.session.delete(_own_line(owner, buyer, line_id))
    db.session.flush()


def clear_cart(owner: User, buyer: Organisation) -> int:
    result = db.session.execute(delete(CartLine).where(CartLine.owner_id == owner.id, CartLine.buyer_id == buyer.id))
    return result.rowcount


@dataclass
class Refill:
    added: list[Product] = field(default_factory=list)
    skipped: list[Product] = field(default_factory=list)  # no longer orderable (or the cart is full)


def refill_cart(owner: User, buyer: Organisation, wanted: list[tuple[Product, int]]) -> Refill:
    """Add (product, qty) rows to the cart, e.g. from a past order, in a fixed number of
    queries. Products the buyer may no longer order are skipped and returned; quantities are
    raised to today's minimum and multiple and capped at MAX_LINE_QTY."""
    profile = _profile(buyer)
    ids = {product.id for product, _qty in wanted}
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(ids or {-1}),
                                                                           visible_clause(profile)))}
    lines = {line.product_id: line for line in db.session.scalars(
        select(CartLine).where(CartLine.owner_id == owner.id, CartLine.buyer_id == buyer.id))}
    result = Refill()
    for wanted_product, qty in wanted:
        product = products.get(wanted_product.id)
        if product is None or (product.id not in lines and len(lines) >= MAX_CART_LINES):
            result.skipped.append(wanted_product)
            continue
        line = lines.get(product.id)
        if line is None:
            line = lines[product.id] = CartLine(owner_id=owner.id, buyer_id=buyer.id, product_id=product.id,
                                                qty=valid_quantity(product, qty))
            db.session.add(line)
        else:
            line.qty = valid_quantity(product, line.qty + qty)
        if product not in result.added:
            result.added.append(product)
    prices = quote_prices(profile, {p.id: lines[p.id].qty for p in result.added}, products=products)
    for product in result.added:
        lines[product.id].quoted_price_fen = prices[product.id].unit_price_fen
    db.session.flush()
    return result


def valid_quantity(product: Product, qty: int) -> int:
    """`qty` raised to the product's minimum and multiple, and capped at MAX_LINE_QTY."""
    qty = max(qty, product.min_order_qty)
    qty = -(-qty // product.order_multiple) * product.order_multiple
    while qty > MAX_LINE_QTY:
        qty -= product.order_multiple
    return qty
