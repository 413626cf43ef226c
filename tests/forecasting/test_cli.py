from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from forecasting.cli import register
from tests.forecasting.helpers import one_series, write_hourly_csv


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="madoguchi")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code


def test_backtest_writes_the_contract_json(tmp_path: Path) -> None:
    csv = write_hourly_csv(tmp_path / "arrivals.csv", one_series("2025-01-06", 56))
    out = tmp_path / "result.json"
    code = run(
        [
            "forecast",
            "backtest",
            "--arrivals",
            str(csv),
            "--test-start",
            "2025-02-17",
            "--horizon-days",
            "7",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["test_start"] == "2025-02-17" and result["horizon_days"] == 7
    assert set(result["baselines"]) == {"weekday_hour_mean", "seasonal_naive"}


def test_backtest_detects_the_calendar_unless_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A simulated ward office: closed on 成人の日 and 建国記念の日.
    csv = write_hourly_csv(tmp_path / "arrivals.csv", one_series("2025-01-06", 42))
    assert run(["forecast", "backtest", "--arrivals", str(csv), "--out", str(tmp_path / "a")]) == 0
    assert "calendar jp (detected" in capsys.readouterr().err
    argv = ["forecast", "backtest", "--arrivals", str(csv), "--calendar", "none"]
    assert run([*argv, "--out", str(tmp_path / "b")]) == 0
    assert "calendar" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("time,count\n2025-01-06T09:00,3\n", "expected columns"),
        ("timestamp\n2025-01-06T09:00\nnot a time\n", "unparseable"),
        ("timestamp\n2025-01-06T09:00\n2025-01-06T10:00\n", "at least 3 weeks"),
    ],
    ids=["empty", "missing-columns", "bad-time", "single-day"],
)
def test_bad_arrivals_fail_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text(text, encoding="utf-8")
    assert run(["forecast", "backtest", "--arrivals", str(csv)]) != 0
    assert message in capsys.readouterr().err


def test_missing_file_fails_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["forecast", "backtest", "--arrivals", str(tmp_path / "nope.csv")]) != 0
    assert "nope.csv" in capsys.readouterr().err


def test_fit_and_show_from_files(tmp_path: Path) -> None:
    csv = write_hourly_csv(tmp_path / "arrivals.csv", one_series("2025-01-06", 42))
    table = tmp_path / "forecast.csv"
    assert (
        run(
            [
                "forecast",
                "fit",
                "--arrivals",
                str(csv),
                "--horizon-days",
                "7",
                "--counters",
                "2",
                "--out",
                str(table),
            ]
        )
        == 0
    )
    forecast = pd.read_csv(table)
    assert forecast["hour_start"].min() == "2025-02-17T08:00"
    png = tmp_path / "site.png"
    assert (
        run(["forecast", "show", "--site", "default", "--forecast", str(table), "--png", str(png)])
        == 0
    )
    assert png.read_bytes().startswith(b"\x89PNG")


def test_fit_and_show_on_an_empty_database_say_what_is_missing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert run(["forecast", "fit"]) == 2
    assert "no tickets issued" in capsys.readouterr().err
    assert run(["forecast", "show", "--site", "nerima"]) == 2
    assert "forecast fit" in capsys.readouterr().err


def test_fit_refuses_fewer_than_one_worker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = write_hourly_csv(tmp_path / "arrivals.csv", one_series("2025-01-06", 42))
    out = tmp_path / "forecast.csv"
    command = ["forecast", "fit", "--arrivals", str(csv), "--workers", "0", "--out", str(out)]
    assert run(command) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert not out.exists()
