"""The demo's past promotions and their redemptions in the order history.

Step "promotion_history" (before "orders", app/demo/step_promotions.py) saves a year and more of
ended promotions with real windows (Asia/Shanghai days) and hands the order generator a
`PromotionHistory`; the generator (app/demo/orders.py) calls `apply` on each retailer order placed
while one is live, before the order's documents are written, so totals, invoices, credit notes,
points, rebate accruals and the sales facts all follow from the discounted lines. What `apply`
gives follows the engine's rules in a simpler form (services/promotions/engine.py):

- item lane, per line: the best for the buyer of the item promotions covering its product
  (percent off, volume tier on the buyer's cumulative cases in the window, buy X get Y whose
  gifts become zero-priced lines); a bundle's lines take the bundle first;
- order lane: the best 满减 / 满折 rung reached (on the discounted or list amount), spread over
  the lines by largest remainder;
- coupon lane: the buyer's own code of a coupon batch (its first order in the window above the
  threshold), or a shared code a few buyers type.
Each promotion given writes a redemption row (frozen snapshot, brand share) and per-line
adjustments, bulk loaded with the orders; a cancelled or rejected order's redemptions are
released at once (the order's last event). Budgets hold: a promotion whose budget the order would
pass is left out, like a refused `consume`. After the orders, `finish` gives back the discount of
returned and damaged units, sets the promotions' used budgets and the coupon codes' uses from
the rows, as the live services would have left them.

Participation draws no random numbers (a hash of the order id): the orders and their documents
stay what they were without promotions, only the discounted amounts change."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, text, update

from app.demo.seasonality import cny_dates_between
from app.extensions import db
from app.models import CouponCode, Promotion, PromotionDealerLimit, PromotionRedemption
from app.models.customer_groups import CustomerGroup
from app.services.core.clock import LOCAL
from app.services.ordering.cart import tax_included
from app.services.promotions import index as promo_index
from app.services.promotions.compiled import half_up_div, spread

REDEMPTION_COLUMNS = ("id", "promotion_id", "order_id", "buyer_id", "coupon_id", "discount_fen", "gift_fen",
                      "brand_fen", "snapshot", "created_at", "released_at", "released_fen")
ADJUSTMENT_COLUMNS = ("id", "order_line_id", "promotion_id", "amount_fen", "label")
SUMMER_DRINKS = ("SOFT", "TEA")  # the summer campaign: soft drinks and tea (water has its volume tier)
CLOSED = ("cancelled", "rejected")
DEALER_MAX_DEPTH_PCT = 10  # the brand's limit on dealers' own promotions (every tier)
SHARED_CODE_EVERY = 6      # about one order in six above the threshold types the shared code
KEY_ACCOUNTS = 500         # the customer group's members at most (a group holds up to 5,000)


@dataclass(eq=False)
class Past:
    """One past promotion as the generator applies it (product ids resolved from categories)."""
    row: Promotion
    first: date
    last: date
    products: frozenset = frozenset()        # empty: every product
    buyers: frozenset | None = None          # retailer indices reached (None: every retailer)
    brand_pct: int = 100
    used_fen: int = 0
    coupons: dict = field(default_factory=dict)  # retailer index → coupon code id (one use each)
    shared_coupon: int | None = None
    shared_users: set = field(default_factory=set)
    labels: dict = field(default_factory=dict)   # rung (or None) → (label, its JSON text)
    compiled: object = None
    snapshot: dict = field(default_factory=dict)
    snapshot_json: str = ""

    @property
    def id(self) -> int:
        return self.row.id

    def reaches(self, r: int) -> bool:
        return self.buyers is None or r in self.buyers

    def covers(self, product_id: int) -> bool:
        return not self.products or product_id in self.products

    def fits(self, value: int) -> bool:
        return self.row.budget_fen is None or self.used_fen + value <= self.row.budget_fen

    def label(self, rung=None) -> tuple[dict, str]:
        """The wording the engine gives (the rung reached for 满减), as a value and as JSON text."""
        known = self.labels.get(rung)
        if known is None:
            c = self.compiled
            value = (c.explanation(c.rung_text(*rung)) if rung else c.explanation()).to_json()
            known = self.labels[rung] = (value, json.dumps(value, ensure_ascii=False))
        return known


def _window(first: date, last: date) -> tuple[datetime, datetime]:
    return datetime.combine(first, time(), LOCAL), datetime.combine(last + timedelta(days=1), time(), LOCAL)


class PromotionHistory:
    def __init__(self, ctx):
        self.ctx = ctx
        self.promotions: list[Past] = []
        self.redemptions: list[tuple] = []
        self.adjustments: list[tuple] = []
        self.next_redemption = ctx.loader.allocate_ids("promotion_redemptions", 0).start
        self.next_adjustment = ctx.loader.allocate_ids("order_line_adjustments", 0).start
        self.cumulative: dict[tuple[int, int], int] = {}  # (promotion id, retailer index) → cases so far
        self._live: dict[date, tuple] = {}
        self.orders_discounted = 0

    # -- the promotions -------------------------------------------------------------------------
    def add(self, code, name, kind, rule, first, last, lane="item", products=(), categories=(), buyers=None,
            owner_id=None, funding="brand", brand_share_pct=100, audience=None, **kw) -> Past:
        ctx = self.ctx
        first, last = max(first, ctx.history_start), min(last, ctx.history_end)
        starts, ends = _window(first, last)
        category_ids = [ctx.category_ids[c] for c in categories]
        covered = frozenset(products) | frozenset(p.id for p in ctx.products if p.category in categories)
        row = Promotion(code=code, name=name, kind=kind, lane=lane, rule=rule, product_ids=list(products),
                        category_ids=category_ids, audience=audience or {}, owner_id=owner_id or ctx.brand_id,
                        starts_at=starts, ends_at=ends, status="ended", funding=funding,
                        brand_share_pct=brand_share_pct, used_fen=0, used_uses=0, version=1,
                        authored_by_id=ctx.admin_user_id, **kw)
        db.session.add(row)
        pct = {"brand": 100, "dealer": 0}.get(funding, brand_share_pct)
        past = Past(row, first, last, covered, None if buyers is None else frozenset(buyers), pct)
        self.promotions.append(past)
        return past

    def compile(self) -> None:
        """After the flush: the compiled form (for the wording) and the frozen snapshot."""
        owners = {d.id for d in self.ctx.dealers}
        for p in self.promotions:
            row = p.row
            p.compiled = promo_index.compile_promotion(row, "dealer" if row.owner_id in owners else "brand", {})
            p.snapshot = {"version": row.version, "code": row.code, "name": row.name, "kind": row.kind,
                          "lane": row.lane, "rule": row.rule, "funding": row.funding,
                          "brand_share_pct": row.brand_share_pct, "label": None,
                          "counted": row.budget_fen is not None or row.budget_uses is not None, "gifts": {},
                          "allocations": []}

    def live(self, day: date) -> tuple:
        """(bundles, item promotions by product, order-lane ones, coupon ones, volume tiers) live on
        `day`; () when none is."""
        known = self._live.get(day)
        if known is None:
            on = [p for p in self.promotions if p.first <= day <= p.last]
            bundles = [p for p in on if p.row.kind == "bundle"]
            items: dict[int, list[Past]] = {}
            for p in on:
                if p.row.lane == "item" and p.row.kind != "bundle":
                    for product in (p.products or [x.id for x in self.ctx.products]):
                        items.setdefault(product, []).append(p)
            orders = [p for p in on if p.row.lane == "order"]
            coupons = [p for p in on if p.row.lane == "coupon"]
            tiers = [p for p in on if p.row.kind == "volume_tier"]
            known = self._live[day] = (bundles, items, orders, coupons, tiers) if on else ()
        return known

    # -- one order --------------------------------------------------------------------------------
    def apply(self, live: tuple, order_id: int, r: int, paid: list[tuple], status: str):
        """The order's lines with its promotions: (lines as 11-tuples with discount and gift flag,
        gift lines included, total, tax, pending redemptions) or None when none applies."""
        bundles, items, order_lane, coupons, tiers = live
        tiers = [p for p in tiers if p.reaches(r)]
        n = len(paid)
        net = [line[7] for line in paid]
        given: dict[Past, list] = {}  # promotion → [discount, gift value, {product: (qty, value)}, rung]
        per_line: list[dict[Past, int]] = [{} for _ in range(n)]
        gifts: list[tuple[int, int, int]] = []  # (product, qty, tax rate)
        taken = [False] * n
        counted = status not in CLOSED
        by_product = {line[2]: i for i, line in enumerate(paid)}
        for p in bundles:
            if not p.reaches(r):
                continue
            wanted = p.row.rule["items"]
            if not all(pid in by_product for pid, _q in wanted):
                continue
            sets = min(paid[by_product[pid]][3] // q for pid, q in wanted)
            if not sets:
                continue
            weights = [paid[by_product[pid]][4] * q * sets for pid, q in wanted]
            saving = sum(weights) - p.row.rule["price_fen"] * sets
            if saving <= 0 or not p.fits(saving):
                continue
            for (pid, _q), share in zip(wanted, spread(saving, weights)):
                i = by_product[pid]
                taken[i] = True
                per_line[i][p] = share
                net[i] -= share
            given[p] = [saving, 0, {}, None]
        for i, line in enumerate(paid):
            candidates = items.get(line[2])
            if taken[i] or not candidates:
                continue
            best = None
            for p in candidates:
                if not p.reaches(r):
                    continue
                kind, rule = p.row.kind, p.row.rule
                discount = gift_qty = 0
                if kind == "percent_off":
                    discount = min(net[i], half_up_div(net[i] * rule["percent_x100"], 10_000))
                elif kind == "volume_tier":
                    cases = self.cumulative.get((p.id, r), 0) + sum(x[3] for x in paid if p.covers(x[2]))
                    reached = [pct for qty, pct in rule["tiers"] if qty <= cases]
                    if reached:
                        discount = min(net[i], half_up_div(net[i] * reached[-1], 10_000))
                elif kind == "buy_x_get_y":
                    gift_qty = line[3] // rule["buy"] * rule["get"]
                value = discount + gift_qty * line[4]
                already = given[p][0] + given[p][1] if p in given else 0
                if value > 0 and p.fits(already + value) and (best is None or value > best[1]):
                    best = (p, value, discount, gift_qty)
            if best is None:
                continue
            p, value, discount, gift_qty = best
            entry = given.setdefault(p, [0, 0, {}, None])
            if discount:
                entry[0] += discount
                per_line[i][p] = discount
                net[i] -= discount
            if gift_qty:
                entry[1] += gift_qty * line[4]
                entry[2][line[2]] = (gift_qty, gift_qty * line[4])
                gifts.append((line[2], gift_qty, line[6]))
        self._order_lane(order_lane, r, paid, net, given, per_line)
        self._coupon_lane(coupons, r, order_id, net, given, per_line, counted)
        if counted:  # what volume tiers count next time: this order's cases of their products
            for p in tiers:
                key = (p.id, r)
                self.cumulative[key] = self.cumulative.get(key, 0) + sum(x[3] for x in paid if p.covers(x[2]))
        if not given:
            return None
        lines, total, tax = [], 0, 0
        for i, line in enumerate(paid):
            discount = line[3] * line[4] - net[i]
            line_total = net[i]
            line_tax = tax_included(line_total, line[6]) if discount else line[8]
            lines.append(line[:7] + (line_total, line_tax, discount, False))
            total += line_total
            tax += line_tax
            for p, amount in per_line[i].items():
                if amount:
                    self.adjustments.append((self.next_adjustment, line[0], p.id, amount, p.label(given[p][3])[1]))
                    self.next_adjustment += 1
        for product_id, qty, rate in gifts:
            lines.append((None, order_id, product_id, qty, 0, None, rate, 0, 0, 0, True))
        if counted:
            for p, entry in given.items():
                p.used_fen += entry[0] + entry[1]
        self.orders_discounted += 1
        return lines, total, tax, given

    def _order_lane(self, promotions, r, paid, net, given, per_line) -> None:
        best = None
        listed = sum(line[3] * line[4] for line in paid)
        for p in promotions:
            if not p.reaches(r):
                continue
            rule = p.row.rule
            amount = listed if rule.get("basis") == "list" else sum(net)
            rungs = [rung for rung in rule["ladder"] if rung[0] <= amount]
            if not rungs:
                continue
            threshold, value = rungs[-1]
            off = value if p.row.kind == "spend_off" else half_up_div(sum(net) * value, 10_000)
            off = min(off, sum(net))
            if off > 0 and p.fits(off) and (best is None or off > best[1]):
                best = (p, off, (threshold, value))
        if best is not None:
            self._spread(best[0], best[1], best[2], net, given, per_line)

    def _coupon_lane(self, promotions, r, order_id, net, given, per_line, counted) -> None:
        for p in promotions:
            if not p.reaches(r):
                continue
            code = p.coupons.get(r)
            if code is None and p.shared_coupon is not None and r not in p.shared_users \
                    and order_id * 2654435761 % 1000 < 1000 // SHARED_CODE_EVERY:
                code = p.shared_coupon
            if code is None:
                continue
            threshold, value = p.row.rule["ladder"][0]
            if sum(net) < threshold or not p.fits(value):
                continue
            self._spread(p, value, (threshold, value), net, given, per_line)
            given[p].append(code)
            if counted:  # a cancelled order gave the code back
                if code == p.shared_coupon:
                    p.shared_users.add(r)
                else:
                    del p.coupons[r]
            return

    @staticmethod
    def _spread(p, off, rung, net, given, per_line) -> None:
        shares = spread(off, list(net))
        for i, share in enumerate(shares):
            if share:
                per_line[i][p] = per_line[i].get(p, 0) + share
                net[i] -= share
        given[p] = [off, 0, {}, rung]

    def record(self, given: dict, order_id: int, buyer_id: int, created: datetime, status: str,
               updated: datetime) -> None:
        released = status in CLOSED
        for p, entry in given.items():
            discount, gift_value, gifts, rung = entry[:4]
            coupon = entry[4] if len(entry) > 4 else None
            value = discount + gift_value
            snapshot = dict(p.snapshot, label=p.label(rung)[0],
                            gifts={str(pid): list(v) for pid, v in sorted(gifts.items())})
            self.redemptions.append((self.next_redemption, p.id, order_id, buyer_id, coupon, discount, gift_value,
                                     half_up_div(value * p.brand_pct, 100), json.dumps(snapshot, ensure_ascii=False),
                                     created, updated if released else None, value if released else 0))
            self.next_redemption += 1

    def flush(self) -> None:
        """Load the rows gathered so far (after their orders and lines)."""
        loader = self.ctx.loader
        for table, columns, rows in (("promotion_redemptions", REDEMPTION_COLUMNS, self.redemptions),
                                     ("order_line_adjustments", ADJUSTMENT_COLUMNS, self.adjustments)):
            if rows:
                loader.allocate_ids(table, len(rows))
                loader.load(table, columns, rows)
        self.redemptions, self.adjustments = [], []


# -- the definitions --------------------------------------------------------------------------------
def build_history(ctx) -> PromotionHistory:
    """Save the past promotions (ended), their coupon codes, the customer group one targets and
    the brand's limits on dealer promotions; the history the order generator applies."""
    h = PromotionHistory(ctx)
    start, end = ctx.history_start, ctx.history_end
    active = [p for p in ctx.products if p.status == "active"]
    popular = sorted(active, key=lambda p: (-p.popularity, p.id))
    retailers = ctx.retailers

    db.session.add(PromotionDealerLimit(tier=PromotionDealerLimit.DEFAULT, max_depth_pct=DEALER_MAX_DEPTH_PCT,
                                        product_ids=[], category_ids=[]))
    for cny in cny_dates_between(start + timedelta(days=21), end + timedelta(days=1)):
        yy = cny.year % 100
        h.add(f"CNY{yy}", f"{cny.year} 春节备货 满减", "spend_off",
              {"ladder": [[100_000, 3_000], [300_000, 12_000], [800_000, 40_000]], "basis": "discounted"},
              cny - timedelta(days=28), cny - timedelta(days=1), lane="order", exclusive_group="spend",
              budget_fen=300_000 * ctx.scale.retailers)
        gift_boxes = [p.id for p in active if p.gift]
        if gift_boxes:
            h.add(f"CNYGIFT{yy}", f"{cny.year} 年货礼盒 9 折", "percent_off", {"percent_x100": 1_000},
                  cny - timedelta(days=28), cny - timedelta(days=1), products=gift_boxes, funding="shared",
                  brand_share_pct=50)
    for year in range(start.year, end.year + 1):
        summer_first, summer_last = date(year, 7, 1), date(year, 8, 15)
        if summer_first >= start and summer_last <= end:
            h.add(f"SUMMER{year % 100}", f"{year} 夏日畅饮 9.2 折", "percent_off", {"percent_x100": 800},
                  summer_first, summer_last, categories=SUMMER_DRINKS, funding="shared", brand_share_pct=70)
        autumn_first, autumn_last = date(year, 9, 20), date(year, 10, 10)
        if autumn_first >= start and autumn_last <= end:
            h.add(f"AUTUMN{year % 100}", f"{year} 金秋满减", "spend_off",
                  {"ladder": [[50_000, 1_500], [200_000, 7_000]], "basis": "discounted"},
                  autumn_first, autumn_last, lane="order", exclusive_group="spend")
    # 买赠 on the products launched during the history, for their first month.
    for p in sorted((p for p in active if start + timedelta(days=7) <= p.launch <= end - timedelta(days=30)),
                    key=lambda p: p.launch)[-4:]:
        h.add(f"NEW{p.code}"[:30], f"新品尝鲜 {p.name} 买3赠1", "buy_x_get_y", {"buy": 3, "get": 1, "repeat": True},
              p.launch, p.launch + timedelta(days=30), products=[p.id], budget_fen=2_000 * ctx.scale.retailers)
    # A bundle of the two most bought products, in the spring of the first year.
    a, b = popular[0], popular[1]
    spring = date(start.year + 1, 3, 1)
    h.add("BUNDLE-SPRING", f"春季套餐 {a.name}+{b.name}", "bundle",
          {"items": sorted([[a.id, 1], [b.id, 1]]), "price_fen": (a.base_price_fen + b.base_price_fen) * 88 // 100},
          spring, spring + timedelta(days=45), products=[a.id, b.id])
    # Water by volume: 3 % off from 20 cases bought in the window, 5 % from 50.
    h.add("WATER-TIER", "饮用水累计量折扣", "volume_tier", {"tiers": [[20, 300], [50, 500]]},
          date(start.year + 1, 4, 1), date(start.year + 1, 6, 14), categories=("WATER",))
    # A rep's shops: noodles 4 % off for a month.
    rep = ctx.rep_user_ids[0]
    h.add("REP-NOODLE", "业务员专享 方便面 9.6 折", "percent_off", {"percent_x100": 400},
          date(start.year + 1, 5, 1), date(start.year + 1, 5, 31), categories=("NOODLE",),
          buyers=[r.index for r in retailers if r.rep_user_id == rep], audience={"rep_ids": [rep]})
    # A customer group: the key supermarkets, 3 % off from ¥5,000 at list price.
    key_accounts = [r for r in retailers if r.channel == "supermarket"][::3][:KEY_ACCOUNTS]
    group = CustomerGroup(code="KA-SUPER", name="重点超市")
    db.session.add(group)
    db.session.flush()
    loader = ctx.loader
    loader.load("customer_group_members", ("id", "group_id", "customer_id"),
                [(mid, group.id, r.id) for mid, r in zip(loader.allocate_ids("customer_group_members",
                                                                             len(key_accounts)), key_accounts)])
    h.add("KA-SUPER", "重点超市 满5000享 97 折", "spend_percent", {"ladder": [[500_000, 300]], "basis": "list"},
          date(start.year + 1, 7, 1), date(start.year + 1, 8, 31), lane="order", exclusive_group="spend",
          buyers=[r.index for r in key_accounts], audience={"group_ids": [group.id]})
    # Dealer-funded, for the shops they serve, within the brand's limits.
    for n, (dealer, first) in enumerate(((ctx.dealers[0], date(start.year + 1, 4, 10)),
                                         (ctx.dealers[1], date(start.year + 1, 10, 15)))):
        served = [r.index for r in retailers if r.dealer_index == dealer.index]
        if n == 0:
            h.add(f"{dealer.code}-ANNIV", f"{dealer.code} 周年庆 满800减25", "spend_off",
                  {"ladder": [[80_000, 2_500]], "basis": "discounted"}, first, first + timedelta(days=30), lane="order",
                  buyers=served, owner_id=dealer.id, funding="dealer", brand_share_pct=0)
        else:
            h.add(f"{dealer.code}-TOP", f"{dealer.code} 畅销品 9.5 折", "percent_off", {"percent_x100": 500},
                  first, first + timedelta(days=30), products=[p.id for p in popular[:3]], buyers=served,
                  owner_id=dealer.id, funding="dealer", brand_share_pct=0)
    # Coupon batches: a code for one shop in eight (one use), and a shared code.
    batch_first = date(start.year + 1, 11, 1) if date(start.year + 1, 11, 30) <= end else end - timedelta(days=45)
    batch = h.add("COUPON-ANNIV", "周年庆优惠券 满300减20", "spend_off", {"ladder": [[30_000, 2_000]],
                  "basis": "discounted"}, batch_first, batch_first + timedelta(days=29), lane="coupon",
                  per_customer_limit=1)
    shared = h.add("COUPON-SPRING", "春季通用券 满600减30", "spend_off", {"ladder": [[60_000, 3_000]],
                   "basis": "discounted"}, date(start.year + 1, 3, 20), date(start.year + 1, 4, 20), lane="coupon",
                   per_customer_limit=1, budget_uses=100_000)
    db.session.flush()
    holders = [r for r in retailers if r.index % 8 == 3]
    code_ids = loader.allocate_ids("coupon_codes", len(holders) + 1)
    loader.load("coupon_codes", ("id", "promotion_id", "code", "customer_id", "max_uses", "used_uses"),
                [(cid, batch.id, f"ANNIV{r.code}", r.id, 1, 0) for cid, r in zip(code_ids, holders)]
                + [(code_ids[-1], shared.id, "SPRING30", None, None, 0)])
    batch.coupons = {r.index: cid for r, cid in zip(holders, code_ids)}
    shared.shared_coupon = code_ids[-1]
    h.compile()
    return h


# -- after the orders ---------------------------------------------------------------------------------
GIVEN_BACK_SQL = """
SELECT l.order_id, a.promotion_id, SUM((2 * a.amount_fen * x.qty + l.qty) / (2 * l.qty)) AS back
FROM (SELECT rl.order_line_id, rl.qty FROM return_lines rl JOIN return_requests rr ON rr.id = rl.return_id
      WHERE rr.status = 'accepted'
      UNION ALL
      SELECT d.order_line_id, d.qty FROM delivery_discrepancies d WHERE d.credit_note_id IS NOT NULL) x
JOIN order_lines l ON l.id = x.order_line_id
JOIN order_line_adjustments a ON a.order_line_id = l.id
GROUP BY l.order_id, a.promotion_id"""


def finish(history: PromotionHistory) -> None:
    """Give back what returns and damaged units took, then the budgets' and codes' uses."""
    session = db.session
    back = {(order_id, pid): int(fen) for order_id, pid, fen in session.execute(text(GIVEN_BACK_SQL))}
    if back:
        rows = session.execute(select(PromotionRedemption.id, PromotionRedemption.order_id,
                                      PromotionRedemption.promotion_id, PromotionRedemption.discount_fen)
                               .where(PromotionRedemption.order_id.in_({o for o, _p in back}),
                                      PromotionRedemption.released_at.is_(None))).all()
        given_back = [{"id": rid, "released_fen": min(back[(order_id, pid)], discount)}
                      for rid, order_id, pid, discount in rows if (order_id, pid) in back]
        if given_back:
            session.execute(update(PromotionRedemption), given_back)
    ids = [p.id for p in history.promotions if p.snapshot["counted"]]
    r = PromotionRedemption
    kept = r.released_at.is_(None)
    session.execute(update(Promotion).where(Promotion.id.in_(ids or [-1])).values(
        used_fen=select(func.coalesce(func.sum(r.discount_fen + r.gift_fen - r.released_fen), 0))
        .where(r.promotion_id == Promotion.id, kept).scalar_subquery(),
        used_uses=select(func.count()).where(r.promotion_id == Promotion.id, kept).scalar_subquery())
        .execution_options(synchronize_session=False))
    session.execute(update(CouponCode).where(CouponCode.id.in_(select(r.coupon_id).where(r.coupon_id.is_not(None))))
                    .values(used_uses=select(func.count()).where(r.coupon_id == CouponCode.id, kept)
                            .scalar_subquery()).execution_options(synchronize_session=False))
    session.expire_all()
