"""Step "prices": price lists for dealer tiers and retailer channels (with last year's version
before the New Year price rise), regional lists (a dealer freight allowance in the far west,
provincial promotions), quantity breaks, and contract prices for a few hundred customers.

The margins keep every dealer price below every retailer price, and every retailer price at or
below the base price: dealers pay at most 82 % of base, retailers at least about 88 %.
"""
from __future__ import annotations

from datetime import date, timedelta

from app.demo.catalog import visible
from app.demo.pricebook import ContractRow, ListInfo, PriceBook
from app.demo.seasonality import cny_dates_between

DEALER_TIER_SHARE = {"A": 0.78, "B": 0.80, "C": 0.82}
DEALER_BREAKS = ((1, 1.0), (50, 0.99), (200, 0.98))
FAR_WEST_DEALER_SHARE = 0.76  # freight allowance for dealers in Xinjiang, Tibet, Qinghai
FAR_WEST = (("XJ", "新疆维吾尔自治区"), ("XZ", "西藏自治区"), ("QH", "青海省"))
CHANNEL_SHARE = {"kiosk": 1.00, "convenience": 0.98, "supermarket": 0.96, "catering": 0.97}
CHANNEL_LIST_NAMES = {"kiosk": "小卖部价", "convenience": "便利店价", "supermarket": "商超价", "catering": "餐饮价"}
RETAIL_BREAKS = ((1, 1.0), (10, 0.98), (50, 0.96))
LAST_YEAR_SHARE = 0.97  # prices rose 3 % on 1 January
DRINKS = ("SOFT", "TEA", "WATER", "JUICE", "BEER")
CONTRACT_DISCOUNT = {"retailer": 0.95, "dealer": 0.97}
CONTRACT_BULK_BREAK = (100, 0.97)

LIST_COLUMNS = ("id", "code", "name", "audience", "tier", "channel", "region_id", "priority", "valid_from",
                "valid_to", "active")


def fen(amount: float) -> int:
    """Round to whole jiao (10 fen), as price lists are written."""
    return int(round(amount / 10)) * 10


def build_prices(ctx) -> None:
    specs = _list_specs(ctx)
    list_ids = ctx.loader.allocate_ids("price_lists", len(specs))
    lists, items = [], {}
    for list_id, (fields, products, share, breaks) in zip(list_ids, specs):
        info = ListInfo(list_id, **fields)
        lists.append(info)
        items[list_id] = {p.id: [(min_qty, fen(p.base_price_fen * share * cut)) for min_qty, cut in breaks]
                          for p in products}
    ctx.loader.load("price_lists", LIST_COLUMNS, [(pl.id, pl.code, pl.name, pl.audience, pl.tier, pl.channel,
                                                   pl.region_id, pl.priority, pl.valid_from, pl.valid_to, pl.active)
                                                  for pl in lists])
    rows = [(list_id, product_id, min_qty, price) for list_id, by_product in items.items()
            for product_id, breaks in by_product.items() for min_qty, price in breaks]
    item_ids = ctx.loader.allocate_ids("price_list_items", len(rows))
    ctx.loader.load("price_list_items", ("id", "price_list_id", "product_id", "min_qty", "price_fen"),
                    [(item_id, *row) for item_id, row in zip(item_ids, rows)])
    book = PriceBook(lists, items, {}, {p.id: p.base_price_fen for p in ctx.products})
    book.contracts = _contracts(ctx, book)
    book.contract_customers = {customer_id for customer_id, _product in book.contracts}
    ctx.price_book = book


def price_rise_date(ctx) -> date:
    """The New Year's Day when the current lists started: the latest one well inside the history."""
    rise = date(ctx.today.year, 1, 1)
    return rise if rise > ctx.history_start + timedelta(days=180) else date(ctx.today.year - 1, 1, 1)


def _list_specs(ctx) -> list[tuple[dict, list, float, tuple]]:
    """(ListInfo fields, products, share of base, breaks) for every price list."""
    products = ctx.products
    drinks = [p for p in products if p.category in DRINKS or p.only == "catering"]
    gifts = [p for p in products if p.gift]
    rise = price_rise_date(ctx)
    old_to = rise - timedelta(days=1)

    def fields(code, name, audience, tier=None, channel=None, region_id=None, priority=0, valid_from=None,
               valid_to=None, active=True):
        return dict(code=code, name=name, audience=audience, tier=tier, channel=channel, region_id=region_id,
                    priority=priority, valid_from=valid_from, valid_to=valid_to, active=active)

    specs = []
    for tier, share in DEALER_TIER_SHARE.items():
        name = f"{tier}级经销商价"
        specs.append((fields(f"DLR-{tier}", name, "dealer", tier=tier, valid_from=rise), products, share,
                      DEALER_BREAKS))
        specs.append((fields(f"DLR-{tier}-{old_to.year}", f"{name}（{old_to.year}版）", "dealer", tier=tier,
                             valid_to=old_to), products, share * LAST_YEAR_SHARE, DEALER_BREAKS))
    for short, province in FAR_WEST:
        specs.append((fields(f"DLR-{short}", f"{province[:2]}经销商运费补贴价", "dealer",
                             region_id=ctx.province_ids[province], priority=10), products, FAR_WEST_DEALER_SHARE,
                      DEALER_BREAKS[:1]))
    for channel, share in CHANNEL_SHARE.items():
        covered = drinks if channel == "catering" else products
        code = f"RTL-{channel.upper()[:5]}"
        name = CHANNEL_LIST_NAMES[channel]
        specs.append((fields(code, name, "retailer", channel=channel, valid_from=rise), covered, share,
                      RETAIL_BREAKS))
        specs.append((fields(f"{code}-{old_to.year}", f"{name}（{old_to.year}版）", "retailer", channel=channel,
                             valid_to=old_to), covered, share * LAST_YEAR_SHARE, RETAIL_BREAKS))
    specs.append((fields("RTL-KIOSK-OLD", "小卖部价（已停用）", "retailer", channel="kiosk", active=False),
                  products, 0.90, RETAIL_BREAKS[:1]))
    specs.extend(_promotions(ctx, drinks, gifts, fields))
    return specs


