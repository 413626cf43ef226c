"""`madoguchi forecast fit` and `forecast show --site` on the server database."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from display_server.app import create_app
from display_server.cli import main
from tests.conftest import TUESDAY_10, FakeClock, make_settings
from tests.display_server.test_forecast_service import PATTERN, seed_pattern
from tests.helpers import runtime_of


def test_fit_then_show_from_the_database(
    sqlite_url: str,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with TestClient(create_app(make_settings(sqlite_url), clock=clock)) as client:
        seed_pattern(runtime_of(client))
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("MADOGUCHI_CLOCK_START", TUESDAY_10.isoformat())
    assert main(["forecast", "fit"]) == 0
    stored = int(capsys.readouterr().out.split()[0])
    assert stored > 0
    assert main(["forecast", "show", "--site", "nerima"]) == 0
    table = capsys.readouterr().out
    moving_nine = [line for line in table.splitlines() if " moving " in line and " 09:00" in line]
    assert moving_nine, table[:500]
    nine = [float(line.split()[4]) for line in moving_nine]
    assert sum(nine) / len(nine) == pytest.approx(PATTERN[9], abs=1)
    png = tmp_path / "nerima.png"
    assert main(["forecast", "show", "--site", "nerima", "--png", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["forecast", "show", "--site", "atlantis"]) == 2
    assert "unknown site" in capsys.readouterr().err
