"""The simulator: "price this cart as customer X at time T", with every lane's decision.

It runs the same pure engine as quote_cart (engine.apply_promotions) over an index of the
promotions that would be live at T (status approved or active, T inside their window, budgets
as they stand now), with the prices of T's day. It writes nothing: no cart, no order, no
budget. Reads: the customer, the products, the promotions live at T (and gift prices), the
price book, a coupon code when one is typed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.services.loyalty import lane as loyalty_lane
from app.models import CouponCode, Organisation, Product, Promotion
from app.services.core.clock import LOCAL
from app.services.core.errors import DomainError
from app.services.pricing.prices import Price, quote_prices, region_profile
from app.services.promotions import engine
from app.services.promotions import index as promo_index
from app.services.promotions import audience, volume
from app.services.promotions.coupons import entered_coupon, normalise_code

MAX_LINES = 100


@dataclass
class SimLine:
    product: Product
    qty: int
    price: Price
    discounts: list[tuple[engine.CompiledPromotion, int]] = field(default_factory=list)

    @property
    def amount_fen(self) -> int:
        return self.price.unit_price_fen * self.qty

    @property
    def total_fen(self) -> int:
        return self.amount_fen - sum(fen for _promo, fen in self.discounts)


@dataclass
class Considered:
    """A promotion a lane looked at: applied (with what it gave), or why not."""
    promotion: engine.CompiledPromotion
    applied: engine.Applied | None
    why_not: str = ""  # "lost" (another won), "budget", "exclusive", "not_reached", "stopped"


@dataclass
class Simulation:
    buyer: Organisation
    at: datetime
    lines: list[SimLine]
    item: list[Considered]
    order: list[Considered]
    coupon: list[Considered]
    coupon_note: object | None
    gifts: list[engine.Gift]
    hints: list
    promotions_live: int

    @property
    def list_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    @property
    def discount_fen(self) -> int:
        return sum(line.amount_fen - line.total_fen for line in self.lines)

    @property
    def total_fen(self) -> int:
        return self.list_fen - self.discount_fen


def parse_lines(text: str) -> list[tuple[str, int]]:
    """"P001 10" per line (or "P001×10", "P001,10"); errors name the field `lines`."""
    found: list[tuple[str, int]] = []
    for raw in (text or "").replace("×", " ").replace("*", " ").replace(",", " ").replace("，", " ").splitlines():
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 2 or not (parts[1].isascii() and parts[1].isdigit()) or not 1 <= int(parts[1]) <= 99_999:
            raise DomainError(_("每行填写“商品编码 数量”，数量为 1 到 99999 的整数：%(line)s", line=raw.strip()[:40]),
                              field="lines")
        found.append((parts[0].strip().upper(), int(parts[1])))
    if not found:
        raise DomainError(_("请至少填写一行商品。"), field="lines")
    if len(found) > MAX_LINES:
        raise DomainError(_("最多 %(n)d 行。", n=MAX_LINES), field="lines")
    return found


def index_at(at: datetime) -> promo_index.PromotionIndex:
    """The promotions live at `at`, compiled like the process index (its queries)."""
    rows = db.session.execute(
        select(Promotion, Organisation.kind, Organisation.tier).join(Organisation, Organisation.id == Promotion.owner_id)
        .where(Promotion.status.in_(promo_index.LIVE_STATUSES), Promotion.starts_at <= at, Promotion.ends_at > at)
        .order_by(Promotion.id)).all()
    return promo_index.compile_rows(None, rows)


def simulate(buyer: Organisation, items: list[tuple[str, int]], at: datetime, coupon_code: str = "") -> Simulation:
    if buyer.kind not in ("retailer", "dealer"):
        raise DomainError(_("请选择零售商或经销商。"), field="buyer")
    codes = [code for code, _qty in items]
    products = {p.code.upper(): p for p in db.session.scalars(select(Product).where(func.upper(Product.code).in_(codes)))}
    missing = [code for code in codes if code not in products]
    if missing:
        raise DomainError(_("商品编码不存在：%(codes)s", codes=", ".join(missing[:10])), field="lines")
    quantities: dict[int, int] = {}
    for code, qty in items:
        quantities[products[code].id] = quantities.get(products[code].id, 0) + qty
    by_id = {p.id: p for p in products.values()}
    profile = region_profile(buyer)
    prices = quote_prices(profile, quantities, on=at.astimezone(LOCAL).date(), products=by_id)
    lines = [SimLine(by_id[pid], qty, prices[pid]) for pid, qty in quantities.items() if pid in prices]
    index = index_at(at)
    coupon = None
    if (coupon_code or "").strip():
        row = db.session.scalar(select(CouponCode).where(CouponCode.code == normalise_code(coupon_code)))
        if row is None:
            raise DomainError(_("优惠券码无效，请核对后重新输入。"), field="coupon")
        coupon = entered_coupon(row.id, buyer.id, index)
    facts = audience.buyer_facts(buyer, profile, index,
                                 loyalty_lane.member_tier(buyer.id) if buyer.kind == "retailer" else None)
    inputs = [engine.LineIn(i, line.product.id, line.product.category_id, line.qty, line.price.unit_price_fen,
                            line.product.unit) for i, line in enumerate(lines)]
    history = volume.earlier_quantities(buyer.id, volume.live_tiers(index, facts, at), at)
    result = engine.apply_promotions(inputs, facts, at, index, coupon, history=history)
    for i, line in enumerate(lines):
        line.discounts = [(index.by_id[pid], fen) for pid, fen in result.discounts.get(i, {}).items()]
    applied = result.applied_by_id()
    left = {entry.promotion.id: entry.reason for entry in result.left_out}

    def considered(promos) -> list[Considered]:
        rows = []
        for promo in promos:
            hit = applied.get(promo.id)
            why = "" if hit else left.get(promo.id, "not_reached")
            rows.append(Considered(promo, hit, why))
        return rows

    live = [p for p in index.by_id.values() if p.live_at(at) and p.targets(facts)]
    item_ids = {p.id for line in inputs for p in index.item_candidates(line.product_id, line.category_id)}
    item = considered([p for p in live if p.id in item_ids])
    order = considered([p for p in live if p.lane == engine.ORDER
                        and any(p.covers(line.product_id, line.category_id) for line in inputs)])
    coupon_rows = considered([coupon.promotion]) if coupon is not None and coupon.promotion is not None else []
    won = {key for key, by_promo in result.discounts.items()
           if any(applied[pid].lane == engine.ITEM for pid in by_promo if pid in applied)}
    won |= {gift.for_key for gift in result.gifts}
    stopped = any(a.promotion.stop_further and a.lane == engine.ITEM for a in result.applied)
    for row in item:
        if row.applied is None and row.why_not == "not_reached" and any(
                line.key in won and row.promotion.covers(line.product_id, line.category_id) for line in inputs):
            row.why_not = "lost"
    for row in order:
        if row.applied is None and row.why_not == "not_reached":
            if stopped:
                row.why_not = "stopped"
            elif any(a.lane == engine.ORDER for a in result.applied):
                row.why_not = "lost"
    return Simulation(buyer, at, lines, item, order, coupon_rows, result.coupon_note, result.gifts, result.hints,
                      len(index.by_id))
