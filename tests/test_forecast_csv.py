"""The stable `flask forecast csv` contract: known answers, bad files, accuracy figures by hand."""
from __future__ import annotations

import csv
import math
from datetime import date, timedelta

import pytest

from app.services.forecasting import holidays
from app.services.forecasting.history import densify
from app.services.forecasting.selection import Accuracy, SeriesForecast, _accuracy, forecast, overall_accuracy

START = date(2024, 1, 1)  # a Monday


def write_history(path, rows, header=("series", "period", "qty")):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def weekly(name, values, start=START):
    return [(name, (start + timedelta(weeks=i)).isoformat(), v) for i, v in enumerate(values)]


def run(app, tmp_path, rows, horizon=4, header=("series", "period", "qty")):
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    write_history(source, rows, header)
    result = app.test_cli_runner().invoke(
        args=["forecast", "csv", "--input", str(source), "--horizon", str(horizon), "--output", str(target)])
    output = None
    if target.exists():
        with open(target, newline="", encoding="utf-8") as handle:
            output = list(csv.DictReader(handle))
    return result, output


def by_series(output):
    series = {}
    for row in output:
        series.setdefault(row["series"], []).append((row["period"], float(row["forecast"])))
    return series


def test_constant_trend_and_intermittent_series_get_their_known_answers(app, tmp_path):
    constant = weekly("constant", [40] * 60)
    trend = weekly("trend", [10 + 2 * i for i in range(60)])
    pattern = [0, 0, 6, 0, 0, 0, 6, 0] * 8
    intermittent = weekly("intermittent", pattern)
    result, output = run(app, tmp_path, constant + trend + intermittent, horizon=4)
    assert result.exit_code == 0, result.stderr
    forecasts = by_series(output)
    last = START + timedelta(weeks=59)
    assert [p for p, _ in forecasts["constant"]] == [(last + timedelta(weeks=i)).isoformat() for i in range(1, 5)]
    assert all(v == pytest.approx(40) for _, v in forecasts["constant"])
    # The trend continues upwards (next true values 130, 132, 134, 136), within 5 %.
    for i, (_, value) in enumerate(forecasts["trend"]):
        assert value == pytest.approx(130 + 2 * i, rel=0.05)
    # Intermittent demand: 12 units every 8 weeks is 1.5 a week on average.
    rates = [v for _, v in forecasts["intermittent"]]
    assert all(0.5 <= v <= 3.0 for v in rates)
    assert "3 series forecast 4 weeks ahead" in result.output


def test_forecasts_are_never_negative(app, tmp_path):
    falling = weekly("falling", [max(0, 100 - 9 * i) for i in range(20)])
    result, output = run(app, tmp_path, falling, horizon=13)
    assert result.exit_code == 0, result.stderr
    assert len(output) == 13
    assert all(float(row["forecast"]) >= 0 for row in output)


def test_a_single_week_history_is_forecast_by_its_value(app, tmp_path):
    result, output = run(app, tmp_path, [("only", "2025-03-03", "7")], horizon=2)
    assert result.exit_code == 0, result.stderr
    assert output == [{"series": "only", "period": "2025-03-10", "forecast": "7.000"},
                      {"series": "only", "period": "2025-03-17", "forecast": "7.000"}]


def test_missing_weeks_count_as_no_demand(app, tmp_path):
    rows = [("s", "2025-01-06", "10"), ("s", "2025-01-20", "10")]
    result, output = run(app, tmp_path, rows, horizon=1)
    assert result.exit_code == 0, result.stderr
    # Three weeks (10, 0, 10): the average, 6.667.
    assert output == [{"series": "s", "period": "2025-01-27", "forecast": "6.667"}]


