"""Replay the Anonymous Bank call centre (1999) through `madoguchi estimate replay`.

Converts ../shared/data/anonbank_callcenter_1999 to Visits CSVs (one per month) in a temporary
directory and prints the replay's JSON per month, then (with --continuous) replays the chosen
months as one log, as a server running since January would see them, and prints the scores per
month, for the tuning months (January–March), the held-out months (April–June) and all.
Usage (from the project root):

    python benchmarks/estimate_replay_anonbank.py [--months 01 02 ...] [--keep DIR] [--continuous]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from display_server.replay import ReplayResult, Visit, load_visits, replay, result_of

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "anonbank_callcenter_1999"
TUNING = ("01", "02", "03")  # the model's constants were chosen on these months only
FIELDS = ["arrival", "service_start", "service_end", "left", "queue", "server", "priority"]


def _clock(day: dt.date, text: str, after: dt.datetime | None = None) -> dt.datetime:
    h, m, s = (int(p) for p in text.split(":"))
    moment = dt.datetime.combine(day, dt.time(0)) + dt.timedelta(hours=h, minutes=m, seconds=s)
    # Times are wall-clock within the call's date: one that runs past midnight reads smaller.
    # Any other time that goes backwards (a few AGENT calls have ser_start 0:00:00) is an error.
    if after is not None and moment < after - dt.timedelta(hours=1):
        if not (after.hour >= 21 and moment.hour < 3):
            raise ValueError(f"{text} before {after:%H:%M:%S}")
        moment += dt.timedelta(days=1)
    return moment


def convert(source: Path, target: Path) -> tuple[int, int]:
    """One Visits CSV from one monthly file; returns (rows written, rows dropped)."""
    written = dropped = 0
    with gzip.open(source, "rt", encoding="latin-1") as raw, target.open("w", newline="") as out:
        writer = csv.DictWriter(out, FIELDS)
        writer.writeheader()
        for row in csv.DictReader(raw, delimiter="\t"):
            try:
                outcome = row["outcome"].strip()
                if outcome == "PHANTOM":
                    dropped += 1
                    continue
                day = dt.datetime.strptime(row["date"].strip(), "%y%m%d").date()
                entry = _clock(day, row["vru_entry"].strip())
                queued = row["q_start"].strip() not in ("0:00:00", "")
                # Arrival to the agents' queue: q_start for queued calls, else leaving the VRU.
                arrival = _clock(day, row["q_start" if queued else "vru_exit"].strip(), entry)
                record = {"arrival": arrival.isoformat(), "queue": row["type"].strip(),
                          "priority": int(row["priority"].strip() == "2")}
                if outcome == "AGENT":
                    start = max(_clock(day, row["ser_start"].strip(), entry), arrival)
                    end = max(_clock(day, row["ser_exit"].strip(), start), start)
                    record |= {"service_start": start.isoformat(),
                               "service_end": end.isoformat(), "server": row["server"].strip()}
                elif outcome == "HANG":
                    left = _clock(day, row["q_exit"].strip(), arrival) if queued else arrival
                    record["left"] = max(left, arrival).isoformat()
                else:
                    dropped += 1
                    continue
            except (KeyError, ValueError, AttributeError):
                dropped += 1  # the ~8 malformed lines the provenance notes
                continue
            writer.writerow(record)
            written += 1
    return written, dropped


def _line(label: str, result: ReplayResult, extra: Mapping[str, object]) -> str:
    summary = {"months": label, **extra, "ratio_to_best": result.ratio_to_best}
    return json.dumps(summary | result.to_json())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", nargs="*", default=["01", "02", "03", "04", "05", "06"])
    parser.add_argument("--keep", type=Path, help="write the Visits CSVs here, not a temp dir")
    parser.add_argument("--idle-minutes", type=float, default=10.0)
    parser.add_argument("--no-priority", action="store_true", help="replay without priority")
    parser.add_argument("--continuous", action="store_true",
                        help="also replay all months as one log (history carries over)")
    args = parser.parse_args(argv)
    every: list[Visit] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for month in args.months:
            (source,) = DATA.glob(f"anonbank_1999-{month}_*.txt.gz")
            target = folder / f"anonbank_1999-{month}.csv"
            written, dropped = convert(source, target)
            visits = load_visits(target)
            if args.no_priority:
                visits = [v.__class__(**{**v.__dict__, "priority": False}) for v in visits]
            every.extend(visits)
            began = time.perf_counter()
            result = replay(visits, default_minutes=10.0, idle_minutes=args.idle_minutes)
            seconds = time.perf_counter() - began
            extra = {"held_out": month not in TUNING, "rows": written, "dropped": dropped,
                     "unestimated": result.unestimated, "seconds": round(seconds, 1)}
            print(_line(month, result, extra), flush=True)
    if args.continuous:
        began = time.perf_counter()
        result = replay(every, default_minutes=10.0, idle_minutes=args.idle_minutes)
        seconds = round(time.perf_counter() - began, 1)
        groups = {m: [m] for m in args.months}
        groups |= {"tuning": [m for m in args.months if m in TUNING],
                   "held_out": [m for m in args.months if m not in TUNING], "all": args.months}
        for label, months in groups.items():
            rows = [r for r in result.rows if f"{r[0].month:02d}" in months]
            if rows:
                print(_line(f"continuous {label}", result_of(rows), {"seconds": seconds}),
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
