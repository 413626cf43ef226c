"""`madoguchi estimate replay`: a hand-made log with known QL/LES answers, and bad input."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from display_server import estimate_cli
from display_server.replay import VisitsFileError, load_visits, replay

HEADER = "arrival,service_start,service_end,left,queue,server\n"
# One counter "A", 10-minute services, one visitor who gave up after 12 minutes in line.
LOG = HEADER + (
    "2025-04-01T09:00,2025-04-01T09:00,2025-04-01T09:10,,x,A\n"
    "2025-04-01T09:02,2025-04-01T09:10,2025-04-01T09:20,,x,A\n"
    "2025-04-01T09:03,,,2025-04-01T09:15,x,\n"
    "2025-04-01T09:04,2025-04-01T09:20,2025-04-01T09:25,,x,A\n"
    "2025-04-01T09:21,2025-04-01T09:25,2025-04-01T09:30,,x,A\n"
)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="madoguchi")
    estimate_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def write(tmp_path: Path, text: str, name: str = "visits.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_ql_and_les_match_hand_computed_answers(tmp_path: Path) -> None:
    result = replay(load_visits(write(tmp_path, LOG)), default_minutes=10.0)
    # Realised waits 0, 8, 16, 4 minutes; the visitor who left is not scored.
    assert result.n == 4
    # QL: ahead × mean service / servers = 0, 0, 2 × 10 / 1 (the leaver still in line), 0.
    assert (result.ql.mae_min, result.ql.medae_min) == (4.0, 4.0)
    assert result.ql.rmse_min == pytest.approx(24**0.5, abs=1e-4)
    # LES: the wait of the last one to enter service = 0, 0, 0, 16.
    assert (result.les.mae_min, result.les.medae_min) == (9.0, 10.0)
    assert result.les.rmse_min == pytest.approx(116**0.5, abs=1e-4)
    assert result.ql.coverage80 is None and result.madoguchi.coverage80 is not None


def test_madoguchi_uses_the_busy_counter_and_observed_times(tmp_path: Path) -> None:
    result = replay(load_visits(write(tmp_path, LOG)), default_minutes=10.0)
    # Only the first arrival finds no known counter; the others are estimated.
    assert result.unestimated == 1
    mae, les = result.madoguchi.mae_min, result.les.mae_min
    assert mae is not None and les is not None and mae < les


def test_queue_option_scores_only_that_queue(tmp_path: Path) -> None:
    other = LOG + "2025-04-01T09:40,2025-04-01T09:41,2025-04-01T09:50,,y,B\n"
    visits = load_visits(write(tmp_path, other))
    assert replay(visits).n == 5
    assert replay(visits, queue="y").n == 1


def test_without_server_column_concurrent_services_stand_for_counters(tmp_path: Path) -> None:
    text = "arrival,service_start,service_end\n" + (
        "2025-04-01T09:00,2025-04-01T09:00,2025-04-01T09:10\n"
        "2025-04-01T09:01,2025-04-01T09:01,2025-04-01T09:11\n"
        "2025-04-01T09:02,2025-04-01T09:10,2025-04-01T09:20\n"
    )
    result = replay(load_visits(write(tmp_path, text)), default_minutes=10.0)
    assert result.n == 3 and result.ql.mae_min == pytest.approx(8 / 3, abs=1e-4)


def test_cli_writes_the_contract_json(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    visits = str(write(tmp_path, LOG))
    assert run(["estimate", "replay", "--visits", visits, "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert set(data) == {"n", "estimators"} and data["n"] == 4
    assert set(data["estimators"]) == {"madoguchi", "ql", "les"}
    for scores in data["estimators"].values():
        assert set(scores) == {"mae_min", "rmse_min", "medae_min", "coverage80"}


def test_cli_prints_to_stdout_without_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["estimate", "replay", "--visits", str(write(tmp_path, LOG))]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 4


BAD = [
    ("", 1, None, "empty"),
    ("arrival,service_start\n2025-04-01T09:00,\n", 1, None, "service_end"),
    (HEADER, 2, None, "no visits"),
    (HEADER + "2025-04-01T09:00,,,,x,\n2025-04-01T9h,,,,x,\n", 3, "arrival", "ISO 8601"),
    (HEADER + "2025-04-01T09:00,2025-04-01T09:05,2025-04-01T09:01,,x,A\n", 2, "service_end",
     "before service_start"),
    (HEADER + "2025-04-01T09:00,2025-04-01T08:55,2025-04-01T09:01,,x,A\n", 2, "service_start",
     "before the arrival"),
    (HEADER + "2025-04-01T09:00,2025-04-01T09:05,,,x,A\n", 2, "service_end", "go together"),
    (HEADER + "2025-04-01T09:00+09:00,,,,x,\n2025-04-01T09:00,,,,x,\n", 3, "arrival", "offset"),
]


@pytest.mark.parametrize(("text", "row", "column", "words"), BAD)
def test_bad_input_names_row_and_column(
    tmp_path: Path, text: str, row: int, column: str | None, words: str
) -> None:
    with pytest.raises(VisitsFileError) as caught:
        load_visits(write(tmp_path, text))
    assert (caught.value.row, caught.value.column) == (row, column)
    assert words in str(caught.value) and f"row {row}" in str(caught.value)


def test_cli_refuses_bad_input_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path, HEADER + "2025-04-01T09:00,soon,2025-04-01T09:10,,x,A\n")
    out = tmp_path / "out.json"
    assert run(["estimate", "replay", "--visits", str(bad), "--out", str(out)]) == 2
    assert not out.exists()
    assert "row 2, column 'service_start'" in capsys.readouterr().err


def test_cli_reports_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["estimate", "replay", "--visits", str(tmp_path / "none.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_estimates_use_only_waits_realised_before_the_arrival(tmp_path: Path) -> None:
    # 300 visitors a minute apart at two servers; waits of 0 to 40 minutes, enough for the
    # estimator to calibrate on realised waits as it goes.
    rows = []
    for i in range(300):
        arrival = 9 * 60 + i
        start = arrival + (i * 7) % 41
        rows.append((arrival, start, start + 1.5, "AB"[i % 2]))

    def log(shift_after: float | None) -> str:
        def iso(minutes: float) -> str:
            hour, minute = divmod(int(minutes), 60)
            return f"2025-04-01T{hour:02d}:{minute:02d}:{round(minutes % 1 * 60):02d}"
        lines = []
        for arrival, start, end, server in rows:
            if shift_after is not None and start > shift_after:  # realised after the cut
                start, end = start + 60, end + 60
            lines.append(f"{iso(arrival)},{iso(start)},{iso(end)},,x,{server}\n")
        return HEADER + "".join(lines)

    cut = 9 * 60 + 200.5
    plain = replay(load_visits(write(tmp_path, log(None), "a.csv")), default_minutes=2.0)
    moved = replay(load_visits(write(tmp_path, log(cut), "b.csv")), default_minutes=2.0)
    # What each visitor was told (not what they then waited) before the cut is the same.
    def told(result):  # type: ignore[no-untyped-def]
        return [(r[0], *r[2:]) for r in result.rows if r[0].hour * 60 + r[0].minute < cut]

    assert len(told(plain)) == 201 and told(plain) == told(moved)
    assert sum(r[1] for r in plain.rows[:201]) < sum(r[1] for r in moved.rows[:201])
    assert plain.rows[250:] != moved.rows[250:]
    assert plain.madoguchi.coverage80 is not None
