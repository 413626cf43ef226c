"""`madoguchi db upgrade`, `user add` and `token create` against a real SQLite file."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from display_server.cli import main
from display_server.security import verify_password
from display_server.store import auth as auth_store
from display_server.store.db import make_engine, make_sessionmaker


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MADOGUCHI_DATABASE_URL", url)
    return url


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
