"""Arrivals by day and hour: models, backtests, calendar effects, expected waits.

The few names here are what the server wires in; everything else is reachable through its
module (`forecasting.models`, `forecasting.crowding`, …).
"""

from forecasting.backtest import backtest
from forecasting.crowding import Thresholds
from forecasting.data import hourly_from_events, load_arrivals_csv
from forecasting.errors import DataError, ForecastError, ModelError
from forecasting.plot import render_site_png
from forecasting.schedule import WARD_OFFICE, OpeningSchedule, infer_schedule
from forecasting.table import ServicePlan, available_cpus, fit_all

__all__ = [
    "WARD_OFFICE",
    "DataError",
    "ForecastError",
    "ModelError",
    "OpeningSchedule",
    "ServicePlan",
    "Thresholds",
    "available_cpus",
    "backtest",
    "fit_all",
    "hourly_from_events",
    "infer_schedule",
    "load_arrivals_csv",
    "render_site_png",
]
