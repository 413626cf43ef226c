"""Health check, Prometheus metrics and request ids."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from display_server.app import create_app
from display_server.settings import Settings
from tests.conftest import FakeClock
from tests.helpers import issue, make_token


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_metrics_count_issues_and_waiting(client: TestClient) -> None:
    kiosk = make_token(client, "kiosk", "nerima")
    issue(client, kiosk)
    issue(client, kiosk, service="tax")
    text = client.get("/metrics").text
    assert (
        'madoguchi_tickets_issued_total{channel="kiosk",service="moving",site="nerima"} 1.0' in text
    )
    assert 'madoguchi_waiting{service="tax",site="nerima"} 1.0' in text
    assert (
        'madoguchi_request_seconds_count{method="POST",route="/api/v1/sites/{site}/tickets",'
        'status="201"} 2.0'
    ) in text


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc123"}).headers["X-Request-ID"]
        == "abc123"
    )
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32


def test_openapi_documents_the_contract(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/sites",
        "/api/v1/sites/{site}/status",
        "/api/v1/sites/{site}/tickets",
        "/api/v1/tickets/{token}",
        "/api/v1/counters/{counter}/call-next",
    ):
        assert path in paths
    assert client.get("/docs").status_code == 200


def test_startup_freezes_what_it_loaded_out_of_the_collectors_walks(
    settings: Settings, clock: FakeClock
) -> None:
    gc.unfreeze()  # another test's app may have frozen this process already
    app = create_app(settings, clock=clock)
    assert gc.get_freeze_count() == 0
    with TestClient(app):
        assert gc.get_freeze_count() > 0
