"""Demo step "launch_plans" (after "catalog"): the brand's standard plan for every product launched
within the demo history, so the new-product launch report shows a success rate on a fresh
`make run`: 2.5 % of the active shops reached and 200 cases per 24,000 retailer orders of history
(the small scale's volume, scaled with the order count) by the end of week 13. At `small` scale
three launches of seven meet it, near the 40 % the requirements document starts from."""
from __future__ import annotations

from app.demo.builder import BuildContext, register_step
from app.extensions import db
from app.models.analytics import LaunchPlan

TARGET_REACH_BP = 250
CASES_PER_24K_ORDERS = 200


def build_launch_plans(ctx: BuildContext) -> None:
    launched = [p for p in ctx.products if p.status != "draft" and ctx.history_start <= p.launch <= ctx.today]
    cases = max(1, round(CASES_PER_24K_ORDERS * ctx.scale.retail_orders / 24_000))
    db.session.add_all([LaunchPlan(product_id=p.id, target_reach_bp=TARGET_REACH_BP, target_cases=cases)
                        for p in sorted(launched, key=lambda p: p.id)])
    db.session.flush()
    ctx.echo(f"  launch plans: {len(launched)} launches, {TARGET_REACH_BP / 100:g}% reach and {cases:,} cases each")


register_step("launch_plans", build_launch_plans, after="catalog")
