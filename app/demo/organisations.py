"""Step "organisations": the brand, dealers with contiguous territories (every covered unit has
exactly one dealer), and retailers spread by population, each served by the dealer covering its
city or district; a handful in remote cities nobody covers buy from the brand directly."""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from itertools import accumulate

from app.demo.data_names import address, company_name, mobile_phone, person_name, shop_name

BRAND_NAME = "联营食品饮料集团有限公司"
CHANNEL_MIX = {"kiosk": 0.45, "convenience": 0.25, "supermarket": 0.10, "catering": 0.20}
# How often a shop of each channel orders, relative to the others.
CHANNEL_ACTIVITY = {"kiosk": 0.8, "convenience": 1.2, "supermarket": 1.8, "catering": 1.3}
TIER_SHARES = (("A", 0.2), ("B", 0.4), ("C", 0.4))
CREDIT_YUAN = {"A": (2_000_000, 5_000_000), "B": (800_000, 2_000_000), "C": (200_000, 800_000)}
PAYMENT_TERMS = {"A": (45, 60), "B": (30,), "C": (0, 15)}
RETAILER_TERMS_DAYS = 7  # shops pay on delivery; an invoice of an order still on the road is due a week later

ORG_COLUMNS = ("id", "kind", "code", "name", "region_id", "channel", "tier", "dealer_id", "credit_limit_fen",
               "payment_terms_days", "contact_name", "phone", "address", "active")


@dataclass
class DealerInfo:
    index: int
    id: int
    code: str
    tier: str
    region_id: int
    unit_indices: range
    contact: str
    user_id: int = 0
    retailer_count: int = 0
    terms_days: int = 0


@dataclass(slots=True)
class RetailerInfo:
    index: int
    id: int
    code: str
    channel: str
    region_id: int
    dealer_index: int  # -1: served by the brand
    activity: float
    contact: str
    user_id: int = 0
    rep_user_id: int = 0
    rep_weekday: int = -1


def contiguous_partition(weights: list[float], parts: int) -> list[range]:
    """Split items (in their order) into `parts` non-empty runs of about equal total weight."""
    n = len(weights)
    parts = min(parts, n)
    cumulative = list(accumulate(weights))
    total = cumulative[-1]
    bounds = [0]
    for k in range(1, parts):
        ideal = total * k / parts
        i = bisect_left(cumulative, ideal)
        cut = i + 1 if i == 0 or cumulative[i] - ideal < ideal - cumulative[i - 1] else i
        bounds.append(min(max(cut, bounds[-1] + 1), n - (parts - k)))
    bounds.append(n)
    return [range(bounds[k], bounds[k + 1]) for k in range(parts)]


def build_organisations(ctx) -> None:
    scale, rng, loader = ctx.scale, ctx.rng, ctx.loader
    covered = [i for i, unit in enumerate(ctx.units) if unit.covered]
    uncovered = [i for i, unit in enumerate(ctx.units) if not unit.covered]
    total = 1 + scale.dealers + scale.retailers
    ids = iter(loader.allocate_ids("organisations", total))
    rows = []

    ctx.brand_id = next(ids)
    shanghai = ctx.province_ids["上海市"]
    rows.append((ctx.brand_id, "brand", "BRAND", BRAND_NAME, shanghai, None, None, None, 0, 0, person_name(rng),
                 "021-6288" + f"{rng.randint(0, 9999):04d}", "上海市黄浦区中山东一路18号", True))

    dealers = _dealers(ctx, covered, ids, rows)
    retailers = _retailers(ctx, covered, uncovered, dealers, ids, rows)
    loader.load("organisations", ORG_COLUMNS, rows)

    territories = [(dealer.id, ctx.units[covered[i]].region_id) for dealer in dealers for i in dealer.unit_indices]
    territory_ids = loader.allocate_ids("dealer_territories", len(territories))
    loader.load("dealer_territories", ("id", "dealer_id", "region_id"),
                [(tid, *t) for tid, t in zip(territory_ids, territories)])
    ctx.dealers = dealers
    ctx.retailers = retailers


def _dealers(ctx, covered: list[int], ids, rows: list) -> list[DealerInfo]:
    rng = ctx.rng
    runs = contiguous_partition([ctx.units[i].population for i in covered], ctx.scale.dealers)
    by_size = sorted(range(len(runs)), key=lambda k: -sum(ctx.units[covered[i]].population for i in runs[k]))
    tiers, start = {}, 0
    for tier, share in TIER_SHARES:
        count = round(share * len(runs)) if tier != "C" else len(runs) - start
        for k in by_size[start:start + count]:
            tiers[k] = tier
        start += count
    dealers = []
    for k, run in enumerate(runs):
        first_unit = ctx.units[covered[run[0]]]
        tier = tiers[k]
        low, high = CREDIT_YUAN[tier]
        credit_fen = rng.randrange(low, high + 1, 100_000) * 100
        contact = person_name(rng)
        dealer = DealerInfo(k, next(ids), f"D{k + 1:03d}", tier, first_unit.region_id, run, contact)
        dealers.append(dealer)
        name = company_name(rng, first_unit.place)
        dealer.terms_days = rng.choice(PAYMENT_TERMS[tier])
        rows.append((dealer.id, "dealer", dealer.code, name, first_unit.region_id,
                     None, tier, None, credit_fen, dealer.terms_days, contact, mobile_phone(rng),
                     address(rng, first_unit.place), True))
    return dealers


def _retailers(ctx, covered: list[int], uncovered: list[int], dealers: list[DealerInfo], ids,
               rows: list) -> list[RetailerInfo]:
    rng, scale, units = ctx.rng, ctx.scale, ctx.units
    dealer_of_unit = {covered[i]: dealer.index for dealer in dealers for i in dealer.unit_indices}
    count = scale.retailers - scale.uncovered_retailers
    placed = rng.choices(covered, weights=[units[i].population for i in covered], k=count)
    placed.sort()  # codes follow geography, so retailer000001 lives in dealer001's first district
    if placed and dealer_of_unit[placed[0]] != 0:
        placed[0] = covered[0]
    placed += [uncovered[i % len(uncovered)] for i in range(scale.uncovered_retailers)] if uncovered else []
    channels, shares = zip(*CHANNEL_MIX.items())
    chosen_channels = rng.choices(channels, weights=shares, k=len(placed))
    retailers = []
    for index, unit_index in enumerate(placed):
        unit = units[unit_index]
        channel = "kiosk" if index == 0 else chosen_channels[index]
        dealer_index = dealer_of_unit.get(unit_index, -1)
        activity = 6.0 if index == 0 else rng.lognormvariate(0, 0.7) * CHANNEL_ACTIVITY[channel]
        owner = person_name(rng)
        retailer = RetailerInfo(index, next(ids), f"R{index + 1:06d}", channel, unit.region_id, dealer_index,
                                activity, owner)
        retailers.append(retailer)
        if dealer_index >= 0:
            dealers[dealer_index].retailer_count += 1
        dealer_id = dealers[dealer_index].id if dealer_index >= 0 else None
        rows.append((retailer.id, "retailer", retailer.code, shop_name(rng, unit.place, channel, owner),
                     unit.region_id, channel, None, dealer_id, 0, RETAILER_TERMS_DAYS, owner, mobile_phone(rng),
                     address(rng, unit.place), True))
    return retailers
