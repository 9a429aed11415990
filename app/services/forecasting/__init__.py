"""Demand forecasting: weekly series in, forecasts with their measured accuracy out.

- `history`: reads and validates weekly histories (`series,period,qty` CSV rows) into dense
  weekly series; a bad row raises `BadHistory` naming the row.
- `holidays`: Chinese New Year, which moves every year, as an explicit multiplicative
  adjustment estimated from the history (see its docstring).
- `selection`: the model chosen per series by a rolling-origin backtest among statsforecast's
  AutoETS, AutoTheta, Croston/TSB/ADIDA/IMAPA (intermittent series) and seasonal naive, with
  the accuracy figures (1 − WAPE, MASE against seasonal naive, bias) shown next to forecasts.
- `csvfile`: the stable `flask forecast csv` contract on top of the three.
"""
