"""Step "catalog": categories, 200+ products with GTINs and pinyin, and visibility rules
(catering-only packs, regional beers)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.demo.data_catalog import CATEGORIES, FAMILIES, FLAVOURS_EN, LABELS_EN, MULTIPLE_OF_TWO
from app.demo.data_regions import NORTHEAST_PROVINCES, SICHUAN_CHONGQING
from app.services.catalog.gtin import with_check_digit
from app.services.catalog.search_text import pinyin_full, pinyin_initials

GTIN_COMPANY_PREFIX = "6923456"  # GS1 China (690–699) company prefix; item reference follows
VARIANT_POPULARITY = (1.0, 0.6, 0.4, 0.3, 0.25, 0.2, 0.15)


@dataclass(frozen=True)
class ProductInfo:
    id: int
    code: str
    category: str
    name: str
    base_price_fen: int
    tax_rate: int
    min_qty: int
    multiple: int
    status: str
    launch: date
    until: date | None  # last day it was sold (discontinued products)
    popularity: float
    gift: bool
    only: str | None  # "catering", "northeast", "sichuan" or None (everyone)


def build_catalog(ctx) -> None:
    loader, rng = ctx.loader, ctx.rng
    category_ids = dict(zip((c[0] for c in CATEGORIES), loader.allocate_ids("categories", len(CATEGORIES))))
    loader.load("categories", ("id", "code", "name_zh", "name_en", "sort_order"),
                [(category_ids[code], code, zh, en, n * 10) for n, (code, zh, en, _s, _c) in enumerate(CATEGORIES)])

    variants = [(family, index, variant) for family in FAMILIES for index, variant in enumerate(family[5])]
    product_ids = iter(loader.allocate_ids("products", len(variants)))
    per_category: dict[str, int] = {}
    products, rows = [], []
    oldest_launch = date(2018, 1, 1)
    launch_span = (ctx.history_start - oldest_launch).days - 30
    for item_number, ((category, family_zh, family_en, shelf_life, popularity, _v), index, variant) in \
            enumerate(variants, start=1):
        per_category[category] = per_category.get(category, 0) + 1
        code = f"{category}-{per_category[category]:03d}"
        flavour = variant.get("flavour", "")
        label = variant.get("label", "")
        name_zh = f"{flavour}{family_zh} {variant['spec']}" + (f" {label}" if label else "")
        name_en = (f"{FLAVOURS_EN[flavour].capitalize()} {family_en.lower()}" if flavour else family_en) + \
            f" {variant['spec'].replace('×', ' x ')}" + (f" ({LABELS_EN.get(label, label)})" if label else "")
        multiple = 2 if family_zh in MULTIPLE_OF_TWO else 1
        status = variant.get("status", "active")
        launch = date.fromisoformat(variant["launch"]) if "launch" in variant else \
            oldest_launch + timedelta(days=rng.randrange(launch_span))
        until = date.fromisoformat(variant["until"]) if "until" in variant else None
        info = ProductInfo(
            id=next(product_ids), code=code, category=category, name=name_zh,
            base_price_fen=int(round(variant["piece_yuan"] * variant["pack"] * 10)) * 10,
            tax_rate=variant.get("tax", 13), min_qty=max(variant.get("min", 1), multiple), multiple=multiple,
            status=status, launch=launch, until=until,
            popularity=popularity * VARIANT_POPULARITY[min(index, len(VARIANT_POPULARITY) - 1)],
            gift=bool(variant.get("gift")), only=variant.get("only"))
        products.append(info)
        rows.append((info.id, code, with_check_digit(f"{GTIN_COMPANY_PREFIX}{item_number:05d}"),
                     category_ids[category], name_zh, name_en, pinyin_initials(flavour + family_zh),
                     pinyin_full(flavour + family_zh),
                     variant["spec"], variant.get("unit", "箱"), variant["pack"], info.min_qty, multiple,
                     variant.get("shelf", shelf_life), info.tax_rate, status, launch, info.base_price_fen, 0,
                     ctx.started_at))
    loader.load("products", ("id", "code", "gtin", "category_id", "name_zh", "name_en", "pinyin", "pinyin_full",
                             "spec", "unit", "pack_size", "min_order_qty", "order_multiple", "shelf_life_days", "tax_rate",
                             "status", "launch_date", "base_price_fen", "image_version", "updated_at"), rows)
    _load_visibility(ctx, products)
    ctx.category_ids = category_ids
    ctx.products = products


def visibility_rules(only: str | None, province_ids: dict[str, int]) -> list[tuple]:
    """(audience, tier, channel, region_id) rules for a product limited to some customers."""
    if only == "catering":
        return [("retailer", None, "catering", None), ("dealer", None, None, None)]
    if only == "northeast":
        return [(None, None, None, province_ids[name]) for name in NORTHEAST_PROVINCES]
    if only == "sichuan":
        return [(None, None, None, province_ids[name]) for name in SICHUAN_CHONGQING]
    return []


def visible(product_id: int, rules: dict[int, list[tuple]], kind: str, tier: str | None, channel: str | None,
            region_ids: tuple[int, ...]) -> bool:
    """The rule part of app.services.catalog.visibility: no rules, or any rule whose set fields all match."""
    product_rules = rules.get(product_id)
    return not product_rules or any(
        (audience is None or audience == kind) and (rule_tier is None or rule_tier == tier)
        and (rule_channel is None or rule_channel == channel) and (region_id is None or region_id in region_ids)
        for audience, rule_tier, rule_channel, region_id in product_rules)


def _load_visibility(ctx, products: list[ProductInfo]) -> None:
    rules = [(p.id, *rule) for p in products for rule in visibility_rules(p.only, ctx.province_ids)]
    ids = ctx.loader.allocate_ids("product_visibility", len(rules))
    ctx.visibility = {}
    for rule in rules:
        ctx.visibility.setdefault(rule[0], []).append(rule[1:])
    ctx.loader.load("product_visibility", ("id", "product_id", "audience", "tier", "channel", "region_id"),
                    [(rule_id, *rule) for rule_id, rule in zip(ids, rules)])
