"""Subcommands of the `kiosk` package: `madoguchi kiosk --server URL --site S --printer URI`."""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path

import httpx

from printers import open_printer


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this package's subcommands to the `madoguchi` command."""
    parser = subparsers.add_parser(
        "kiosk",
        help="run a kiosk: touch page on 127.0.0.1 and the slip print agent",
        description="Serve the kiosk touch page locally (open it in the kiosk's browser in "
        "kiosk mode), issue tickets through the server and print their slips.",
    )
    parser.add_argument("--server", required=True, help="the server's URL, e.g. http://10.0.0.5:8000")
    parser.add_argument("--site", required=True, help="the site id this kiosk stands at")
    parser.add_argument("--printer", required=True,
                        help="printer URI: tcp://HOST:9100, usb://VID:PID, serial:///dev/…, file://…")
    parser.add_argument("--token-file", type=Path,
                        help="file holding the kiosk bearer token (else $MADOGUCHI_KIOSK_TOKEN)")
    parser.add_argument("--port", type=int, default=8700, help="local port of the page (8700)")
    parser.add_argument("--mode", choices=("kanji", "raster"), default="kanji",
                        help="kanji: Japanese-model printers; raster: any ESC/POS printer")
    parser.add_argument("--width", type=int, choices=(58, 80), default=58, help="paper width, mm")
    parser.add_argument("--device", default=f"kiosk-{socket.gethostname()}"[:70],
                        help="this kiosk's name in staff alerts (default kiosk-HOSTNAME)")
    parser.add_argument("--idle", type=float, default=30.0,
                        help="seconds without a touch before the start screen returns (30)")
    parser.add_argument("--state-dir", type=Path, default=default_state_dir(),
                        help="where slips waiting for a reprint are kept across restarts, one "
                        "directory per kiosk (default $XDG_STATE_HOME/madoguchi/kiosk, "
                        "else ~/.local/state/madoguchi/kiosk)")
    parser.set_defaults(handler=run)


def default_state_dir() -> Path:
    """Where XDG keeps a program's state that must outlive a restart: .../madoguchi/kiosk."""
    base = os.environ.get("XDG_STATE_HOME", "")
    # The XDG spec says to ignore a relative path, which would move with the working directory.
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "madoguchi" / "kiosk"


def read_token(token_file: Path | None) -> str:
    """The bearer token from the file or the environment; never from the command line (ps)."""
    token = token_file.read_text().strip() if token_file else os.environ.get(
        "MADOGUCHI_KIOSK_TOKEN", "").strip()
    if not token:
        raise SystemExit("a kiosk token is needed: --token-file FILE or MADOGUCHI_KIOSK_TOKEN")
    return token


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from kiosk.agent import KioskAgent
    from kiosk.app import create_kiosk_app
    from kiosk.errors import StateFileError
    from kiosk.reprints import ReprintStore

    token = read_token(args.token_file)
    printer = open_printer(args.printer)
    try:
        reprints = ReprintStore(args.state_dir)
    except StateFileError as exc:
        raise SystemExit(f"kiosk state: {exc}") from exc
    # 3 s per request: with the bounded retries a visitor waits at most ~15 s for an answer.
    client = httpx.Client(base_url=args.server, timeout=3.0,
                          headers={"Authorization": f"Bearer {token}"})
    with client, reprints:
        agent = KioskAgent(client, printer, reprints=reprints, site=args.site,
                           device=args.device, mode=args.mode, width=args.width)
        print(f"kiosk page: http://127.0.0.1:{args.port}/  (open it in the kiosk browser)")
        uvicorn.run(create_kiosk_app(agent, idle_s=args.idle), host="127.0.0.1",
                    port=args.port, log_level="warning")
    return 0
