"""Demo step "analytics" (last): the daily sales facts for the whole history, so the sales
report and the role homes' charts show figures on a fresh `make run`, the stock snapshots of the
channel report's default 90 days (rebuilt from the stock ledger, so its stock-out rate has days
to count), and, at the `small` scale `make run` uses, one demand forecast run with its measured
accuracy. At `full` scale facts and forecast take
minutes and would break the build's 10-minute budget: `flask analytics refresh` and `flask
forecast run` (or the nightly and weekly jobs) make them after the build."""
from __future__ import annotations

from datetime import timedelta

from app.demo.builder import BuildContext, register_step
from app.services.analytics import facts
from app.services.analytics.stock_snapshots import backfill, ledger_start

FORECAST_SCALES = ("small",)
SNAPSHOT_DAYS = 90  # the channel report's default range


def build_analytics(ctx: BuildContext) -> None:
    if ctx.scale.name == "full":
        ctx.echo("  sales facts and forecast: run `flask analytics refresh` and `flask forecast run` after the build")
        return
    built = facts.refresh()  # the first refresh builds every day and sets the watermark
    ctx.echo(f"  sales facts: {built.rows:,} rows over {built.days} days")
    first = ledger_start()
    if first is not None:
        days = backfill(max(first, ctx.today - timedelta(days=SNAPSHOT_DAYS)), ctx.today - timedelta(days=1))
        ctx.echo(f"  stock snapshots: {days} days from the stock ledger")
    if ctx.scale.name in FORECAST_SCALES:
        from app.services.forecasting.demand import run_forecast

        run = run_forecast(today=ctx.today)
        ctx.echo(f"  demand forecast: {run.series_count:,} series")


register_step("analytics", build_analytics)
