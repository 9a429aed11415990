"""Step "orders": two years of retailer orders up to yesterday, and the dealers' weekly
replenishment orders to the brand, with their status events and documents (app/demo/documents.py).

Volume follows app/demo/seasonality.py (New Year rush, summer drinks, growth); which products a
shop buys follows its visibility and each category's season; prices come from the in-memory
price book (the same rules as app.services.pricing.prices). A dealer's weekly order restocks what its
retailers bought since its last order, plus extra ahead of New Year. History is completed,
with some cancelled or rejected; the last few days are still moving (submitted, approved,
shipped, delivered). Numbers follow app.services.ordering.orders.order_number: "SO" + local date +
the id on 7 digits; line tax is app.services.ordering.cart.tax_included.
"""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone
from itertools import accumulate

from app.demo.builder import SEED
from app.demo.catalog import visible
from app.demo.documents import DocumentWriter, add_shipment_lines_and_lots
from app.demo.organisations import RETAILER_TERMS_DAYS
from app.demo.data_catalog import CATEGORIES
from app.demo.seasonality import WEEKDAY_WEIGHT, cny_rush, demand_factor, growth
from app.services.ordering.cart import tax_included

SHANGHAI_OFFSET = timedelta(hours=8)  # Asia/Shanghai has had no daylight saving since 1991
LINES_PER_ORDER = {"kiosk": (3, 3, 4, 4, 5), "convenience": (3, 4, 4, 5, 6), "supermarket": (4, 5, 5, 6, 6),
                   "catering": (3, 4, 4, 5, 6)}
CASES_PER_LINE = {"kiosk": (1, 1, 1, 2, 2, 3), "convenience": (1, 2, 2, 3, 4, 5),
                  "supermarket": (3, 5, 8, 10, 10, 12, 15, 20, 30, 50), "catering": (1, 2, 3, 4, 5, 6, 8, 10)}
ORDER_NOTES = ("请上午送货", "到店前请打电话", "放门口即可", "下午三点后送", "发票抬头同店名")
# Final status by the order's age in days: history is settled, the last days are in flight.
STATUS_BY_AGE = (
    (1, (("submitted", 60), ("approved", 30), ("cancelled", 5), ("rejected", 5))),
    (2, (("submitted", 10), ("approved", 35), ("shipped", 45), ("cancelled", 5), ("rejected", 5))),
    (3, (("approved", 10), ("shipped", 55), ("delivered", 30), ("cancelled", 3), ("rejected", 2))),
    (5, (("shipped", 15), ("delivered", 35), ("completed", 45), ("cancelled", 3), ("rejected", 2))),
)
SETTLED = (("completed", 955), ("cancelled", 30), ("rejected", 15))
FLUSH_AT_LINES = 200_000

ORDER_COLUMNS = ("id", "number", "buyer_id", "seller_id", "placed_by_id", "channel", "status", "line_count",
                 "total_fen", "tax_fen", "idempotency_key", "cart_fingerprint", "note", "created_at", "updated_at",
                 "payment_method")
# How each kind of buyer pays, as checkout would have let it (ordering.delivery_terms.payment_options)
# and as the documents settle it (documents.py): the demo's shops are not on credit (no CreditProfile)
# and pay the driver on delivery; dealers are on credit and pay their invoices before the due date.
RETAILER_PAYMENT, DEALER_PAYMENT = "cod", "credit"
LINE_COLUMNS = ("id", "order_id", "product_id", "qty", "unit_price_fen", "price_basis", "tax_rate",
                "line_total_fen", "tax_fen")
PROMOTED_LINE_COLUMNS = LINE_COLUMNS + ("discount_fen", "is_gift")  # lines of orders a promotion reached


class OrderBuffer:
    """Order, line and event rows with ids from local counters, loaded in batches."""

    def __init__(self, loader, documents: DocumentWriter, promotions=None):
        self.loader = loader
        self.documents = documents
        self.promotions = promotions  # app.demo.promotion_history.PromotionHistory, or None
        self.next_order = loader.allocate_ids("orders", 0).start
        self.next_line = loader.allocate_ids("order_lines", 0).start
        self.orders, self.lines, self.promoted_lines = [], [], []
        self.load_seconds = 0.0
        self.retail_orders = self.dealer_orders = self.line_count = 0

    def flush(self) -> None:
        started = time.perf_counter()
        self.line_count += len(self.lines) + len(self.promoted_lines)
        for table, columns, rows in (("orders", ORDER_COLUMNS, self.orders), ("order_lines", LINE_COLUMNS, self.lines),
                                     ("order_lines", PROMOTED_LINE_COLUMNS, self.promoted_lines)):
            if rows:
                self.loader.allocate_ids(table, len(rows))  # the ids the rows already carry
                self.loader.load(table, columns, rows)
        self.orders, self.lines, self.promoted_lines = [], [], []
        self.documents.flush()  # the orders' events and documents
        if self.promotions is not None:
            self.promotions.flush()  # their redemptions and line adjustments
        self.load_seconds += time.perf_counter() - started


