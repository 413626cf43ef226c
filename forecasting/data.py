"""Hourly arrival frames: from the contract's Arrivals CSV and from the server's event log.

An hourly frame has columns ``site, service, hour_start, count``: one row per hour of every
whole day in its span, zeros included (an hour without a row would otherwise look unobserved).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from forecasting.errors import DataError

__all__ = ["complete_hours", "hourly_from_events", "load_arrivals_csv"]

DEFAULT_SITE = "default"
DEFAULT_SERVICE = "all"
KEYS = ["site", "service"]
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
_FORMATS = "timestamp[,service] | date,hour[,service] | hour_start,count[,service]"


def complete_hours(
    counts: pd.DataFrame,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Fill in the zero hours of every series, over whole days from `start` to before `end`."""
    if counts.empty and (start is None or end is None):
        raise DataError("no arrivals in the input")
    first = start if start is not None else counts["hour_start"].min().normalize()
    last = end if end is not None else counts["hour_start"].max().normalize() + pd.Timedelta(days=1)
    hours = pd.date_range(first, last, freq="h", inclusive="left", name="hour_start")
    series = counts[KEYS].drop_duplicates()
    grid = pd.MultiIndex.from_tuples(
        [(*key, hour) for key in series.itertuples(index=False) for hour in hours],
        names=[*KEYS, "hour_start"],
    )
    summed = counts.groupby([*KEYS, "hour_start"])["count"].sum()
    filled = summed.reindex(grid, fill_value=0).astype("int64")
    return filled.reset_index()


def hourly_from_events(
    events: pd.DataFrame,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    tz: str = "Asia/Tokyo",
) -> pd.DataFrame:
    """Hourly arrivals per (site, service) from ticket events ``site, service, issued_at``.

    `issued_at` is local wall time; timezone-aware values are converted to `tz` first, so a log
    stored in UTC still lands in the office's hours. Events outside [start, end) are dropped.
    """
    _require(events, ["site", "service", "issued_at"])
    issued = pd.to_datetime(events["issued_at"])
    if issued.dt.tz is not None:
        issued = issued.dt.tz_convert(tz).dt.tz_localize(None)
    counts = pd.DataFrame(
        {
            "site": events["site"].astype(str).to_numpy(),
            "service": events["service"].astype(str).to_numpy(),
            "hour_start": issued.dt.floor("h").to_numpy(),
            "count": 1,
        }
    )
    if start is not None:
        counts = counts[counts["hour_start"] >= start]
    if end is not None:
        counts = counts[counts["hour_start"] < end]
    return complete_hours(counts, start=start, end=end)


def load_arrivals_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the contract's Arrivals CSV (any of its three shapes) into an hourly frame."""
    try:
        raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig", skipinitialspace=True)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{path}: the file is empty") from exc
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: not a readable UTF-8 CSV file ({exc})") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    if raw.empty:
        raise DataError(f"{path}: no data rows (expected columns {_FORMATS})")
    if {"hour_start", "count"} <= set(raw.columns):
        hour_start = _parse_times(raw["hour_start"], "hour_start")
        if not (hour_start == hour_start.dt.floor("h")).all():
            raise DataError("hour_start must be whole hours (e.g. 2024-05-01T09:00)")
        count = pd.to_numeric(raw["count"], errors="coerce")
        bad = count.isna() | (count < 0) | (count != count.round())
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise DataError(
                f"row {row + 2}: count must be a whole number ≥ 0, got {raw['count'].iloc[row]!r}"
            )
    elif "timestamp" in raw.columns:
        hour_start = _parse_times(raw["timestamp"], "timestamp").dt.floor("h")
        count = pd.Series(1, index=raw.index)
    elif {"date", "hour"} <= set(raw.columns):
        day = _parse_times(raw["date"], "date").dt.normalize()
        hour = pd.to_numeric(raw["hour"], errors="coerce")
        bad = hour.isna() | (hour < 0) | (hour > 23) | (hour != hour.round())
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise DataError(f"row {row + 2}: hour must be 0–23, got {raw['hour'].iloc[row]!r}")
        hour_start = day + pd.to_timedelta(hour, unit="h")
        count = pd.Series(1, index=raw.index)
    else:
        raise DataError(f"{path}: expected columns {_FORMATS}; found {', '.join(raw.columns)}")
    counts = pd.DataFrame(
        {
            "site": _labels(raw, "site", DEFAULT_SITE),
            "service": _labels(raw, "service", DEFAULT_SERVICE),
            "hour_start": hour_start.to_numpy(),
            "count": count.astype("int64").to_numpy(),
        }
    )
    return complete_hours(counts)


def _parse_times(values: pd.Series, column: str) -> pd.Series:
    """ISO 8601 local times; an offset is dropped keeping the wall-clock time.

    Offsets are cut off as text, before parsing, because pandas refuses a column that mixes
    offsets (or offsets and none) and local wall time is what the office's hours are about.
    """
    text = values.fillna("").str.strip()
    has_time = text.str.contains(r"[T ]\d", regex=True)
    local = text.where(~has_time, text.str.replace(_OFFSET, "", regex=True))
    parsed = pd.to_datetime(local, format="ISO8601", errors="coerce")
    if parsed.isna().any():
        row = int(parsed.isna().to_numpy().argmax())
        raise DataError(
            f"row {row + 2}: unparseable {column} {values.iloc[row]!r} (expected ISO 8601)"
        )
    return parsed


def _labels(raw: pd.DataFrame, column: str, default: str) -> Sequence[str]:
    if column not in raw.columns:
        return [default] * len(raw)
    return raw[column].fillna(default).str.strip().replace("", default).tolist()


def _require(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"missing column(s): {', '.join(missing)}")
