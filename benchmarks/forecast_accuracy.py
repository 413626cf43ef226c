"""Forecast accuracy on real counter data (issue 5): Rubí citizen office and Anonymous Bank.

Converts each raw log into the contract's Arrivals CSV in a temporary directory (the data is
never copied into the repository: Rubí is CC BY-NC) and runs `madoguchi forecast backtest` on
it through the CLI handler, so the numbers are those of the shipped command.

    python benchmarks/forecast_accuracy.py [--out results.json] [--early] [--truncated]
                                           [--calendar auto|jp|none] [--by-queue] [--cuts]

`--early` also backtests from an earlier test start per series, and `--truncated` on each Rubí
year cut where the upstream files of 2025 and 2026 end (10-06 and 08-07), so that the default
test span is the one an evaluation on those files scores (robustness checks: the defaults were
not tuned on these spans); `--cuts` also on each Rubí year cut every two weeks from May 1st
(how often a file ending on any day meets the targets). `--by-queue` keeps each queue (Rubí's
CUA, the bank's call type) as the Arrivals CSV's `service`: one series per queue, as the
server forecasts one per service, with the metrics pooled over the series.

Reads ../shared/data relative to the project root.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from forecasting.cli import register

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def rubi_csv(source: Path, target: Path, *, by_queue: bool = False) -> Path:
    """One row per visit: DATA (YYYY/MM/DD) + HORA (hour) → the `date,hour` Arrivals CSV.

    The files are UTF-8 with CRLF line ends and comma separators; every queue (CUA) counts,
    as all visitors take a ticket at the same office; `by_queue` keeps the CUA as `service`.
    """
    raw = pd.read_csv(source, encoding="utf-8", usecols=["DATA", "HORA", "CUA"], dtype=str)
    dates = pd.to_datetime(raw["DATA"], format="%Y/%m/%d")
    rows = pd.DataFrame({"date": dates.dt.strftime("%Y-%m-%d"), "hour": raw["HORA"].astype(int)})
    if by_queue:
        rows["service"] = raw["CUA"].str.strip()
    rows.to_csv(target, index=False)
    return target


def anonbank_csv(folder: Path, target: Path, *, by_queue: bool = False) -> Path:
    """One row per call: date (YYMMDD) + vru_entry (H:MM:SS) → the `timestamp` Arrivals CSV.

    PHANTOM calls are not calls; the few malformed lines of the source are dropped.
    `by_queue` keeps the call type (PS regular, NW prospective customer, …) as `service`.
    """
    columns = ["date", "vru_entry", "outcome", "type"]
    frames = [
        pd.read_csv(path, sep="\t", dtype=str, usecols=columns, on_bad_lines="skip")
        for path in sorted(folder.glob("anonbank_1999-*.txt.gz"))
    ]
    raw = pd.concat(frames, ignore_index=True)
    raw = raw[raw["outcome"].str.strip() != "PHANTOM"]
    day = pd.to_datetime("19" + raw["date"].str.strip(), format="%Y%m%d", errors="coerce")
    stamp = day + pd.to_timedelta(raw["vru_entry"].str.strip(), errors="coerce")
    rows = pd.DataFrame({"timestamp": stamp.dt.strftime("%Y-%m-%dT%H:%M:%S")})
    if by_queue:
        rows["service"] = raw["type"].str.strip()
    rows[stamp.notna()].to_csv(target, index=False)
    return target


#: Earlier test starts for `--early`, about 60 % into each span.
EARLY_STARTS = {"rubi_2024": "2024-05-06", "rubi_2020": "2020-09-01", "anonbank_1999": "1999-04-28"}
#: Month-day ends of the upstream Rubí files not in ../shared/data (2025 and 2026), for
#: `--truncated`.
UPSTREAM_ENDS = ("10-06", "08-07")
#: `--cuts`: each Rubí year also cut every `CUT_STEP` from `CUT_FIRST` on, the default test
#: span then the last fifth before each cut: how often a file ending on an unseen day meets
#: the targets, rather than the two days the upstream files happen to end on.
CUT_FIRST, CUT_STEP = "05-01", pd.Timedelta(days=14)


def truncated(csv: Path, last_day: str) -> Path | None:
    """The Arrivals CSV `csv` without the days after `last_day` (YYYY-MM-DD); None if it ends
    by then."""
    frame = pd.read_csv(csv, dtype=str)
    if frame["date"].max() <= last_day:
        return None
    target = csv.with_name(f"{csv.stem}_to_{last_day}.csv")
    frame[frame["date"] <= last_day].to_csv(target, index=False)
    return target


def backtest(
    csv: Path, out: Path, test_start: str | None = None, calendar: str = "auto"
) -> dict[str, object]:
    parser = argparse.ArgumentParser(prog="madoguchi")
    register(parser.add_subparsers(dest="command", required=True))
    # `auto`, the command's default, as a user would run it: the calendar is detected from the
    # data (`none` for these foreign offices, which open on Japanese holidays).
    argv = ["forecast", "backtest", "--arrivals", str(csv), "--out", str(out)]
    argv += ["--calendar", calendar]
    args = parser.parse_args(argv + (["--test-start", test_start] if test_start else []))
    if args.handler(args) != 0:
        raise SystemExit(f"backtest failed on {csv}")
    result: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="write all results as JSON here")
    parser.add_argument("--early", action="store_true", help="also from earlier test starts")
    parser.add_argument(
        "--calendar",
        choices=["auto", "jp", "none"],
        default="auto",
        help="the command's --calendar (default: auto, as a user runs it)",
    )
    parser.add_argument(
        "--truncated", action="store_true", help="also on Rubí cut where later years' files end"
    )
    parser.add_argument(
        "--by-queue", action="store_true", help="one series per queue instead of per office"
    )
    parser.add_argument(
        "--cuts", action="store_true", help="also on each Rubí year cut every two weeks from May"
    )
    options = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sources = {
            "rubi_2024": lambda: rubi_csv(
                DATA / "rubi_oac_visits/public_visites_oac_2024_to_0930.csv.gz",
                work / "r24.csv",
                by_queue=options.by_queue,
            ),
            "rubi_2020": lambda: rubi_csv(
                DATA / "rubi_oac_visits/public_visites_oac_2020.csv.gz",
                work / "r20.csv",
                by_queue=options.by_queue,
            ),
            "anonbank_1999": lambda: anonbank_csv(
                DATA / "anonbank_callcenter_1999", work / "bank.csv", by_queue=options.by_queue
            ),
        }
        for name, make in sources.items():
            csv = make()
            # label → (Arrivals CSV, test start or None for the default)
            runs: dict[str, tuple[Path, str | None]] = {name: (csv, None)}
            if options.early:
                runs[f"{name}@early"] = (csv, EARLY_STARTS[name])
            if options.truncated and name.startswith("rubi_"):
                year = name.removeprefix("rubi_")
                for end in UPSTREAM_ENDS:
                    if cut := truncated(csv, f"{year}-{end}"):
                        runs[f"{name}@to_{end}"] = (cut, None)
            if options.cuts and name.startswith("rubi_"):
                year = name.removeprefix("rubi_")
                for day in pd.date_range(f"{year}-{CUT_FIRST}", f"{year}-12-31", freq=CUT_STEP):
                    if cut := truncated(csv, day.strftime("%Y-%m-%d")):
                        runs[f"{name}@to_{day:%m-%d}"] = (cut, None)
            for label, (source, start) in runs.items():
                label += "@by_queue" if options.by_queue else ""
                started = time.perf_counter()
                result = backtest(source, work / f"{label}.json", start, options.calendar)
                result["seconds"] = round(time.perf_counter() - started, 1)
                results[label] = result
                print(f"== {label}", json.dumps(result, indent=2), sep="\n", flush=True)
    if options.out:
        options.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
