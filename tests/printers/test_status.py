"""DLE EOT replies (bytes from the Epson reference) and the checked job over an in-memory link."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from printers.connections import DummyConnection
from printers.decode import decode_escpos
from printers.errors import BadPrinterReply, CoverOpen, PaperOut, PrinterFault, PrinterOffline
from printers.slip import SlipData
from printers.status import parse_status, print_slip

OK = {1: b"\x12", 2: b"\x12", 3: b"\x12", 4: b"\x12"}


def test_all_clear() -> None:
    status = parse_status(OK)
    assert status.answered and status.online and status.state == "ok"
    assert not (status.cover_open or status.paper_out or status.paper_near_end or status.error)


@pytest.mark.parametrize(
    ("replies", "state"),
    [
        ({1: b"\x1a", 2: b"\x16"}, "cover_open"),  # offline, cover open (n=2 bit 2)
        ({1: b"\x1a", 2: b"\x32", 4: b"\x72"}, "paper_out"),  # n=2 bit 5, n=4 bits 5-6
        ({4: b"\x1e"}, "paper_near_end"),  # n=4 bits 2-3
        ({1: b"\x1a"}, "offline"),  # n=1 bit 3 and no cause
        ({3: b"\x3a"}, "error"),  # n=3 bit 3 cutter error, bit 5 fatal
        ({2: b"\x52"}, "error"),  # n=2 bit 6
    ],
)
def test_conditions(replies: dict[int, bytes], state: str) -> None:
    assert parse_status({**OK, **replies}).state == state


@pytest.mark.parametrize("reply", [b"\xff", b"\x00", b"\x12\x12", b"", b"A"])
def test_malformed_replies(reply: bytes) -> None:
    with pytest.raises(BadPrinterReply, match=r"DLE EOT 2 with .*not an ESC/POS status byte"):
        parse_status({1: b"\x12", 2: reply})


def test_partial_answers_are_not_verified() -> None:
    status = parse_status({1: b"\x12"})
    assert status.online and not status.answered and status.state == "unknown"


def test_print_slip_sends_status_queries_around_the_job(make_slip: Callable[..., SlipData]) -> None:
    connection = DummyConnection("dummy://", replies=OK)
    result = print_slip(connection, make_slip())
    assert result.verified and result.warnings == ()
    out = connection.output
    queries = b"\x10\x04\x01\x10\x04\x02\x10\x04\x03\x10\x04\x04"
    assert out.startswith(queries) and out.endswith(queries)
    assert decode_escpos(out).qr_payloads == [make_slip().status_url]
    assert result.bytes_sent == len(out) - 2 * len(queries)


@pytest.mark.parametrize(
    ("replies", "error"),
    [
        ({1: b"\x1a", 2: b"\x32", 4: b"\x7e"}, PaperOut),
        ({1: b"\x1a", 2: b"\x16"}, CoverOpen),
        ({1: b"\x1a"}, PrinterOffline),
        ({1: b"\x1a", 2: b"\x52", 3: b"\x32"}, PrinterFault),
    ],
)
def test_faults_stop_the_job_before_anything_prints(
    make_slip: Callable[..., SlipData], replies: dict[int, bytes], error: type[Exception]
) -> None:
    connection = DummyConnection("dummy://", replies={**OK, **replies})
    with pytest.raises(error) as caught:
        print_slip(connection, make_slip())
    assert "dummy://" in str(caught.value)
    assert decode_escpos(connection.output).elements == []  # only the status queries went out


def test_mute_printer_prints_unverified(make_slip: Callable[..., SlipData]) -> None:
    connection = DummyConnection("dummy://")
    result = print_slip(connection, make_slip())
    assert not result.verified and result.before.state == "unknown"
    assert "not verified" in result.warnings[0]
    assert decode_escpos(connection.output).cuts == 1


def test_near_end_is_a_warning(make_slip: Callable[..., SlipData]) -> None:
    result = print_slip(DummyConnection("dummy://", replies={**OK, 4: b"\x1e"}), make_slip())
    assert result.verified and result.warnings == ("paper near end",)
