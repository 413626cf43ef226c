"""`madoguchi serve`, `db upgrade`, `user add`, `token create|list|revoke`, `config check`."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import logging.config
import os
import sys
from pathlib import Path
from typing import Any

from display_server.config import load_config
from display_server.errors import ConfigError
from display_server.security import USER_ROLES, Role, hash_password, new_device_token
from display_server.settings import Settings
from display_server.store import auth as auth_store
from display_server.store.db import make_engine, make_sessionmaker, upgrade

#: The ASGI app factory `serve` runs (settings from the environment).
APP = "display_server.app:app_from_environment"
#: One format for the server's own logs and uvicorn's, in every worker process.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"handlers": ["stderr"], "level": "INFO"},
}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser("serve", help="run the display server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--config", type=Path, help="ward configuration TOML (default: the example)")
    serve.add_argument(
        "--workers", type=int, default=1, help="server processes (on Linux, a socket each)"
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="demo user, kiosk token and simulated visitors; a demo clock outside opening hours",
    )
    serve.set_defaults(handler=_serve)

    db = subparsers.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="bring the schema up to date").set_defaults(
        handler=_db_upgrade
    )

    user = subparsers.add_parser("user", help="staff accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create a staff account (asks for the password)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.value for r in USER_ROLES])
    add.add_argument("--site", help="limit the account to one site")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(handler=_user_add)

    token = subparsers.add_parser("token", help="device bearer tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="create a token; printed once, stored hashed")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--site", help="bind the token to one site (required for kiosks)")
    create.add_argument("--label", default="", help="what the token is for, e.g. 'lobby kiosk 1'")
    create.set_defaults(handler=_token_create)
    listing = token_sub.add_parser("list", help="list live tokens (never their secrets)")
    listing.add_argument("--all", action="store_true", help="include revoked tokens")
    listing.set_defaults(handler=_token_list)
    revoke = token_sub.add_parser("revoke", help="revoke tokens by id (see `token list`)")
    revoke.add_argument("ids", nargs="+", type=int, metavar="ID")
    revoke.set_defaults(handler=_token_revoke)

    config = subparsers.add_parser("config", help="ward configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="report every problem in a configuration file")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=_config_check)


def _settings(args: argparse.Namespace) -> Settings:
    config_path = getattr(args, "config", None)
    return Settings(config_path=config_path) if config_path else Settings()


def _db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    upgrade(settings.database_url)
    print(f"schema up to date: {_redact(settings.database_url)}")
    return 0


def _redact(url: str) -> str:
    """The URL without a password, for logs."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, credentials = head.partition("//")
    return f"{scheme}//{credentials.split(':', 1)[0]}:***@{tail}"


def _with_session(settings: Settings):  # type: ignore[no-untyped-def]
    upgrade(settings.database_url)
    return make_sessionmaker(make_engine(settings.database_url))()


def _user_add(args: argparse.Namespace) -> int:
    settings = _settings(args)
    config = load_config(settings.config_path)
    if args.site and config.site(args.site) is None:
        print(f"error: unknown site {args.site!r}", file=sys.stderr)
        return 2
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 2
    if len(password) < 10:
        print("error: the password needs at least 10 characters", file=sys.stderr)
        return 2
    with _with_session(settings) as session:
        if auth_store.user_by_name(session, name=args.name) is not None:
            print(f"error: user {args.name!r} exists already", file=sys.stderr)
            return 2
        auth_store.add_user(
            session,
            name=args.name,
            password_hash=hash_password(password),
            role=args.role,
            site=args.site,
            now=dt.datetime.now(dt.UTC),
        )
        session.commit()
    print(f"user {args.name} added with role {args.role}")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    config = load_config(settings.config_path)
    if args.site and config.site(args.site) is None:
        print(f"error: unknown site {args.site!r}", file=sys.stderr)
        return 2
    if args.role == Role.KIOSK.value and not args.site:
        print("error: a kiosk token must be bound to a site (--site)", file=sys.stderr)
        return 2
    secret = new_device_token()
    with _with_session(settings) as session:
        row = auth_store.add_token(
            session,
            token=secret,
            role=args.role,
            site=args.site,
            label=args.label,
            now=dt.datetime.now(dt.UTC),
        )
        session.commit()
        token_id = row.id
    place = f" at {args.site}" if args.site else ""
    print(f"token {token_id} for role {args.role}{place} (shown once; revoke by its id):")
    print(secret)
    return 0


def _utc(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "-"


def _token_list(args: argparse.Namespace) -> int:
    with _with_session(_settings(args)) as session:
        rows = auth_store.tokens(session, include_revoked=args.all)
        if not rows:
            print("no tokens" if args.all else "no live tokens")
            return 0
        header = ["id", "role", "site", "label", "created"] + (["revoked"] if args.all else [])
        table = [header]
        for row in rows:
            line = [str(row.id), row.role, row.site or "-", row.label or "-", _utc(row.created_at)]
            table.append([*line, _utc(row.revoked_at)] if args.all else line)
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(cells).rstrip())
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    token_ids = list(dict.fromkeys(args.ids))  # a repeated id is revoked (and reported) once
    now = dt.datetime.now(dt.UTC)
    with _with_session(_settings(args)) as session:
        found = auth_store.tokens_for_update(session, token_ids=token_ids)
        unknown = [str(token_id) for token_id in token_ids if token_id not in found]
        if unknown:
            # All or nothing: a typo in one id must not leave the others half done.
            print(f"error: no token with id {', '.join(unknown)}; nothing revoked", file=sys.stderr)
            return 2
        messages = []
        newly_revoked = False
        for token_id in token_ids:
            row = found[token_id]
            if auth_store.revoke_token(session, token=row, now=now):
                newly_revoked = True
                where = f" at {row.site}" if row.site else ""
                messages.append(f"token {token_id} revoked ({row.role}{where})")
            else:
                messages.append(f"token {token_id} was revoked already at {_utc(row.revoked_at)}")
        session.commit()
    print("\n".join(messages))
    if newly_revoked:
        # Servers cache known tokens for a while, so a revoke is not instant.
        print(
            "running servers stop accepting revoked tokens within their token cache time "
            "(MADOGUCHI_TOKEN_CACHE_S, default 10 s)"
        )
    return 0


def _config_check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.file)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 1
    counters = sum(1 for _ in config.counters())
    print(f"{args.file}: OK — {len(config.sites)} sites, {counters} counters")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from display_server import workers

    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2

    logging.config.dictConfig(LOGGING)
    if args.config:
        os.environ["MADOGUCHI_CONFIG_PATH"] = str(args.config)
    try:
        settings = Settings()
        load_config(settings.config_path)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    upgrade(settings.database_url)
    if args.demo:
        from display_server.demo import prepare_demo

        if args.workers != 1:
            print("error: --demo runs in one worker", file=sys.stderr)
            return 2
        prepare_demo(settings, host=args.host, port=args.port)
    # The app writes its own access log, with the request id (app.RequestContext).
    options: dict[str, Any] = {
        "log_config": LOGGING,  # each worker process sets it up again
        "log_level": "info",
        "access_log": False,
        "ws_per_message_deflate": False,
    }
    if args.workers > 1 and workers.BALANCES_CONNECTIONS:
        try:
            return workers.run_workers(
                APP, host=args.host, port=args.port, count=args.workers, options=options
            )
        except OSError as exc:
            print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
    uvicorn.run(APP, factory=True, host=args.host, port=args.port, workers=args.workers, **options)
    return 0
