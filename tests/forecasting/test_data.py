from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from forecasting.data import hourly_from_events, load_arrivals_csv
from forecasting.errors import DataError


def test_per_arrival_timestamps_become_complete_hourly_counts(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "timestamp,service\n2025-04-01T09:05:00,moving\n2025-04-01T09:59:59,moving\n"
        "2025-04-01T11:30:00+09:00,certificates\n",
        encoding="utf-8",
    )
    frame = load_arrivals_csv(path)
    moving = frame[frame["service"] == "moving"].set_index("hour_start")["count"]
    assert len(moving) == 24  # the whole day, zero hours included
    assert moving[pd.Timestamp("2025-04-01 09:00")] == 2
    assert moving.sum() == 2
    certificates = frame[frame["service"] == "certificates"].set_index("hour_start")["count"]
    assert certificates[pd.Timestamp("2025-04-01 11:00")] == 1  # wall clock kept
    assert set(frame["site"]) == {"default"}


def test_date_and_hour_columns(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("date,hour\n2025-04-01,9\n2025-04-01,9\n2025-04-02,16\n", encoding="utf-8")
    frame = load_arrivals_csv(path).set_index("hour_start")["count"]
    assert frame[pd.Timestamp("2025-04-01 09:00")] == 2
    assert frame[pd.Timestamp("2025-04-02 16:00")] == 1
    assert len(frame) == 48


def test_hourly_counts_with_missing_hours(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("hour_start,count\n2025-04-01 09:00,5\n2025-04-01 10:00,7\n", encoding="utf-8")
    frame = load_arrivals_csv(path).set_index("hour_start")["count"]
    assert frame.sum() == 12 and frame[pd.Timestamp("2025-04-01 11:00")] == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("when,service\n2025-04-01T09:00,a\n", "expected columns"),
        ("timestamp\n2025-04-01T09:00\nyesterday\n", "row 3: unparseable timestamp"),
        ("timestamp\n", "no data rows"),
        ("hour_start,count\n2025-04-01T09:00,-1\n", "whole number"),
        ("hour_start,count\n2025-04-01T09:30,1\n", "whole hours"),
        ("date,hour\n2025-04-01,25\n", "hour must be 0–23"),
    ],
)
def test_bad_csv_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        load_arrivals_csv(path)


def test_events_aggregate_per_site_and_service() -> None:
    events = pd.DataFrame(
        {
            "site": ["a", "a", "a", "b"],
            "service": ["x", "x", "y", "x"],
            "issued_at": pd.to_datetime(
                ["2025-04-01 09:10", "2025-04-01 09:50", "2025-04-01 10:00", "2025-04-02 08:00"]
            ),
        }
    )
    frame = hourly_from_events(events)
    counts = frame.set_index(["site", "service", "hour_start"])["count"]
    assert counts[("a", "x", pd.Timestamp("2025-04-01 09:00"))] == 2
    assert counts[("a", "y", pd.Timestamp("2025-04-01 10:00"))] == 1
    assert counts[("b", "x", pd.Timestamp("2025-04-02 08:00"))] == 1
    assert len(frame) == 3 * 48  # every series over both whole days


def test_events_in_utc_land_in_local_hours() -> None:
    events = pd.DataFrame(
        {
            "site": ["a"],
            "service": ["x"],
            "issued_at": pd.to_datetime(["2025-04-01 00:30"]).tz_localize("UTC"),
        }
    )
    frame = hourly_from_events(events)
    busy = frame[frame["count"] > 0]["hour_start"].tolist()
    assert busy == [pd.Timestamp("2025-04-01 09:00")]


def test_events_without_issued_at_are_rejected() -> None:
    with pytest.raises(DataError, match="issued_at"):
        hourly_from_events(pd.DataFrame({"site": ["a"], "service": ["x"]}))
