from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from forecasting.crowding import LEVELS
from forecasting.errors import DataError
from forecasting.plot import render_site_png
from forecasting.schedule import WARD_OFFICE
from forecasting.simulate import simulate_arrivals
from forecasting.table import TABLE_COLUMNS, ServicePlan, fit_all

NOW = pd.Timestamp("2025-04-14 00:00")


def _arrivals() -> pd.DataFrame:
    return simulate_arrivals("2025-01-06", 112, sites=1, services=2, mean_per_hour=8.0)


def test_fit_all_forecasts_open_hours_with_waits_and_levels() -> None:
    plans = {("site01", "service1"): ServicePlan(counters=2, service_min=8.0)}
    table = fit_all(_arrivals(), WARD_OFFICE, NOW, horizon_days=14, plans=plans)
    assert list(table.columns) == TABLE_COLUMNS
    assert set(table["service"]) == {"service1", "service2"}
    assert WARD_OFFICE.is_open(pd.DatetimeIndex(table["hour_start"])).all()
    assert table["hour_start"].min() >= NOW
    assert len(table) == 2 * 10 * 9  # 2 services × 10 weekdays × 9 open hours
    assert set(table["level"]) <= set(LEVELS)
    assert (table["lo"] <= table["arrivals"]).all() and (table["arrivals"] <= table["hi"]).all()


def test_more_counters_mean_shorter_waits() -> None:
    one = fit_all(_arrivals(), WARD_OFFICE, NOW, plans={("site01", "service1"): ServicePlan(1)})
    three = fit_all(_arrivals(), WARD_OFFICE, NOW, plans={("site01", "service1"): ServicePlan(3)})
    first = one[one["service"] == "service1"]["est_wait_min"].to_numpy()
    more = three[three["service"] == "service1"]["est_wait_min"].to_numpy()
    assert (more <= first).all() and more.sum() < first.sum()


@dataclass(frozen=True)
class WaitByHour:
    """A site's day waits (`DayWaits`): the hour of day in minutes, plus the hour's arrivals
    of all services."""

    def __call__(
        self, day: dt.date, hours: Sequence[int], arrivals: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        assert day.weekday() < 5 and all(len(a) == len(hours) for a in arrivals.values())
        everyone = sum(arrivals.values())
        return {service: np.asarray(hours, dtype=float) + everyone for service in arrivals}


def test_a_sites_day_waits_replace_its_planned_queues() -> None:
    plans = {("site01", "service1"): ServicePlan(counters=2, service_min=8.0)}
    planned = fit_all(_arrivals(), WARD_OFFICE, NOW, horizon_days=7, plans=plans)
    simulated = fit_all(
        _arrivals(), WARD_OFFICE, NOW, horizon_days=7, plans=plans,
        day_waits={"site01": WaitByHour()},
    )
    hours = pd.DatetimeIndex(simulated["hour_start"]).hour
    both = simulated.groupby("hour_start")["arrivals"].transform("sum")
    assert np.allclose(simulated["est_wait_min"], hours + both, atol=0.1)
    wait = simulated["est_wait_min"]
    assert (simulated["level"] == np.where(wait >= 30, "busy", "moderate")).all()
    assert wait.min() >= 15 and wait.max() < 60
    assert not np.allclose(planned["est_wait_min"], simulated["est_wait_min"])


def test_only_history_before_now_is_used() -> None:
    arrivals = _arrivals()
    later = arrivals["hour_start"] >= NOW
    spiked = arrivals.assign(count=arrivals["count"].where(~later, 1000))
    assert fit_all(spiked, WARD_OFFICE, NOW).equals(fit_all(arrivals, WARD_OFFICE, NOW))


def test_worker_processes_fit_the_same_table() -> None:
    # Sites of 1, 3 and 2 services: the largest-first hand-out reorders them.
    arrivals = pd.concat(
        [
            simulate_arrivals("2025-01-06", 56, services=n, mean_per_hour=4.0 * n, seed=n)
            .assign(site=f"site{k}")
            for k, n in enumerate([1, 3, 2])
        ]
    )
    plans = {("site1", service): ServicePlan(2) for service in ("service1", "service2")}
    now = pd.Timestamp("2025-03-03")
    day_waits = {"site2": WaitByHour()}
    here = fit_all(arrivals, WARD_OFFICE, now, plans=plans, day_waits=day_waits)
    spread = fit_all(arrivals, WARD_OFFICE, now, plans=plans, workers=2, day_waits=day_waits)
    assert set(here["site"]) == {"site0", "site1", "site2"}
    pd.testing.assert_frame_equal(spread, here)


def test_workers_must_be_positive() -> None:
    with pytest.raises(DataError, match="workers must be at least 1"):
        fit_all(_arrivals(), WARD_OFFICE, NOW, workers=0)


def test_heat_map_is_a_png_with_one_panel_per_service() -> None:
    table = fit_all(_arrivals(), WARD_OFFICE, NOW, horizon_days=7)
    png = render_site_png(table, "site01", lang="ja")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    one_service = render_site_png(table[table["service"] == "service1"], "site01", lang="en")
    assert len(png) > len(one_service)


def test_a_series_that_went_live_weeks_ago_is_forecast_as_it_has_been_since() -> None:
    # A year of hours, of which only the last ten weeks had arrivals (the server went live
    # then): the same pattern every open day. Every open day ahead gets that pattern, the day
    # after a holiday (勤労感謝の日, Mon 2026-11-23) too.
    end = pd.Timestamp("2026-11-17 10:00")
    index = pd.date_range(end - pd.Timedelta(days=365), end, freq="h")[:-1]
    pattern = pd.Series(index.hour, index=index).map({9: 6, 10: 4, 14: 1}).fillna(0)
    live = (index >= end.normalize() - pd.Timedelta(weeks=10)) & WARD_OFFICE.is_open(index)
    arrivals = pd.DataFrame(
        {"site": "s", "service": "v", "hour_start": index, "count": pattern.where(live, 0)}
    )
    table = fit_all(arrivals, WARD_OFFICE, end, horizon_days=14)
    at = pd.DatetimeIndex(table["hour_start"])
    nine = table.loc[at.hour == 9, "arrivals"].set_axis(at[at.hour == 9].date)
    assert pd.Timestamp("2026-11-24").date() in nine.index
    assert np.allclose(nine, 6.0, atol=0.05)
