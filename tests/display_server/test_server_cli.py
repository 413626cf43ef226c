"""`madoguchi db upgrade`, `user add` and `token create|list|revoke` against a real database."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from display_server.app import create_app
from display_server.cli import main
from display_server.security import verify_password
from display_server.store import auth as auth_store
from display_server.store.db import make_engine, make_sessionmaker
from tests.conftest import FakeClock, make_settings

#: Needs a staff or floor principal of the site: answers 200 with a live token.
DEVICES = "/api/v1/sites/nerima/devices"


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", url)
    return url


@pytest.fixture
def any_db_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Like `db_env`, on SQLite and on PostgreSQL (where revoking locks the rows)."""
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", database_url)
    return database_url


def test_db_upgrade(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "schema up to date" in capsys.readouterr().out


def test_user_add_stores_an_argon2_hash(
    db_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert (
        main(["user", "add", "tanaka", "--role", "staff", "--site", "nerima", "--password-stdin"])
        == 0
    )
    with make_sessionmaker(make_engine(db_env))() as session:
        user = auth_store.user_by_name(session, name="tanaka")
        assert user is not None and user.role == "staff" and user.site == "nerima"
        assert user.password_hash.startswith("$argon2")
        assert verify_password(user.password_hash, "a long password")
    monkeypatch.setattr("sys.stdin", io.StringIO("another password\n"))
    assert main(["user", "add", "tanaka", "--role", "staff", "--password-stdin"]) == 2
    assert "exists already" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "staff", "--site", "atlantis"], "unknown site"),
        (["--role", "staff"], "at least 10 characters"),
    ],
)
def test_user_add_refuses_bad_input(
    db_env: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "x", *args, "--password-stdin"]) == 2
    assert message in capsys.readouterr().err


def test_user_add_rejects_unknown_role(db_env: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["user", "add", "x", "--role", "kiosk"])
    assert exited.value.code == 2


def test_token_create_prints_the_token_last_and_stores_a_hash(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "create", "--role", "kiosk", "--site", "nerima"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(token) >= 43
    with make_sessionmaker(make_engine(db_env))() as session:
        row = auth_store.token_by_secret(session, token=token)
        assert row is not None and row.role == "kiosk" and row.site == "nerima"
        assert row.token_hash != token
    assert main(["token", "create", "--role", "kiosk"]) == 2
    assert "bound to a site" in capsys.readouterr().err


def create_token(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`token create` through the CLI; the new token's id, secret and stored hash."""
    assert main(["token", "create", *args]) == 0
    heading, secret = capsys.readouterr().out.strip().splitlines()[-2:]
    with make_sessionmaker(make_engine(url))() as session:
        row = auth_store.token_by_secret(session, token=secret)
        assert row is not None
        assert heading.startswith(f"token {row.id} for role ")  # the id to revoke it by
        return row.id, secret, row.token_hash


def stored_tokens(url: str) -> dict[int, dt.datetime | None]:
    """Every token's id and revocation time, straight from the database."""
    with make_sessionmaker(make_engine(url))() as session:
        rows = auth_store.tokens(session, include_revoked=True)
        return {row.id: row.revoked_at for row in rows}


def listed_ids(output: str) -> list[int]:
    return [int(line.split()[0]) for line in output.splitlines()[1:]]


def test_token_list_hides_revoked_tokens_unless_all(
    any_db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    kiosk, _, _ = create_token(
        any_db_env, capsys, "--role", "kiosk", "--site", "nerima", "--label", "lobby kiosk 1"
    )
    admin, _, _ = create_token(any_db_env, capsys, "--role", "admin", "--label", "ops laptop")
    assert main(["token", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["id", "role", "site", "label", "created"]
    assert listed_ids(out) == [kiosk, admin]
    assert "lobby kiosk 1" in out and "nerima" in out and "ops laptop" in out

    assert main(["token", "revoke", str(kiosk)]) == 0
    capsys.readouterr()
    assert main(["token", "list"]) == 0
    out = capsys.readouterr().out
    assert listed_ids(out) == [admin] and "lobby kiosk 1" not in out

    revoked_at = stored_tokens(any_db_env)[kiosk]
    assert revoked_at is not None
    assert main(["token", "list", "--all"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[-1] == "revoked"
    assert listed_ids("\n".join(lines)) == [kiosk, admin]
    assert revoked_at.strftime("%Y-%m-%d %H:%M:%S") in lines[1]
    assert lines[2].rstrip().endswith("-")


def test_token_list_and_revoke_never_print_secrets_or_hashes(
    any_db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    tokens = [
        create_token(any_db_env, capsys, "--role", "staff", "--site", "nerima"),
        create_token(any_db_env, capsys, "--role", "floor", "--site", "nerima"),
    ]
    assert main(["token", "list"]) == 0
    assert main(["token", "revoke", str(tokens[0][0])]) == 0
    assert main(["token", "revoke", str(tokens[0][0])]) == 0
    assert main(["token", "list", "--all"]) == 0
    printed = capsys.readouterr()
    assert str(tokens[0][0]) in printed.out
    for _, secret, hashed in tokens:
        assert secret not in printed.out + printed.err
        assert hashed not in printed.out + printed.err


def test_a_revoked_token_is_refused_by_the_server(
    any_db_env: str, capsys: pytest.CaptureFixture[str], clock: FakeClock
) -> None:
    token_id, secret, _ = create_token(any_db_env, capsys, "--role", "staff", "--site", "nerima")
    headers = {"Authorization": f"Bearer {secret}"}
    # No token cache, so the server reads the revocation on the very next request.
    settings = make_settings(any_db_env, token_cache_s=0)
    with TestClient(create_app(settings, clock=clock)) as client:
        assert client.get(DEVICES, headers=headers).status_code == 200
        assert main(["token", "revoke", str(token_id)]) == 0
        refused = client.get(DEVICES, headers=headers)
    assert refused.status_code == 401
    out = capsys.readouterr().out
    assert f"token {token_id} revoked" in out and "MADOGUCHI_TOKEN_CACHE_S" in out


def test_token_revoke_with_an_unknown_id_revokes_nothing(
    any_db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, _, _ = create_token(any_db_env, capsys, "--role", "admin")
    second, _, _ = create_token(any_db_env, capsys, "--role", "admin")
    assert main(["token", "revoke", str(first), "999", str(second)]) == 2
    printed = capsys.readouterr()
    assert "no token with id 999" in printed.err and "nothing revoked" in printed.err
    assert printed.out == ""
    assert stored_tokens(any_db_env) == {first: None, second: None}


def test_token_revoke_twice_keeps_the_first_time(
    any_db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token_id, _, _ = create_token(any_db_env, capsys, "--role", "admin")
    before = dt.datetime.now(dt.UTC)
    assert main(["token", "revoke", str(token_id)]) == 0
    first = stored_tokens(any_db_env)[token_id]
    assert first is not None and first >= before
    capsys.readouterr()
    assert main(["token", "revoke", str(token_id)]) == 0
    out = capsys.readouterr().out
    assert f"token {token_id} was revoked already" in out
    assert "MADOGUCHI_TOKEN_CACHE_S" not in out
    assert stored_tokens(any_db_env)[token_id] == first
