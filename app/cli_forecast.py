"""`flask forecast ...`: forecasting commands (the stable `forecast csv` contract)."""
from __future__ import annotations

import click
from flask.cli import AppGroup

forecast_cli = AppGroup("forecast", help="Demand forecasts.")


@forecast_cli.command("csv")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False),
              help="CSV with columns series,period,qty (period = the Monday of the week, YYYY-MM-DD).")
@click.option("--horizon", required=True, type=int, help="Weeks to forecast after each series' last week.")
@click.option("--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="CSV written with columns series,period,forecast.")
def forecast_csv(input_path: str, horizon: int, output_path: str) -> None:
    """Forecast any weekly history with the product's model selection."""
    from app.services.forecasting.csvfile import forecast_file
    from app.services.forecasting.history import BadHistory

    try:
        run = forecast_file(input_path, output_path, horizon)
    except FileNotFoundError:
        click.echo(f"Error: input file {input_path} does not exist.", err=True)
        raise SystemExit(1) from None
    except BadHistory as problem:
        click.echo(f"Error: {input_path}: {problem}", err=True)
        raise SystemExit(1) from None
    overall = run.overall
    models: dict[str, int] = {}
    for item in run.series:
        models[item.model] = models.get(item.model, 0) + 1
    click.echo(f"{len(run.series)} series forecast {horizon} weeks ahead into {output_path}.")
    click.echo("Models: " + ", ".join(f"{name} {count}" for name, count in sorted(models.items())))
    if overall.accuracy is not None:
        mase = "n/a" if overall.mase is None else f"{overall.mase:.2f}"
        click.echo(f"Backtest: accuracy (1 - WAPE) {overall.accuracy:.1%}, median MASE {mase}, "
                   f"bias {overall.bias:+.1%}.")


@forecast_cli.command("run")
@click.option("--horizon", default=13, show_default=True, type=click.IntRange(1, 52))
@click.option("--queue", is_flag=True, help="Enqueue on RQ instead of running here.")
def forecast_run(horizon: int, queue: bool) -> None:
    """Refresh the sales facts, then forecast every product x province series."""
    import time

    from app.extensions import db
    from app.services.analytics.facts import refresh
    from app.services.forecasting.demand import run_forecast

    if queue:
        from jobs.analytics import enqueue, forecast_job
        click.echo(f"Enqueued job {enqueue(forecast_job, horizon)}.")
        return
    started = time.perf_counter()
    refresh()
    db.session.commit()
    run = run_forecast(horizon)
    db.session.commit()
    accuracy = "n/a" if run.wape is None else f"{1 - run.wape:.1%}"
    click.echo(f"Forecast run {run.id}: {run.series_count} series, backtest accuracy {accuracy}, "
               f"{time.perf_counter() - started:.1f} s.")
