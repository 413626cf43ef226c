"""Subcommands of the `printers` package: `madoguchi printer test|virtual`."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from printers.connections import open_printer
from printers.errors import BadPrinterUri, PrinterError
from printers.slip import MODES, WIDTHS_MM, SlipData, catalog
from printers.status import print_slip
from printers.virtual import STATES, VirtualPrinter


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this package's subcommands to the `madoguchi` command."""
    printer = subparsers.add_parser("printer", help="receipt printers: test print, virtual printer")
    commands = printer.add_subparsers(dest="printer_command", metavar="ACTION", required=True)

    test = commands.add_parser("test", help="print a test slip and show the printer's status")
    test.add_argument("uri", help="tcp://HOST:9100, usb://VID:PID, serial:///dev/X, file:///PATH")
    test.add_argument("--mode", choices=MODES, default="kanji", help="kanji (Shift_JIS) or raster")
    test.add_argument("--width", type=int, choices=sorted(WIDTHS_MM), default=58, help="paper mm")
    test.add_argument(
        "--qr", choices=("native", "image"), default="native", help="QR in kanji mode"
    )
    test.add_argument("--font", type=Path, help="Japanese font file for raster mode")
    test.add_argument("--lang", default="ja", help="slip language (ja, en)")
    test.set_defaults(handler=_test)

    virtual = commands.add_parser(
        "virtual", help="run a virtual network or serial printer that saves PNGs"
    )
    virtual.add_argument("--host", default="127.0.0.1")
    virtual.add_argument("--port", type=int, default=9100, help="TCP port (0: any free port)")
    virtual.add_argument(
        "--serial", action="store_true",
        help="a serial port (a pseudo-terminal) instead of TCP; prints its serial:// URI",
    )
    virtual.add_argument("--out", type=Path, required=True, help="folder for the slip PNGs")
    virtual.add_argument("--state", choices=STATES, default="ok", help="simulated printer state")
    virtual.add_argument(
        "--width", type=int, choices=sorted(WIDTHS_MM), default=80, help="paper mm"
    )
    virtual.set_defaults(handler=_virtual)


def _test(args: argparse.Namespace) -> int:
    messages = catalog()
    slip = SlipData(
        site_name=messages.gettext(args.lang, "printer.test_site"),
        service_name=messages.gettext(args.lang, "printer.test_service"),
        display_number="T-001",
        issued_at=datetime.now().astimezone(),  # this machine's local time
        ahead=3,
        est_wait_min=5,
        est_wait_max=15,
        status_url="https://madoguchi.example.jp/t/printer-test",
        lang=args.lang,
    )
    try:
        connection = open_printer(args.uri)
        result = print_slip(
            connection, slip, mode=args.mode, width=args.width, qr=args.qr, font_path=args.font
        )
    except BadPrinterUri as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PrinterError as exc:
        state = exc.status.state if exc.status else "unreachable"
        print(f"status: {state}\nerror: {exc}", file=sys.stderr)
        return 1
    print(f"printed {result.bytes_sent} bytes to {result.uri} in {result.seconds:.2f} s")
    print(f"status: {result.after.state}")
    for warning in result.warnings:
        print(f"warning: {warning}")
    return 0


def _virtual(args: argparse.Namespace) -> int:
    printer = VirtualPrinter(
        args.out, host=args.host, port=args.port, state=args.state, dots=WIDTHS_MM[args.width],
        serial=args.serial,
    )
    try:
        printer.start()
    except OSError as exc:
        where = "a pseudo-terminal" if args.serial else f"{args.host}:{args.port}"
        print(f"error: cannot listen on {where}: {exc}", file=sys.stderr)
        return 1
    print(f"virtual printer ({args.state}) listening on {printer.uri}, PNGs in {args.out}")
    sys.stdout.flush()  # whoever started us (a script, a test) waits for this line
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how an operator stops it
        printer.serve_forever()
    print(f"printed {len(printer.slips)} slips, refused {len(printer.rejected)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m printers.cli …`: the same subcommands without the rest of `madoguchi`."""
    parser = argparse.ArgumentParser(prog="python -m printers.cli")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["printer", *(argv if argv is not None else sys.argv[1:])])
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
