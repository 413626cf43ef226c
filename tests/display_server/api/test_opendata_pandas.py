"""The open-data feed read by pandas straight from a running server's URL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from display_server.api.opendata import COLUMNS
from display_server.store.db import upgrade
from tests.e2e.browser import LiveServer, add_token

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path / 'opendata.db'}"
    upgrade(url)
    live = LiveServer(database_url=url)
    live.start()
    yield live
    live.stop()


def test_pandas_reads_json_and_csv_from_the_url(server: LiveServer) -> None:
    kiosk = add_token(server.database_url, "kiosk", "nerima")
    for _ in range(3):
        response = httpx.post(
            f"{server.url}/api/v1/sites/nerima/tickets",
            json={"service": "tax"},
            headers={"Authorization": f"Bearer {kiosk}"},
        )
        assert response.status_code == 201
    from_csv = pd.read_csv(f"{server.url}/api/v1/opendata/congestion.csv")
    from_json = pd.read_json(f"{server.url}/api/v1/opendata/congestion.json")
    for frame in (from_csv, from_json):
        assert list(frame.columns) == list(COLUMNS)
        tax = frame[
            (frame.record == "hourly") & (frame.site == "nerima") & (frame.service == "tax")
        ]
        assert tax.arrivals.sum() == 3
        live = frame[(frame.record == "live") & (frame.site == "nerima") & (frame.service == "tax")]
        assert live.waiting.iloc[0] == 3
        assert set(frame.license) == {"CC BY 4.0"}
    assert from_csv.loc[0, "site_name_ja"] == "練馬区民事務所"
