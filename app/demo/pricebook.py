"""An in-memory twin of app.services.pricing.prices, for pricing millions of demo order lines without
a query each. Same resolution order: contract (deepest break reached, then latest start), then
the most specific matching price list (then higher priority, then lower id) that has a break
reached, then the base price. tests/test_demo_seed.py checks it against the service."""
from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta


from app.services.pricing.prices import Price


@dataclass(frozen=True)
class ListInfo:
    id: int
    code: str
    name: str
    audience: str
    tier: str | None
    channel: str | None
    region_id: int | None
    priority: int
    valid_from: date | None
    valid_to: date | None
    active: bool

    @property
    def rank(self) -> tuple:
        specificity = sum(x is not None for x in (self.tier, self.channel, self.region_id))
        return (-specificity, -self.priority, self.id)

    def targets(self, kind: str, tier: str | None, channel: str | None, region_ids: tuple[int, ...]) -> bool:
        return (self.active and self.audience == kind and self.tier in (None, tier)
                and self.channel in (None, channel) and (self.region_id is None or self.region_id in region_ids))

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class ContractRow:
    min_qty: int
    price_fen: int
    valid_from: date | None
    valid_to: date | None
    reference: str


class PriceBook:
    def __init__(self, lists: list[ListInfo], items: dict[int, dict[int, list[tuple[int, int]]]],
                 contracts: dict[tuple[int, int], list[ContractRow]], base_prices: dict[int, int]):
        self.lists = sorted(lists, key=lambda price_list: price_list.rank)
        self.items = items  # {list id: {product id: [(min_qty, price_fen), ...] ascending}}
        self.contracts = contracts
        self.contract_customers = {customer_id for customer_id, _product in contracts}
        self.base_prices = base_prices
        self._boundaries = sorted({d for pl in lists for d in (pl.valid_from,
                                                                pl.valid_to and pl.valid_to + timedelta(days=1)) if d})
        self._group_ids: dict[tuple, int] = {}
        self._group_lists: list[list[ListInfo]] = []
        self._valid_lists: dict[tuple[int, int], list[ListInfo]] = {}
        self._list_prices: dict[tuple, tuple[int, str]] = {}
        self._reasons: dict[tuple, str] = {}

    def group(self, kind: str, tier: str | None, channel: str | None, region_ids: tuple[int, ...]) -> int:
        """An id for customers the lists cannot tell apart (same kind, tier, channel, region)."""
        key = (kind, tier, channel, region_ids)
        if key not in self._group_ids:
            self._group_ids[key] = len(self._group_lists)
            self._group_lists.append([pl for pl in self.lists if pl.targets(kind, tier, channel, region_ids)])
        return self._group_ids[key]

    def epoch(self, day: date) -> int:
        """Days with the same epoch have the same valid price lists."""
        return bisect_right(self._boundaries, day)

    def price(self, group: int, customer_id: int, product_id: int, qty: int, day: date,
              epoch: int) -> tuple[int, str]:
        """(unit price in fen, reason text) as app.services.pricing.prices would answer on `day`."""
        if customer_id in self.contract_customers:
            rows = self.contracts.get((customer_id, product_id))
            if rows:
                reached = [r for r in rows if r.min_qty <= qty and (r.valid_from is None or r.valid_from <= day)
                           and (r.valid_to is None or day <= r.valid_to)]
                if reached:
                    best = max(reached, key=lambda r: (r.min_qty, r.valid_from or date.min))
                    return best.price_fen, self.reason("contract", best.reference, "", best.min_qty)
        key = (group, epoch, product_id, qty)
        found = self._list_prices.get(key)
        if found is None:
            found = self._list_prices[key] = self._from_lists(group, epoch, product_id, qty, day)
        return found

    def _from_lists(self, group: int, epoch: int, product_id: int, qty: int, day: date) -> tuple[int, str]:
        valid = self._valid_lists.get((group, epoch))
        if valid is None:
            valid = self._valid_lists[(group, epoch)] = [pl for pl in self._group_lists[group] if pl.valid_on(day)]
        for price_list in valid:
            breaks = self.items.get(price_list.id, {}).get(product_id)
            if not breaks:
                continue
            for min_qty, price_fen in reversed(breaks):
                if min_qty <= qty:
                    return price_fen, self.reason("price_list", price_list.code, price_list.name, min_qty)
        return self.base_prices[product_id], self.reason("base", "", "", 1)

    def reason(self, source: str, reference: str, name: str, min_qty: int) -> str:
        """The price basis the pricing service stores on an order line (a message: code and
        parameters), as JSON text for the bulk loader (order_lines.price_basis)."""
        key = (source, reference, name, min_qty)
        if key not in self._reasons:
            basis = Price(0, min_qty, 0, source, reference, name, min_qty).reason
            self._reasons[key] = json.dumps(basis.to_json(), ensure_ascii=False)
        return self._reasons[key]
