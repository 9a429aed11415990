"""The stable `forecast csv` contract: IN `series,period,qty` → OUT `series,period,forecast`.

Nothing is written unless the whole input is valid and every series was forecast: the output
goes to a temporary file beside the target and is renamed into place at the end.
"""
from __future__ import annotations

import csv
import os
import tempfile

from app.services.forecasting.history import BadHistory, read_rows
from app.services.forecasting.selection import ForecastRun, forecast

MAX_HORIZON = 104


def forecast_file(input_path: str, output_path: str, horizon: int) -> ForecastRun:
    """Forecast every series of `input_path` `horizon` weeks ahead into `output_path`."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise BadHistory(f"horizon must be between 1 and {MAX_HORIZON} weeks, not {horizon}")
    try:
        with open(input_path, newline="", encoding="utf-8-sig") as handle:
            series = read_rows(handle)
    except UnicodeDecodeError:
        raise BadHistory("the file is not UTF-8 text") from None
    run = forecast(series, horizon)
    directory = os.path.dirname(os.path.abspath(output_path))
    fd, temporary = tempfile.mkstemp(prefix=".forecast-", suffix=".csv", dir=directory)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(("series", "period", "forecast"))
            for item in run.series:
                for period, value in zip(item.periods, item.values):
                    writer.writerow((item.name, period.isoformat(), f"{value:.3f}"))
        os.replace(temporary, output_path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return run
