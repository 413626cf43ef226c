"""`madoguchi printer test|virtual`, through our own parser (the main dispatcher is elsewhere)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from printers import cli
from printers.virtual import VirtualPrinter

pytestmark = pytest.mark.timeout(60)


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="madoguchi")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


def test_printer_test_prints_and_reports_status(
    virtual_printer: VirtualPrinter, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["printer", "test", virtual_printer.uri, "--mode", "raster", "--width", "80"])
    assert code == 0
    assert "status: ok" in capsys.readouterr().out
    assert len(virtual_printer.slips) == 1
    assert virtual_printer.slips[0].images[0].width == 576  # --width 80


def test_printer_test_on_paper_out_fails(
    virtual_printer: VirtualPrinter, capsys: pytest.CaptureFixture[str]
) -> None:
    virtual_printer.state = "paper_out"
    assert run(["printer", "test", virtual_printer.uri]) == 1
    err = capsys.readouterr().err
    assert "status: paper_out" in err and "out of paper" in err


def test_printer_test_bad_uri(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["printer", "test", "ipp://printer"]) == 2
    assert "unsupported printer URI" in capsys.readouterr().err


def test_bad_choices_are_rejected_by_argparse() -> None:
    with pytest.raises(SystemExit):
        run(["printer", "test", "dummy://", "--width", "72"])
    with pytest.raises(SystemExit):
        run(["printer", "virtual", "--out", "x", "--state", "on_fire"])


@pytest.mark.parametrize(
    ("options", "scheme"), [(["--port", "0"], "tcp://127.0.0.1:"), (["--serial"], "serial:///dev/")]
)
def test_virtual_command_serves_until_stopped(
    tmp_path: Path, options: list[str], scheme: str
) -> None:
    out = tmp_path / "pngs"
    command = [sys.executable, "-m", "printers.cli", "virtual", *options, "--out", str(out)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            banner = server.stdout.readline()
            assert f"listening on {scheme}" in banner
            uri = banner.split("listening on ")[1].split(",")[0]
            assert run(["printer", "test", uri, "--lang", "en"]) == 0
        finally:
            server.terminate()
            server.wait(timeout=10)
    assert [p.name for p in out.iterdir()] == ["slip-0001.png"]