def build_orders(ctx) -> None:
    HistoryGenerator(ctx).run()


class HistoryGenerator:
    def __init__(self, ctx):
        self.ctx = ctx
        self.rng = ctx.rng
        self.book = ctx.price_book
        # The documents draw from their own generator: the orders stay what they were without them.
        self.promotions = getattr(ctx, "promotion_history", None)  # step "promotion_history", if it ran
        self.buffer = OrderBuffer(ctx.loader, DocumentWriter(ctx, random.Random(f"{SEED}:documents")),
                                  self.promotions)
        self.first_shipment_id = self.buffer.documents.next_id["shipments"]
        self.now = ctx.started_at
        span = (ctx.history_end - ctx.history_start).days + 1
        self.days = [ctx.history_start + timedelta(days=n) for n in range(span)]
        self.seasons = {code: (summer, cny) for code, _zh, _en, summer, cny in CATEGORIES}
        self.products = {p.id: p for p in ctx.products}
        self.visible_sets: dict[tuple, int] = {}
        self.visible_ids: list[tuple[int, ...]] = []
        self.visible_set_of: dict[tuple, int] = {}
        self.basket_cache: dict[tuple[int, int], tuple[list[int], list[float]]] = {}
        region_paths = {rid: info.path_ids for rid, info in ctx.regions.items()}
        self.retail_group = [self.book.group("retailer", None, r.channel, region_paths[r.region_id])
                             for r in ctx.retailers]
        self.retail_visible = [self._visible_set("retailer", None, r.channel, region_paths[r.region_id])
                               for r in ctx.retailers]
        self.dealer_group = [self.book.group("dealer", d.tier, None, region_paths[d.region_id]) for d in ctx.dealers]
        self.dealer_visible = [frozenset(self.visible_ids[self._visible_set("dealer", d.tier, None,
                                                                           region_paths[d.region_id])])
                               for d in ctx.dealers]
        self.demand = [dict() for _ in ctx.dealers]
        self.sellers = [ctx.dealers[r.dealer_index] if r.dealer_index >= 0 else None for r in ctx.retailers]

    def _visible_set(self, kind, tier, channel, region_ids) -> int:
        """The id of the product set a customer of this profile may see (profiles share sets)."""
        profile = (kind, tier, channel, region_ids)
        if profile in self.visible_set_of:
            return self.visible_set_of[profile]
        ids = tuple(p.id for p in self.ctx.products if visible(p.id, self.ctx.visibility, kind, tier, channel,
                                                               region_ids))
        if ids not in self.visible_sets:
            self.visible_sets[ids] = len(self.visible_ids)
            self.visible_ids.append(ids)
        self.visible_set_of[profile] = self.visible_sets[ids]
        return self.visible_sets[ids]

    def basket(self, visible_set: int, week: int) -> tuple[list[int], list[float]]:
        """Products a shop can buy this week, with cumulative weights (popularity × season)."""
        key = (visible_set, week)
        cached = self.basket_cache.get(key)
        if cached is None:
            day = self.days[0] + timedelta(days=week * 7 + 3)
            ids, weights = [], []
            for product_id in self.visible_ids[visible_set]:
                p = self.products[product_id]
                if p.status == "draft" or p.launch > day or (p.until is not None and day > p.until):
                    continue
                ids.append(product_id)
                weights.append(p.popularity * demand_factor(*self.seasons[p.category], day, p.gift))
            cached = self.basket_cache[key] = (ids, list(accumulate(weights)))
        return cached

    def orders_per_day(self) -> list[int]:
        """The retailer order total spread over the days by weekday, season and growth."""
        shares: dict[str, float] = {}
        for p in self.ctx.products:
            shares[p.category] = shares.get(p.category, 0.0) + p.popularity
        total_popularity = sum(shares.values())
        start = self.days[0]
        weights = [WEEKDAY_WEIGHT[day.weekday()] * growth(day, start)
                   * sum(share / total_popularity * demand_factor(*self.seasons[code], day)
                         for code, share in shares.items())
                   for day in self.days]
        scale = self.ctx.scale.retail_orders / sum(weights)
        # Rounding the running total keeps the sum exact.
        running = [round(total * scale) for total in accumulate(weights)]
        return [b - a for a, b in zip([0] + running, running)]

    def run(self) -> None:
        ctx = self.ctx
        retailer_weights = list(accumulate(r.activity for r in ctx.retailers))
        everyone = range(len(ctx.retailers))
        for day_index, (day, count) in enumerate(zip(self.days, self.orders_per_day())):
            buyers = self.rng.choices(everyone, cum_weights=retailer_weights, k=count)
            self.retail_orders_of_day(day, day_index // 7, buyers)
            self.dealer_orders_of_day(day)
            if len(self.buffer.lines) + len(self.buffer.promoted_lines) >= FLUSH_AT_LINES:
                self.buffer.flush()
        self.buffer.flush()
        add_shipment_lines_and_lots(self.buffer.documents, self.first_shipment_id)
        b = self.buffer
        ctx.echo(f"  {b.retail_orders:,} retailer orders, {b.dealer_orders:,} dealer orders, {b.line_count:,} lines; "
                 f"loading them took {b.load_seconds:.1f} s")

    def status_for(self, day) -> str:
        age = (self.ctx.today - day).days
        for max_age, choices in STATUS_BY_AGE:
            if age <= max_age:
                statuses, weights = zip(*choices)
                return self.rng.choices(statuses, weights=weights)[0]
        statuses, weights = zip(*SETTLED)
        return self.rng.choices(statuses, weights=weights)[0]

    def retail_orders_of_day(self, day, week: int, buyers: list[int]) -> None:
        ctx, rng, buffer = self.ctx, self.rng, self.buffer
        retailers, price = ctx.retailers, self.book.price
        products, demand = self.products, self.demand
        epoch = self.book.epoch(day)
        midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) - SHANGHAI_OFFSET
        prefix = "SO" + day.strftime("%y%m%d")
        weekday = day.weekday()
        choices, randrange, random = rng.choices, rng.randrange, rng.random
        lines, orders, documents = buffer.lines, buffer.orders, buffer.documents
        live = self.promotions.live(day) if self.promotions is not None else ()
        for r in buyers:
            retailer = retailers[r]
            channel = retailer.channel
            ids, cumulative = self.basket(self.retail_visible[r], week)
            wanted = choices(LINES_PER_ORDER[channel])[0]
            picked = []
            for product_id in choices(ids, cum_weights=cumulative, k=wanted + 3):
                if product_id not in picked:
                    picked.append(product_id)
                    if len(picked) == wanted:
                        break
            order_id = buffer.next_order
            buffer.next_order += 1
            group, customer_id = self.retail_group[r], retailer.id
            dealer = self.sellers[r]
            restock = demand[dealer.index] if dealer is not None else None
            case_choices = CASES_PER_LINE[channel]
            first_line = len(lines)
            total = tax = 0
            for product_id in picked:
                p = products[product_id]
                qty = choices(case_choices)[0]
                if qty < p.min_qty:
                    qty = p.min_qty
                if p.multiple > 1 and qty % p.multiple:
                    qty += p.multiple - qty % p.multiple
                unit_price, reason = price(group, customer_id, product_id, qty, day, epoch)
                line_total = unit_price * qty
                line_tax = tax_included(line_total, p.tax_rate)
                lines.append((buffer.next_line, order_id, product_id, qty, unit_price, reason, p.tax_rate,
                              line_total, line_tax))
                buffer.next_line += 1
                total += line_total
                tax += line_tax
                if restock is not None:
                    restock[product_id] = restock.get(product_id, 0) + qty
            by_rep = random() < 0.6 and retailer.rep_weekday == weekday  # one draw whatever the routes
            if by_rep:
                channel_used, placed_by = "rep", retailer.rep_user_id
                created = midnight + timedelta(seconds=randrange(9 * 3600, 17 * 3600))
            else:
                channel_used = "api" if channel == "supermarket" and random() < 0.15 else "web"
                placed_by = retailer.user_id
                created = midnight + timedelta(seconds=randrange(7 * 3600, 22 * 3600))
            status = self.status_for(day)
            seller_user = dealer.user_id if dealer is not None else ctx.admin_user_id
            note = rng.choice(ORDER_NOTES) if random() < 0.03 else ""
            seller_id = dealer.id if dealer is not None else ctx.brand_id
            paid, line_count, given = lines[first_line:], len(picked), None
            if live:
                promoted = self.promotions.apply(live, order_id, r, paid, status)
                if promoted is not None:
                    # The order's lines move to the promoted ones (with their discounts), gift lines after
                    # the paid ones; the documents see the paid lines at their discounted amounts.
                    del lines[first_line:]
                    order_lines, total, tax, given = promoted
                    for line in order_lines:
                        if line[0] is None:
                            line = (buffer.next_line,) + line[1:]
                            buffer.next_line += 1
                        buffer.promoted_lines.append(line)
                    paid, line_count = order_lines[:len(paid)], len(order_lines)
            updated = documents.add(order_id=order_id, status=status, created=created, placed_by=placed_by,
                                    buyer_id=customer_id, seller_id=seller_id, seller_user=seller_user,
                                    buyer_user=retailer.user_id, lines=paid, total=total, tax=tax,
                                    terms_days=RETAILER_TERMS_DAYS, dealer_index=None)
            if given is not None:
                self.promotions.record(given, order_id, customer_id, created, status, updated)
            orders.append((order_id, f"{prefix}{order_id:07d}", customer_id, seller_id, placed_by, channel_used,
                           status, line_count, total, tax, None, None, note, created, updated, RETAILER_PAYMENT))
        buffer.retail_orders += len(buyers)

    def dealer_orders_of_day(self, day) -> None:
        """Dealers order on their own weekday what their shops bought since the last order."""
        ctx, rng, buffer = self.ctx, self.rng, self.buffer
        weekday = day.weekday()
        if weekday == 6:
            return
        epoch = self.book.epoch(day)
        midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) - SHANGHAI_OFFSET
        prefix = "SO" + day.strftime("%y%m%d")
        stock_up = 1.0 + 0.25 * cny_rush(day + timedelta(days=10))
        for dealer in ctx.dealers[weekday::6]:
            bought = self.demand[dealer.index]
            if not bought:
                continue
            self.demand[dealer.index] = {}
            factor = stock_up * rng.uniform(0.95, 1.10)
            group, can_see = self.dealer_group[dealer.index], self.dealer_visible[dealer.index]
            priced = []
            for product_id in sorted(bought):
                if product_id not in can_see:
                    continue
                p = self.products[product_id]
                qty = max(p.min_qty, int(bought[product_id] * factor + 0.999))
                if p.multiple > 1 and qty % p.multiple:
                    qty += p.multiple - qty % p.multiple
                unit_price, reason = self.book.price(group, dealer.id, product_id, qty, day, epoch)
                priced.append((product_id, qty, unit_price, reason, p.tax_rate))
            if not priced:
                continue
            order_id = buffer.next_order
            buffer.next_order += 1
            first_line = len(buffer.lines)
            total = tax = 0
            for product_id, qty, unit_price, reason, rate in priced:
                line_total = unit_price * qty
                line_tax = tax_included(line_total, rate)
                buffer.lines.append((buffer.next_line, order_id, product_id, qty, unit_price, reason, rate,
                                     line_total, line_tax))
                buffer.next_line += 1
                total += line_total
                tax += line_tax
            created = midnight + timedelta(seconds=rng.randrange(8 * 3600, 18 * 3600))
            status = self.status_for(day)
            updated = buffer.documents.add(order_id=order_id, status=status, created=created, placed_by=dealer.user_id,
                                           buyer_id=dealer.id, seller_id=ctx.brand_id, seller_user=ctx.admin_user_id,
                                           buyer_user=dealer.user_id, lines=buffer.lines[first_line:], total=total,
                                           tax=tax, terms_days=dealer.terms_days, dealer_index=dealer.index)
            channel = "api" if dealer.tier == "A" and rng.random() < 0.5 else "web"
            buffer.orders.append((order_id, f"{prefix}{order_id:07d}", dealer.id, ctx.brand_id, dealer.user_id,
                                  channel, status, len(priced), total, tax, None, None, "", created, updated,
                                  DEALER_PAYMENT))
            buffer.dealer_orders += 1
