"""The FAQ: the shipped starting set, Japanese search, admin-only edits with history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete

from display_server.errors import ConfigError
from display_server.store import faq as faq_store
from display_server.store.models import FaqEntryRow, FaqRevisionRow
from tests.display_server.web.logins import csrf_of, sign_in
from tests.helpers import make_token, runtime_of

NEW = {
    "service": "seal",
    "kind": "question",
    "ja": {"title": "実印を作り直したい", "body": "古い登録を廃止してから新しく登録します。"},
    "en": {"title": "New seal", "body": "Cancel the old registration first."},
    "readings": ["つくりなおし"],
}


def titles(client: TestClient, query: str, **params: str) -> list[str]:
    response = client.get("/api/v1/faq", params={"q": query, **params})
    assert response.status_code == 200, response.text
    return [e["title"] for e in response.json()["entries"]]


@pytest.mark.parametrize(
    "typed", ["てんにゅう", "テンニュウ", "ﾃﾝﾆｭｳ", "転入", "転入届", "てんにゅ"]
)
def test_moving_in_is_found_however_it_is_typed(client: TestClient, typed: str) -> None:
    found = titles(client, typed)
    assert found[0] == "【例】転入届に必要なもの"
    assert "【例】印鑑登録に必要なもの" not in found


def test_english_texts_and_filters(client: TestClient) -> None:
    found = titles(client, "てんにゅう", service="moving", lang="en")
    assert found[0] == "[Example] Moving in: what to bring"
    assert titles(client, "てんにゅう", service="seal") == []
    everything = client.get("/api/v1/faq", params={"site": "nursery"}).json()["entries"]
    assert {e["service"] for e in everything} >= {"nursery-consult", None}


def test_the_starting_set_covers_every_example_service(client: TestClient) -> None:
    services = {e["service"] for e in client.get("/api/v1/faq").json()["entries"]}
    assert services >= {
        "moving",
        "certificates",
        "seal",
        "mynumber",
        "tax",
        "nhi",
        "child",
        "nursery-consult",
    }


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"q": "あ" * 101}, 422),
        ({"service": "nope"}, 400),
        ({"site": "atlantis"}, 400),
        ({"service": "x" * 41}, 422),
    ],
)
def test_bad_searches_are_4xx(client: TestClient, params: dict[str, str], status: int) -> None:
    response = client.get("/api/v1/faq", params=params)
    assert response.status_code == status
    assert response.json()["detail"]


def test_admin_creates_updates_and_hides_with_history(client: TestClient) -> None:
    admin = make_token(client, "admin")
    created = client.post("/api/v1/faq", json=NEW, headers=admin)
    assert created.status_code == 201, created.text
    entry = created.json()["id"]
    assert titles(client, "ツクリナオシ") == ["実印を作り直したい"]
    changed = {**NEW, "ja": {"title": "実印の作り直し", "body": "廃止して再登録します。"}}
    assert client.put(f"/api/v1/faq/{entry}", json=changed, headers=admin).status_code == 200
    assert titles(client, "つくりなおし") == ["実印の作り直し"]
    assert client.post(f"/api/v1/faq/{entry}/deactivate", headers=admin).status_code == 200
    assert titles(client, "つくりなおし") == []
    history = client.get(f"/api/v1/faq/{entry}/revisions", headers=admin).json()["revisions"]
    assert [(r["action"], r["active"]) for r in history] == [
        ("deactivate", False),
        ("update", True),
        ("create", True),
    ]
    assert history[2]["content"]["ja"]["title"] == "実印を作り直したい"
    assert history[0]["edited_by"].startswith("token:")


@pytest.mark.parametrize("role", [None, "kiosk", "staff", "floor"])
def test_nobody_but_admins_edits(client: TestClient, role: str | None) -> None:
    headers = make_token(client, role, "nerima") if role else {}
    status = 401 if role is None else 403
    entry = client.get("/api/v1/faq").json()["entries"][0]["id"]
    assert client.post("/api/v1/faq", json=NEW, headers=headers).status_code == status
    assert client.put(f"/api/v1/faq/{entry}", json=NEW, headers=headers).status_code == status
    assert client.post(f"/api/v1/faq/{entry}/deactivate", headers=headers).status_code == status
    assert client.get(f"/api/v1/faq/{entry}/revisions", headers=headers).status_code == status
    assert client.get("/faq/admin", headers=headers, follow_redirects=False).status_code == (
        303 if role is None else 403
    )
    assert titles(client, "つくりなおし") == []


@pytest.mark.parametrize(
    "body",
    [
        {**NEW, "ja": {"title": "x" * 201, "body": "b"}},
        {**NEW, "kind": "gossip"},
        {**NEW, "readings": ["あ" * 61]},
        {**NEW, "ja": {"title": "", "body": "b"}},
        {**NEW, "extra": 1},
        {**NEW, "service": "nope"},
        {**NEW, "site": "atlantis"},
    ],
)
def test_bad_entries_are_refused(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/api/v1/faq", json=body, headers=make_token(client, "admin"))
    assert response.status_code in (400, 422)
    assert response.json()["detail"]


def test_unknown_or_absurd_entry_ids(client: TestClient) -> None:
    admin = make_token(client, "admin")
    assert client.put("/api/v1/faq/99999", json=NEW, headers=admin).status_code == 404
    assert (
        client.post("/api/v1/faq/99999999999999999999/deactivate", headers=admin).status_code == 422
    )


def test_the_editor_page_saves_with_a_session_and_csrf(client: TestClient) -> None:
    sign_in(client, "suzuki", "admin")
    form = client.get("/faq/admin/new")
    assert form.status_code == 200
    data = {
        "csrf_token": csrf_of(form.text),
        "service": "seal",
        "kind": "fees",
        "ja_title": "登録証明書の手数料",
        "ja_body": "1通300円（例）。",
        "readings": "とうろくしょうめい、てすうりょう",
    }
    assert client.post("/faq/admin/new", data={**data, "csrf_token": "forged"}).status_code == 403
    saved = client.post("/faq/admin/new", data=data, follow_redirects=False)
    assert saved.status_code == 303
    assert titles(client, "トウロクショウメイ") == ["登録証明書の手数料"]
    page = client.get(saved.headers["location"])
    assert "保存しました。" in page.text and "作成" in page.text
    entry = saved.headers["location"].split("/")[-1].split("?")[0]
    hide = client.post(
        f"/faq/admin/{entry}",
        data={"csrf_token": data["csrf_token"], "active": "0"},
        follow_redirects=False,
    )
    assert hide.status_code == 303
    assert titles(client, "トウロクショウメイ") == []
    invalid = client.post("/faq/admin/new", data={**data, "ja_title": ""})
    assert invalid.status_code == 422 and "入力を確認してください。" in invalid.text


def test_seeding_only_fills_an_empty_table(client: TestClient, tmp_path: Path) -> None:
    runtime = runtime_of(client)
    with runtime.sessions() as session:
        assert faq_store.seed_if_empty(session, config=runtime.config, now=runtime.now()) == 0
    bad = tmp_path / "faq.toml"
    bad.write_text('[[entries]]\nservice = "nope"\nja = { title = "t", body = "b" }\n')
    with pytest.raises(ConfigError, match="unknown service 'nope'"):
        faq_store.load_drafts(bad, runtime.config)
    assert len(faq_store.load_drafts(faq_store.DEFAULT_PATH, runtime.config)) >= 16


def test_a_missing_starting_set(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = runtime_of(client)
    with runtime.sessions() as session:
        session.execute(delete(FaqRevisionRow))
        session.execute(delete(FaqEntryRow))
        monkeypatch.setattr(faq_store, "DEFAULT_PATH", tmp_path / "absent.toml")
        assert faq_store.seed_if_empty(session, config=runtime.config, now=runtime.now()) == 0
        with pytest.raises(ConfigError, match=r"absent\.toml"):
            faq_store.seed_if_empty(
                session, config=runtime.config, now=runtime.now(), path=tmp_path / "absent.toml"
            )