@pytest.mark.parametrize("rows, header, message", [
    ([("a", "2025-01-06", "1")], ("series", "week", "qty"), "row 1: missing column(s) period"),
    ([("a", "2025-01-06", "1"), ("a", "2025-01-13", "lots")], None, "row 3: qty 'lots' is not a number"),
    ([("a", "2025-01-06", "-4")], None, "row 2: qty -4 is negative"),
    ([("a", "2025-01-06", "1"), ("b", "06/01/2025", "1")], None, "row 3: period '06/01/2025' is not a date"),
    ([("a", "2025-01-07", "1")], None, "row 2: period 2025-01-07 is not a Monday"),
    ([("a", "2025-01-06", "1"), ("a", "2025-01-06", "2")], None,
     "row 3: duplicate row for series 'a' and period 2025-01-06"),
    ([("", "2025-01-06", "1")], None, "row 2: series is empty"),
    ([("a", "2025-01-06", "nan")], None, "row 2: qty 'nan' is not a number"),
    ([], None, "the file has a header but no rows"),
])
def test_bad_files_name_the_row_exit_1_and_write_nothing(app, tmp_path, rows, header, message):
    result, output = run(app, tmp_path, rows, header=header or ("series", "period", "qty"))
    assert result.exit_code == 1
    assert message in result.stderr
    assert output is None
    assert list(tmp_path.glob(".forecast-*")) == []


def test_bad_horizon_and_missing_file_are_refused(app, tmp_path):
    result, output = run(app, tmp_path, weekly("a", [1, 2, 3]), horizon=0)
    assert result.exit_code == 1 and "horizon must be between 1 and 104" in result.stderr and output is None
    result = app.test_cli_runner().invoke(args=[
        "forecast", "csv", "--input", str(tmp_path / "nope.csv"), "--horizon", "2", "--output", str(tmp_path / "o.csv")])
    assert result.exit_code == 1 and "does not exist" in result.stderr


def test_accuracy_figures_match_a_hand_computation():
    # Actual 10, 20, 30; forecast 12, 18, 33: |e| = 2 + 2 + 3 = 7 over Σ actual 60.
    # In-sample scale (1-week differences of 0, 10, 20, 30): 10.  MASE = (7 / 3) / 10.
    figures = _accuracy([10, 20, 30], [12, 18, 33], scale=10.0)
    assert figures.wape == pytest.approx(7 / 60)
    assert figures.accuracy == pytest.approx(1 - 7 / 60)
    assert figures.mase == pytest.approx(7 / 30)
    assert figures.bias == pytest.approx(3 / 60)
    # Overall: volume-weighted over the backtested weeks of two series.
    a = densify("a", {START: 5.0, START + timedelta(weeks=1): 10.0, START + timedelta(weeks=2): 30.0})
    b = densify("b", {START: 1.0, START + timedelta(weeks=1): 100.0, START + timedelta(weeks=2): 20.0})
    results = [SeriesForecast("a", "m", [], [], Accuracy(0.1, 1.0, 0.1, 2)),
               SeriesForecast("b", "m", [], [], Accuracy(0.4, 2.0, -0.2, 2))]
    overall = overall_accuracy(results, [a, b])
    # a's last two weeks total 40 (error 4), b's 120 (error 48): 52 / 160.
    assert overall.wape == pytest.approx(52 / 160)
    assert overall.bias == pytest.approx((0.1 * 40 - 0.2 * 120) / 160)


def test_chinese_new_year_uplift_lands_on_next_years_holiday_weeks():
    """Demand doubles in the two weeks before each CNY; the forecast puts the spike before 2026's."""
    start = date(2023, 1, 2)
    weeks = {}
    for i in range(160):
        monday = start + timedelta(weeks=i)
        if monday > date(2025, 12, 29):
            break
        weeks[monday] = 200.0 if holidays.offset(monday) in (-2, -1) else 100.0
    series = densify("cola", weeks)
    result = forecast([series], horizon=12)
    values = dict(zip(result.series[0].periods, result.series[0].values))
    cny = holidays.week_of(date(2026, 2, 17))
    assert values[cny - timedelta(weeks=1)] == pytest.approx(200, rel=0.1)
    assert values[cny - timedelta(weeks=2)] == pytest.approx(200, rel=0.1)
    assert values[cny + timedelta(weeks=2)] == pytest.approx(100, rel=0.1)
    assert all(math.isfinite(v) and v >= 0 for v in values.values())
