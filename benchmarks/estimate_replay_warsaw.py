"""Replay the Warsaw offices (2019–2020) through the wait estimator, from 5-minute snapshots.

../shared/data/warsaw_office_queues_2019_2020 holds no visits, only each queue's state about
every 5 minutes: open counters, people waiting and the number being served. Visits are
*approximated* from it, one office at a time, as its PROVENANCE suggests:

- ticket N was issued when the number being served plus the people waiting first reached N,
  and called when the number being served first reached N (each at a uniformly drawn moment of
  the 5 minutes before that snapshot);
- its service ended when ticket N + c was called, c being the queue's open counters then (in a
  pool of c busy counters, the one that called N is free again about c calls later);
- queues that share a ticket letter with another queue of the office that day are left out
  (their numbers interleave); skipped numbers count as called.

Waits are thus known to about ±5 minutes, and service times are rough: a test of the estimator
on a real office's long waits, not a measurement of that office. Usage (from the project root):

    python benchmarks/estimate_replay_warsaw.py [--offices UD_Wola ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from display_server.replay import Row, Visit, replay, result_of

DATA = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    / "warsaw_office_queues_2019_2020" / "warsaw_queues_active.csv.gz"
)
#: Waits longer than this are scored apart too: where the calibration's old bins ended.
LONG_MINUTES = 14.0


def snapshots() -> pd.DataFrame:
    """The snapshots with a usable date, of queues that own their ticket letter that day."""
    raw = pd.read_csv(DATA, dtype=str)
    raw = raw[raw["date_fixed"].notna()]
    digits = raw["aktualnyNumer"].str.extract(r"(\d+)$")[0]
    frame = pd.DataFrame({
        "office": raw["name"], "queue": raw["idGrupy"], "day": raw["date_fixed"],
        "letter": raw["literaGrupy"],
        "at": pd.to_datetime(raw["date_fixed"] + " " + raw["time"], format="%Y-%m-%d %H:%M"),
        "serving": pd.to_numeric(digits, errors="coerce"),
        "waiting": pd.to_numeric(raw["liczbaKlwKolejce"], errors="coerce").fillna(0),
        "counters": pd.to_numeric(raw["liczbaCzynnychStan"], errors="coerce").fillna(0),
    })
    shared = frame.groupby(["office", "day", "letter"])["queue"].transform("nunique") > 1
    return frame[~shared]


def queue_day_visits(
    day: pd.DataFrame, rng: np.random.Generator
) -> Iterator[tuple[pd.Timestamp, pd.Timestamp, pd.Timestamp]]:
    """(issued, called, ended) of each ticket of one queue's day."""
    day = day.sort_values("at").drop_duplicates("at")
    if day["serving"].notna().sum() < 5:
        return
    serving = np.maximum.accumulate(day["serving"].ffill().fillna(0).to_numpy())
    issued = np.maximum.accumulate(serving + day["waiting"].to_numpy())
    times = day["at"].to_numpy()
    counters = day["counters"].to_numpy()

    def reached(series: np.ndarray, number: int) -> pd.Timestamp | None:
        i = int(np.searchsorted(series, number))  # the first snapshot at or past `number`
        if i >= len(series):
            return None
        before = times[i - 1] if i else times[i] - np.timedelta64(5, "m")
        return pd.Timestamp(before + (times[i] - before) * rng.random())

    last = int(issued[-1])
    calls = {n: reached(serving, n) for n in range(1, last + 1)}
    for number in range(1, last + 1):
        arrival, called = reached(issued, number), calls[number]
        if arrival is None or called is None:
            continue
        called = max(called, arrival)
        at = min(int(np.searchsorted(serving, number)), len(serving) - 1)
        ended = calls.get(number + max(1, int(counters[at])))
        if ended is not None and ended > called:
            yield arrival, called, ended


def office_visits(frame: pd.DataFrame, rng: np.random.Generator) -> list[Visit]:
    visits = [
        (arrival, called, ended, str(queue))
        for (queue, _day), day in frame.groupby(["queue", "day"], sort=True)
        for arrival, called, ended in queue_day_visits(day, rng)
    ]
    visits.sort()
    return [
        Visit(row=i, arrival=a.to_pydatetime(), service_start=c.to_pydatetime(),
              service_end=e.to_pydatetime(), queue=q)
        for i, (a, c, e, q) in enumerate(visits, start=2)
    ]


def _scores(label: str, rows: list[Row], **extra: object) -> str:
    result = result_of(rows)
    summary = {"office": label, **extra, "ratio_to_best": result.ratio_to_best}
    return json.dumps(summary | result.to_json())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offices", nargs="*", help="office names (default: all)")
    args = parser.parse_args(argv)
    frame = snapshots()
    rng = np.random.default_rng(0)
    every: list[Row] = []
    for office, part in frame.groupby("office", sort=True):
        if args.offices and office not in args.offices:
            continue
        visits = office_visits(part, rng)
        began = time.perf_counter()
        result = replay(visits, default_minutes=10.0)
        seconds = round(time.perf_counter() - began, 1)
        print(_scores(str(office), list(result.rows), seconds=seconds), flush=True)
        every.extend(result.rows)
    print(_scores("all", every), flush=True)
    long_waits = [row for row in every if row[1] > LONG_MINUTES]
    print(_scores(f"all, waits over {LONG_MINUTES:g} min", long_waits), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
