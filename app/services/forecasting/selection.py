"""Model selection per series by a rolling-origin backtest, and the forecasts it produces.

For each series the candidates are fitted on all but the last k weeks and scored on those k
weeks, for up to three origins (rolling origin). The model with the lowest WAPE over the
backtest wins (ties go to the earlier, simpler candidate); for intermittent series the lowest
mean squared error wins instead, because WAPE always prefers forecasting zero for them and is refitted on the whole history
for the forecast. Candidates (statsforecast):

- smooth series: AutoETS, AutoTheta and the baseline;
- intermittent series (average gap between non-zero weeks above 1.32, Syntetos–Boylan):
  Croston (optimised), TSB, ADIDA, IMAPA and the baseline;
- the baseline is seasonal naive (same week last year) when the history is long enough, else
  naive (last week).

Chinese New Year is handled by `holidays` (an explicit moving adjustment), so no model uses a
fixed 52-week season except the seasonal-naive baseline. Forecasts are never negative.

Accuracy per series: 1 − WAPE, MASE (mean absolute error over the in-sample mean absolute
52-week difference; 1-week when the history is shorter than 53 weeks) and bias
(Σ(forecast − actual) / Σ actual), all from the backtest.

Series shorter than `MIN_BACKTEST_WEEKS` are forecast by their average and carry no accuracy.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.services.forecasting import holidays
from app.services.forecasting.history import WEEK, WeeklySeries

MIN_BACKTEST_WEEKS = 8
MAX_WINDOWS = 3
SEASON = 52
INTERMITTENT_GAP = 1.32


@dataclass(frozen=True)
class Accuracy:
    """Backtest figures for one series (or all of them)."""
    wape: float | None
    mase: float | None
    bias: float | None
    weeks: int
    mse: float | None = None

    @property
    def accuracy(self) -> float | None:
        return None if self.wape is None else 1.0 - self.wape  # < 0 when WAPE > 100 %; never clamped to 0


@dataclass
class SeriesForecast:
    name: str
    model: str
    periods: list[date]
    values: list[float]
    accuracy: Accuracy
    scores: dict[str, float] = field(default_factory=dict)  # WAPE of every candidate tried


@dataclass
class ForecastRun:
    series: list[SeriesForecast]
    overall: Accuracy
    factors: dict[int, float]


def is_intermittent(values) -> bool:
    nonzero = [i for i, v in enumerate(values) if v > 0]
    if len(nonzero) < 2:
        return len(nonzero) < len(values)
    gaps = (nonzero[-1] - nonzero[0]) / (len(nonzero) - 1)
    return gaps > INTERMITTENT_GAP


def _plan(length: int, horizon: int) -> tuple[int, int]:
    """(backtest horizon, number of origins) for a series of `length` weeks."""
    if length < MIN_BACKTEST_WEEKS:
        return 0, 0
    h = max(1, min(horizon, 13, length // 4))
    windows = max(1, min(MAX_WINDOWS, (length - MIN_BACKTEST_WEEKS // 2) // h - 1))
    return h, windows


def _seasonal(length: int, h: int, windows: int) -> bool:
    return length - h * windows >= SEASON + 1


def _models(intermittent: bool, seasonal: bool):
    from statsforecast.models import (ADIDA, IMAPA, TSB, AutoETS, AutoTheta, CrostonOptimized, Naive,
                                      SeasonalNaive)
    if intermittent:
        candidates = [CrostonOptimized(alias="Croston"), TSB(alpha_d=0.2, alpha_p=0.2, alias="TSB"),
                      ADIDA(alias="ADIDA"), IMAPA(alias="IMAPA")]
    else:
        candidates = [AutoETS(season_length=1, alias="AutoETS"), AutoTheta(season_length=1, alias="AutoTheta")]
    baseline = SeasonalNaive(season_length=SEASON, alias="SeasonalNaive") if seasonal else Naive(alias="Naive")
    return candidates + [baseline]


def _frame(series: list[WeeklySeries], factors: dict[int, float]):
    import pandas as pd

    rows = {"unique_id": [], "ds": [], "y": []}
    for s in series:
        for week, value in zip(s.weeks(), s.values):
            rows["unique_id"].append(s.name)
            rows["ds"].append(pd.Timestamp(week))
            rows["y"].append(value / holidays.factor(factors, week))
    return pd.DataFrame(rows)


def _scale(values, seasonal: bool) -> float:
    m = SEASON if seasonal and len(values) > SEASON else 1
    diffs = [abs(values[i] - values[i - m]) for i in range(m, len(values))]
    return sum(diffs) / len(diffs) if diffs else 0.0


def _accuracy(actual: list[float], predicted: list[float], scale: float) -> Accuracy:
    total = sum(actual)
    error = sum(abs(a - p) for a, p in zip(actual, predicted))
    wape = error / total if total > 0 else (0.0 if error == 0 else None)
    mase = (error / len(actual)) / scale if scale > 0 and actual else None
    bias = (sum(predicted) - total) / total if total > 0 else None
    mse = sum((a - p) ** 2 for a, p in zip(actual, predicted)) / len(actual) if actual else None
    return Accuracy(wape, mase, bias, len(actual), mse)


def _average_forecast(s: WeeklySeries, horizon: int) -> SeriesForecast:
    mean = sum(s.values) / len(s.values)
    periods = [s.last_week + WEEK * (i + 1) for i in range(horizon)]
    return SeriesForecast(s.name, "Average", periods, [mean] * horizon, Accuracy(None, None, None, 0))


def _fit_group(series: list[WeeklySeries], intermittent: bool, h: int, windows: int, horizon: int,
               factors: dict[int, float]) -> list[SeriesForecast]:
    from statsforecast import StatsForecast

    seasonal = all(_seasonal(len(s.values), h, windows) for s in series)
    models = _models(intermittent, seasonal)
    names = [m.alias for m in models]
    frame = _frame(series, factors)
    engine = StatsForecast(models=models, freq="W-MON", n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backtest = engine.cross_validation(df=frame, h=h, n_windows=windows, step_size=h)
        future = engine.forecast(df=frame, h=horizon)
    by_name = {s.name: s for s in series}
    scored: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    for record in backtest.itertuples(index=False):
        row = record._asdict()
        week = row["ds"].date()
        f = holidays.factor(factors, week)
        s = by_name[row["unique_id"]]
        actual = s.values[(week - s.start).days // 7]
        for name in names:
            pair = scored.setdefault(s.name, {}).setdefault(name, ([], []))
            value = row[name]
            pair[0].append(actual)
            pair[1].append(max(0.0, (0.0 if value is None or math.isnan(value) else value) * f))
    chosen: dict[str, tuple[str, Accuracy, dict[str, float]]] = {}
    for s in series:
        scale = _scale(s.values, seasonal)
        accuracies = {name: _accuracy(*scored[s.name][name], scale) for name in names}
        scores = {name: a.wape for name, a in accuracies.items() if a.wape is not None}
        metric = (lambda a: a.mse) if intermittent else (lambda a: a.wape)
        best = min(names, key=lambda n: (metric(accuracies[n]) is None, metric(accuracies[n]) or 0.0, names.index(n)))
        chosen[s.name] = (best, accuracies[best], scores)
    out: dict[str, SeriesForecast] = {}
    for record in future.itertuples(index=False):
        row = record._asdict()
        name = row["unique_id"]
        model, accuracy, scores = chosen[name]
        week = row["ds"].date()
        value = row[model]
        value = 0.0 if value is None or math.isnan(value) else value
        item = out.setdefault(name, SeriesForecast(name, model, [], [], accuracy, scores))
        item.periods.append(week)
        item.values.append(max(0.0, value * holidays.factor(factors, week)))
    return [out[s.name] for s in series]


def forecast(series: list[WeeklySeries], horizon: int) -> ForecastRun:
    """Forecast every series `horizon` weeks past its own last week, choosing models by backtest."""
    if horizon < 1:
        raise ValueError("horizon must be at least 1 week")
    factors = holidays.estimate_factors([s for s in series if not is_intermittent(s.values)])
    results: dict[str, SeriesForecast] = {}
    groups: dict[tuple, list[WeeklySeries]] = {}
    for s in series:
        h, windows = _plan(len(s.values), horizon)
        if not windows or not any(s.values) or len(set(s.values)) == 1:
            results[s.name] = _constant(s, horizon) if windows else _average_forecast(s, horizon)
            continue
        seasonal = _seasonal(len(s.values), h, windows)
        groups.setdefault((is_intermittent(s.values), h, windows, seasonal), []).append(s)
    for (intermittent, h, windows, _), members in groups.items():
        for item in _fit_group(members, intermittent, h, windows, horizon, factors):
            results[item.name] = item
    ordered = [results[s.name] for s in series]
    return ForecastRun(ordered, overall_accuracy(ordered, series), factors)


def _constant(s: WeeklySeries, horizon: int) -> SeriesForecast:
    """A series that never changed: its value is the forecast, and the backtest is exact."""
    value = s.values[-1]
    periods = [s.last_week + WEEK * (i + 1) for i in range(horizon)]
    h, windows = _plan(len(s.values), horizon)
    wape = 0.0 if value > 0 else None
    return SeriesForecast(s.name, "Constant", periods, [value] * horizon,
                          Accuracy(wape, None, 0.0 if value > 0 else None, h * windows))


def overall_accuracy(results: list[SeriesForecast], series: list[WeeklySeries]) -> Accuracy:
    """Volume-weighted accuracy over all backtested series: Σ|error| / Σ actual."""
    actual_total = error_total = signed = 0.0
    mases, weeks = [], 0
    lookup = {s.name: s for s in series}
    for item in results:
        a = item.accuracy
        if a.wape is None or not a.weeks:
            continue
        s = lookup[item.name]
        recent = sum(s.values[-a.weeks:]) if a.weeks else 0.0
        actual_total += recent
        error_total += a.wape * recent
        signed += (a.bias or 0.0) * recent
        weeks += a.weeks
        if a.mase is not None and math.isfinite(a.mase):
            mases.append(a.mase)
    if actual_total <= 0:
        return Accuracy(None, None, None, weeks)
    mases.sort()
    mase = mases[len(mases) // 2] if mases else None
    return Accuracy(error_total / actual_total, mase, signed / actual_total, weeks)