def _promotions(ctx, drinks, gifts, fields) -> list[tuple]:
    """Provincial promotions: summer drinks in Guangdong, New Year gifts in Sichuan, and one
    running today in Beijing (so the demo shows a promotion price)."""
    specs = []
    guangdong = ctx.province_ids["广东省"]
    for year in range(ctx.history_start.year, ctx.history_end.year + 1):
        start, end = date(year, 6, 1), date(year, 8, 31)
        if start <= ctx.history_end and end >= ctx.history_start:
            specs.append((fields(f"PROMO-GD-{year}S", f"广东{year}夏季饮料促销", "retailer", region_id=guangdong,
                                 priority=20, valid_from=start, valid_to=end), drinks, 0.93, RETAIL_BREAKS))
    new_years = cny_dates_between(ctx.history_start + timedelta(days=45), ctx.history_end)
    if new_years:
        cny = new_years[-1]
        specs.append((fields(f"PROMO-SC-{cny.year}C", f"四川{cny.year}春节礼品促销", "retailer",
                             region_id=ctx.province_ids["四川省"], priority=20, valid_from=cny - timedelta(days=45),
                             valid_to=cny + timedelta(days=11)), gifts, 0.92, RETAIL_BREAKS))
    month = ctx.today.replace(day=1)
    following = (month + timedelta(days=62)).replace(day=1) - timedelta(days=1)
    warm = [p for p in ctx.products if p.category in ("TEA", "DAIRY")]
    specs.append((fields(f"PROMO-BJ-{month:%Y%m}", f"北京{month.month}月茶饮乳品促销", "retailer",
                         region_id=ctx.province_ids["北京市"], priority=20, valid_from=month, valid_to=following),
                  warm, 0.94, RETAIL_BREAKS))
    return specs


def _contracts(ctx, book: PriceBook) -> dict[tuple[int, int], list[ContractRow]]:
    """Contract prices for the busiest supermarkets and restaurants and for the largest dealers:
    a few products each, below their list price, some with a bulk break, some expired."""
    rng, loader = ctx.rng, ctx.loader
    today = ctx.today
    region_paths = {rid: info.path_ids for rid, info in ctx.regions.items()}
    big_shops = sorted((r for r in ctx.retailers if r.channel in ("supermarket", "catering")),
                       key=lambda r: -r.activity)[:ctx.scale.contract_retailers]
    big_dealers = sorted(ctx.dealers, key=lambda d: -d.retailer_count)[:ctx.scale.contract_dealers]
    customers = [("retailer", r.id, None, r.channel, r.region_id, "HT") for r in big_shops]
    customers += [("dealer", d.id, d.tier, None, d.region_id, "JX") for d in big_dealers]
    contracts: dict[tuple[int, int], list[ContractRow]] = {}
    rows = []
    for number, (kind, customer_id, tier, channel, region_id, prefix) in enumerate(customers, start=1):
        region_ids = region_paths[region_id]
        group = book.group(kind, tier, channel, region_ids)
        candidates = [p for p in ctx.products if p.status == "active"
                      and visible(p.id, ctx.visibility, kind, tier, channel, region_ids)]
        chosen = set()
        while len(chosen) < min(rng.randint(3, 8) if kind == "retailer" else rng.randint(5, 12), len(candidates)):
            chosen.add(rng.choices(candidates, weights=[p.popularity for p in candidates])[0])
        valid_from = ctx.history_start + timedelta(days=rng.randrange(600))
        valid_to = None if rng.random() < 0.7 else valid_from + timedelta(days=365)
        reference = f"{prefix}{valid_from.year}-{number:04d}"
        for product in sorted(chosen, key=lambda p: p.id):
            list_price, _reason = book.price(group, 0, product.id, 1, today, book.epoch(today))
            price = fen(list_price * CONTRACT_DISCOUNT[kind])
            breaks = [(1, price)]
            if channel == "supermarket" and rng.random() < 0.5:
                breaks.append((CONTRACT_BULK_BREAK[0], fen(price * CONTRACT_BULK_BREAK[1])))
            for min_qty, break_price in breaks:
                contracts.setdefault((customer_id, product.id), []).append(
                    ContractRow(min_qty, break_price, valid_from, valid_to, reference))
                rows.append((customer_id, product.id, min_qty, break_price, valid_from, valid_to, reference))
    ids = loader.allocate_ids("contract_prices", len(rows))
    loader.load("contract_prices", ("id", "customer_id", "product_id", "min_qty", "price_fen", "valid_from",
                                    "valid_to", "reference"), [(cid, *row) for cid, row in zip(ids, rows)])
    return contracts
