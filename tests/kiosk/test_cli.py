"""`madoguchi kiosk --state-dir`, through our own parser (the main dispatcher is elsewhere)."""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

import pytest

from kiosk import cli

REQUIRED = ["kiosk", "--server", "http://server", "--site", "nerima", "--printer", "dummy://"]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="madoguchi")
    cli.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_the_state_directory_follows_xdg_unless_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert parse(REQUIRED).state_dir == tmp_path / "state" / "madoguchi" / "kiosk"
    monkeypatch.setenv("XDG_STATE_HOME", "relative/state")  # ignored, as XDG says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert parse(REQUIRED).state_dir == tmp_path / "home" / ".local/state/madoguchi/kiosk"
    given = parse([*REQUIRED, "--state-dir", str(tmp_path / "kiosk-1")])
    assert given.state_dir == tmp_path / "kiosk-1"


def test_an_unusable_state_file_stops_the_kiosk_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(tmp_path / "reprints.sqlite3") as db:
        db.execute("PRAGMA user_version = 2")
    db.close()
    monkeypatch.setenv("MADOGUCHI_KIOSK_TOKEN", "secret")
    args = parse([*REQUIRED, "--state-dir", str(tmp_path)])
    with pytest.raises(SystemExit) as stopped:
        args.handler(args)
    assert str(stopped.value).startswith(f"kiosk state: {tmp_path / 'reprints.sqlite3'} is in "
                                         "format 2")
