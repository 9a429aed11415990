"""New-product launches (新品上市): each product's first 13 weeks read from the daily sales facts,
against the brand's launch plan, which is how "new-product success rate" becomes a number.

For a product launched on day L (its `launch_date`), week n covers the days L + 7(n − 1) …
L + 7n − 1, n = 1 … 13. Only retailer purchases count (dealer replenishment is not demand), net of
cancelled and rejected orders.

- Distribution reach (铺货率) after week n: distinct retailers that bought the product from L to
  the end of week n, over the active retailers (retailer accounts marked active; for a dealer, the
  active retailers it serves). The accounts carry no opening date, so the denominator is today's.
- Repeat rate (复购率): of the retailers that bought it in the 13 weeks, the share that bought it
  again on a later day within the 13 weeks.
- Volume: net cases per week and cumulated.

The success rule: a launch succeeds when, at the end of week 13, its reach is at least the plan's
target reach AND its net cases are at least the plan's target cases. A launch without a plan,
or whose 13 weeks are not over yet (the facts run to yesterday), is shown but not judged; the
success rate is succeeded ÷ judged. A dealer sees its own customers: the reach target (a share)
is the brand's, the cases target is the brand's scaled by the dealer's share of the active
retailers (rounded half up), so the dealers' targets add up to the brand's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from sqlalchemy import Integer, func, literal, select, union_all

from app.extensions import db
from app.models import Organisation, Product
from app.models.analytics import LaunchPlan, LaunchRollup, SalesDay
from app.services.analytics import launch_rollup
from app.services.core import audit
from app.services.core.clock import today_local
from app.services.core.errors import DomainError, NotFound

WEEKS = 13
WINDOW_DAYS = 7 * WEEKS
MAX_DAYS = 1096  # launch dates over at most three years
MAX_CASES = 10_000_000


@dataclass
class LaunchWeek:
    number: int  # 1 … 13
    new_buyers: int
    buyers: int  # cumulated
    cases: int
    cum_cases: int
    reach: float | None  # cumulated buyers ÷ active retailers


@dataclass
class Launch:
    product: Product
    launch_date: date
    active_retailers: int
    weeks: list[LaunchWeek]
    buyers: int
    repeat_buyers: int
    cases: int
    complete: bool  # all 13 weeks are in the facts
    target_reach_bp: int | None = None
    target_cases: int | None = None

    @property
    def reach(self) -> float | None:
        return None if not self.active_retailers else self.buyers / self.active_retailers

    @property
    def repeat_rate(self) -> float | None:
        return None if not self.buyers else self.repeat_buyers / self.buyers

    @property
    def reach_met(self) -> bool | None:
        if self.target_reach_bp is None:
            return None
        return self.active_retailers > 0 and self.buyers * 10_000 >= self.target_reach_bp * self.active_retailers

    @property
    def cases_met(self) -> bool | None:
        return None if self.target_cases is None else self.cases >= self.target_cases

    @property
    def verdict(self) -> str:
        """"met", "missed", "running" (weeks still to come) or "no_plan"."""
        if self.target_reach_bp is None:
            return "no_plan"
        if not self.complete:
            return "running"
        return "met" if self.reach_met and self.cases_met else "missed"


@dataclass
class LaunchReport:
    start: date
    end: date
    launches: list[Launch] = field(default_factory=list)

    @property
    def judged(self) -> int:
        return sum(1 for launch in self.launches if launch.verdict in ("met", "missed"))

    @property
    def succeeded(self) -> int:
        return sum(1 for launch in self.launches if launch.verdict == "met")

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.judged if self.judged else None


def launched_products(start: date, end: date, category_id: int | None = None) -> list[Product]:
    """Products launched between `start` and `end` (inclusive), up to today, oldest launch first."""
    query = select(Product).where(Product.launch_date.between(start, min(end, today_local())),
                                  Product.status != "draft")
    if category_id is not None:
        query = query.where(Product.category_id == category_id)
    return list(db.session.scalars(query.order_by(Product.launch_date, Product.code)))


def active_retailers(dealer_id: int | None) -> int:
    query = select(func.count()).select_from(Organisation).where(Organisation.kind == "retailer",
                                                                Organisation.active.is_(True))
    if dealer_id is not None:
        query = query.where(Organisation.dealer_id == dealer_id)
    return db.session.scalar(query) or 0


def _window_facts(products: list[Product], seller_id: int | None, yesterday: date):
    """The launched products' retailer purchases (net of cancelled) within their 13 weeks, from the
    facts: one index range scan per launch (product, days), united (an OR of the
    ranges, or a join on the launch dates, would read every day of the products)."""
    selects = []
    for product in products:
        last = min(product.launch_date + timedelta(days=WINDOW_DAYS - 1), yesterday)
        query = (select(SalesDay.product_id, SalesDay.buyer_id, SalesDay.day, SalesDay.qty, SalesDay.lost_qty)
                 .where(SalesDay.product_id == product.id, SalesDay.day.between(product.launch_date, last),
                        SalesDay.channel != "dealer", SalesDay.qty > SalesDay.lost_qty))
        if seller_id is not None:
            query = query.where(SalesDay.seller_id == seller_id)
        selects.append(query)
    return union_all(*selects) if len(selects) > 1 else selects[0]


def _from_rollup(products: list[Product], seller_id: int | None):
    """(first days, daily cases) of the launches from the launch rollup."""
    r = LaunchRollup
    rows = db.session.execute(select(r.product_id, r.day, r.new_buyers, r.repeat_buyers, r.cases).where(
        r.product_id.in_([p.id for p in products]), r.seller_id == (seller_id or 0))).all()
    return ([(p, d, n, m) for p, d, n, m, _c in rows if n], [(p, d, c) for p, d, _n, _m, c in rows if c])


def _from_facts(products: list[Product], seller_id: int | None, yesterday: date):
    # One statement: per launch, its buyers by first day (with those who came back on another day),
    # then its cases by day, told apart by `part`. The facts' CTE is inlined into both (two
    # index-only scans cost less than materialising tens of thousands of rows to a temp file).
    facts = _window_facts(products, seller_id, yesterday).cte("facts").prefix_with("NOT MATERIALIZED",
                                                                                   dialect="postgresql")
    # Bought again on another day ⇔ its last day is after its first (no DISTINCT count, which
    # PostgreSQL can only do by sorting).
    per_buyer = (select(facts.c.product_id, func.min(facts.c.day).label("first_day"),
                        func.max(facts.c.day).label("last_day"))
                 .group_by(facts.c.product_id, facts.c.buyer_id).subquery("buyers"))
    by_first_day = (select(literal("b").label("part"), per_buyer.c.product_id, per_buyer.c.first_day.label("day"),
                           func.count().label("n"), func.sum((per_buyer.c.last_day > per_buyer.c.first_day).cast(Integer)).label("m"))
                    .group_by(per_buyer.c.product_id, per_buyer.c.first_day))
    by_day = (select(literal("c").label("part"), facts.c.product_id, facts.c.day,
                     func.sum(facts.c.qty - facts.c.lost_qty).label("n"), literal(0).label("m"))
              .group_by(facts.c.product_id, facts.c.day))
    rows = db.session.execute(union_all(by_first_day, by_day)).all()
    return ([(p, d, n, m) for part, p, d, n, m in rows if part == "b"],
            [(p, d, n) for part, p, d, n, _m in rows if part == "c"])


def _measure(products: list[Product], seller_id: int | None, active: int, yesterday: date) -> list[Launch]:
    """The launches' weeks: from the launch rollup where its build is current, else from the facts."""
    built = launch_rollup.current(products, yesterday)
    first_days, daily_cases = _from_rollup([p for p in products if p.id in built], seller_id) if built else ([], [])
    rest = [p for p in products if p.id not in built]
    if rest:
        more_days, more_cases = _from_facts(rest, seller_id, yesterday)
        first_days, daily_cases = first_days + more_days, daily_cases + more_cases
    by_id = {p.id: p for p in products}
    new_buyers = {p.id: [0] * WEEKS for p in products}
    cases = {p.id: [0] * WEEKS for p in products}
    repeat = dict.fromkeys(by_id, 0)
    for product_id, day, count, repeaters in first_days:
        new_buyers[product_id][_week_index(by_id[product_id].launch_date, day)] += int(count)
        repeat[product_id] += int(repeaters or 0)
    for product_id, day, qty in daily_cases:
        cases[product_id][_week_index(by_id[product_id].launch_date, day)] += int(qty or 0)
    launches = []
    for product in products:
        first = product.launch_date
        seen = max(0, min(WEEKS, ((yesterday - first).days + 1 + 6) // 7))
        weeks, buyers, cum_cases = [], 0, 0
        for n in range(seen):
            buyers += new_buyers[product.id][n]
            cum_cases += cases[product.id][n]
            weeks.append(LaunchWeek(n + 1, new_buyers[product.id][n], buyers, cases[product.id][n], cum_cases,
                                    buyers / active if active else None))
        launches.append(Launch(product, first, active, weeks, buyers, repeat[product.id], cum_cases,
                               complete=first + timedelta(days=WINDOW_DAYS - 1) <= yesterday))
    return launches


def _week_index(launch: date, day) -> int:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return min(WEEKS - 1, max(0, (day - launch).days // 7))


def scaled_cases(target: int, part: int, whole: int) -> int:
    """`target` × part ÷ whole, rounded half up (a dealer's share of the brand's cases target)."""
    if whole <= 0:
        return 0
    return int((Decimal(target) * part / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def launch_report(start: date, end: date, dealer_id: int | None = None,
                  category_id: int | None = None) -> LaunchReport:
    """The launches of products launched in [start, end]; `dealer_id` limits the figures to the
    retailers that dealer serves (its own sales)."""
    if end < start:
        start, end = end, start
    products = launched_products(start, end, category_id)
    report = LaunchReport(start, end)
    if not products:
        return report
    active = active_retailers(dealer_id)
    brand_active = active if dealer_id is None else active_retailers(None)
    plans = {p.product_id: p for p in db.session.scalars(
        select(LaunchPlan).where(LaunchPlan.product_id.in_([p.id for p in products])))}
    for launch in _measure(products, dealer_id, active, today_local() - timedelta(days=1)):
        plan = plans.get(launch.product.id)
        if plan is not None:
            launch.target_reach_bp = plan.target_reach_bp
            launch.target_cases = plan.target_cases if dealer_id is None else \
                scaled_cases(plan.target_cases, active, brand_active)
        report.launches.append(launch)
    return report


# The plan the brand sets for a launch.

def plan_for(product_id: int) -> LaunchPlan | None:
    return db.session.get(LaunchPlan, product_id)


def launch_product(product_id: int) -> Product:
    """A launched product (it has a launch date), or NotFound."""
    product = db.session.get(Product, product_id)
    if product is None or product.launch_date is None:
        raise NotFound("no such launch")
    return product


def set_plan(product_id: int, target_reach_percent: Decimal, target_cases: int, actor_id: int | None) -> LaunchPlan:
    """Create or replace the product's launch plan (reach in percent, two decimals at most)."""
    product = launch_product(product_id)
    if target_reach_percent is None or not (Decimal(0) < target_reach_percent <= 100):
        raise DomainError(_("目标铺货率须在 0.01 到 100 之间。"), field="target_reach")
    reach_bp = int((Decimal(target_reach_percent) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if reach_bp <= 0:
        raise DomainError(_("目标铺货率须在 0.01 到 100 之间。"), field="target_reach")
    if target_cases is None or not (0 < target_cases <= MAX_CASES):
        raise DomainError(_("目标箱数须是 1 到 10,000,000 之间的整数。"), field="target_cases")
    plan = plan_for(product.id)
    before = audit.snapshot(plan, ["target_reach_bp", "target_cases"]) if plan else None
    if plan is None:
        plan = LaunchPlan(product_id=product.id)
        db.session.add(plan)
    plan.target_reach_bp, plan.target_cases, plan.updated_by = reach_bp, target_cases, actor_id
    db.session.flush()
    audit.record(actor_id, "launch_plan.set", "product", product.id, before,
                 {"target_reach_bp": reach_bp, "target_cases": target_cases})
    return plan
